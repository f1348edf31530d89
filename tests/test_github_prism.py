"""One full GitHub scenario through Prism (npm ``@stoplight/prism-cli``) in proxy mode.

Prism sits between PyGithub and the emulator and validates every request and response
against GitHub's OpenAPI description (``@octokit/openapi``); each problem is a
"Violation" line in its log. The scenario: a cold sync, labels created, an incident
opened, commented on, escalated, resolved and re-read, a maintenance issue read, a
comment judged by its author's permission. It must show no violation. If Prism cannot
start, the test fails and says why: it never skips.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

from generator.history import History
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.models import Impact, TimelineEntry, TransitionKind
from tests.incidents.github.test_tracker import T0, monitor, opened, transition
from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import DOCUMENT

ROOT = Path(__file__).resolve().parents[1]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
START_TIMEOUT = 180.0  # the description is ~13 MB: Prism needs a while to read it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Prism:
    """``prism proxy`` on a free loopback port in front of ``upstream``; its log kept for reading."""

    def __init__(self, upstream: str):
        assert PRISM.exists(), f"{PRISM} missing: run make npm-deps (npm package @stoplight/prism-cli)"
        assert DOCUMENT.exists(), f"{DOCUMENT} missing: run make npm-deps (npm package @octokit/openapi)"
        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(PRISM), "proxy", str(DOCUMENT), upstream, "--host", "127.0.0.1", "--port", str(self.port),
             "--errors=false"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not any("Prism is listening" in line for line in list(self.lines)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self.lines[-20:])
                raise AssertionError(f"Prism did not start (exit {self.process.returncode}) within "
                                     f"{START_TIMEOUT:.0f}s:\n{tail}")
            time.sleep(0.2)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def violations(self) -> list[str]:
        return [line for line in self.lines if "Violation" in line]

    def requests(self) -> int:
        return sum(1 for line in self.lines if re.search(r"Request received", line))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)


def test_a_full_scenario_through_prism_has_no_violation(tmp_path):
    with GitHubEmulator() as api:
        prism = Prism(api.url)
        try:
            history = History(tmp_path / "data")

            def tracker() -> GitHubTracker:
                return GitHubTracker(api.full_name, api.token, base_url=prism.url, cache=history,
                                     site_url="https://status.example.com/", timeout=30,
                                     retry=RetryPolicy(budget=5, backoff=0.05), seconds_between_requests=None,
                                     seconds_between_writes=None)

            api.create_issue("Database upgrade", "```yaml\nstart: 2026-12-01T02:00:00Z\nend: 2026-12-01T03:00:00Z\n"
                             "```\n", ["maintenance"], user="maintainer")
            first = tracker()
            key = first.open(monitor(), opened(impact=Impact.DEGRADED))
            first.comment(key, TimelineEntry(T0 + timedelta(minutes=1), "restart", "Restart requested."))
            first.change_impact(key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN,
                                                           T0 + timedelta(minutes=2), key=key))
            api.add_user("maintainer-private", association="CONTRIBUTOR", role="maintain")
            api.add_comment(int(key), "Looking into it.", user="maintainer-private")
            second = tracker()
            assert [c.trusted for c in second.incidents()[0].comments] == [True]
            second.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN,
                                                      T0 + timedelta(minutes=9), key=key))
            third = tracker()
            assert third.incidents()[0].status == "resolved" and len(third.maintenance()) == 1
            assert api.issues[int(key)].state == "closed"
        finally:
            prism.stop()
    violations = prism.violations()
    print(f"Prism: {prism.requests()} requests, {len(violations)} violations")
    assert prism.requests() >= 20
    assert violations == [], "\n".join(violations[:20])
