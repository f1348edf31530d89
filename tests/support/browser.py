"""A real browser for the site tests: the built site served on loopback, Debian's Chromium driven by Playwright.

``serve(folder)`` runs http.server in a thread on 127.0.0.1 (port 0) and stops it
on exit. ``chromium()`` launches /usr/bin/chromium headless with everything that
would reach the network switched off (never ``playwright install``).
``watch(page)`` records console errors, failed requests and any request to a
host other than the loopback server.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit


def _find_chromium() -> str:
    """$CHROMIUM, Debian's /usr/bin/chromium, or a Chromium/Chrome on PATH (GitHub's Ubuntu runners ship Chrome)."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium"


CHROMIUM = _find_chromium()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` at http://127.0.0.1:<port>/ for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30000)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    origin: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console: {m}" for m in self.console_errors]
            + [f"failed: {u}" for u in self.failed]
            + [f"other host: {u}" for u in self.foreign]
        )


def watch(page, base_url: str) -> Watch:
    origin = urlsplit(base_url)
    record = Watch(origin=base_url)

    def on_console(message) -> None:
        if message.type == "error":
            record.console_errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400:
            record.failed.append(f"{response.status} {response.url}")

    def on_request(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "about", "blob"):
            return
        if (parts.hostname, parts.port) != (origin.hostname, origin.port):
            record.foreign.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.console_errors.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: record.failed.append(f"{request.failure} {request.url}"))
    page.on("response", on_response)
    page.on("request", on_request)
    return record


def axe_violations(page) -> list[dict]:
    """Run axe-core (from node_modules) in the page; the violations, each with its rule id and nodes."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v.get("impact"), "help": v["help"],
         "nodes": [n.get("html", "")[:200] for n in v.get("nodes", [])][:5]}
        for v in result["violations"]
    ]
