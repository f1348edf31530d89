"""The files backend beyond the shared contract: file names, the format on disk, hand-written
files (manual incidents, maintenance, malformed ones), atomic writes and masking."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import secrets
from generator.incidents.base import TrackerError
from generator.incidents.files import FilesTracker
from generator.incidents.markdown import add_timeline_entry, parse_timeline, strip_timeline
from generator.models import Impact, TimelineEntry, TransitionKind
from tests.tracker_contract import T0, monitor, opened, transition


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "incidents"
    path.mkdir()
    return path


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


MANUAL = """
---
title: Card payments delayed
monitor: payments
impact: degraded
status: resolved
started: 2026-11-19T08:00:00Z
resolved: 2026-11-19T09:15:00Z
labels: [bank]
---

The acquiring bank ran its batch late.

## Timeline

- **2026-11-19 08:05:00 UTC** — Detected: payments queue growing
- **2026-11-19 08:40:00 UTC** - Update: bank confirms the delay,
  expected to clear within the hour
- **2026-11-19 09:15:00 UTC** — Resolved: all payments settled
"""


# --------------------------------------------------------------------------- names and format


def test_file_names_count_per_day_per_monitor(folder):
    tracker = FilesTracker(folder)
    first = tracker.open(monitor(), opened(T0))
    tracker.resolve(first, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=3)))
    second = tracker.open(monitor(), opened(T0 + timedelta(hours=1)))
    other = tracker.open(monitor("api-v2", "API v2"), opened(T0, monitor_id="api-v2"))
    # the day is the incident's start (UTC), not the day it was written
    late = FilesTracker(folder).open(monitor("night"), opened(T0.replace(hour=0, minute=1), monitor_id="night"))
    assert (first, second, other) == ("2026-11-20-api-1", "2026-11-20-api-2", "2026-11-20-api-v2-1")
    assert late == "2026-11-19-night-1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.md" for k in (first, second, other, late))


def test_front_matter_on_disk(folder):
    tracker = FilesTracker(folder, site_url="https://status.example.com")
    t = opened(T0)
    key = tracker.open(monitor(), t)
    meta = front_matter(folder / f"{key}.md")
    assert meta["title"] == "🛑 Public API is down"
    assert meta["monitor"] == "api" and meta["impact"] == "down" and meta["severity"] == "critical"
    assert meta["status"] == "open" and meta["resolved"] is None and meta["automated"] is True
    assert meta["labels"] == ["incident", "down", "critical", "monitor:api", "automated"]
    assert meta["started"] == t.started  # YAML reads the unquoted ISO text back as the same moment
    text = (folder / f"{key}.md").read_text(encoding="utf-8")
    assert "started: 2026-11-20T09:28:15Z" in text
    assert "<https://status.example.com/>" in text
    assert "- **2026-11-20 09:30:15 UTC** — Detected: down, HTTP 503 in 812 ms" not in text  # error already says 503
    assert "- **2026-11-20 09:30:15 UTC** — Detected: down, in 812 ms: HTTP 503" in text

    end = T0 + timedelta(hours=1, minutes=5)
    tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, end, started=t.started))
    meta = front_matter(folder / f"{key}.md")
    assert meta["status"] == "resolved" and meta["resolved"] == end
    assert meta["downtime"] == "1h 7m"
    assert meta["labels"][-1] == "resolved" and "down" in meta["labels"]
    assert "Resolved: Public API is back up after 1h 7m of downtime." in (folder / f"{key}.md").read_text()


def test_resolved_before_started_is_clamped(folder):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0))
    tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 - timedelta(hours=1)))
    incident = tracker.incidents()[0]
    assert incident.resolved == incident.started and tracker.problems == []
    assert "after 0s of downtime" in incident.timeline[-1].text


def test_escalation_updates_title_labels_and_timeline(folder):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0, Impact.DEGRADED))
    tracker.change_impact(key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0 + timedelta(minutes=1)))
    tracker.change_impact(key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0 + timedelta(minutes=1)))
    incident = tracker.find_open("api")
    assert incident.title == "🛑 Public API is down"
    assert [e.kind for e in incident.timeline] == ["detected", "escalated"]  # the repeat changed nothing
    assert incident.updated == T0 + timedelta(minutes=1)


def test_reopen_keeps_start_and_history(folder):
    tracker = FilesTracker(folder)
    t = opened(T0)
    key = tracker.open(monitor(), t)
    tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=4)))
    back = transition(TransitionKind.REOPENED, Impact.DOWN, T0 + timedelta(minutes=9), key=key)
    assert tracker.open(monitor(), back) == key
    incident = tracker.find_open("api")
    assert incident.started == t.started and incident.resolved is None
    assert [e.kind for e in incident.timeline] == ["detected", "resolved", "reopened"]
    assert "downtime" not in front_matter(folder / f"{key}.md")


def test_reopen_of_a_missing_or_manual_incident_opens_a_new_one(folder):
    write(folder, "2026-11-19-manual.md", MANUAL.replace("monitor: payments", "monitor: api"))
    tracker = FilesTracker(folder)
    for key in ("2026-11-19-manual", "2026-01-01-api-7", "../../etc/passwd"):
        back = transition(TransitionKind.REOPENED, Impact.DOWN, T0, key=key)
        new = tracker.open(monitor(), back)
        assert new.startswith("2026-11-20-api-")
        tracker.resolve(new, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=1)))
    assert front_matter(folder / "2026-11-19-manual.md")["status"] == "resolved"
    assert "automated" not in front_matter(folder / "2026-11-19-manual.md")


def test_find_open_reads_front_matter_never_the_title(folder):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0))
    path = folder / f"{key}.md"
    path.write_text(path.read_text().replace("title: 🛑 Public API is down", "title: Renamed by a person"))
    # a manual incident carrying the tool's own title is not the tool's incident
    write(folder, "2026-11-21-lookalike.md", "---\ntitle: 🛑 Public API is down\nmonitor: api\nimpact: down\n"
          "status: open\nstarted: 2026-11-21T00:00:00Z\n---\n")
    found = tracker.find_open("api")
    assert found.key == key and found.title == "Renamed by a person"
    assert tracker.open(monitor(), opened(T0 + timedelta(minutes=1))) == key


def test_hand_edits_to_an_automated_incident_survive(folder):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0))
    path = folder / f"{key}.md"
    text = path.read_text().replace("automated: true", "automated: true\nowner: ops-team\nlabels: [incident, down, customer-facing]")
    text = text.replace("labels: [incident, down, critical, 'monitor:api', automated]\n", "")
    text = text.replace("## Timeline", "Root cause: a full disk.\n\n## Timeline")
    path.write_text(text)
    tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=5)))
    meta = front_matter(path)
    assert meta["owner"] == "ops-team"
    incident = tracker.incidents()[0]
    assert "customer-facing" in incident.labels and "resolved" in incident.labels
    assert "Root cause: a full disk." in incident.body
    assert "## Timeline" not in incident.body  # the timeline is published from the entries
    assert [e.kind for e in incident.timeline] == ["detected", "resolved"]


# --------------------------------------------------------------------------- hand-written files


def test_manual_incident_is_read_with_its_timeline(folder):
    write(folder, "2026-11-19-payments.md", MANUAL)
    write(folder, "README.md", "# How to write incidents\n")
    tracker = FilesTracker(folder)
    [incident] = tracker.incidents()
    assert incident.key == "2026-11-19-payments" and not incident.automated
    assert incident.title == "Card payments delayed" and incident.impact is Impact.DEGRADED
    assert incident.labels == ("incident", "degraded", "warning", "monitor:payments", "resolved", "bank")
    assert incident.body == "The acquiring bank ran its batch late."
    assert [(e.time.hour, e.time.minute, e.kind) for e in incident.timeline] == [(8, 5, "detected"), (8, 40, "update"), (9, 15, "resolved")]
    assert incident.timeline[1].text == "bank confirms the delay,\nexpected to clear within the hour"
    assert incident.updated == incident.resolved
    assert tracker.problems == [] and tracker.find_open("payments") is None


def test_manual_incident_is_never_closed_or_changed(folder):
    path = write(folder, "2026-11-19-payments.md", MANUAL.replace("status: resolved", "status: open").replace(
        "resolved: 2026-11-19T09:15:00Z\n", ""))
    before = path.read_text()
    tracker = FilesTracker(folder)
    pay = monitor("payments", "Payments")
    with pytest.raises(TrackerError, match="manual incident"):
        tracker.resolve("2026-11-19-payments", pay, transition(TransitionKind.RESOLVED, Impact.DOWN, T0, monitor_id="payments"))
    with pytest.raises(TrackerError, match="manual incident"):
        tracker.change_impact("2026-11-19-payments", pay, transition(TransitionKind.ESCALATED, Impact.DOWN, T0, monitor_id="payments"))
    assert path.read_text() == before
    # a person's note on a manual incident is fine
    tracker.comment("2026-11-19-payments", TimelineEntry(T0, "update", "still waiting on the bank"))
    assert tracker.incidents()[0].timeline[-1].text == "still waiting on the bank"


def test_maintenance_notices(folder):
    write(folder, "2026-12-01-db.md", """
---
title: Database upgrade
maintenance:
  start: 2026-12-01T02:00:00Z
  end: 2026-12-01 04:30:00+01:00
  monitors: api
---
Writes are paused.
""")
    write(folder, "2026-11-30-all.md", "---\ntitle: Network work\nmaintenance: {start: 2026-11-30, end: 2026-12-01}\n---\n")
    tracker = FilesTracker(folder)
    everything, db = tracker.maintenance()
    assert (db.key, db.title, db.monitors, db.body) == ("2026-12-01-db", "Database upgrade", ("api",), "Writes are paused.")
    assert db.start == T0.replace(day=1, month=12, hour=2, minute=0, second=0) and db.end - db.start == timedelta(hours=1, minutes=30)
    assert everything.monitors == () and everything.covers("anything", T0.replace(day=30, hour=23))
    assert tracker.incidents() == [] and tracker.problems == []


MALFORMED = [
    ("bad-yaml.md", "---\ntitle: x\nimpact: [down\n---\n", ":3: invalid YAML in front matter"),
    ("no-front-matter.md", "# Outage\nwe were down\n", ":1: no front matter"),
    ("unclosed.md", "---\ntitle: x\n", ":1: front matter is not closed"),
    ("not-a-mapping.md", "---\n- a\n- b\n---\n", ":2: front matter must be a mapping"),
    ("no-title.md", "---\nimpact: down\nstatus: open\nstarted: 2026-11-20T00:00:00Z\n---\n", ": title: missing"),
    ("bad-impact.md", "---\ntitle: x\nimpact: apocalyptic\nstatus: open\nstarted: 2026-11-20T00:00:00Z\n---\n",
     ":3: impact: 'apocalyptic' is not valid; expected one of: down, degraded"),
    ("bad-status.md", "---\ntitle: x\nimpact: down\nstatus: closed\nstarted: 2026-11-20T00:00:00Z\n---\n", ":4: status:"),
    ("bad-date.md", "---\ntitle: x\nimpact: down\nstatus: open\nstarted: last tuesday\n---\n",
     ":5: started: 'last tuesday' is not a timestamp"),
    ("no-resolved.md", "---\ntitle: x\nimpact: down\nstatus: resolved\nstarted: 2026-11-20T00:00:00Z\n---\n",
     ": resolved: missing"),
    ("backwards.md", "---\ntitle: x\nimpact: down\nstatus: resolved\nstarted: 2026-11-20T00:00:00Z\n"
     "resolved: 2026-11-19T00:00:00Z\n---\n", ":6: resolved: 2026-11-19T00:00:00Z is before started"),
    ("bad-automated.md", "---\ntitle: x\nimpact: down\nstatus: open\nstarted: 2026-11-20T00:00:00Z\nautomated: maybe\n---\n",
     ":6: automated:"),
    ("bad-window.md", "---\ntitle: x\nmaintenance:\n  start: 2026-11-20T02:00:00Z\n  end: 2026-11-20T01:00:00Z\n---\n",
     ":5: maintenance.end: 2026-11-20T01:00:00Z is not after maintenance.start"),
    ("bad-monitors.md", "---\ntitle: x\nmaintenance:\n  start: 2026-11-20\n  end: 2026-11-21\n  monitors: {a: 1}\n---\n",
     ":6: maintenance.monitors:"),
    ("no-end.md", "---\ntitle: x\nmaintenance:\n  start: 2026-11-20\n---\n", ": maintenance.end: nothing is not a timestamp"),
]


def test_malformed_files_are_reported_and_skipped(folder, caplog):
    write(folder, "2026-11-19-payments.md", MANUAL)
    for name, text, _ in MALFORMED:
        write(folder, name, text)
    (folder / "binary.md").write_bytes(b"---\ntitle: \xff\xfe\n---\n")
    tracker = FilesTracker(folder)
    with caplog.at_level(logging.WARNING, logger="statusgen.incidents.files"):
        assert [i.key for i in tracker.incidents()] == ["2026-11-19-payments"]
        assert tracker.maintenance() == []
        tracker.incidents()  # a second scan logs nothing new
    problems = tracker.problems
    assert len(problems) == len(MALFORMED) + 1, problems
    for name, _, expected in MALFORMED:
        [message] = [p for p in problems if p.startswith(str(folder / name))]
        assert expected in message, (name, message)
        assert message.endswith("the file is skipped"), message
    assert any(p.startswith(str(folder / "binary.md")) and "cannot be read" in p for p in problems)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == len(problems)
    assert "Traceback" not in "\n".join(problems)


def test_a_bad_timeline_line_skips_only_that_entry(folder):
    write(folder, "x.md", MANUAL.replace("2026-11-19 08:40:00 UTC", "yesterday-ish"))
    tracker = FilesTracker(folder)
    [incident] = tracker.incidents()
    assert [e.kind for e in incident.timeline] == ["detected", "resolved"]
    [problem] = tracker.problems
    assert "x.md" in problem and "'yesterday-ish'" in problem


def test_tool_refuses_bad_keys_and_missing_files(folder):
    tracker = FilesTracker(folder)
    entry = TimelineEntry(T0, "comment", "hello")
    with pytest.raises(TrackerError, match="not an incident key"):
        tracker.comment("../outside", entry)
    with pytest.raises(TrackerError, match="does not exist"):
        tracker.comment("2026-11-20-api-9", entry)
    write(folder, "broken.md", "---\ntitle: [\n---\n")
    with pytest.raises(TrackerError, match=r"broken\.md:2: invalid YAML"):
        tracker.resolve("broken", monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0))


# --------------------------------------------------------------------------- robustness


def test_missing_folder_is_created_on_first_incident(tmp_path):
    tracker = FilesTracker(tmp_path / "new" / "incidents")
    assert tracker.incidents() == [] and tracker.maintenance() == [] and tracker.find_open("api") is None
    key = tracker.open(monitor(), opened(T0))
    assert (tmp_path / "new" / "incidents" / f"{key}.md").is_file()


def test_failed_write_leaves_the_old_file(folder, monkeypatch):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0))
    path = folder / f"{key}.md"
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(TrackerError, match=r"cannot write .*No space left"):
        tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=1)))
    monkeypatch.undo()
    assert path.read_text() == before
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no temporary file left behind


def test_secrets_never_reach_the_file(folder):
    secrets.register("hunter2-token")
    try:
        tracker = FilesTracker(folder)
        t = opened(T0)
        from dataclasses import replace

        t = replace(t, check=replace(t.check, error="GET https://x/?key=hunter2-token: 401"))
        key = tracker.open(monitor(), t)
        tracker.comment(key, TimelineEntry(T0, "restart", "called with hunter2-token"))
        text = (folder / f"{key}.md").read_text()
        assert "hunter2-token" not in text and "***" in text
    finally:
        secrets.clear()


def test_changed_since(folder):
    tracker = FilesTracker(folder)
    key = tracker.open(monitor(), opened(T0))
    tracker.comment(key, TimelineEntry(T0 + timedelta(hours=2), "comment", "still looking"))
    manual = write(folder, "2026-11-19-payments.md", MANUAL)
    old = (T0 - timedelta(days=3)).timestamp()
    for path in folder.iterdir():
        os.utime(path, (old, old))  # as if checked out long ago
    assert [i.key for i in tracker.changed_since(T0 + timedelta(hours=1))] == [key]
    assert {i.key for i in tracker.changed_since(T0 - timedelta(days=2))} == {key, "2026-11-19-payments"}
    assert tracker.changed_since(T0 + timedelta(hours=3)) == []
    # a person edits the manual incident now: its file time says so
    manual.write_text(MANUAL.replace("ran its batch late", "ran its batch very late"))
    assert [i.key for i in tracker.changed_since(T0 + timedelta(hours=3))] == ["2026-11-19-payments"]


def test_timeline_helpers_round_trip():
    body = "Intro.\n\n## Timeline\n\n- **2026-11-20 09:00:00 UTC** — Detected: down\n\n## Postmortem\n\nLater."
    entry = TimelineEntry(T0, "deescalated", "now degraded\nwith detail")
    updated = add_timeline_entry(body, entry)
    entries, problems = parse_timeline(updated)
    assert problems == [] and [e.kind for e in entries] == ["detected", "deescalated"]
    assert entries[1] == entry
    assert updated.index("De-escalated") < updated.index("## Postmortem")
    assert strip_timeline(updated) == "Intro.\n\n## Postmortem\n\nLater."
    fresh = add_timeline_entry("Just text.", entry)
    assert parse_timeline(fresh)[0] == (entry,)


def test_the_readme_examples_are_valid(folder):
    """incidents/README.md teaches the format: its examples must read back without a problem."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "incidents" / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"```markdown\n(.*?)```", readme, re.S)
    assert len(examples) == 2
    for number, example in enumerate(examples):
        write(folder, f"example-{number}.md", example)
    tracker = FilesTracker(folder)
    [window] = tracker.maintenance()
    [incident] = tracker.incidents()
    assert tracker.problems == []
    assert window.monitors == ("api", "web") and window.end - window.start == timedelta(hours=1, minutes=30)
    assert incident.monitor_id == "payments" and not incident.automated and len(incident.timeline) == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sequence=st.lists(st.sampled_from("UUDGNM"), min_size=1, max_size=30),
    gap_minutes=st.integers(min_value=1, max_value=30),
)
def test_status_machine_driving_the_files_tracker(tmp_path_factory, sequence, gap_minutes):
    """The pipeline's loop in small: the tracker never holds two open incidents for a monitor,
    and its open incident is always the one the state names."""
    from generator.models import MonitorState
    from generator.status import step
    from tests.test_status import IN_WINDOW, LETTERS, check
    from tests.test_status import monitor as status_monitor

    folder = tmp_path_factory.mktemp("incidents")
    tracker = FilesTracker(folder)
    mon = status_monitor(failure_threshold=2, success_threshold=2)
    state = MonitorState(mon.id)
    for number, letter in enumerate(sequence):
        moment = T0 + timedelta(minutes=gap_minutes * number)
        state, transitions = step(mon, state, check(LETTERS[letter], moment), in_maintenance=letter in IN_WINDOW)
        for t in transitions:
            if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
                state = state.evolve(incident_key=tracker.open(mon, t))
                if t.kind is TransitionKind.REOPENED:
                    assert state.incident_key == t.incident_key
            elif t.kind is TransitionKind.RESOLVED:
                tracker.resolve(t.incident_key, mon, t)
            else:
                tracker.change_impact(t.incident_key, mon, t)
        opened_now = [i for i in tracker.incidents() if i.is_open]
        assert len(opened_now) == (1 if state.incident_open else 0)
        if state.incident_open:
            assert opened_now[0].key == state.incident_key and opened_now[0].impact is state.incident_impact
    assert tracker.problems == []
    for incident in tracker.incidents():
        assert incident.is_open or (incident.resolved is not None and incident.resolved >= incident.started)


def test_blank_lines_before_the_front_matter_are_forgiven(folder):
    (folder / "a.md").write_text("\n\n" + MANUAL.lstrip(), encoding="utf-8")
    (folder / "b.md").write_text("\n\n---\ntitle: x\nimpact: bad\nstatus: open\nstarted: 2026-11-20\n---\n", encoding="utf-8")
    (folder / "c.md").write_text("\n---\ntitle: [\n---\n", encoding="utf-8")
    tracker = FilesTracker(folder)
    assert [i.key for i in tracker.incidents()] == ["a"]
    b, c = tracker.problems
    assert f"{folder / 'b.md'}:5: impact: 'bad'" in b
    assert f"{folder / 'c.md'}:3: invalid YAML" in c
