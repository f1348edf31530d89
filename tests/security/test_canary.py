"""A secret canary through every output path: nothing anyone can read holds any form of a secret.

Five random secrets go into ``monitors.yaml`` through ``${NAME}``: in request headers, in URLs
(query, user info), in ``body_contains``, in restart hooks (URL, header, signing key) and in a
notification URL. A loopback service hands back what it receives as written, URL-encoded,
base64-encoded and cut short. ``statusgen run`` (a real subprocess) then runs twice, once with the
files tracker and once with the GitHub tracker against the REST emulator, and every output is
scanned: stdout, stderr, the step summary, everything under ``data/``, ``incidents/`` and
``_site/`` (HTML, JSON, feeds, badges), the emulator's issue titles, bodies and comments, and the
notification payloads. The scan looks for every form of every secret (as written, URL-encoded
four ways in both hex cases, JSON- and HTML-escaped, base64 in both alphabets alone and at the
three alignments inside a longer text) and for every 8-character window of each of those forms.
The forms are built here, independently of ``generator.secrets``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import secrets as random_secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.security.reflector import Reflector
from tests.support.github_emulator import GitHubEmulator

ROOT = Path(__file__).resolve().parents[2]
WINDOW = 8


def forms_of(secret: str) -> set[str]:
    """Every whole form of a secret the scan looks for."""
    found = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), quote_plus(secret, safe="/"),
             json.dumps(secret)[1:-1], html.escape(secret)}
    found |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text) for text in found}
    data = secret.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(data).decode())
        for offset in range(3):  # the secret at each alignment inside a longer base64 text
            chunk = data[offset:]
            found.add(encode(chunk[: len(chunk) - len(chunk) % 3]).decode())
    return {text for text in found if len(text) >= WINDOW}


def windows_of(text: str) -> set[str]:
    return {text[start:start + WINDOW] for start in range(len(text) - WINDOW + 1)}


class Scanner:
    def __init__(self, secrets: dict[str, str]):
        self.forms = {form: name for name, value in secrets.items() for form in forms_of(value)}
        self.windows = {window: name for form, name in self.forms.items() for window in windows_of(form)}
        self.hits: list[str] = []
        self.scanned = 0

    def scan(self, where: str, text: str) -> None:
        self.scanned += 1
        for variant in {text, html.unescape(text)}:
            for start in range(len(variant) - WINDOW + 1):
                name = self.windows.get(variant[start:start + WINDOW])
                if name is not None:
                    context = variant[max(0, start - 30):start + 40].replace("\n", " ")
                    self.hits.append(f"{where}: a piece of {name}: ...{context}...")
                    break

    def scan_tree(self, folder: Path, skip: set[Path] = frozenset()) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path not in skip:
                self.scan(str(path.relative_to(folder)), path.read_bytes().decode("utf-8", "replace"))


@pytest.fixture
def canary() -> dict[str, str]:
    # base64-like tokens with "/", "+" and "=": every encoding differs from the plain text
    return {
        "TOK": "Cnry" + random_secrets.token_urlsafe(24) + "/+=" + random_secrets.token_urlsafe(24),
        "PASS": "Pw" + random_secrets.token_urlsafe(24),
        "HOOK": "Hk" + random_secrets.token_urlsafe(24),
        "SIGN": "Sg" + random_secrets.token_urlsafe(24),
        "NOTE": "Nt" + random_secrets.token_urlsafe(24),
    }


def monitors_yaml(service: Reflector) -> str:
    base = f"127.0.0.1:{service.port}"
    return textwrap.dedent(f"""\
        site: {{title: Canary}}
        x-auth: &auth {{Authorization: "Bearer ${{TOK}}"}}
        defaults:
          timeout: 3s
          retries: 0
          failure_threshold: 1
          notify: ["json://{base}/notify/${{NOTE}}"]
          restart:
            url: "http://{base}/restart?mode=cut&token=${{HOOK}}"
            headers: {{X-Hook: "${{HOOK}}"}}
            secret: "${{SIGN}}"
            after_failures: 1
            timeout: 2s
            verify_for: 0s
        monitors:
          - {{id: json-auth, headers: *auth, url: "http://{base}/json?t=${{TOK}}", expect: {{json: [{{path: auth, equals: no}}]}}}}
          - {{id: json-quoted, headers: *auth, url: "http://{base}/json", expect: {{json: [{{path: quoted, equals: no}}]}}}}
          - {{id: json-b64, headers: *auth, url: "http://{base}/json", expect: {{json: [{{path: b64, equals: no}}]}}}}
          - {{id: json-query, headers: *auth, url: "http://{base}/json?t=${{TOK}}", expect: {{json: [{{path: q, equals: no}}]}}}}
          - {{id: contains, headers: *auth, url: "http://{base}/text", expect: {{body_contains: "${{TOK}}"}}}}
          - {{id: redirect-ftp, headers: *auth, url: "http://{base}/redirect-ftp?t=${{TOK}}"}}
          - {{id: redirect-ok, headers: *auth, url: "http://{base}/redirect?t=${{TOK}}"}}
          - {{id: basic, url: "http://user:${{PASS}}@{base}/basic", expect: {{json: [{{path: auth, equals: no}}]}}}}
          - id: encoded-hook
            url: "http://{base}/down"
            restart: {{url: "http://{base}/restart?mode=encoded&token=${{HOOK}}"}}
        """)


def statusgen(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k != "CI"}
    environ.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "generator", "run"], cwd=folder, env=environ,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("tracker", ["files", "github"])
def test_no_form_of_any_secret_reaches_any_output(tmp_path: Path, canary: dict[str, str], tracker: str) -> None:
    summary = tmp_path / "step-summary.md"
    env = {**canary, "GITHUB_STEP_SUMMARY": str(summary)}
    with Reflector() as service, GitHubEmulator() as github:
        (tmp_path / "monitors.yaml").write_text(monitors_yaml(service), encoding="utf-8")
        if tracker == "github":
            env.update(GITHUB_TOKEN=github.token, GITHUB_REPOSITORY=github.full_name, GITHUB_API_URL=github.url,
                       STATUSGEN_GITHUB_WRITE_PACE="0")
        results = [statusgen(tmp_path, env) for _ in range(2)]
        payloads = list(service.payloads)
        received = "\n".join(service.received)
        issues = [(issue.title, issue.body or "") for issue in github.issues.values()]
        comments = [comment.body for comment in github.comments.values()]

    # the canary did go out: the service saw each secret that travels, and the run did its work
    for name in ("TOK", "PASS", "HOOK", "NOTE"):
        assert canary[name] in received or base64.b64encode(f"user:{canary[name]}".encode()).decode() in received, name
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
    assert payloads, "no notification was sent"
    if tracker == "github":
        assert issues and comments, "no issue or comment was written"
    else:
        assert list((tmp_path / "incidents").glob("*.md")), "no incident file was written"
    assert (tmp_path / "_site" / "index.html").exists(), results[-1].stderr
    site_kinds = {path.suffix for path in (tmp_path / "_site").rglob("*") if path.is_file()}
    assert {".html", ".json", ".svg", ".xml"} <= site_kinds or {".html", ".json", ".svg"} <= site_kinds

    scanner = Scanner(canary)
    for index, result in enumerate(results, 1):
        scanner.scan(f"run {index} stdout", result.stdout)
        scanner.scan(f"run {index} stderr", result.stderr)
    scanner.scan("step summary", summary.read_text(encoding="utf-8"))
    scanner.scan_tree(tmp_path, skip={tmp_path / "monitors.yaml", summary})
    for number, (title, body) in enumerate(issues, 1):
        scanner.scan(f"issue {number}", f"{title}\n{body}")
    for number, body in enumerate(comments, 1):
        scanner.scan(f"comment {number}", body)
    for number, payload in enumerate(payloads, 1):
        scanner.scan(f"notification {number}", payload.decode("utf-8", "replace"))

    assert scanner.hits == [], "\n".join(scanner.hits[:40])
    assert scanner.scanned > 50, scanner.scanned
    # distinct forms: a token without "/", "+" or "=" reads the same under the URL encodings
    assert len(forms_of(canary["TOK"])) >= 9 and all(len(forms_of(value)) >= 5 for value in canary.values())
    # the scanner does find secrets where they are: in what the service received
    witness = Scanner(canary)
    witness.scan("service", received)
    assert witness.hits
    # and the outputs did carry the echoes, masked
    published = "\n".join(body for _, body in issues) + "\n".join(comments) + "".join(
        path.read_text(encoding="utf-8") for path in (tmp_path / "incidents").glob("*.md"))
    published = published.replace("\\*", "*")  # Markdown-escaped in issues
    assert 'got "Bearer ***' in published and "***" in published.split("Restart", 1)[-1]
