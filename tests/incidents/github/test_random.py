"""Many runs over several monitors with random outages and random GitHub faults:
no incident is ever duplicated, and once GitHub answers again none is lost.

The driver is what a run does with the status machine's transitions (generator.status.step),
including re-syncing monitors whose tracker update failed in an earlier run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Optional

import pytest

from generator.history import History
from generator.incidents.base import TrackerError
from generator.incidents.github import GitHubTracker, RetryPolicy, marker_of
from generator.models import Check, CheckStatus, Impact, Monitor, MonitorState, Transition, TransitionKind
from generator.probes.http_spec import HttpSpec
from generator.status import step
from generator.timeutil import UTC
from tests.support.github_emulator import Fault, GitHubEmulator
from tests.support.openapi import github_openapi

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
MONITORS = [Monitor(id=f"m{n}", name=f"Service {n}", type="http", spec=HttpSpec(url="http://127.0.0.1:9/")) for n in range(5)]


def open_issues(api: GitHubEmulator, monitor_id: str) -> list[int]:
    return [i.number for i in api.issues.values()
            if i.state == "open" and (marker_of(i.body) or {}).get("monitor") == monitor_id]


def apply(tracker: GitHubTracker, monitor: Monitor, state: MonitorState, t: Transition) -> MonitorState:
    if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
        return state.evolve(incident_key=tracker.open(monitor, t))
    if t.kind in (TransitionKind.ESCALATED, TransitionKind.DEESCALATED):
        key = state.incident_key or getattr(tracker.find_open(monitor.id), "key", None)
        if key:
            tracker.change_impact(key, monitor, t)
        return state.evolve(incident_key=key)
    key = t.incident_key or state.last_incident_key or getattr(tracker.find_open(monitor.id), "key", None)
    if key:
        tracker.resolve(key, monitor, t)
    return state.evolve(last_incident_key=key)


def resync(tracker: GitHubTracker, monitor: Monitor, state: MonitorState, now: datetime) -> MonitorState:
    """Make GitHub agree with the state after an earlier failure (never a second incident)."""
    existing = tracker.find_open(monitor.id)
    if state.incident_open and existing is None:
        check = Check(monitor.id, state.last_check or now, CheckStatus.DOWN, error="re-synced")
        t = Transition(TransitionKind.OPENED, monitor.id, state.incident_started or now,
                       state.incident_impact or Impact.DOWN, check, started=state.incident_started)
        return state.evolve(incident_key=tracker.open(monitor, t))
    if state.incident_open:
        return state.evolve(incident_key=existing.key)
    if existing is not None:
        check = Check(monitor.id, state.last_resolved or now, CheckStatus.UP)
        t = Transition(TransitionKind.RESOLVED, monitor.id, state.last_resolved or now, existing.impact, check,
                       started=existing.started, incident_key=existing.key)
        tracker.resolve(existing.key, monitor, t)
    return state


@pytest.mark.parametrize("seed", [7, 2026])
def test_random_outages_and_faults_never_duplicate_or_lose_an_incident(tmp_path, seed):
    rnd = random.Random(seed)
    slow_left = [1]  # a slow answer costs a second; reset_after loses answers as well, at no cost

    def schedule(method: str, path: str) -> Optional[Fault]:
        if not faulty or rnd.random() > (0.2 if method == "GET" else 0.35):
            return None
        kind = rnd.choice(["500", "502", "503", "reset", "reset_after", "reset_after", "retry_after", "rate_limit", "slow"])
        if kind == "slow":
            if not slow_left[0]:
                return Fault("status", status=502)
            slow_left[0] -= 1
            return Fault("slow", delay=1.2)
        if kind in ("500", "502", "503"):
            return Fault("status", status=int(kind))
        if kind == "retry_after":
            return Fault("retry_after", status=rnd.choice([403, 429]), retry_after=rnd.choice([0, 1, 2]))
        if kind == "rate_limit":
            return Fault("rate_limit", reset_in=1)
        return Fault(kind)

    with GitHubEmulator(validator=github_openapi()) as api:
        api.schedule = schedule
        history = History(tmp_path / "data")
        states = {m.id: MonitorState(m.id) for m in MONITORS}
        health = {m.id: CheckStatus.UP for m in MONITORS}
        pending: set[str] = set()
        stats = {"errors": 0, "transitions": 0}
        faulty = True
        for run in range(44):
            faulty = run < 40  # the last runs: GitHub is healthy again
            now = T0 + timedelta(minutes=5 * run)
            tracker = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=history, timeout=1,
                                    retry=RetryPolicy(budget=10, backoff=0.01, max_attempts=3),
                                    seconds_between_requests=None, seconds_between_writes=None,
                                    sleep=lambda seconds: None)  # faults are one-shot: no need to really wait
            failed: set[str] = set()
            for monitor in MONITORS:
                if faulty and rnd.random() < 0.3:  # the service changes its mind
                    health[monitor.id] = rnd.choice([CheckStatus.UP, CheckStatus.UP, CheckStatus.DOWN, CheckStatus.DEGRADED])
                check = Check(monitor.id, now, health[monitor.id], latency_ms=100.0,
                              code=200 if health[monitor.id] is CheckStatus.UP else 503)
                state, transitions = step(monitor, states[monitor.id], check)
                for t in transitions:
                    stats["transitions"] += 1
                    try:
                        state = apply(tracker, monitor, state, t)
                    except TrackerError as error:
                        assert "GitHub request" in str(error) and api.token not in str(error)
                        stats["errors"] += 1
                        failed.add(monitor.id)
                states[monitor.id] = state
            for monitor_id in sorted(pending - failed):
                monitor = next(m for m in MONITORS if m.id == monitor_id)
                try:
                    states[monitor_id] = resync(tracker, monitor, states[monitor_id], now)
                except TrackerError:
                    stats["errors"] += 1
                    failed.add(monitor_id)
            pending = failed
            # never two open incidents for one monitor, whatever failed
            for monitor in MONITORS:
                assert len(open_issues(api, monitor.id)) <= 1, (run, monitor.id, open_issues(api, monitor.id))
        # GitHub healthy again: every open incident is on GitHub exactly once, nothing else is open
        assert not pending
        for monitor in MONITORS:
            expected = 1 if states[monitor.id].incident_open else 0
            assert len(open_issues(api, monitor.id)) == expected, (monitor.id, states[monitor.id])
            if expected:
                assert str(open_issues(api, monitor.id)[0]) == states[monitor.id].incident_key
        for issue in api.issues.values():
            labels = api.issue_labels(issue.number)
            assert ("resolved" in labels) == (issue.state == "closed"), (issue.number, labels, issue.state)
        final = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=history,
                              seconds_between_requests=None, seconds_between_writes=None)
        listed = final.incidents()
        assert sorted(int(i.key) for i in listed) == sorted(api.issues)
        assert sum(i.is_open for i in listed) == sum(s.incident_open for s in states.values())
        # the run really was eventful
        assert stats["transitions"] >= 10 and len(api.issues) >= 3
        assert any(r.fault == "reset_after" and r.method == "POST" for r in api.log)
    api.assert_valid()
