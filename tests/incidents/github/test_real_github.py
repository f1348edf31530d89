"""Where real GitHub differs from what the emulator used to do, reproduced by the emulator and handled.

Each test names the divergence of issue 16 it pins: labels dropped for a token without
push access, secondary rate limits without Retry-After, 50-character label names,
private organisation members, renamed repositories, conditional requests.
Every emulator response is still checked against GitHub's OpenAPI description.
"""

# ruff: noqa: F811 (pytest fixtures are imported, then named as parameters)
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from generator.incidents import labels as L
from generator.incidents.base import TrackerError
from generator.incidents.github import RetryPolicy
from generator.models import Impact, TimelineEntry, TransitionKind
from tests.incidents.github.test_tracker import (  # noqa: F401 (fixture)
    T0,
    Run,
    monitor,
    opened,
    run,
    transition,
)
from tests.support.github_emulator import Fault, GitHubEmulator, github  # noqa: F401 (fixture)

LONG_ID = "payments-gateway-europe-west-primary-cluster-health-endpoint-v2"  # 63 characters


# --------------------------------------------------------------------------- 1. labels dropped without push access


def test_dropped_labels_never_make_a_second_issue_across_runs(run, github):
    run.next().maintenance()
    warm = run.next()
    warm.open(monitor("web"), opened("web"))  # every label of a down incident now exists
    github.revoke_push()
    keys = set()
    for minute in range(3):  # three runs while the service stays down
        tracker = run.next()
        keys.add(tracker.open(monitor(), opened(time=T0 + timedelta(minutes=minute))))
        assert any("push access" in p and "Issues read and write" in p for p in tracker.problems) or minute > 0
    ours = [i for i in github.issues.values() if "api" in i.body]
    assert len(ours) == 1 and keys == {str(ours[0].number)}
    assert github.issue_labels(ours[0].number) == set()  # GitHub dropped them, and refused to add them
    assert run.next().find_open("api").key == str(ours[0].number)


def test_dropped_labels_are_found_by_author_after_the_cache_is_lost(run, github, tmp_path):
    run.next().open(monitor("web"), opened("web"))
    github.revoke_push()
    key = run.next().open(monitor(), opened())
    fresh = Run(github, tmp_path / "other-data")  # a new runner: no cache at all
    assert fresh.next().open(monitor(), opened(time=T0 + timedelta(minutes=5))) == key
    assert len([i for i in github.issues.values() if "api" in i.body]) == 1
    assert github.requests("GET", r"/issues$")[-1].query.get("creator") == github.login


def test_dropped_labels_are_added_back_when_the_follow_up_is_allowed(run, github):
    run.next().open(monitor("web"), opened("web"))
    github.revoke_push()
    github.users[github.login].push = True  # labels dropped on create only (e.g. a rule of the org)
    original = github._create_issue

    def drop(payload, user):
        return original(dict(payload, labels=[]), user)

    github._create_issue = drop  # type: ignore[method-assign]
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    assert github.issue_labels(int(key)) >= {"incident", "monitor:api", "automated"}
    assert tracker.mirror.claims() == {} and tracker.problems == []


# --------------------------------------------------------------------------- 2. secondary rate limits


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_limit_without_retry_after_waits_the_minimum(github, tmp_path, status):
    run = Run(github, tmp_path / "data", retry=RetryPolicy(budget=5, backoff=0.01, secondary_wait=0.5))
    tracker = run.next()
    github.inject(Fault("secondary", status=status, method="POST", path=r"/issues$", times=2))
    tracker.open(monitor(), opened())
    assert run.sleeps[-2:] == [0.5, 1.0]  # at least the minimum, doubling: never 1, 2, 4 s
    assert len(github.issues) == 1


def test_a_secondary_limit_beyond_the_budget_stops_the_run_s_writes(github, tmp_path):
    run = Run(github, tmp_path / "data", retry=RetryPolicy(budget=0.2, backoff=0.01, secondary_wait=0.5))
    tracker = run.next()
    github.inject(Fault("secondary", status=429, method="POST", path=r"/issues$"))
    with pytest.raises(TrackerError) as failed:
        tracker.open(monitor(), opened())
    message = str(failed.value)
    assert "429" in message and "secondary rate limit" in message and "next run" in message
    assert re.search(r"POST http://127\.0\.0\.1:\d+/repos/acme/status/issues", message)
    assert 0.5 not in run.sleeps  # it did not retry in seconds
    before = github.request_count
    with pytest.raises(TrackerError, match="skipped"):
        tracker.comment("1", TimelineEntry(T0, "update", "x"))
    assert github.request_count == before and github.issues == {}


# --------------------------------------------------------------------------- 3. label names of 50 characters


def test_long_monitor_ids_get_labels_that_fit_and_read_back_through_the_marker(run, github):
    label = L.monitor_label(LONG_ID)
    assert len(label) == 50 and label.startswith("monitor:payments-gateway") and L.is_shortened(label)
    assert label == L.monitor_label(LONG_ID) != L.monitor_label(LONG_ID[:-1] + "3")  # stable, distinct
    assert L.monitor_label("api") == "monitor:api" and L.monitor_of([label]) is None
    tracker = run.next()
    key = tracker.open(monitor(LONG_ID, "Payments"), opened(LONG_ID))
    assert label in github.issue_labels(int(key))
    assert all(len(name) <= 50 for name in github.issue_labels(int(key)))
    assert run.next().find_open(LONG_ID).monitor_id == LONG_ID  # from the marker
    with pytest.raises(KeyError):
        L.spec("x" * 60)


def test_only_already_exists_means_the_label_exists(run, github):
    run.next().open(monitor(), opened())  # labels exist now; a new cache below lists and finds them
    github.add_label("monitor:web")
    tracker = run.next()
    tracker.mirror.remember_labels([])  # (the cache knows the list was read)
    original = github._create_label

    def too_long(payload, user):
        return original(dict(payload, name=payload["name"] + "-" * 50), user)

    github._create_label = too_long  # type: ignore[method-assign]
    with pytest.raises(TrackerError, match=r"422 Validation Failed \(invalid\)"):
        tracker.open(monitor("db"), opened("db"))
    assert all("db" not in i.body for i in github.issues.values())


def test_the_emulator_answers_a_long_label_name_like_github(github):
    import requests

    answer = requests.post(f"{github.url}/repos/acme/status/labels", json={"name": "x" * 51, "color": "ededed"},
                           headers={"Authorization": f"token {github.token}"}, timeout=5)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"resource": "Label", "code": "invalid", "field": "name",
                                        "message": "name is too long (maximum is 50 characters)"}]


# --------------------------------------------------------------------------- 4. private organisation members


def test_a_private_org_member_with_push_access_is_trusted_and_cached(run, github):
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    github.add_user("maintainer", association="CONTRIBUTOR", role="maintain")  # a private org member
    github.add_comment(int(key), "We are on it.", user="maintainer")
    github.add_comment(int(key), "+1", user="stranger", association="NONE")
    comments = {c.author: c.trusted for c in run.next().incidents()[0].comments}
    assert comments == {"maintainer": True, "stranger": False}
    asked = len(github.requests("GET", r"/collaborators/.*/permission$"))
    assert asked == 2
    run.next().incidents()  # cached: no second look-up within a day
    assert len(github.requests("GET", r"/collaborators/.*/permission$")) == asked


# --------------------------------------------------------------------------- 5. a renamed repository


def test_a_renamed_repository_is_followed_for_reads_and_writes(run, github):
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    run.repo = "acme/status"  # monitors.yaml still says the old name
    github.rename("status-page")
    later = run.next()
    later.comment(key, TimelineEntry(T0 + timedelta(minutes=1), "update", "still down"))
    later.resolve(key, monitor(), transition(TransitionKind.RESOLVED, Impact.DOWN, T0 + timedelta(minutes=9),
                                             key=key))
    assert github.issues[int(key)].state == "closed" and len(github.issues[int(key)].comments) == 2
    statuses = {r.status for r in github.log}
    assert 301 in statuses  # GETs were moved for good; later requests went to /repositories/1 at once
    assert all(not r.path.startswith("/repos/acme/status/") for r in github.log[-3:])
    # the mirror's lists kept their query: only incident, maintenance and (on a full sync) Upptime's status issues were listed
    assert all(r.query.get("labels") in ("incident", "maintenance", "status", None) for r in github.requests("GET", r"/issues$"))


def test_a_307_on_a_write_is_repeated_verbatim(run, github):
    run.next().open(monitor("web"), opened("web"))  # the labels are known
    tracker = run.next()
    tracker.maintenance()  # synced before the rename: the next requests are writes
    run.repo = "acme/status"
    github.rename("status-page")
    key = tracker.open(monitor(), opened())
    posts = github.requests("POST", r"/issues$")[1:]
    assert [r.status for r in posts] == [307, 201] and posts[1].path == "/repositories/1/issues"
    assert posts[0].request_body == posts[1].request_body and key == "2"


def test_a_redirect_to_another_host_is_a_clear_error(run, github):
    tracker = run.next()
    tracker.maintenance()
    original = github.route

    def elsewhere(method, path, query, payload, user):
        from tests.support.github_emulator import HttpError
        raise HttpError(307, "Temporary Redirect", {}, {"Location": "https://evil.example/repos/acme/status/issues"})

    github.route = elsewhere  # type: ignore[method-assign]
    with pytest.raises(TrackerError) as failed:
        tracker.open(monitor(), opened())
    assert "307 to https://evil.example" in str(failed.value) and "another host" in str(failed.value)
    github.route = original  # type: ignore[method-assign]


def test_a_next_page_on_another_host_is_a_clear_error(run, github):
    original = github._page

    def foreign(items, query, path, render):
        status, body, _ = original(items, query, path, render)
        return status, body, {"Link": '<https://other.example/repositories/1/issues?page=2>; rel="next"'}

    github._page = foreign  # type: ignore[method-assign]
    with pytest.raises(TrackerError, match="next page is on another host"):
        run.next().maintenance()


# --------------------------------------------------------------------------- 7. conditional requests


def test_a_claimed_issue_is_read_conditionally_and_costs_no_quota(run, github):
    run.next().open(monitor("web"), opened("web"))
    github.revoke_push()
    key = run.next().open(monitor(), opened())  # its labels are dropped: read by number on each sync
    run.next().incidents()
    used = github._used[github.login]
    steady = run.next()
    assert steady.find_open("api").key == key
    [read] = github.requests("GET", rf"/issues/{key}$")[-1:]
    assert read.status == 304 and steady.client.not_modified == 1
    assert github._used[github.login] == used + 2  # the two lists; the 304 does not count
    # lists are not conditional: GitHub's description declares no 304 for them
    assert {r.status for r in github.requests("GET", r"/issues$")} == {200}


def test_next_page_links_name_the_repository_by_id(run, github):
    for number in range(3):
        github.create_issue(f"Outage {number}", "", ["incident"])
    import requests

    answer = requests.get(f"{github.url}/repos/acme/status/issues", params={"per_page": 2},
                          headers={"Authorization": f"token {github.token}"}, timeout=5)
    assert "/repositories/1/issues?" in answer.headers["Link"]
    assert len(run.next().incidents()) == 3  # PyGithub and our client follow them


def test_created_things_carry_a_location(run, github):
    tracker = run.next()
    key = tracker.open(monitor(), opened())
    tracker.comment(key, TimelineEntry(T0, "update", "x"))
    for path in (r"/labels$", r"/issues$", r"/comments$"):
        created = [r for r in github.requests("POST", path) if r.status == 201]
        assert created and all(r.headers["Location"].startswith(github.url) for r in created), path


def test_state_reason_is_kept_when_a_closed_issue_is_closed_again(github):
    issue = github.create_issue("Old", "", ["incident"], state="closed", state_reason="not_planned")
    import requests

    answer = requests.patch(f"{github.url}/repos/acme/status/issues/{issue.number}",
                            json={"state": "closed", "state_reason": "completed"},
                            headers={"Authorization": f"token {github.token}"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["state_reason"] == "not_planned"


def test_unexpected_answers_are_tracker_errors_not_tracebacks(run, github):
    tracker = run.next()
    tracker.maintenance()
    original = github._create_issue
    github._create_issue = lambda payload, user: (201, {"message": "ok"}, {})  # type: ignore[method-assign]
    github.validator = None  # a deliberately wrong answer
    with pytest.raises(TrackerError, match=r"POST /repos/acme/status/issues answered without an integer 'number'"):
        tracker.open(monitor(), opened())
    github._create_issue = original  # type: ignore[method-assign]


def test_emulator_fixture_still_validates(github: GitHubEmulator):
    github.rename("renamed")
    github.create_issue("x", "", ["incident"])
    github.assert_valid()
