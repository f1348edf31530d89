"""Issue text written and read back: markers, events, the incident read-back and maintenance YAML."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from generator.incidents.github import text
from generator.incidents.github.mirror import IssueMirror, MemoryCache
from generator.incidents.github.trust import Trust
from generator.models import Impact
from generator.timeutil import UTC, to_iso
from tests.tracker_contract import T0, monitor, opened

BOT = "statusgen-bot"


class Authors:
    """The trust rules as data: the owner is trusted, the tool is ``BOT``."""

    def is_me(self, login: str) -> bool:
        return login == BOT

    def trusted(self, login: str, association: str) -> bool:
        return association == "OWNER" or self.is_me(login)

    def may_automate(self, login: str, association: str) -> bool:
        return self.trusted(login, association)


def mirrored(number: int, body: str, *, user: str = BOT, association: str = "NONE", comments: tuple = (),
             state: str = "open", labels: tuple = ("incident", "down", "monitor:api", "automated")) -> dict:
    return {"number": number, "title": "🛑 Public API is down", "body": body, "state": state, "state_reason": None,
            "labels": list(labels), "user": user, "association": association,
            "created_at": to_iso(T0 - timedelta(minutes=2)), "updated_at": to_iso(T0), "closed_at": None,
            "html_url": f"https://github.com/o/r/issues/{number}", "comments_count": len(comments),
            "comment_list": list(comments)}


def comment(comment_id: int, body: str, user: str, association: str, at: datetime) -> dict:
    return {"id": comment_id, "user": user, "association": association, "body": body,
            "created_at": to_iso(at), "updated_at": to_iso(at)}


def test_issue_body_round_trips_through_the_marker_and_reads_back_as_the_incident():
    transition = opened()
    started = transition.started
    assert started is not None
    body = text.issue_body(monitor(), transition, started, text.monitor_url("https://status.example.com", "api"))
    assert text.marker_of(body) == {"monitor": "api", "started": to_iso(started), "kind": "automated"}
    assert "| Status code | 503 |" in body and "Monitor page: https://status.example.com/monitors/api/" in body

    event = text.event_id(1, "escalated", T0, "worse")
    posted = text.event_comment(event, "escalated", T0, "worse")
    assert text.event_of(posted) == {"id": event, "kind": "escalated", "time": to_iso(T0)}
    issue = mirrored(1, body, comments=(
        comment(10, posted, BOT, "NONE", T0),
        comment(11, "Looking into it", "owner", "OWNER", T0 + timedelta(minutes=1)),
        comment(12, posted.replace(BOT, "x"), "stranger", "NONE", T0 + timedelta(minutes=2)),  # a copied marker
    ))
    assert text.has_event(issue, event) and not text.has_event(issue, "0" * 16)
    incident = text.read_incident(issue, Authors(), lambda: T0)
    assert incident.automated and incident.monitor_id == "api" and incident.started == started
    assert incident.impact is Impact.DOWN and incident.status == "open"
    assert [e.kind for e in incident.timeline] == ["detected", "escalated"]
    assert incident.timeline[1].text == "worse" and "<!--" not in incident.body
    assert [(c.author, c.trusted) for c in incident.comments] == [("owner", True), ("stranger", False)]


def test_a_marker_written_by_a_stranger_is_a_manual_incident():
    body = text.issue_body(monitor(), opened(), T0, None)
    assert text.is_automated(mirrored(1, body), Authors())
    stranger = mirrored(2, body, user="stranger")
    assert not text.is_automated(stranger, Authors())
    incident = text.read_incident(stranger, Authors(), lambda: T0)
    assert not incident.automated and incident.timeline == () and incident.monitor_id == "api"  # from the label


def test_event_ids_are_stable_and_tell_events_apart():
    assert text.event_id(7, "restart", T0, "a") == text.event_id(7, "restart", T0, "a")
    assert len({text.event_id(7, "restart", T0, "a"), text.event_id(8, "restart", T0, "a"),
                text.event_id(7, "comment", T0, "a"), text.event_id(7, "restart", T0, "b")}) == 4


def test_titles_the_tool_gave_are_recognised_and_reworded_ones_are_not():
    m = monitor()
    assert text.title(m, Impact.DOWN) == "🛑 Public API is down"
    assert text.is_tool_title("⚠️ Public API is degraded", m) and not text.is_tool_title("API: bank outage", m)


def test_resolve_text_says_the_downtime():
    m = monitor()
    resolved = opened(T0 + timedelta(minutes=75))
    said = text.resolve_text(m, resolved, resolved.time, 75 * 60)
    assert said.startswith("**Resolved**: Public API is back up at 2026-11-20 10:45:15 UTC after **1h 15m**")


@pytest.mark.parametrize("body, window", [
    ("Short.\n\n```yaml\nstart: 2026-12-01T02:00:00Z\nend: 2026-12-01T04:00:00Z\nmonitors: [api, web]\n```\n",
     (datetime(2026, 12, 1, 2, tzinfo=UTC), datetime(2026, 12, 1, 4, tzinfo=UTC), ("api", "web"), "Short.")),
    ("---\nstart: 2026-12-02\nend: 2026-12-03\nmonitors: db, cache\n---\nRacks move.",
     (datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC), ("db", "cache"), "Racks move.")),
])
def test_maintenance_windows_are_read_from_yaml_or_front_matter(body, window):
    found = text.read_maintenance(mirrored(4, body, labels=("maintenance",)))
    assert (found.start, found.end, found.monitors, found.body) == window and found.key == "4"


@pytest.mark.parametrize("body, says", [
    ("no yaml here", "no ```yaml block"),
    ("```yaml\nstart: [oops\n```", "front matter line"),
    ("```yaml\n- a\n```", "must be a mapping"),
    ("```yaml\nstart: tomorrow\nend: 2026-12-03T02:00:00Z\n```", "start: 'tomorrow' is not a timestamp"),
    ("```yaml\nstart: 2026-12-03\nend: 2026-12-02\n```", "end must be after start"),
    ("```yaml\nstart: 2026-12-02\nend: 2026-12-03\nmonitors: {a: 1}\n```", "monitors:"),
])
def test_unreadable_maintenance_issues_say_what_is_wrong(body, says):
    with pytest.raises(text.UnreadableIssue) as error:
        text.read_maintenance(mirrored(5, body, labels=("maintenance",)))
    assert says in str(error.value)


def test_reading_back_with_the_real_trust_object():
    """The text module takes trust as a parameter: the tracker passes its Trust, nothing reaches back."""
    mirror = IssueMirror(MemoryCache(), "o/r")
    mirror.add_writer(BOT)
    trust = Trust(mirror, "token-id", lambda: pytest.fail("no identity request needed"))  # type: ignore[arg-type]
    body = text.issue_body(monitor(), opened(), T0, None)
    assert text.read_incident(mirrored(1, body), trust, lambda: T0).automated
