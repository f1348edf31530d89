"""Issue 12, items 5 and 6: one duration, said the same by the issue, the file, the site, the feed and the JSON.

A monitor flaps (down, up, down again within the flap window, up), its checks a few hundred
milliseconds off the second so that truncating and rounding would disagree. The status machine's
transitions go to a GitHubTracker on the loopback emulator and to a FilesTracker; then the site is
built from each tracker's incidents, with GitHub closing the issue later than the service recovered.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from generator.history import History
from generator.incidents.files import FilesTracker
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.incidents.text import incident_seconds
from generator.models import Check, CheckStatus, Config, Monitor, Settings, Site, Transition, TransitionKind
from generator.probes.http_spec import HttpSpec
from generator.run.probing import probe_with_retries, run_probes
from generator.site import build_site
from generator.status import initial_state, step
from generator.timeutil import UTC, format_duration, to_iso, utcnow
from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi

T0 = datetime(2026, 11, 20, 9, 30, 15, 300000, tzinfo=UTC)
MONITOR = Monitor(id="api", name="Public API", type="http", spec=HttpSpec(url="http://127.0.0.1:9/health"))
# (seconds after T0, down?): down [0, 40.9), up 3 minutes, down [220.6, 246.2): 40.9 + 25.6 = 66.5 s down
SEQUENCE = ((0.0, True), (40.9, False), (220.6, True), (246.2, False))
DOWN_SECONDS = 40.9 + 25.6


def flap(tracker) -> tuple[str, list[Transition]]:
    state, key, found = initial_state("api"), "", []
    for offset, down in SEQUENCE:
        check = Check("api", T0 + timedelta(seconds=offset), CheckStatus.DOWN if down else CheckStatus.UP,
                      code=503 if down else 200, error="HTTP 503" if down else "")
        state, transitions = step(MONITOR, state, check)
        for t in transitions:
            found.append(t)
            if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
                key = tracker.open(MONITOR, t)
                state = state.evolve(incident_key=key)
            else:
                tracker.resolve(key, MONITOR, t)
    return key, found


def build(tmp_path: Path, incidents) -> Path:
    config = Config(site=Site(title="Status"), settings=Settings(), monitors=(MONITOR,))
    out = tmp_path / "_site"
    build_site(config, History(tmp_path / "data"), incidents, [], out, now=T0 + timedelta(hours=2))
    return out


def site_says(out: Path, key: str) -> dict[str, str]:
    page = (out / "incidents" / key / "index.html").read_text()
    duration = re.search(r"<dt>Duration</dt><dd>([^<]*)</dd>", page)
    resolved = re.search(r"back up after ([^<]*?) of downtime", page)
    feed = (out / "history.atom").read_text()
    in_feed = re.search(r"back up after ([^<&]*?) of downtime", feed)
    api = json.loads((out / "api" / "v2" / "incidents.json").read_text())
    [item] = [i for i in api["incidents"] if i["id"] == key]
    assert duration and resolved and in_feed
    return {"page": duration.group(1), "update": resolved.group(1), "feed": in_feed.group(1),
            "created_at": item["created_at"], "resolved_at": item["resolved_at"]}


def test_a_flapping_incident_reads_the_same_everywhere_with_both_trackers(tmp_path: Path) -> None:
    said = {}
    with GitHubEmulator(validator=github_openapi()) as api:
        tracker = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=History(tmp_path / "gh"),
                                retry=RetryPolicy(budget=1, backoff=0.01), seconds_between_requests=None,
                                seconds_between_writes=None)
        key, transitions = flap(tracker)
        [issue] = [i for i in tracker.incidents() if i.key == key]
        comment = [e.text for e in issue.timeline if e.kind == "resolved"][-1]
        said["github"] = (issue, comment, site_says(build(tmp_path / "gh-site", tracker.incidents()), key))
    api.assert_valid()
    files = FilesTracker(tmp_path / "incidents")
    file_key, _ = flap(files)
    [record] = [i for i in files.incidents() if i.key == file_key]
    line = [e.text for e in record.timeline if e.kind == "resolved"][-1]
    said["files"] = (record, line, site_says(build(tmp_path / "files-site", files.incidents()), file_key))

    assert [t.kind.value for t in transitions] == ["opened", "resolved", "reopened", "resolved"]
    expected = format_duration(DOWN_SECONDS)
    assert expected == "1m 7s"  # 66.5 s: rounded half up, by the one rule
    assert transitions[-1].downtime == pytest.approx(DOWN_SECONDS)
    for backend, (incident, text, site) in said.items():
        # the two recorded fields: the first failure and the first good check that resolved it
        assert incident.started == T0, backend
        assert incident.resolved == T0 + timedelta(seconds=246.2), (backend, incident.resolved)
        assert incident.downtime == pytest.approx(DOWN_SECONDS), backend
        assert incident_seconds(incident, utcnow()) == pytest.approx(DOWN_SECONDS)
        assert f"after {expected} of downtime" in text.replace("**", ""), (backend, text)
        assert site["page"] == site["update"] == site["feed"] == expected, (backend, site)
        assert site["created_at"] == to_iso(T0) and site["resolved_at"] == to_iso(incident.resolved), site


# --------------------------------------------------------------------------- item 6: the first failed attempt


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.parametrize("how", ["run_probes", "probe_with_retries"])
def test_a_check_with_retries_is_timed_at_its_first_failed_attempt(silent_port: int, how: str) -> None:
    monitor = Monitor(id="hang", name="Hang", type="http", spec=HttpSpec(url=f"http://127.0.0.1:{silent_port}/"),
                      timeout=0.6, retries=2, retry_backoff=0.3)
    before = utcnow()
    began = time.monotonic()
    check = run_probes([monitor], Settings()).checks[0] if how == "run_probes" else probe_with_retries(monitor)
    took = time.monotonic() - began
    assert check.status is CheckStatus.DOWN and check.attempts == 3
    assert took >= 3 * 0.6 + 0.3 + 0.6 - 0.1  # three timeouts and two backoffs went by
    assert (check.time - before).total_seconds() < 0.25, check.time - before  # not at the last retry (~2.4 s)
