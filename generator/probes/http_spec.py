"""What an http monitor says: its spec, its keys, and its ``expect`` block (shared with ``defaults:``).

Apart from :mod:`generator.probes.http` (the probe) so the spec can be read without ``requests``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import ScalarNode

from generator.config import validators as v
from generator.config.keys import (
    Block,
    Boolean,
    CaBundle,
    Choice,
    Duration,
    Headers,
    Key,
    Samples,
    Text,
    Texts,
    http_url,
    ref,
    regex,
)
from generator.config.reader import Reader
from generator.config.yamlsource import Entry

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
JSON_KEYS = ("path", "equals", "exists")


@dataclass(frozen=True)
class JsonAssertion:
    """An assertion on a path of a JSON response body, e.g. ``status`` or ``data.items[0].ok``."""

    path: str
    equals: Any = None
    has_equals: bool = False  # distinguishes ``equals: null`` from no ``equals``
    exists: bool | None = None


@dataclass(frozen=True)
class HttpExpect:
    status: tuple[tuple[int, int], ...] = ((200, 399),)
    body_contains: tuple[str, ...] = ()
    body_not_contains: tuple[str, ...] = ()
    body_regex: str | None = None
    json: tuple[JsonAssertion, ...] = ()
    degraded_after: float | None = None  # seconds


@dataclass(frozen=True)
class HttpSpec:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_bundle: str | None = None
    expect: HttpExpect = field(default_factory=HttpExpect)


@dataclass(frozen=True, kw_only=True)
class Statuses(Key):
    """Accepted status codes: ``200``, ``"200-299"``, ``"2xx"``, or a list of them."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        items = reader.items(entry)
        if items is None:
            return None
        if not items:
            reader.problem(entry.node, entry.path, "needs at least one status code or range")
            return None
        ranges = []
        failed = False
        for node, path in items:
            ok, value = reader.value(node, path, "a status code or range")
            if not ok:
                failed = True
                continue
            found = v.status_range(value if isinstance(value, (int, str)) else node.value)
            if isinstance(found, str):
                reader.problem(node, path, found)
                failed = True
            else:
                ranges.append(found)
        return None if failed else tuple(ranges)

    def fragment(self) -> dict[str, Any]:
        return {"oneOf": [ref("statusItem"), {"type": "array", "minItems": 1, "items": ref("statusItem")}]}

    def definitions(self) -> dict[str, Any]:
        return {"statusItem": {"oneOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "string", "pattern": r"^\s*([1-5][0-9]{2}(\s*-\s*[1-5][0-9]{2})?|[1-5][xX][xX])\s*$"},
        ]}}

    def samples(self) -> Samples:
        return ((200, True), ("2xx", True), ([200, "300-399"], True), ("abc", False), (700, False), ([], False),
                ({"a": 1}, False))


@dataclass(frozen=True, kw_only=True)
class JsonAssertions(Key):
    """A list of ``{path, equals | exists}``; a path alone asserts that it is there."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        items = reader.items(entry, single=False)
        if items is None:
            return None
        result = []
        failed = False
        for node, path in items:
            entries = reader.mapping(node, path, JSON_KEYS, what=" like {path: status, equals: ok}")
            if entries is None:
                failed = True
                continue
            assertion = self._one(reader, entries, node, path)
            if assertion is None:
                failed = True
            else:
                result.append(assertion)
        return None if failed else tuple(result)

    def _one(self, reader: Reader, entries: dict[str, Entry], node: Any, path: str) -> JsonAssertion | None:
        target = reader.require(entries, node, path, "path")
        json_path = reader.checked_text(target, v.json_path, secret_ok=False) if target else None
        fields: dict[str, Any] = {}
        failed = False
        if "equals" in entries:
            equals_node = entries["equals"].node
            ok, value = reader.plain(equals_node, entries["equals"].path)
            if not ok:
                failed = True
            elif isinstance(equals_node, ScalarNode) and equals_node.tag == TIMESTAMP_TAG:
                value = equals_node.value  # JSON has no dates: compare with the text as written
            fields.update(equals=value, has_equals=True)
        if "exists" in entries:
            exists = reader.boolean(entries["exists"].node, entries["exists"].path)
            if exists is None:
                failed = True
            fields["exists"] = exists
        if "equals" in entries and "exists" in entries:
            reader.problem(entries["exists"].key_node, entries["exists"].path,
                           "use either equals or exists in one assertion, not both")
            failed = True
        if "equals" not in entries and "exists" not in entries:
            fields["exists"] = True  # a path alone asserts that it is there
        if json_path is None or failed:
            return None
        return JsonAssertion(path=json_path, **fields)

    def fragment(self) -> dict[str, Any]:
        return {"type": "array", "items": ref("jsonAssertion")}

    def definitions(self) -> dict[str, Any]:
        return {"jsonAssertion": {
            "type": "object",
            "description": "an assertion on the JSON response body; a path alone asserts that it exists",
            "required": ["path"],
            "additionalProperties": False,
            "not": {"required": ["equals", "exists"]},
            "properties": {
                "path": {"type": "string", "pattern": v.JSON_PATH.pattern,
                         "description": "where in the body: status, data.items[0].ok"},
                "equals": {"description": "the value found there must equal this (any JSON value)"},
                "exists": {"type": "boolean", "description": "true: the path must be there; false: it must not"},
            },
        }}

    def samples(self) -> Samples:
        return (([{"path": "status", "equals": "ok"}], True), ([{"path": "data.items[0].id"}], True),
                ([{"path": "a", "equals": 1, "exists": True}], False), ([{"equals": 1}], False),
                ([{"path": "a b"}], False), ({"path": "status"}, False))


EXPECT = Block(
    "expect", "what a healthy response looks like", definition="httpExpect", make=HttpExpect,
    what=" of expectations", inherit=True, defaults_doc="default expectations of http monitors",
    keys=(
        Statuses("status", "accepted status codes: 200, \"200-299\", \"2xx\", or a list of them (default 200-399)"),
        Texts("body_contains", "text (or texts) the body must contain"),
        Texts("body_not_contains", "text (or texts) the body must not contain"),
        regex("body_regex", "a regular expression the body must match"),
        JsonAssertions("json", "assertions on the JSON body, e.g. [{path: status, equals: ok}]"),
        Duration("degraded_after", "a slower answer counts as degraded (e.g. 2s)", positive=True),
    ),
)

KEYS: tuple[Key, ...] = (
    http_url("url", "the URL to request", required=True,
             hint=" (http is the default type; set type: tcp, tls or dns for other checks)"),
    Choice("method", "HTTP method (default GET)", choices=v.HTTP_METHODS, fold=True),
    Headers("headers", "HTTP request headers", inherit=True, defaults_doc="headers sent by every http monitor"),
    Text("body", "request body", allow_empty=True),
    Boolean("follow_redirects", "follow redirects (default true)", inherit=True),
    Boolean("verify_tls", "verify the certificate (default true; false is an explicit opt-out)", inherit=True),
    CaBundle("ca_bundle", "a CA bundle file (PEM) to verify against; relative to the monitors file's folder"),
    EXPECT,
)
