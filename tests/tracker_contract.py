"""What every incident tracker must do, whatever keeps the incidents (files, GitHub issues).

Each ``check_*`` function takes a :class:`Harness` and asserts one behaviour
through the public :class:`generator.incidents.base.Tracker` methods only.
``tests/incidents/test_contract.py`` runs every check against every backend in
:data:`BACKENDS`.

Adding a backend: write a context manager ``factory(tmp_path) -> Harness`` and
register it under a name, from a module in ``tests/support/`` whose name ends
with ``_contract_backend`` (imported automatically at the bottom of this file)::

    # tests/support/github_contract_backend.py
    from tests.tracker_contract import Harness, register_backend

    @register_backend("github")
    @contextmanager
    def github_backend(tmp_path):
        with emulator() as api:                    # real server on 127.0.0.1
            def tracker():                         # a new instance = the next run
                return GitHubTracker("o/r", "t", base_url=api.url, cache=History(tmp_path))
            yield Harness(tracker=tracker(), new_tracker=tracker,
                          add_manual_incident=..., add_maintenance=...)
"""

from __future__ import annotations

import importlib
import pkgutil
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator, Optional

from generator.incidents.base import Tracker
from generator.incidents.text import incident_seconds
from generator.models import Check, CheckStatus, Impact, Incident, Monitor, TimelineEntry, Transition, TransitionKind
from generator.probes.http_spec import HttpSpec
from generator.timeutil import UTC, duration_between, format_duration

# a fixed past moment: backends must use the transition's times, not their own clock
T0 = datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@dataclass
class Harness:
    """A tracker plus the backend-specific ways a person adds things by hand."""

    tracker: Tracker
    # a fresh tracker over the same storage: the next run (nothing cached in memory)
    new_tracker: Callable[[], Tracker]
    # (title, monitor_id or None, impact, started, resolved or None, body) -> key; not automated
    add_manual_incident: Callable[[str, Optional[str], Impact, datetime, Optional[datetime], str], str]
    # (title, start, end, monitors, body) -> key
    add_maintenance: Callable[[str, datetime, datetime, tuple[str, ...], str], str]


Factory = Callable[[Path], AbstractContextManager[Harness]]
BACKENDS: dict[str, Factory] = {}


def register_backend(name: str) -> Callable[[Factory], Factory]:
    def decorate(factory: Factory) -> Factory:
        BACKENDS[name] = factory
        return factory

    return decorate


# --------------------------------------------------------------------------- building blocks


def monitor(monitor_id: str = "api", name: str = "Public API") -> Monitor:
    return Monitor(id=monitor_id, name=name, type="http", spec=HttpSpec(url="http://127.0.0.1:9/health"))


def transition(
    kind: TransitionKind,
    impact: Impact,
    time: datetime,
    *,
    started: Optional[datetime] = None,
    key: Optional[str] = None,
    monitor_id: str = "api",
    status: Optional[CheckStatus] = None,
) -> Transition:
    if status is None:
        status = CheckStatus.UP if kind is TransitionKind.RESOLVED else CheckStatus(impact.value)
    check = Check(monitor_id=monitor_id, time=time, status=status, latency_ms=812.0, code=503, error="HTTP 503")
    return Transition(kind, monitor_id, time, impact, check, started=started, incident_key=key)


def opened(time: datetime = T0, impact: Impact = Impact.DOWN, monitor_id: str = "api") -> Transition:
    return transition(TransitionKind.OPENED, impact, time, started=time - timedelta(minutes=2), monitor_id=monitor_id)


def close_in_time(a: Optional[datetime], b: datetime) -> bool:
    return a is not None and abs(a - b) <= SECOND


def one(tracker: Tracker, key: str) -> Incident:
    found = [i for i in tracker.incidents() if i.key == key]
    assert len(found) == 1, f"incident {key!r} listed {len(found)} times in incidents()"
    return found[0]


def open_incidents(tracker: Tracker, monitor_id: str) -> list[Incident]:
    return [i for i in tracker.incidents() if i.is_open and i.automated and i.monitor_id == monitor_id]


def timeline_text(incident: Incident) -> str:
    return "\n".join([incident.body] + [e.text for e in incident.timeline] + [c.body for c in incident.comments])


# --------------------------------------------------------------------------- the contract


def check_open_then_find_open(h: Harness) -> None:
    t = opened()
    key = h.tracker.open(monitor(), t)
    assert isinstance(key, str) and key
    found = h.tracker.find_open("api")
    assert found is not None and found.key == key
    assert found.is_open and found.status == "open" and found.automated
    assert found.monitor_id == "api" and found.impact is Impact.DOWN
    assert close_in_time(found.started, t.started), (found.started, t.started)
    assert found.resolved is None
    assert found.title == "🛑 Public API is down"
    for label in ("incident", "down", "critical", "monitor:api", "automated"):
        assert label in found.labels, (label, found.labels)
    assert "resolved" not in found.labels
    assert h.tracker.find_open("web") is None
    assert [i.key for i in open_incidents(h.tracker, "api")] == [key]


def check_degraded_title_and_labels(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened(impact=Impact.DEGRADED))
    found = one(h.tracker, key)
    assert found.title == "⚠️ Public API is degraded"
    assert found.impact is Impact.DEGRADED
    assert {"degraded", "warning"} <= set(found.labels) and not {"down", "critical"} & set(found.labels)


def check_open_is_idempotent(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened())
    assert h.tracker.open(monitor(), opened(T0 + timedelta(minutes=1))) == key
    # the next run, with nothing remembered in memory, finds the same incident
    later = h.new_tracker()
    assert later.open(monitor(), opened(T0 + timedelta(minutes=2))) == key
    assert later.find_open("api").key == key
    assert [i.key for i in open_incidents(later, "api")] == [key]


def check_monitors_are_independent(h: Harness) -> None:
    api = h.tracker.open(monitor(), opened())
    web = h.tracker.open(monitor("web", "Website"), opened(monitor_id="web"))
    assert api != web
    assert h.tracker.find_open("api").key == api and h.tracker.find_open("web").key == web


def check_comment_adds_timeline_entry(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened())
    before = one(h.tracker, key)
    text = "Restart requested: webhook answered HTTP 202"
    h.tracker.comment(key, TimelineEntry(T0 + timedelta(minutes=1), "restart", text))
    after = one(h.tracker, key)
    entries = len(after.timeline) + len(after.comments)
    assert entries == len(before.timeline) + len(before.comments) + 1
    assert text in timeline_text(after)
    assert after.is_open


def check_change_impact(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened(impact=Impact.DEGRADED))
    before = one(h.tracker, key)
    h.tracker.change_impact(key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0 + timedelta(minutes=3), key=key))
    up = h.tracker.find_open("api")
    assert up is not None and up.key == key
    assert up.impact is Impact.DOWN and up.severity.value == "critical"
    assert {"down", "critical"} <= set(up.labels) and not {"degraded", "warning"} & set(up.labels)
    assert len(up.timeline) + len(up.comments) > len(before.timeline) + len(before.comments)
    h.tracker.change_impact(key, monitor(), transition(TransitionKind.DEESCALATED, Impact.DEGRADED, T0 + timedelta(minutes=5), key=key))
    down = h.tracker.find_open("api")
    assert down.impact is Impact.DEGRADED and down.severity.value == "warning"
    assert {"degraded", "warning"} <= set(down.labels) and not {"down", "critical"} & set(down.labels)
    assert [i.key for i in open_incidents(h.tracker, "api")] == [key]


def check_resolve(h: Harness) -> None:
    t = opened()
    key = h.tracker.open(monitor(), t)
    end = t.started + timedelta(minutes=12, seconds=3)
    h.tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, end, started=t.started, key=key))
    assert h.tracker.find_open("api") is None
    done = one(h.tracker, key)
    assert done.status == "resolved" and not done.is_open
    assert done.resolved is not None and done.resolved >= done.started
    expected = format_duration(duration_between(t.started, end).total_seconds())
    assert expected == "12m 3s"
    assert expected in timeline_text(done), timeline_text(done)
    for label in ("resolved", "down", "critical", "incident", "monitor:api", "automated"):
        assert label in done.labels, (label, done.labels)


def check_resolve_again_changes_nothing(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened())
    end = T0 + timedelta(minutes=10)
    resolution = transition(TransitionKind.RESOLVED, Impact.DOWN, end, started=T0 - timedelta(minutes=2), key=key)
    h.tracker.resolve(key, monitor(), resolution)
    first = one(h.tracker, key)
    h.new_tracker().resolve(key, monitor(), resolution)  # a re-run after a crash
    again = one(h.tracker, key)
    assert again.status == "resolved" and again.labels == first.labels
    assert len(again.timeline) + len(again.comments) == len(first.timeline) + len(first.comments)


def check_new_incident_after_resolve(h: Harness) -> None:
    first = h.tracker.open(monitor(), opened())
    h.tracker.resolve(first, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=5), key=first))
    second = h.tracker.open(monitor(), opened(T0 + timedelta(hours=2)))
    assert second != first
    assert h.tracker.find_open("api").key == second
    assert one(h.tracker, first).status == "resolved"


def check_reopen_after_flap(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened())
    h.tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=5), key=key))
    back = transition(
        TransitionKind.REOPENED, Impact.DEGRADED, T0 + timedelta(minutes=8), started=T0 + timedelta(minutes=8), key=key
    )
    assert h.tracker.open(monitor(), back) == key
    found = h.tracker.find_open("api")
    assert found is not None and found.key == key and found.is_open
    assert "resolved" not in found.labels
    assert found.impact is Impact.DEGRADED
    assert [i.key for i in open_incidents(h.tracker, "api")] == [key]


def check_incidents_newest_first_with_manual(h: Harness) -> None:
    old = h.tracker.open(monitor(), opened(T0))
    h.tracker.resolve(old, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=9), key=old))
    manual = h.add_manual_incident(
        "Payments delayed at the bank", "api", Impact.DEGRADED, T0 + timedelta(hours=1), T0 + timedelta(hours=2),
        "Our bank's batch ran late.",
    )
    new = h.tracker.open(monitor("web", "Website"), opened(T0 + timedelta(hours=3), monitor_id="web"))
    listed = h.new_tracker().incidents()
    keys = [i.key for i in listed]
    assert keys.index(new) < keys.index(manual) < keys.index(old), keys
    starts = [i.started for i in listed]
    assert starts == sorted(starts, reverse=True)
    hand = next(i for i in listed if i.key == manual)
    assert not hand.automated and hand.status == "resolved" and hand.impact is Impact.DEGRADED
    assert hand.title == "Payments delayed at the bank"
    assert close_in_time(hand.started, T0 + timedelta(hours=1))
    assert "automated" not in hand.labels and "incident" in hand.labels
    assert h.tracker.find_open("api") is None  # a manual incident is never the tool's


def check_manual_open_incident_is_not_the_tools(h: Harness) -> None:
    manual = h.add_manual_incident("Planned migration trouble", "api", Impact.DOWN, T0, None, "We are on it.")
    assert h.tracker.find_open("api") is None
    key = h.tracker.open(monitor(), opened(T0 + timedelta(minutes=5)))
    assert key != manual
    assert one(h.tracker, manual).is_open


def check_maintenance(h: Harness) -> None:
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2)
    key = h.add_maintenance("Database upgrade", start, end, ("api", "web"), "Expect short interruptions.")
    windows = h.new_tracker().maintenance()
    window = next(w for w in windows if w.key == key)
    assert window.title == "Database upgrade"
    assert close_in_time(window.start, start) and close_in_time(window.end, end)
    assert set(window.monitors) == {"api", "web"}
    assert "short interruptions" in window.body
    assert window.covers("api", start + timedelta(minutes=30)) and not window.covers("db", start + timedelta(minutes=30))
    assert key not in [i.key for i in h.tracker.incidents()]


def check_changed_since(h: Harness) -> None:
    key = h.tracker.open(monitor(), opened())
    assert key in [i.key for i in h.tracker.changed_since(None)]
    assert h.tracker.changed_since(datetime(2100, 1, 1, tzinfo=UTC)) == []


def _flapping(h: Harness, sequence: str, gap: timedelta = timedelta(minutes=1)) -> tuple[str, list[Transition]]:
    """Drive the status machine over ``sequence`` (D down, U up; one check per ``gap``) and carry every
    transition to the tracker, as the run does; the incident's key and the transitions."""
    from generator.status import initial_state, step

    m, state, key, found = monitor(), initial_state("api"), "", []
    for index, letter in enumerate(sequence):
        moment = T0 + index * gap + timedelta(milliseconds=250 * index)
        status = CheckStatus.DOWN if letter == "D" else CheckStatus.UP
        state, transitions = step(m, state, Check("api", moment, status, error="HTTP 503" if letter == "D" else ""))
        for t in transitions:
            found.append(t)
            if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
                key = h.tracker.open(m, t)
                state = state.evolve(incident_key=key)
            elif t.kind is TransitionKind.RESOLVED:
                h.tracker.resolve(key, m, t)
    return key, found


def check_flap_downtime_is_the_sum_of_its_down_intervals(h: Harness) -> None:
    # down 2 checks, up 3, down 1, up: down [0, 2) and [5, 6) minutes, up 3 minutes between
    key, transitions = _flapping(h, "DDUUUDU")
    assert [t.kind.value for t in transitions] == ["opened", "resolved", "reopened", "resolved"]
    done = one(h.new_tracker(), key)
    first, last = transitions[0], transitions[-1]
    down = (transitions[1].time - first.started).total_seconds() + (last.time - transitions[2].started).total_seconds()
    assert done.started == first.started and done.resolved == last.time
    assert done.downtime is not None and abs(done.downtime - down) < 0.001 and last.downtime == done.downtime
    assert incident_seconds(done, last.time) == done.downtime
    assert f"after {format_duration(down)} of downtime" in timeline_text(done).replace("**", ""), timeline_text(done)


def check_resolution_is_the_recorded_time_not_the_close(h: Harness) -> None:
    # the tracker closes the incident later than it ended (a run that synced late): the end stays the check's
    t = opened()
    key = h.tracker.open(monitor(), t)
    end = t.started + timedelta(seconds=7, milliseconds=400)
    h.tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, end, started=t.started, key=key))
    done = one(h.new_tracker(), key)
    assert done.resolved == end, (done.resolved, end)
    assert incident_seconds(done, end + timedelta(hours=1)) == 7.4
    assert "after 7s of downtime" in timeline_text(done).replace("**", "")


def check_rapid_flaps_fold_into_one_updated_entry(h: Harness) -> None:
    # 20 flaps: opened, resolved, then 19 x (reopened, resolved) -- one flap entry, rewritten each time
    key, transitions = _flapping(h, "DU" * 20)
    assert len(transitions) == 40 and transitions[-1].flaps == 19
    done = one(h.new_tracker(), key)
    entries = [e for e in done.timeline if e.kind != "detected"] + list(done.comments)
    assert len(entries) == 2, [(e.kind, e.text) for e in done.timeline]  # the first resolution + the flap entry
    flap = done.timeline[-1]
    assert flap.kind == "resolved" and abs(flap.time - transitions[-1].time) < SECOND
    assert "20 outages since" in flap.text and f"after {format_duration(transitions[-1].downtime)}" in flap.text
    assert done.downtime == transitions[-1].downtime


CONTRACT: list[Callable[[Harness], None]] = [
    value for name, value in sorted(globals().items()) if name.startswith("check_") and callable(value)
]


# --------------------------------------------------------------------------- backends in other modules

def _import_backends() -> None:
    import tests.support as support

    for info in pkgutil.iter_modules(support.__path__):
        if info.name.endswith("_contract_backend"):
            importlib.import_module(f"tests.support.{info.name}")


@register_backend("files")
@contextmanager
def files_backend(tmp_path: Path) -> Iterator[Harness]:
    """incidents/*.md; manual incidents and maintenance are written the way a person would."""
    from generator.incidents.files import FilesTracker

    folder = tmp_path / "incidents"
    folder.mkdir()

    def add_manual_incident(title, monitor_id, impact, started, resolved, body) -> str:
        stem = f"{started:%Y-%m-%d}-manual-{len(list(folder.glob('*.md'))) + 1}"
        lines = [
            "---",
            f"title: {title}",
            f"monitor: {monitor_id}" if monitor_id else "monitor:",
            f"impact: {impact.value}",
            f"status: {'resolved' if resolved else 'open'}",
            f"started: {started:%Y-%m-%dT%H:%M:%SZ}",
        ]
        if resolved:
            lines.append(f"resolved: {resolved:%Y-%m-%d %H:%M:%S}+00:00")
        (folder / f"{stem}.md").write_text("\n".join(lines + ["---", "", body, ""]), encoding="utf-8")
        return stem

    def add_maintenance(title, start, end, monitors, body) -> str:
        stem = f"{start:%Y-%m-%d}-maintenance"
        text = (
            f"---\ntitle: {title}\nmaintenance:\n  start: {start:%Y-%m-%dT%H:%M:%SZ}\n"
            f"  end: {end:%Y-%m-%dT%H:%M:%SZ}\n  monitors: [{', '.join(monitors)}]\n---\n\n{body}\n"
        )
        (folder / f"{stem}.md").write_text(text, encoding="utf-8")
        return stem

    def new_tracker() -> FilesTracker:
        return FilesTracker(folder, site_url="https://status.example.com/")

    tracker = new_tracker()
    yield Harness(tracker, new_tracker, add_manual_incident, add_maintenance)
    assert tracker.problems == [], tracker.problems  # everything the tool wrote reads back cleanly


_import_backends()
