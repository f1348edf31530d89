"""The GitHub REST emulator: PyGithub works against it unmodified, its answers match
GitHub's OpenAPI description, and the validator itself catches a wrong answer."""

from __future__ import annotations

import copy
import json
import socket
import urllib.request
from datetime import timedelta

import pytest
import requests
from github import Auth, Github, GithubException, RateLimitExceededException

from generator.timeutil import parse_iso
from tests.support.github_emulator import Fault, GitHubEmulator, github  # noqa: F401 (fixture)
from tests.support.openapi import github_openapi


def client(api: GitHubEmulator, token: str | None = None, **options) -> Github:
    options.setdefault("retry", None)
    options.setdefault("seconds_between_requests", None)
    options.setdefault("seconds_between_writes", None)
    return Github(auth=Auth.Token(token or api.token), base_url=api.url, **options)


# --------------------------------------------------------------------------- the validator itself


def test_validator_accepts_the_emulators_issue_and_rejects_broken_ones(github):
    spec = github_openapi()
    issue = github.issue_json(github.create_issue("Broken", None, ["incident"]))  # body null: nullable
    assert issue["body"] is None and issue["state_reason"] is None
    assert spec.validate("GET", "/repos/acme/status/issues/1", 200, issue) == []
    assert spec.validate("GET", "/repos/acme/status/issues", 200, [issue]) == []

    missing = copy.deepcopy(issue)
    del missing["number"]
    assert any("'number' is a required property" in p for p in spec.validate("GET", "/repos/acme/status/issues/1", 200, missing))
    wrong_type = dict(issue, comments="3")
    assert spec.validate("GET", "/repos/acme/status/issues/1", 200, wrong_type)
    bad_time = dict(issue, created_at="2026-11-24 10:00:00")
    assert any("date-time" in p for p in spec.validate("GET", "/repos/acme/status/issues/1", 200, bad_time))
    bad_reason = dict(issue, state_reason="fixed")
    assert spec.validate("GET", "/repos/acme/status/issues/1", 200, bad_reason)
    bad_user = dict(issue, user={"login": "x"})
    assert spec.validate("GET", "/repos/acme/status/issues/1", 200, bad_user)
    # a list answer that is not a list, and an operation GitHub does not have
    assert spec.validate("GET", "/repos/acme/status/issues", 200, issue)
    assert spec.validate("GET", "/repos/acme/status/no-such-thing", 200, {})


def test_a_wrong_emulator_answer_fails_the_fixture_check():
    api = GitHubEmulator(validator=github_openapi())
    original = api.issue_json

    def broken(issue):
        data = original(issue)
        data["labels"] = "incident"  # GitHub sends a list
        return data

    api.issue_json = broken  # type: ignore[method-assign]
    with api:
        api.create_issue("Oops", "body", ["incident"])
        with urllib.request.urlopen(urllib.request.Request(
                f"{api.url}/repos/acme/status/issues/1", headers={"Authorization": f"token {api.token}"}), timeout=5) as r:
            assert r.status == 200
    assert api.violations and "labels" in api.violations[0]
    with pytest.raises(AssertionError, match="OpenAPI"):
        api.assert_valid()


# --------------------------------------------------------------------------- PyGithub against the emulator


def test_issues_labels_comments_through_pygithub(github):
    gh = client(github)
    repo = gh.get_repo("acme/status")
    assert repo.full_name == "acme/status" and repo.has_issues
    label = repo.create_label("monitor:api", "c5def5", "Incidents of monitor api")
    assert repo.get_label("monitor:api").color == "c5def5" and label.description.startswith("Incidents")
    with pytest.raises(GithubException) as exists:
        repo.create_label("monitor:api", "c5def5")
    assert exists.value.status == 422

    issue = repo.create_issue("🛑 API is down", "body", labels=["incident", "down", "monitor:api"])
    assert issue.number == 1 and [label.name for label in issue.labels] == ["incident", "down", "monitor:api"]
    assert repo.get_label("down").color == "ededed"  # unknown labels are created, as GitHub does
    comment = issue.create_comment("restart requested")
    assert comment.user.login == "status-bot"
    issue.add_to_labels("critical")
    issue.remove_from_labels("down")
    assert {label.name for label in repo.get_issue(1).labels} == {"incident", "monitor:api", "critical"}
    issue.edit(state="closed", state_reason="completed", labels=["incident", "resolved"])
    again = repo.get_issue(1)
    assert again.state == "closed" and again.state_reason == "completed" and again.closed_at is not None
    assert again.comments == 1 and [c.body for c in again.get_comments()] == ["restart requested"]
    issue.edit(state="open")
    assert repo.get_issue(1).state_reason == "reopened"
    assert gh.get_user().login == "status-bot"


def test_list_filters_sorting_and_link_pagination(github):
    for n in range(7):
        github.create_issue(f"i{n}", "", ["incident"] + (["maintenance"] if n % 2 else []))
    github.create_issue("other", "", ["bug"])
    github.create_issue("closed", "", ["incident"], state="closed")
    repo = client(github, per_page=3).get_repo("acme/status")
    github.reset_log()
    numbers = [i.number for i in repo.get_issues(state="all", labels=["incident"])]
    assert numbers == [9, 7, 6, 5, 4, 3, 2, 1]  # newest first by default
    pages = github.requests("GET", r"/issues$")
    assert len(pages) == 3  # three pages, followed through the Link header
    assert 'rel="next"' in pages[0].headers["Link"] and "Link" not in pages[2].headers or 'rel="next"' not in pages[2].headers["Link"]
    assert [i.number for i in repo.get_issues(labels=["incident", "maintenance"], direction="asc")] == [2, 4, 6]
    assert [i.number for i in repo.get_issues(state="closed")] == [9]
    assert [i.number for i in repo.get_issues()][:2] == [8, 7]  # state=open is the default

    future = github.issues[1].updated_at + timedelta(hours=1)
    github.issues[3].updated_at = future
    assert [i.number for i in repo.get_issues(state="all", since=future)] == [3]

    raw = requests.get(f"{github.url}/repos/acme/status/issues", params={"state": "all", "per_page": 4, "page": 2},
                       headers={"Authorization": f"token {github.token}"}, timeout=5)
    assert raw.status_code == 200 and len(raw.json()) == 4
    links = raw.headers["Link"]
    assert 'rel="next"' in links and 'rel="prev"' in links and 'rel="first"' in links and 'rel="last"' in links


def test_comments_by_other_users_carry_their_association(github):
    issue = github.create_issue("x", "", ["incident"])
    github.add_comment(issue.number, "from a stranger", user="alice")
    github.add_comment(issue.number, "from the team", user="bob", association="MEMBER")
    outsider = github.add_user("carol", token="ghp_carol_token", association="COLLABORATOR")
    client(github, token="ghp_carol_token").get_repo("acme/status").get_issue(issue.number).create_comment("hi")
    comments = list(client(github).get_repo("acme/status").get_issue(issue.number).get_comments())
    assert [(c.user.login, c.body) for c in comments] == [
        ("alice", "from a stranger"), ("bob", "from the team"), (outsider.login, "hi")]
    raw = requests.get(f"{github.url}/repos/acme/status/issues/{issue.number}/comments",
                       headers={"Authorization": f"token {github.token}"}, timeout=5).json()
    assert [c["author_association"] for c in raw] == ["NONE", "MEMBER", "COLLABORATOR"]
    first = parse_iso(raw[0]["created_at"])
    since = requests.get(f"{github.url}/repos/acme/status/issues/{issue.number}/comments",
                         params={"since": (first + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
                         headers={"Authorization": f"token {github.token}"}, timeout=5).json()
    assert since == []


def test_rate_limit_headers_and_auth(github):
    ok = requests.get(f"{github.url}/repos/acme/status", headers={"Authorization": f"token {github.token}"}, timeout=5)
    second = requests.get(f"{github.url}/user", headers={"Authorization": f"Bearer {github.token}"}, timeout=5)
    for response in (ok, second):
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource"):
            assert name in response.headers
    assert int(second.headers["X-RateLimit-Used"]) == int(ok.headers["X-RateLimit-Used"]) + 1
    assert int(second.headers["X-RateLimit-Remaining"]) == 5000 - int(second.headers["X-RateLimit-Used"])
    bad = requests.get(f"{github.url}/user", headers={"Authorization": "token nope"}, timeout=5)
    assert bad.status_code == 401 and "X-RateLimit-Limit" in bad.headers
    assert github.request_count == 3 and [r.status for r in github.log] == [200, 200, 401]


def test_the_rate_limit_runs_out():
    with GitHubEmulator(validator=github_openapi(), rate_limit=2) as api:
        repo = client(api).get_repo("acme/status")  # 1
        repo.get_labels().totalCount  # 2
        with pytest.raises(RateLimitExceededException) as raised:
            list(repo.get_labels())
        assert raised.value.status == 403 and raised.value.headers["x-ratelimit-remaining"] == "0"
    api.assert_valid()


def test_injected_faults(github):
    repo = client(github, timeout=1, lazy=True).get_repo("acme/status")
    github.inject(Fault("status", status=502), Fault("status", status=503, method="POST"))
    with pytest.raises(GithubException) as bad_gateway:
        list(repo.get_labels())
    assert bad_gateway.value.status == 502
    with pytest.raises(GithubException) as unavailable:
        repo.create_issue("x")
    assert unavailable.value.status == 503 and not github.issues  # nothing was created

    github.inject(Fault("rate_limit", reset_in=30))
    with pytest.raises(RateLimitExceededException) as limited:
        list(repo.get_labels())
    headers = limited.value.headers
    assert headers["x-ratelimit-remaining"] == "0" and int(headers["x-ratelimit-reset"]) > 0

    github.inject(Fault("retry_after", status=429, retry_after=7))
    with pytest.raises(GithubException) as secondary:
        list(repo.get_labels())
    assert secondary.value.status == 429 and secondary.value.headers["retry-after"] == "7"

    github.inject(Fault("reset", path=r"/labels$"))
    with pytest.raises(requests.ConnectionError):
        list(repo.get_labels())

    github.inject(Fault("slow", delay=1.4, method="POST"))
    with pytest.raises(requests.Timeout):
        repo.create_issue("slow but done")
    assert [i.title for i in github.issues.values()] == ["slow but done"]  # the work happened anyway

    assert list(repo.get_labels())  # the faults are used up: normal answers again
    assert [r.fault for r in github.log if r.fault] == ["status", "status", "rate_limit", "retry_after", "reset", "slow"]


def test_schedule_decides_per_request(github):
    calls = []

    def schedule(method, path):
        calls.append((method, path))
        return Fault("status", status=500) if len(calls) % 2 else None

    github.schedule = schedule
    session = requests.Session()
    statuses = [session.get(f"{github.url}/repos/acme/status/labels", headers={"Authorization": f"token {github.token}"},
                            timeout=5).status_code for _ in range(4)]
    assert statuses == [500, 200, 500, 200]


def test_server_is_loopback_only(github):
    host = github.url.split("//")[1].split(":")[0]
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(github.url.rsplit(":", 1)[1])), timeout=2):
        pass
    assert json.loads(json.dumps(github.repo_json()))["full_name"] == "acme/status"
