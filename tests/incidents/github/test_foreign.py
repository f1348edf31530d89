"""Issue 12: incidents a team kept with Kener or Upptime read as what they mean (impact, monitor, start, end).

Issue JSON shaped as each tool writes it: Kener's labels (``incident``, ``incident-down`` /
``incident-degraded``, a state, the monitor's bare tag) and ``[start_datetime:…]`` /
``[end_datetime:…]`` in the body; Upptime's ``status`` + slug labels and "🛑 Name is down" titles.
Read alone, then through the GitHub tracker against the loopback emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from generator.history import History
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.incidents.github.foreign import read_foreign
from generator.models import Impact
from generator.timeutil import UTC
from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=47)

KENER_BODY = (f"Users in the EU see 502 errors on checkout.\n\n[start_datetime:{int(START.timestamp())}]\n"
              f"[end_datetime:{int(END.timestamp())}]")
UPPTIME_BODY = ("In [`4f1c2d9`](https://github.com/acme/status/commit/4f1c2d9b0e), Public API "
                "(https://api.example.com/health) was **down**:\n- HTTP code: 0\n- Response time: 0 ms\n")


def issue(title: str, body: str, labels: list[str], state: str = "open", closed_at: str | None = None) -> dict:
    """A mirrored issue as GitHub's list answer becomes one (labels by name)."""
    return {"number": 7, "title": title, "body": body, "labels": labels, "state": state,
            "created_at": "2026-11-20T09:03:00Z", "closed_at": closed_at}


def test_a_kener_issue_says_its_impact_monitor_state_and_times_in_labels_and_body() -> None:
    found = read_foreign(issue("Checkout errors", KENER_BODY, ["incident", "incident-down", "checkout", "identified"]))
    assert found is not None and found.source == "kener"
    assert (found.monitor_id, found.impact, found.state) == ("checkout", Impact.DOWN, "identified")
    assert (found.started, found.resolved) == (START, END)
    degraded = read_foreign(issue("Slow search", "[start_datetime:1795165200]", ["incident", "incident-degraded",
                                                                                 "search", "investigating"]))
    assert degraded is not None and degraded.impact is Impact.DEGRADED and degraded.resolved is None
    assert degraded.started == START and degraded.monitor_id == "search"


def test_an_upptime_issue_is_down_or_degraded_by_its_title_from_opening_to_closing() -> None:
    down = read_foreign(issue("🛑 Public API is down", UPPTIME_BODY, ["status", "public-api"], "closed",
                              "2026-11-20T09:41:00Z"))
    assert down is not None and down.source == "upptime"
    assert (down.monitor_id, down.impact) == ("public-api", Impact.DOWN)
    assert down.started is None and down.resolved == datetime(2026, 11, 20, 9, 41, tzinfo=UTC)
    slow = read_foreign(issue("⚠️ Public API has degraded performance", UPPTIME_BODY, ["status", "public-api"]))
    assert slow is not None and slow.impact is Impact.DEGRADED and slow.resolved is None


def test_other_issues_are_not_foreign() -> None:
    assert read_foreign(issue("🛑 API is down", "<!-- statusgen {} -->", ["incident", "down", "monitor:api"])) is None
    assert read_foreign(issue("Typo in README", "", ["documentation"])) is None


def test_the_tracker_keeps_a_teams_kener_and_upptime_incidents_open_and_past(tmp_path: Path) -> None:
    with GitHubEmulator(validator=github_openapi()) as api:
        kener_past = api.create_issue("Checkout errors", KENER_BODY, ["incident", "incident-down", "checkout",
                                                                       "resolved"], user="maintainer",
                                      state="closed", created_at=START + timedelta(minutes=5),
                                      closed_at=END + timedelta(hours=3))
        kener_open = api.create_issue("Search is slow", f"Looking into it. [start_datetime:{int(END.timestamp())}]",
                                      ["incident", "incident-degraded", "search", "investigating"], user="maintainer")
        upptime_past = api.create_issue("🛑 Public API is down", UPPTIME_BODY, ["status", "public-api"],
                                        user="maintainer", state="closed", created_at=START, closed_at=END)
        upptime_open = api.create_issue("⚠️ Website has degraded performance", UPPTIME_BODY, ["status", "website"],
                                        user="maintainer", created_at=END)
        tracker = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=History(tmp_path),
                                retry=RetryPolicy(budget=1, backoff=0.01), seconds_between_requests=None,
                                seconds_between_writes=None)
        by_key = {i.key: i for i in tracker.incidents()}
    api.assert_valid()

    past = by_key[str(kener_past.number)]
    assert (past.monitor_id, past.impact, past.status) == ("checkout", Impact.DOWN, "resolved")
    assert (past.started, past.resolved) == (START, END)  # the body's times, not created_at / closed_at
    assert "[start_datetime" not in past.body and "502 errors" in past.body
    now_open = by_key[str(kener_open.number)]
    assert (now_open.monitor_id, now_open.impact, now_open.is_open, now_open.started) == (
        "search", Impact.DEGRADED, True, END)
    gone = by_key[str(upptime_past.number)]
    assert (gone.monitor_id, gone.impact, gone.status, gone.started, gone.resolved) == (
        "public-api", Impact.DOWN, "resolved", START, END)
    slow = by_key[str(upptime_open.number)]
    assert (slow.monitor_id, slow.impact, slow.is_open) == ("website", Impact.DEGRADED, True)
    assert not any(i.automated for i in by_key.values())  # theirs, never closed or reworded by statusgen
