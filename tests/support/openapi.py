"""Check responses against GitHub's official OpenAPI description (@octokit/openapi).

The document is OpenAPI 3.0 (``nullable`` instead of ``type: [.., "null"]``), so it
is rewritten once into plain JSON Schema (draft 4 semantics, which OpenAPI 3.0
schema objects follow) and registered as one resource; ``$ref`` inside it resolve
against that resource. Validators are compiled once per (operation, status).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlparse

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
BASE_URI = "urn:github-openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _null_aware(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 ``nullable: true`` into JSON Schema that accepts null."""
    if isinstance(node, list):
        return [_null_aware(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _null_aware(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        simple = "type" in out and not any(k in out for k in ("$ref", "allOf", "anyOf", "oneOf"))
        if simple:
            kind = out["type"]
            out["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _format_checker() -> FormatChecker:
    # jsonschema's own date-time/uri checks need optional packages; these are enough here.
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = urlparse(value)
        return bool(parsed.scheme) and (bool(parsed.netloc) or parsed.scheme in ("mailto", "urn", "git"))

    return checker


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    responses: dict[str, Any]


class OpenAPI:
    """GitHub's REST description: find an operation, validate a response body."""

    def __init__(self, document: dict[str, Any]):
        self.document = _null_aware(document)
        self.registry = Registry().with_resource(BASE_URI, Resource(contents=self.document, specification=DRAFT4))
        self.checker = _format_checker()
        self._routes: list[tuple[int, re.Pattern, str]] = []
        for template in self.document["paths"]:
            segments = template.strip("/").split("/")
            literal = sum(1 for s in segments if not s.startswith("{"))
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self._routes.append((literal, re.compile(pattern), template))
        # The most literal template wins: /issues/comments beats /issues/{issue_number}.
        self._routes.sort(key=lambda route: -route[0])
        self._validators: dict[tuple[str, str, str], Optional[Draft4Validator]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lookup

    def operation(self, method: str, path: str) -> Optional[Operation]:
        path = urlparse(path).path.rstrip("/") or "/"
        method = method.lower()
        for _, pattern, template in self._routes:
            if pattern.match(path):
                item = self.document["paths"][template]
                if method in item:
                    op = item[method]
                    return Operation(method, template, op.get("operationId", ""), op.get("responses", {}))
        return None

    def _response_pointer(self, op: Operation, status: int) -> Optional[str]:
        """JSON pointer to the schema of ``op``'s ``status`` response, None when it has no body."""
        response = op.responses.get(str(status))
        base = _pointer("paths", op.template, op.method, "responses", str(status))
        if response is None:
            return None
        if "$ref" in response:  # a shared response under components/responses
            base = response["$ref"][1:]
            name = response["$ref"].rsplit("/", 1)[-1]
            response = self.document["components"]["responses"][name]
        content = response.get("content") or {}
        if "application/json" not in content or "schema" not in content["application/json"]:
            return None
        return base + _pointer("content", "application/json", "schema")

    def validator(self, method: str, path: str, status: int) -> tuple[Optional[Operation], Optional[Draft4Validator]]:
        op = self.operation(method, path)
        if op is None:
            return None, None
        key = (op.method, op.template, str(status))
        with self._lock:
            if key not in self._validators:
                pointer = self._response_pointer(op, status)
                if pointer is None and status >= 400 and str(status) not in op.responses:
                    # A status the operation does not declare (e.g. a 502 from a proxy):
                    # GitHub still answers with its basic error shape.
                    pointer = _pointer("components", "schemas", "basic-error")
                self._validators[key] = None if pointer is None else Draft4Validator(
                    {"$ref": BASE_URI + "#" + quote(pointer, safe="/~")},
                    registry=self.registry,
                    format_checker=self.checker,
                )
            return op, self._validators[key]

    def validate(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Problems with one response; empty when it conforms. An unknown operation is a problem."""
        op, validator = self.validator(method, path, status)
        if op is None:
            return [f"{method} {path}: no such operation in GitHub's OpenAPI description"]
        if validator is None:
            if body not in (None, b"", ""):
                declared = str(status) in op.responses
                if declared:
                    return [f"{method} {path} -> {status}: {op.operation_id} declares no body, got one"]
            return []
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        return [
            f"{method} {path} -> {status} ({op.operation_id}): at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in errors[:10]
        ]


def ensure_document() -> Path:
    """The OpenAPI file, installing the npm package first when node_modules lacks it."""
    if not DOCUMENT.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=600)
    return DOCUMENT


@lru_cache(maxsize=1)
def github_openapi() -> OpenAPI:
    """Loaded once per process: the document is ~13 MB."""
    with ensure_document().open("rb") as handle:
        return OpenAPI(json.load(handle))
