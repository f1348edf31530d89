"""A local, stateful emulator of the parts of GitHub's REST API statusgen uses.

A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that PyGithub talks to
unmodified: ``Github(auth=Auth.Token(token), base_url=emulator.url)``.

It keeps one repository with issues, comments and labels; answers with GitHub's
shapes (every response can be checked against the official OpenAPI description,
see ``tests/support/openapi.py``), rate-limit headers on every response and
``Link`` pagination; and it can inject faults from a queue or a schedule: 5xx,
403/429 rate limits (``Retry-After`` or ``X-RateLimit-Remaining: 0`` +
``X-RateLimit-Reset``), a connection reset, a slow response.

Every request is logged (method, path, status, body) and counted.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse

import pytest

from generator.timeutil import UTC, parse_iso, to_iso

DOCS = "https://docs.github.com/rest"
ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE")


# --------------------------------------------------------------------------- faults and records


@dataclass
class Fault:
    """One injected failure.

    kind: ``status`` (answer ``status`` with an error body), ``rate_limit`` (403 with
    ``X-RateLimit-Remaining: 0`` and a reset ``reset_in`` seconds ahead), ``retry_after``
    (``status`` 403 or 429 with ``Retry-After: retry_after``), ``reset`` (close the
    connection with a TCP RST, no answer), ``reset_after`` (do the work, then reset the
    connection: the answer is lost although the change happened), ``slow`` (do the
    work, then wait ``delay`` seconds before answering: a client with a shorter
    timeout gives up although the change happened).
    method/path: only requests matching these (path is a regex searched in the path).
    """

    kind: str = "status"
    status: int = 503
    retry_after: float = 1.0
    reset_in: float = 1.0
    delay: float = 2.0
    method: Optional[str] = None
    path: Optional[str] = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass
class Record:
    method: str
    path: str  # without query
    query: dict[str, str]
    status: Optional[int]  # None: the connection was reset
    body: Any  # the JSON sent back (None when no body)
    fault: Optional[str] = None
    user: Optional[str] = None
    request_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # response headers


@dataclass
class User:
    login: str
    id: int
    token: Optional[str] = None
    association: str = "NONE"  # what GitHub says about this user in this repository
    type: str = "User"
    app_token: bool = False  # an installation token (GITHUB_TOKEN): GET /user is forbidden


@dataclass
class LabelData:
    id: int
    name: str
    color: str
    description: Optional[str]
    default: bool = False


@dataclass
class CommentData:
    id: int
    issue: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime
    association: str


@dataclass
class IssueData:
    id: int
    number: int
    title: str
    body: Optional[str]
    user: str
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    association: str
    state: str = "open"
    state_reason: Optional[str] = None
    closed_at: Optional[datetime] = None
    closed_by: Optional[str] = None
    comments: list[int] = field(default_factory=list)


class HttpError(Exception):
    def __init__(self, status: int, message: str, extra: Optional[dict] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}


# --------------------------------------------------------------------------- the emulator


class GitHubEmulator:
    """``with GitHubEmulator() as gh: Github(auth=Auth.Token(gh.token), base_url=gh.url)``."""

    def __init__(
        self,
        owner: str = "acme",
        repo: str = "status",
        *,
        token: str = "ghp_emulatortoken0001",
        login: str = "status-bot",
        bot_association: str = "NONE",
        validator: Any = None,
        clock: Callable[[], datetime] | None = None,
        rate_limit: int = 5000,
    ):
        self.owner = owner
        self.repo = repo
        self.token = token
        self.validator = validator  # an OpenAPI from tests.support.openapi, or None
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rate_limit = rate_limit
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self._ids = 100
        self.add_user(owner, association="OWNER")
        self.add_user(login, token=token, association=bot_association)
        self.labels: dict[str, LabelData] = {}
        self.issues: dict[int, IssueData] = {}
        self.comments: dict[int, CommentData] = {}
        self.faults: list[Fault] = []
        self.schedule: Optional[Callable[[str, str], Optional[Fault]]] = None
        self.log: list[Record] = []
        self.violations: list[str] = []
        self._used: dict[str, int] = {}
        self._window_start = time.time()
        self.created_at = self._now()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        for name, color in (("bug", "d73a4a"), ("documentation", "0075ca"), ("enhancement", "a2eeef")):
            self.add_label(name, color, None, default=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "GitHubEmulator":
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "GitHubEmulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    # ------------------------------------------------------------------ test helpers

    def add_user(self, login: str, *, token: Optional[str] = None, association: str = "NONE",
                 type: str = "User", app_token: bool = False) -> User:
        assert association in ASSOCIATIONS, association
        with self.lock:
            self._ids += 1
            user = User(login, self._ids, token, association, type, app_token)
            self.users[login] = user
            return user

    def add_label(self, name: str, color: str = "ededed", description: Optional[str] = None, *,
                  default: bool = False) -> LabelData:
        with self.lock:
            self._ids += 1
            label = LabelData(self._ids, name, color, description, default)
            self.labels[name.lower()] = label
            return label

    def create_issue(self, title: str, body: str = "", labels: tuple[str, ...] | list[str] = (), *,
                     user: Optional[str] = None, state: str = "open", state_reason: str = "completed",
                     created_at: Optional[datetime] = None, closed_at: Optional[datetime] = None) -> IssueData:
        """An issue opened by hand (e.g. a manual incident or a maintenance notice).

        ``created_at``/``closed_at`` back-date it; ``updated_at`` stays "now", as an
        issue imported today would show.
        """
        with self.lock:
            if user is not None and user not in self.users:
                self.add_user(user)
            issue = self._new_issue(title, body, list(labels), user or self.owner)
            if state == "closed":
                self._close(issue, state_reason, user or self.owner)
                if closed_at is not None:
                    issue.closed_at = closed_at.astimezone(UTC).replace(microsecond=0)
            if created_at is not None:
                issue.created_at = created_at.astimezone(UTC).replace(microsecond=0)
            return issue

    def add_comment(self, number: int, body: str, *, user: str = "alice", association: Optional[str] = None) -> CommentData:
        """A comment by another user (created on the fly with ``association``)."""
        with self.lock:
            if user not in self.users:
                self.add_user(user, association=association or "NONE")
            return self._new_comment(self.issues[number], body, user)

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    @property
    def request_count(self) -> int:
        return len(self.log)

    def requests(self, method: Optional[str] = None, path: Optional[str] = None) -> list[Record]:
        return [r for r in self.log if (method is None or r.method == method) and (path is None or re.search(path, r.path))]

    def issue_labels(self, number: int) -> set[str]:
        return {self.labels[name.lower()].name for name in self.issues[number].labels}

    def assert_valid(self) -> None:
        if self.violations:
            raise AssertionError("emulator responses not valid per GitHub's OpenAPI:\n" + "\n".join(self.violations[:20]))

    # ------------------------------------------------------------------ representations

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    def user_json(self, login: str) -> dict[str, Any]:
        user = self.users[login]
        base = self._api(f"/users/{quote(login)}")
        return {
            "login": login, "id": user.id, "node_id": f"U_{user.id}",
            "avatar_url": f"https://avatars.example.test/u/{user.id}", "gravatar_id": "",
            "url": base, "html_url": f"https://github.example.test/{quote(login)}",
            "followers_url": f"{base}/followers", "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}", "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions", "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events", "type": user.type, "site_admin": False,
            "user_view_type": "public",
        }

    def label_json(self, label: LabelData) -> dict[str, Any]:
        return {
            "id": label.id, "node_id": f"LA_{label.id}",
            "url": self._api(f"{self._repo_path()}/labels/{quote(label.name, safe='')}"),
            "name": label.name, "description": label.description, "color": label.color, "default": label.default,
        }

    def _reactions(self, url: str) -> dict[str, Any]:
        return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
                "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}

    def issue_json(self, issue: IssueData) -> dict[str, Any]:
        url = self._api(f"{self._repo_path()}/issues/{issue.number}")
        return {
            "id": issue.id, "node_id": f"I_{issue.id}", "url": url,
            "repository_url": self._api(self._repo_path()),
            "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
            "events_url": f"{url}/events", "html_url": f"https://github.example.test/{self.full_name}/issues/{issue.number}",
            "number": issue.number, "state": issue.state, "state_reason": issue.state_reason,
            "title": issue.title, "body": issue.body, "user": self.user_json(issue.user),
            "labels": [self.label_json(self.labels[name.lower()]) for name in issue.labels],
            "assignee": None, "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(issue.comments), "closed_at": to_iso(issue.closed_at) if issue.closed_at else None,
            "created_at": to_iso(issue.created_at), "updated_at": to_iso(issue.updated_at),
            "closed_by": self.user_json(issue.closed_by) if issue.closed_by else None,
            "author_association": issue.association, "reactions": self._reactions(url),
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
        }

    def comment_json(self, comment: CommentData) -> dict[str, Any]:
        url = self._api(f"{self._repo_path()}/issues/comments/{comment.id}")
        return {
            "id": comment.id, "node_id": f"IC_{comment.id}", "url": url,
            "html_url": f"https://github.example.test/{self.full_name}/issues/{comment.issue}#issuecomment-{comment.id}",
            "body": comment.body, "user": self.user_json(comment.user),
            "created_at": to_iso(comment.created_at), "updated_at": to_iso(comment.updated_at),
            "issue_url": self._api(f"{self._repo_path()}/issues/{comment.issue}"),
            "author_association": comment.association, "performed_via_github_app": None,
            "reactions": self._reactions(url),
        }

    def repo_json(self) -> dict[str, Any]:
        base = self._api(self._repo_path())
        html = f"https://github.example.test/{self.full_name}"
        templated = {
            "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}", "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}",
            "issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
            "milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}", "statuses_url": "/statuses/{sha}",
            "trees_url": "/git/trees{/sha}",
        }
        plain = ("contributors", "deployments", "downloads", "events", "forks", "hooks", "languages", "merges",
                 "stargazers", "subscribers", "subscription", "tags", "teams")
        data: dict[str, Any] = {key: base + suffix for key, suffix in templated.items()}
        data.update({f"{name}_url": f"{base}/{name}" for name in plain})
        open_count = sum(1 for issue in self.issues.values() if issue.state == "open")
        data.update({
            "id": 1, "node_id": "R_1", "name": self.repo, "full_name": self.full_name,
            "owner": self.user_json(self.owner), "private": False, "html_url": html, "description": None,
            "fork": False, "url": base, "clone_url": f"{html}.git", "git_url": f"git://github.example.test/{self.full_name}.git",
            "ssh_url": f"git@github.example.test:{self.full_name}.git", "svn_url": html, "mirror_url": None,
            "homepage": None, "language": "Python", "forks": 0, "forks_count": 0, "stargazers_count": 0,
            "watchers": 0, "watchers_count": 0, "size": 1, "default_branch": "main", "open_issues": open_count,
            "open_issues_count": open_count, "has_issues": True, "has_projects": False, "has_wiki": False,
            "has_pages": True, "has_discussions": False, "archived": False, "disabled": False,
            "license": None, "pushed_at": to_iso(self.created_at), "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.created_at), "network_count": 0, "subscribers_count": 0,
        })
        return data

    def private_user_json(self, login: str) -> dict[str, Any]:
        data = self.user_json(login)
        data.update({
            "user_view_type": "private", "name": None, "company": None, "blog": "", "location": None,
            "email": None, "hireable": None, "bio": None, "public_repos": 1, "public_gists": 0,
            "followers": 0, "following": 0, "created_at": to_iso(self.created_at), "updated_at": to_iso(self.created_at),
            "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
            "collaborators": 0, "two_factor_authentication": True,
        })
        return data

    # ------------------------------------------------------------------ state changes

    def _association(self, login: str) -> str:
        return "OWNER" if login == self.owner else self.users[login].association

    def _new_issue(self, title: str, body: Optional[str], labels: list[str], user: str) -> IssueData:
        self._ids += 1
        now = self._now()
        number = max(self.issues, default=0) + 1
        issue = IssueData(self._ids, number, title, body, user, self._label_names(labels), now, now, self._association(user))
        self.issues[number] = issue
        return issue

    def _new_comment(self, issue: IssueData, body: str, user: str) -> CommentData:
        self._ids += 1
        now = self._now()
        comment = CommentData(self._ids, issue.number, user, body, now, now, self._association(user))
        self.comments[comment.id] = comment
        issue.comments.append(comment.id)
        issue.updated_at = now
        return comment

    def _label_names(self, names: list[str]) -> list[str]:
        """Canonical names; unknown labels are created on the fly, as GitHub does."""
        result: list[str] = []
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "name"}]})
            if name.lower() not in self.labels:
                self.add_label(name)
            canonical = self.labels[name.lower()].name
            if canonical not in result:
                result.append(canonical)
        return result

    def _close(self, issue: IssueData, reason: Optional[str], user: str) -> None:
        issue.state = "closed"
        issue.state_reason = reason or "completed"
        issue.closed_at = self._now()
        issue.closed_by = user
        issue.updated_at = issue.closed_at

    # ------------------------------------------------------------------ dispatch

    def _rate_headers(self, login: Optional[str]) -> tuple[dict[str, str], bool]:
        """Rate-limit headers for this request; True when the limit is exhausted."""
        now = time.time()
        if now - self._window_start >= 3600:
            self._window_start, self._used = now, {}
        key = login or "anonymous"
        used = self._used.get(key, 0)
        exhausted = used >= self.rate_limit
        if not exhausted:
            used += 1
            self._used[key] = used
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - used)),
            "X-RateLimit-Reset": str(int(self._window_start + 3600)),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }
        return headers, exhausted

    def _next_fault(self, method: str, path: str) -> Optional[Fault]:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.schedule is not None:
                return self.schedule(method, path)
        return None

    def _record(self, record: Record) -> None:
        if self.validator is not None and record.status is not None:
            problems = self.validator.validate(record.method, record.path, record.status, record.body)
            with self.lock:
                self.violations.extend(problems)
        with self.lock:
            self.log.append(record)

    def authenticate(self, header: Optional[str]) -> Optional[User]:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        for user in self.users.values():
            if user.token and user.token == value.strip():
                return user
        return None

    def route(self, method: str, path: str, query: dict[str, str], payload: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        """Do the work of one request: (status, JSON body, extra headers)."""
        repo = self._repo_path()
        if path == "/user" and method == "GET":
            if user.app_token:
                raise HttpError(403, "Resource not accessible by integration")
            return 200, self.private_user_json(user.login), {}
        if path == "/rate_limit" and method == "GET":
            used = self._used.get(user.login, 0)
            core = {"limit": self.rate_limit, "remaining": self.rate_limit - used, "reset": int(self._window_start + 3600), "used": used}
            return 200, {"resources": {"core": core}, "rate": core}, {}
        if not (path == repo or path.startswith(repo + "/")):
            raise HttpError(404, "Not Found")
        rest = path[len(repo):]
        with self.lock:
            if rest == "" and method == "GET":
                return 200, self.repo_json(), {}
            if rest == "/labels":
                if method == "GET":
                    return self._page(sorted(self.labels.values(), key=lambda l: l.id), query, path, self.label_json)
                if method == "POST":
                    return self._create_label(payload)
            match = re.fullmatch(r"/labels/([^/]+)", rest)
            if match and method == "GET":
                label = self.labels.get(unquote(match.group(1)).lower())
                if label is None:
                    raise HttpError(404, "Not Found")
                return 200, self.label_json(label), {}
            if rest == "/issues":
                if method == "GET":
                    return self._list_issues(query, path)
                if method == "POST":
                    return self._create_issue(payload, user)
            match = re.fullmatch(r"/issues/comments/(\d+)", rest)
            if match and method in ("GET", "PATCH"):  # issues/get-comment, issues/update-comment
                comment = self.comments.get(int(match.group(1)))
                if comment is None:
                    raise HttpError(404, "Not Found")
                if method == "PATCH":
                    body = (payload or {}).get("body") if isinstance(payload, dict) else None
                    if not isinstance(body, str) or not body:
                        raise HttpError(422, "Validation Failed", {"errors": [{"resource": "IssueComment", "code": "missing_field", "field": "body"}]})
                    comment.body = body
                    comment.updated_at = self._now()
                    self.issues[comment.issue].updated_at = comment.updated_at
                return 200, self.comment_json(comment), {}
            match = re.fullmatch(r"/issues/(\d+)(/.*)?", rest)
            if match:
                issue = self.issues.get(int(match.group(1)))
                if issue is None:
                    raise HttpError(404, "Not Found")
                sub = match.group(2) or ""
                if sub == "" and method == "GET":
                    return 200, self.issue_json(issue), {}
                if sub == "" and method == "PATCH":
                    return self._update_issue(issue, payload, user)
                if sub == "/comments" and method == "GET":
                    since = _since(query)
                    items = [self.comments[c] for c in issue.comments]
                    items = [c for c in items if since is None or c.updated_at >= since]
                    return self._page(items, query, path, self.comment_json)
                if sub == "/comments" and method == "POST":
                    body = (payload or {}).get("body") if isinstance(payload, dict) else None
                    if not isinstance(body, str) or not body:
                        raise HttpError(422, "Validation Failed", {"errors": [{"resource": "IssueComment", "code": "missing_field", "field": "body"}]})
                    return 201, self.comment_json(self._new_comment(issue, body, user.login)), {}
                if sub == "/labels" and method == "GET":
                    return 200, [self.label_json(self.labels[n.lower()]) for n in issue.labels], {}
                if sub == "/labels" and method == "POST":
                    names = payload.get("labels") if isinstance(payload, dict) else payload
                    if not isinstance(names, list):
                        raise HttpError(422, "Validation Failed")
                    issue.labels = self._label_names(issue.labels + names)
                    issue.updated_at = self._now()
                    return 200, [self.label_json(self.labels[n.lower()]) for n in issue.labels], {}
                label_match = re.fullmatch(r"/labels/([^/]+)", sub)
                if label_match and method == "DELETE":
                    name = unquote(label_match.group(1)).lower()
                    if name not in [n.lower() for n in issue.labels]:
                        raise HttpError(404, "Label does not exist")
                    issue.labels = [n for n in issue.labels if n.lower() != name]
                    issue.updated_at = self._now()
                    return 200, [self.label_json(self.labels[n.lower()]) for n in issue.labels], {}
        raise HttpError(404, "Not Found")

    def _create_label(self, payload: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str) or not payload["name"]:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "missing_field", "field": "name"}]})
        name = payload["name"]
        color = str(payload.get("color") or "ededed").lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "color"}]})
        description = payload.get("description")
        if description is not None and len(description) > 100:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "description"}]})
        if name.lower() in self.labels:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]})
        return 201, self.label_json(self.add_label(name, color.lower(), description)), {}

    def _create_issue(self, payload: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(payload, dict) or not isinstance(payload.get("title"), str) or not payload["title"].strip():
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}]})
        labels = payload.get("labels") or []
        if not isinstance(labels, list):
            raise HttpError(422, "Validation Failed")
        issue = self._new_issue(payload["title"], payload.get("body"), labels, user.login)
        return 201, self.issue_json(issue), {"Location": f"{self.url}{self._repo_path()}/issues/{issue.number}"}

    def _update_issue(self, issue: IssueData, payload: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(payload, dict):
            raise HttpError(400, "Problems parsing JSON")
        if "title" in payload:
            if not isinstance(payload["title"], str) or not payload["title"].strip():
                raise HttpError(422, "Validation Failed")
            issue.title = payload["title"]
        if "body" in payload:
            issue.body = payload["body"]
        if "labels" in payload:
            issue.labels = self._label_names(list(payload["labels"] or []))
        state = payload.get("state")
        reason = payload.get("state_reason")
        if reason not in (None, "completed", "not_planned", "duplicate", "reopened"):
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Issue", "code": "invalid", "field": "state_reason"}]})
        if state == "closed" and issue.state != "closed":
            self._close(issue, reason, user.login)
        elif state == "open" and issue.state != "open":
            issue.state, issue.state_reason, issue.closed_at, issue.closed_by = "open", "reopened", None, None
        elif state not in (None, "open", "closed"):
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Issue", "code": "invalid", "field": "state"}]})
        elif state == "closed" and reason:
            issue.state_reason = reason
        issue.updated_at = self._now()
        return 200, self.issue_json(issue), {}

    def _list_issues(self, query: dict[str, str], path: str) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise HttpError(422, "Validation Failed")
        wanted = [name.strip().lower() for name in query.get("labels", "").split(",") if name.strip()]
        since = _since(query)
        items = [
            issue for issue in self.issues.values()
            if (state == "all" or issue.state == state)
            and all(name in [n.lower() for n in issue.labels] for name in wanted)
            and (since is None or issue.updated_at >= since)
        ]
        sort = query.get("sort", "created")
        keys = {"created": lambda i: (i.created_at, i.number), "updated": lambda i: (i.updated_at, i.number),
                "comments": lambda i: (len(i.comments), i.number)}
        if sort not in keys:
            raise HttpError(422, "Validation Failed")
        items.sort(key=keys[sort], reverse=query.get("direction", "desc") != "asc")
        return self._page(items, query, path, self.issue_json)

    def _page(self, items: list, query: dict[str, str], path: str, render: Callable[[Any], Any]) -> tuple[int, Any, dict[str, str]]:
        try:
            per_page = max(1, min(100, int(query.get("per_page", 30))))
            page = max(1, int(query.get("page", 1)))
        except ValueError:
            raise HttpError(422, "Validation Failed") from None
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            params = dict(query, page=str(number), per_page=str(per_page))
            return f'<{self.url}{path}?{urlencode(params)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, [render(item) for item in chunk], ({"Link": ", ".join(links)} if links else {})


def _since(query: dict[str, str]) -> Optional[datetime]:
    if "since" not in query:
        return None
    try:
        return parse_iso(query["since"])
    except ValueError:
        raise HttpError(422, "Validation Failed", {"errors": [{"field": "since", "code": "invalid"}]}) from None


# --------------------------------------------------------------------------- HTTP layer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    emulator: GitHubEmulator
    server_version = "GitHubEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the emulator keeps its own log
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        emu = self.emulator
        parsed = urlparse(self.path)
        path = parsed.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        method = self.command
        user = emu.authenticate(self.headers.get("Authorization"))
        login = user.login if user else None
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = "<invalid json>"
        record = Record(method, path, query, None, None, user=login, request_body=payload)

        fault = emu._next_fault(method, path)
        if fault is not None and fault.kind == "reset":
            record.fault = "reset"
            emu._record(record)
            self._reset()
            return
        with emu.lock:
            rate, exhausted = emu._rate_headers(login)
        headers = dict(rate)
        if fault is not None and fault.kind in ("status", "rate_limit", "retry_after"):
            record.fault = fault.kind
            status, body, extra = self._fault_response(fault, rate)
            headers.update(extra)
        elif user is None:
            status, body = 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
        elif exhausted:
            status, body = 403, {"message": f"API rate limit exceeded for user ID {user.id}.", "documentation_url": DOCS}
        else:
            try:
                status, body, extra = emu.route(method, path, query, payload, user)
                headers.update(extra)
            except HttpError as error:
                status = error.status
                body = {"message": error.message, "documentation_url": DOCS, **error.extra}
                if status >= 400:
                    body.setdefault("status", str(status))
        record.status, record.body, record.headers = status, body, headers
        if fault is not None and fault.kind in ("slow", "reset_after"):
            record.fault = fault.kind
        emu._record(record)
        if fault is not None and fault.kind == "reset_after":
            self._reset()  # the work is done; the answer is lost
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)  # the work is done; the answer comes too late
        self._send(status, body, headers)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a RST, the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _fault_response(self, fault: Fault, rate: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if fault.kind == "rate_limit":
            reset = int(time.time() + fault.reset_in + 0.999)
            return 403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}, {
                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": rate["X-RateLimit-Limit"]}
        if fault.kind == "retry_after":
            return fault.status, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": DOCS}, {"Retry-After": str(int(fault.retry_after))}
        if fault.status == 503:
            return 503, {"code": "unavailable", "message": "Service unavailable", "documentation_url": DOCS}, {}
        return fault.status, {"message": "Server Error" if fault.status == 500 else "Bad Gateway", "documentation_url": DOCS}, {}

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow fault): nothing to answer


# --------------------------------------------------------------------------- pytest fixture


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    """A started emulator whose every response is checked against GitHub's OpenAPI at teardown."""
    from tests.support.openapi import github_openapi

    emulator = GitHubEmulator(validator=github_openapi())
    with emulator:
        yield emulator
    emulator.assert_valid()
