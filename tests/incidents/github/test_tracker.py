"""GitHubTracker against the local GitHub emulator: issues, labels, comments, request
counts, manual incidents, maintenance issues, trust, faults and reconciliation.

Every emulator response is checked against GitHub's OpenAPI description (fixture)."""

# ruff: noqa: F811 (pytest fixtures are imported, then named as parameters)
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from generator import secrets
from generator.history import History
from generator.incidents import labels as L
from generator.incidents.base import TrackerError
from generator.incidents.github import GitHubTracker, RetryPolicy, event_of, marker_of
from generator.models import Check, CheckStatus, Impact, Monitor, TimelineEntry, Transition, TransitionKind
from generator.probes.http_spec import HttpSpec
from generator.timeutil import UTC
from tests.support.github_emulator import Fault, GitHubEmulator, github  # noqa: F401 (fixture)

T0 = datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC)


def monitor(monitor_id: str = "api", name: str = "Public API") -> Monitor:
    return Monitor(id=monitor_id, name=name, type="http", spec=HttpSpec(url="http://127.0.0.1:9/health"))


def transition(kind: TransitionKind, impact: Impact, time: datetime, *, started: datetime | None = None,
               key: str | None = None, monitor_id: str = "api", error: str = "HTTP 503") -> Transition:
    status = CheckStatus.UP if kind is TransitionKind.RESOLVED else CheckStatus(impact.value)
    check = Check(monitor_id, time, status, latency_ms=812.4, code=503, error=error, attempts=3)
    return Transition(kind, monitor_id, time, impact, check, started=started, incident_key=key)


def opened(monitor_id: str = "api", impact: Impact = Impact.DOWN, time: datetime = T0, **kw) -> Transition:
    return transition(TransitionKind.OPENED, impact, time, started=time - timedelta(minutes=2), monitor_id=monitor_id, **kw)


class Run:
    """A tracker per run over one History cache, with fast retries and recorded sleeps."""

    def __init__(self, api: GitHubEmulator, data_dir, *, token: str | None = None, **options):
        self.api = api
        self.history = History(data_dir)
        self.token = token or api.token
        self.sleeps: list[float] = []
        self.repo: str | None = None  # the name the configuration gives (the emulator's by default)
        self.options = {"retry": RetryPolicy(budget=5, backoff=0.01, max_attempts=4), **options}

    def next(self) -> GitHubTracker:
        return GitHubTracker(self.repo or self.api.full_name, self.token, base_url=self.api.url, cache=self.history,
                             site_url="https://status.example.com/", seconds_between_requests=None,
                             seconds_between_writes=None, sleep=self.sleeps.append, timeout=1, **self.options)

    def cost(self, action) -> tuple[object, int]:
        """(result, requests the emulator saw) for one action."""
        before = self.api.request_count
        result = action()
        return result, self.api.request_count - before


@pytest.fixture
def run(github, tmp_path):
    return Run(github, tmp_path / "data")


# --------------------------------------------------------------------------- opening


def test_open_makes_one_issue_with_its_labels_and_a_marker(run, github):
    secrets.register("s3cr3t-password")
    tracker = run.next()
    key = tracker.open(monitor(), opened(error="connect failed: user s3cr3t-password refused"))
    issue = github.issues[int(key)]
    assert issue.title == "🛑 Public API is down"
    assert github.issue_labels(int(key)) == {"incident", "down", "critical", "monitor:api", "automated"}
    # labels and issue in one request: the POST carried them
    post = github.requests("POST", r"/issues$")
    assert len(post) == 1 and post[0].request_body["labels"] == ["incident", "down", "critical", "monitor:api", "automated"]
    marker = marker_of(issue.body)
    assert marker == {"monitor": "api", "started": "2026-11-20T09:28:15Z", "kind": "automated"}
    assert "<!-- statusgen {" in issue.body
    for text in ("2026-11-20 09:30:15", "503", "812 ms", "connect failed", "https://status.example.com/monitors/api/"):
        assert text in issue.body, text
    assert "s3cr3t-password" not in issue.body and "***" in issue.body
    # every label of the scheme got its fixed colour and description
    for name in ("incident", "down", "critical", "monitor:api", "automated"):
        label = github.labels[name]
        assert (label.color, label.description) == (L.spec(name).color, L.spec(name).description)
    degraded = tracker.open(monitor("web", "Website"), opened("web", Impact.DEGRADED))
    assert github.issues[int(degraded)].title == "⚠️ Website is degraded"
    assert {"degraded", "warning"} <= github.issue_labels(int(degraded))


def test_labels_are_created_once_and_remembered(run, github):
    first = run.next()
    first.open(monitor(), opened())
    assert len(github.requests("POST", r"/labels$")) == 5 and len(github.requests("GET", r"/labels$")) == 1
    later = run.next()  # the next run: the cache knows which labels exist
    later.maintenance()
    _, cost = run.cost(lambda: later.open(monitor("web"), opened("web", Impact.DEGRADED)))
    assert cost == 4  # degraded, warning, monitor:web are new (3) + the issue (1)
    _, cost = run.cost(lambda: later.open(monitor("db"), opened("db")))
    assert cost == 2  # monitor:db (1) + the issue (1)
    github.issues[1].state = "closed"
    _, cost = run.cost(lambda: run.next().open(monitor(), opened(time=T0 + timedelta(hours=1))))
    assert cost == 2 + 1  # the sync (2) + the issue: every label is known
    assert len(github.requests("GET", r"/labels$")) == 1  # never listed again


def test_open_is_idempotent_and_found_by_marker_not_title(run, github):
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    github.issues[int(key)].title = "Renamed by a person"
    later = run.next()
    assert later.open(monitor(), opened(time=T0 + timedelta(minutes=5))) == key
    assert len(github.requests("POST", r"/issues$")) == 1
    # an issue with the same title but no marker is not ours
    github.create_issue("🛑 Website is down", "written by hand", ["incident", "monitor:web"])
    assert run.next().find_open("web") is None


# --------------------------------------------------------------------------- lifecycle and cost


def test_lifecycle_costs_at_most_two_requests_per_transition(run, github):
    warm = run.next()
    warm.open(monitor("other"), opened("other", Impact.DEGRADED))  # labels of the scheme exist now
    warm.open(monitor(), opened(time=T0 - timedelta(days=1)))
    warm.resolve("2", monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 - timedelta(hours=20), key="2"))

    tracker = run.next()
    _, sync = run.cost(tracker.maintenance)
    assert sync <= 2
    key, cost = run.cost(lambda: tracker.open(monitor(), opened(impact=Impact.DEGRADED)))
    assert cost == 1 and github.issue_labels(int(key)) >= {"degraded", "warning", "monitor:api"}

    _, cost = run.cost(lambda: tracker.change_impact(
        key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0 + timedelta(minutes=3), key=key)))
    assert cost == 2
    labels = github.issue_labels(int(key))
    assert {"down", "critical"} <= labels and not {"degraded", "warning"} & labels
    assert github.issues[int(key)].title == "🛑 Public API is down"

    _, cost = run.cost(lambda: tracker.comment(key, TimelineEntry(T0 + timedelta(minutes=4), "restart",
                                                                 "Restart requested: webhook answered 202")))
    assert cost == 1

    end = T0 - timedelta(minutes=2) + timedelta(minutes=12, seconds=3)
    _, cost = run.cost(lambda: tracker.resolve(
        key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, end, started=T0 - timedelta(minutes=2), key=key)))
    assert cost == 2
    issue = github.issues[int(key)]
    assert issue.state == "closed" and issue.state_reason == "completed"
    assert github.issue_labels(int(key)) == {"incident", "down", "critical", "monitor:api", "automated", "resolved"}
    bodies = [github.comments[c].body for c in issue.comments]
    assert len(bodies) == 3 and "12m 3s" in bodies[-1]
    assert [event_of(b)["kind"] for b in bodies] == ["escalated", "restart", "resolved"]

    incident = next(i for i in run.next().incidents() if i.key == key)
    assert incident.status == "resolved" and incident.resolved is not None
    assert [e.kind for e in incident.timeline] == ["detected", "escalated", "restart", "resolved"]
    assert incident.comments == ()  # the tool's own events are the timeline, not comments


def test_steady_run_costs_at_most_two_requests_whatever_the_monitors(run, github):
    first = run.next()
    for n in range(40):
        first.open(monitor(f"m{n}"), opened(f"m{n}"))
    for n in range(0, 40, 2):
        first.resolve(str(n + 1), monitor(f"m{n}"),
                      transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=9), key=str(n + 1)))
    github.create_issue("Planned upgrade", "```yaml\nstart: 2026-12-01T02:00:00Z\nend: 2026-12-01T03:00:00Z\n```",
                        ["maintenance"])
    for _ in range(3):
        tracker = run.next()
        before = github.request_count
        tracker.maintenance()
        for n in range(40):
            tracker.find_open(f"m{n}")
        listed = tracker.incidents()
        tracker.changed_since(None)
        assert github.request_count - before <= 2 == tracker.request_count()
        assert len(listed) == 40 and sum(i.is_open for i in listed) == 20


def test_reopen_after_a_flap_reuses_the_issue(run, github):
    tracker = run.next()
    tracker.open(monitor("web"), opened("web", Impact.DEGRADED))  # the scheme's labels exist
    key = tracker.open(monitor(), opened())
    tracker.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=5), key=key))
    back = transition(TransitionKind.REOPENED, Impact.DEGRADED, T0 + timedelta(minutes=8), key=key,
                      started=T0 + timedelta(minutes=8))
    result, cost = run.cost(lambda: tracker.open(monitor(), back))
    assert result == key and cost == 2
    assert {"degraded", "warning"} <= github.issue_labels(int(key)) and github.issues[int(key)].title.startswith("⚠️")
    github.issues[int(key)].title = "API flapping (we are on it)"  # a person rewords the title
    run.next().change_impact(key, monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0 + timedelta(minutes=9), key=key))
    assert github.issues[int(key)].title == "API flapping (we are on it)"
    assert {"down", "critical"} <= github.issue_labels(int(key))
    issue = github.issues[int(key)]
    assert issue.state == "open" and "resolved" not in github.issue_labels(int(key))
    assert len(github.issues) == 2


# --------------------------------------------------------------------------- manual incidents, maintenance


def test_manual_incidents_are_listed_and_never_closed(run, github):
    manual = github.create_issue("Payments delayed", "Our bank's batch ran late.", ["incident", "degraded", "monitor:api"],
                                 user="maintainer")
    unlabelled = github.create_issue("Just a bug", "", ["bug"])
    tracker = run.next()
    assert tracker.find_open("api") is None
    key = tracker.open(monitor(), opened())
    assert key != str(manual.number)
    tracker.resolve(str(manual.number), monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0, key=str(manual.number)))
    tracker.change_impact(str(manual.number), monitor(), transition(TransitionKind.ESCALATED, Impact.DOWN, T0))
    assert github.issues[manual.number].state == "open" and not github.issues[manual.number].comments
    listed = {i.key: i for i in run.next().incidents()}
    assert set(listed) == {key, str(manual.number)} and str(unlabelled.number) not in listed
    hand = listed[str(manual.number)]
    assert not hand.automated and hand.monitor_id == "api" and hand.impact is Impact.DEGRADED and hand.is_open
    assert hand.body == "Our bank's batch ran late."


def test_maintenance_issues_define_windows(run, github):
    yaml_block = github.create_issue("Database upgrade", "Short interruptions expected.\n\n```yaml\nstart: 2026-12-01T02:00:00Z\n"
                                     "end: 2026-12-01T04:00:00Z\nmonitors: [api, web]\n```\n", ["maintenance"])
    front = github.create_issue("Network work", "---\nstart: 2026-12-02 01:00:00+01:00\nend: 2026-12-02T02:00:00Z\n"
                                "monitors: db\n---\nThe provider moves racks.", ["maintenance"])
    broken = github.create_issue("Oops", "```yaml\nstart: tomorrow\nend: 2026-12-03T02:00:00Z\n```", ["maintenance"])
    cancelled = github.create_issue("Cancelled", "```yaml\nstart: 2026-12-04T01:00:00Z\nend: 2026-12-04T02:00:00Z\n```",
                                    ["maintenance"], state="closed", state_reason="not_planned")
    tracker = run.next()
    windows = {w.key: w for w in tracker.maintenance()}
    assert set(windows) == {str(yaml_block.number), str(front.number)}
    db = windows[str(yaml_block.number)]
    assert db.title == "Database upgrade" and db.monitors == ("api", "web") and db.body == "Short interruptions expected."
    assert db.start == datetime(2026, 12, 1, 2, tzinfo=UTC) and db.end == datetime(2026, 12, 1, 4, tzinfo=UTC)
    net = windows[str(front.number)]
    assert net.start == datetime(2026, 12, 2, 0, tzinfo=UTC) and net.monitors == ("db",)
    assert net.body == "The provider moves racks."
    assert len(tracker.problems) == 1 and f"#{broken.number}" in tracker.problems[0] and "start" in tracker.problems[0]
    assert str(cancelled.number) not in windows
    assert tracker.incidents() == []


# --------------------------------------------------------------------------- trust


def test_only_trusted_comments_are_marked_trusted(run, github):
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    github.add_comment(int(key), "Is it down for everyone?", user="alice")  # NONE
    github.add_comment(int(key), "We are on it.", user="bob", association="MEMBER")
    github.add_comment(int(key), "Fix deployed.", user="acme")  # the owner
    github.add_comment(int(key), "<!-- statusgen-event {\"id\":\"fake\",\"kind\":\"resolved\",\"time\":\"2026-01-01T00:00:00Z\"} -->"
                                 "forged", user="mallory")
    later = run.next()
    incident = next(i for i in later.incidents() if i.key == key)
    trust = {c.author: c.trusted for c in incident.comments}
    assert trust == {"alice": False, "bob": True, "acme": True, "mallory": False}
    assert len(github.requests("GET", r"^/user$")) == 1  # needed once: alice and mallory are not members
    later.comment(key, TimelineEntry(T0 + timedelta(minutes=1), "update", "Still investigating"))
    again = run.next().incidents()
    assert len(github.requests("GET", r"^/user$")) == 1  # cached
    mine = [e for e in next(i for i in again if i.key == key).timeline if e.kind == "update"]
    assert mine and mine[0].text == "Still investigating"


def test_identity_falls_back_when_the_token_cannot_read_user(github, tmp_path):
    github.add_user("github-actions[bot]", token="ghs_installation", type="Bot", app_token=True)
    run = Run(github, tmp_path / "data", token="ghs_installation")
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    tracker.comment(key, TimelineEntry(T0, "restart", "Restart requested"))
    github.add_comment(int(key), "plain comment by the bot", user="github-actions[bot]")
    github.add_comment(int(key), "me too", user="alice")
    incident = next(i for i in run.next().incidents() if i.key == key)
    assert {c.author: c.trusted for c in incident.comments} == {"github-actions[bot]": True, "alice": False}
    assert [r.status for r in github.requests("GET", r"^/user$")] == [403]
    run.next().incidents()
    assert len(github.requests("GET", r"^/user$")) == 1  # the failed look-up is remembered too


def test_identity_lookup_during_an_outage_is_asked_again_later(run, github):
    run.next().maintenance()  # a warm cache: opening does not look our own issues up by author
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    github.add_comment(int(key), "me too", user="alice")  # untrusted: judging it needs our identity
    github.inject(*[Fault(kind="status", status=503, path=r"^/user$") for _ in range(4)])
    run.next().incidents()  # GitHub answers 503 to /user for the whole run
    assert [r.status for r in github.requests("GET", r"^/user$")] == [503] * 4
    run.next().incidents()  # a later run asks again, and this time learns who it is
    assert [r.status for r in github.requests("GET", r"^/user$")][-1] == 200
    run.next().incidents()
    assert len(github.requests("GET", r"^/user$")) == 5  # then it is remembered


# --------------------------------------------------------------------------- faults


def test_server_errors_are_retried_with_backoff(run, github):
    tracker = run.next()
    github.inject(Fault("status", status=502, path=r"/issues$", method="GET"),
                  Fault("status", status=503, method="POST", path=r"/issues$"),
                  Fault("status", status=500, method="POST", path=r"/issues$"))
    key = tracker.open(monitor(), opened())
    assert len(github.issues) == 1 and github.issues[int(key)].title == "🛑 Public API is down"
    assert run.sleeps[:1] == [0.01]
    assert max(run.sleeps) == 0.02  # doubled on the second failure of the same request


def test_rate_limits_wait_as_told(github, tmp_path):
    run = Run(github, tmp_path / "data", retry=RetryPolicy(budget=30, backoff=0.01))  # sleeps are recorded, not slept
    run.next().open(monitor("web"), opened("web"))
    run.next().open(monitor("api"), opened("api"))  # every label exists
    github.issues[2].state = "closed"
    tracker = run.next()
    github.inject(Fault("retry_after", status=429, retry_after=3, method="GET"),
                  Fault("retry_after", status=403, retry_after=2, method="POST"))
    tracker.open(monitor(), opened())
    assert len(github.issues) == 3
    assert run.sleeps[:2] == [3.0, 2.0]
    github.inject(Fault("rate_limit", reset_in=4, method="POST"))
    tracker.comment("3", TimelineEntry(T0, "update", "x"))
    assert 3.0 < run.sleeps[-1] <= 6.0  # until X-RateLimit-Reset
    assert len(github.issues[3].comments) == 1


def warm(run: Run) -> GitHubTracker:
    """A tracker whose cache knows every label an ``api`` incident needs (its first issue closed)."""
    first = run.next()
    key = first.open(monitor(), opened(time=T0 - timedelta(days=1)))
    first.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 - timedelta(hours=23), key=key))
    tracker = run.next()
    tracker.maintenance()
    return tracker


def test_giving_up_names_the_request_and_response(run, github):
    tracker = warm(run)
    github.inject(Fault("status", status=503, method="POST", times=10))
    with pytest.raises(TrackerError) as failed:
        tracker.open(monitor(), opened())
    message = str(failed.value)
    assert re.search(rf"POST {re.escape(github.url)}/repos/acme/status/issues failed: 503 Service unavailable", message)
    assert "4 attempt" in message and github.token not in message
    github.faults.clear()
    # the rest of this run fails fast instead of waiting on GitHub again
    _, cost = run.cost(lambda: pytest.raises(TrackerError, tracker.comment, "1", TimelineEntry(T0, "update", "x")))
    assert cost == 0
    tracker = run.next()
    github.inject(Fault("retry_after", status=429, retry_after=600, method="POST"))
    with pytest.raises(TrackerError, match="beyond the retry budget"):
        tracker.open(monitor(), opened())
    github.faults.clear()
    tracker = run.next()
    with pytest.raises(TrackerError, match="404"):
        tracker.comment("99", TimelineEntry(T0, "update", "x"))
    assert tracker.open(monitor(), opened()) == "2"  # a 404 is no outage: the run goes on
    assert len(github.issues) == 2


def test_a_lost_answer_never_duplicates_an_issue_or_a_comment(run, github):
    tracker = run.next()
    tracker.maintenance()
    github.inject(Fault("slow", delay=1.3, method="POST", path=r"/issues$"))
    key = tracker.open(monitor(), opened())
    assert list(github.issues) == [int(key)]  # found by its marker instead of posted again
    github.inject(Fault("reset", method="POST", path=r"/comments$"))
    tracker.comment(key, TimelineEntry(T0, "restart", "first"))
    github.inject(Fault("status", status=502, method="POST", path=r"/comments$"))
    tracker.comment(key, TimelineEntry(T0, "restart", "second"))
    github.inject(Fault("slow", delay=1.3, method="POST", path=r"/comments$"))
    tracker.comment(key, TimelineEntry(T0, "restart", "third"))
    bodies = [github.comments[c].body.split("\n", 1)[1] for c in github.issues[int(key)].comments]
    assert bodies == ["first", "second", "third"]


def test_the_next_run_reconciles_after_github_stayed_down(run, github):
    tracker = warm(run)
    # the issue is made, but every answer is lost and the look-ups fail too
    github.inject(Fault("slow", delay=1.3, method="POST", path=r"/issues$"), Fault("status", status=503, times=20))
    with pytest.raises(TrackerError):
        tracker.open(monitor(), opened())
    github.faults.clear()
    assert len(github.issues) == 2
    later = run.next()
    found = later.find_open("api")
    assert found is not None and later.open(monitor(), opened(time=T0 + timedelta(minutes=5))) == found.key
    assert len(github.issues) == 2


def test_a_broken_cache_costs_one_full_sync(run, github):
    key = run.next().open(monitor(), opened())
    for garbage in ({"version": 1, "repo": "acme/status", "issues": "garbage", "labels": 3}, ["not", "a", "dict"],
                    {"version": 1, "repo": "acme/status", "issues": {"1": {"number": 1}}}):
        run.history.write_json("github_issues", garbage)
        again = run.next()
        assert again.find_open("api").key == key
        assert again.open(monitor(), opened(time=T0 + timedelta(minutes=5))) == key
    assert len(github.issues) == 1
