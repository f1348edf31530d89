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

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlencode

import pytest

from generator.timeutil import UTC, parse_iso
from tests.support.github_emulator_actions import ActionsRuns
from tests.support.github_emulator_http import Handler as _Handler
from tests.support.github_emulator_json import Shapes
from tests.support.github_emulator_model import (  # noqa: F401 (re-exported for tests)
    ASSOCIATIONS,
    DOCS,
    MAX_LABEL,
    ROLES,
    CommentData,
    Fault,
    HttpError,
    IssueData,
    LabelData,
    Record,
    User,
)

# --------------------------------------------------------------------------- the emulator


class GitHubEmulator(Shapes, ActionsRuns):
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
        self.add_user(owner, association="OWNER", role="admin")
        self.repo_id = 1
        self.former: list[str] = []  # /repos/{owner}/{repo} paths the repository had before a rename
        self.login = login
        self.add_user(login, token=token, association=bot_association)
        self.labels: dict[str, LabelData] = {}
        self.issues: dict[int, IssueData] = {}
        self.comments: dict[int, CommentData] = {}
        self.faults: list[Fault] = []
        self.schedule: Callable[[str, str], Fault | None] | None = None
        self.log: list[Record] = []
        self.violations: list[str] = []
        self._used: dict[str, int] = {}
        self._window_start = time.time()
        self.created_at = self._now()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for name, color in (("bug", "d73a4a"), ("documentation", "0075ca"), ("enhancement", "a2eeef")):
            self.add_label(name, color, None, default=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> GitHubEmulator:
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

    def __enter__(self) -> GitHubEmulator:  # noqa: PYI034 (Self needs Python 3.11)
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

    def add_user(self, login: str, *, token: str | None = None, association: str = "NONE",
                 type: str = "User", app_token: bool = False, role: str = "none") -> User:
        assert association in ASSOCIATIONS and role in ROLES, (association, role)
        with self.lock:
            self._ids += 1
            user = User(login, self._ids, token, association, type, app_token, role)
            self.users[login] = user
            return user

    def add_label(self, name: str, color: str = "ededed", description: str | None = None, *,
                  default: bool = False) -> LabelData:
        with self.lock:
            self._ids += 1
            label = LabelData(self._ids, name, color, description, default)
            self.labels[name.lower()] = label
            return label

    def create_issue(self, title: str, body: str = "", labels: tuple[str, ...] | list[str] = (), *,
                     user: str | None = None, state: str = "open", state_reason: str = "completed",
                     created_at: datetime | None = None, closed_at: datetime | None = None) -> IssueData:
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

    def add_comment(self, number: int, body: str, *, user: str = "alice", association: str | None = None) -> CommentData:
        """A comment by another user (created on the fly with ``association``)."""
        with self.lock:
            if user not in self.users:
                self.add_user(user, association=association or "NONE")
            return self._new_comment(self.issues[number], body, user)

    def revoke_push(self, login: str | None = None) -> None:
        """The token (or ``login``) loses push access: labels it sets are dropped, label writes get 403."""
        with self.lock:
            self.users[login or self.login].push = False

    def rename(self, name: str, owner: str | None = None) -> None:
        """Rename (or transfer) the repository: the old path answers 301 (GET) or 307, as GitHub does."""
        with self.lock:
            self.former.append(self._repo_path())
            self.owner, self.repo = owner or self.owner, name

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    @property
    def request_count(self) -> int:
        return len(self.log)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Record]:
        return [r for r in self.log if (method is None or r.method == method) and (path is None or re.search(path, r.path))]

    def issue_labels(self, number: int) -> set[str]:
        return {self.labels[name.lower()].name for name in self.issues[number].labels}

    def assert_valid(self) -> None:
        if self.violations:
            raise AssertionError("emulator responses not valid per GitHub's OpenAPI:\n" + "\n".join(self.violations[:20]))

    # ------------------------------------------------------------------ state changes

    def _association(self, login: str) -> str:
        return "OWNER" if login == self.owner else self.users[login].association

    def _new_issue(self, title: str, body: str | None, labels: list[str], user: str) -> IssueData:
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

    def _label_names(self, names: list[str], user: User | None = None) -> list[str]:
        """Canonical names; unknown labels are created on the fly, as GitHub does (not for a user
        without push access: 403)."""
        result: list[str] = []
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "name"}]})
            _check_label_name(name)
            if name.lower() not in self.labels and user is not None and not user.push:
                raise HttpError(403, "Must have push access to create labels")
            if name.lower() not in self.labels:
                self.add_label(name)
            canonical = self.labels[name.lower()].name
            if canonical not in result:
                result.append(canonical)
        return result

    def _close(self, issue: IssueData, reason: str | None, user: str) -> None:
        issue.state = "closed"
        issue.state_reason = reason or "completed"  # set on closing only: a closed issue keeps it
        issue.closed_at = self._now()
        issue.closed_by = user
        issue.updated_at = issue.closed_at

    # ------------------------------------------------------------------ dispatch

    def _rate_headers(self, login: str | None) -> tuple[dict[str, str], bool]:
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

    def _next_fault(self, method: str, path: str) -> Fault | None:
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

    def _refund(self, login: str | None) -> dict[str, str]:
        """A 304 does not count against the primary rate limit: give the request back."""
        key = login or "anonymous"
        self._used[key] = max(0, self._used.get(key, 0) - 1)
        used = self._used[key]
        return {"X-RateLimit-Remaining": str(self.rate_limit - used), "X-RateLimit-Used": str(used)}

    def _record(self, record: Record) -> None:
        if self.validator is not None and record.status is not None:
            # /repositories/{id}/... (next links, a renamed repository) has the shapes of /repos/{owner}/{repo}/...
            path = re.sub(rf"^/repositories/{self.repo_id}(?=/|$)", self._repo_path(), record.path)
            problems = self.validator.validate(record.method, path, record.status, record.body)
            with self.lock:
                self.violations.extend(problems)
        with self.lock:
            self.log.append(record)

    def authenticate(self, header: str | None) -> User | None:
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
        by_id = f"/repositories/{self.repo_id}"
        if path == by_id or path.startswith(by_id + "/"):
            path = repo + path[len(by_id):]
        for old in self.former:
            if (path == old or path.startswith(old + "/")) and old != repo:
                location = f"{self.url}{by_id}{path[len(old):]}" + (f"?{urlencode(query)}" if query else "")
                raise HttpError(301 if method == "GET" else 307, "Moved Permanently", {"url": location},
                                {"Location": location})
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
                    return self._page(sorted(self.labels.values(), key=lambda label: label.id), query, path, self.label_json)
                if method == "POST":
                    return self._create_label(payload, user)
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
                    comment = self._new_comment(issue, body, user.login)
                    return 201, self.comment_json(comment), {
                        "Location": self._api(f"{repo}/issues/comments/{comment.id}")}
                if sub == "/labels" and method == "GET":
                    return 200, [self.label_json(self.labels[n.lower()]) for n in issue.labels], {}
                if sub == "/labels" and method == "POST":
                    if not user.push:
                        raise HttpError(403, "Must have push access to add labels")
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
            match = re.fullmatch(r"/collaborators/([^/]+)/permission", rest)
            if match and method == "GET":
                return self._permission(unquote(match.group(1)))
            if rest.startswith("/actions/"):
                answered = self.actions_route(method, rest, query, payload)
                if answered is not None:
                    return answered
        raise HttpError(404, "Not Found")

    def _permission(self, login: str) -> tuple[int, Any, dict[str, str]]:
        found = self.users.get(login)
        if found is None:
            raise HttpError(404, "Not Found")
        role = found.role
        # ``permission`` is the older field: maintain reads as write, triage as read
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        user = dict(self.user_json(login), role_name=role)
        return 200, {"permission": permission, "role_name": role, "user": user}, {}

    def _create_label(self, payload: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        if not user.push:
            raise HttpError(403, "Must have push access to create labels")
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str) or not payload["name"]:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "missing_field", "field": "name"}]})
        name = payload["name"]
        _check_label_name(name)
        color = str(payload.get("color") or "ededed").lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "color"}]})
        description = payload.get("description")
        if description is not None and len(description) > 100:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "invalid", "field": "description"}]})
        if name.lower() in self.labels:
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]})
        label = self.add_label(name, color.lower(), description)
        return 201, self.label_json(label), {"Location": self.label_json(label)["url"]}

    def _create_issue(self, payload: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(payload, dict) or not isinstance(payload.get("title"), str) or not payload["title"].strip():
            raise HttpError(422, "Validation Failed", {"errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}]})
        labels = payload.get("labels") or []
        if not isinstance(labels, list):
            raise HttpError(422, "Validation Failed")
        if not user.push:
            # "Only users with push access can set labels for new issues. Labels are silently dropped
            # otherwise" -- unless one does not exist: creating it is refused
            self._label_names(labels, user)
            labels = []
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
        if "labels" in payload and user.push:  # without push access: silently dropped
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
        issue.updated_at = self._now()
        return 200, self.issue_json(issue), {}

    def _list_issues(self, query: dict[str, str], path: str) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise HttpError(422, "Validation Failed")
        wanted = [name.strip().lower() for name in query.get("labels", "").split(",") if name.strip()]
        creator = query.get("creator")
        since = _since(query)
        items = [
            issue for issue in self.issues.values()
            if (state == "all" or issue.state == state)
            and all(name in [n.lower() for n in issue.labels] for name in wanted)
            and (since is None or issue.updated_at >= since)
            and (creator is None or issue.user.lower() == creator.lower())
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

        # GitHub's next links name the repository by id: /repositories/{id}/issues?page=2
        shown = re.sub(rf"^{re.escape(self._repo_path())}(?=/|$)", f"/repositories/{self.repo_id}", path)

        def link(number: int, rel: str) -> str:
            params = dict(query, page=str(number), per_page=str(per_page))
            return f'<{self.url}{shown}?{urlencode(params)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, [render(item) for item in chunk], ({"Link": ", ".join(links)} if links else {})


def _check_label_name(name: str) -> None:
    if len(name) > MAX_LABEL:
        raise HttpError(422, "Validation Failed", {"errors": [{
            "resource": "Label", "code": "invalid", "field": "name",
            "message": f"name is too long (maximum is {MAX_LABEL} characters)"}]})


def _since(query: dict[str, str]) -> datetime | None:
    if "since" not in query:
        return None
    try:
        return parse_iso(query["since"])
    except ValueError:
        raise HttpError(422, "Validation Failed", {"errors": [{"field": "since", "code": "invalid"}]}) from None


# --------------------------------------------------------------------------- pytest fixture


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    """A started emulator whose every response is checked against GitHub's OpenAPI at teardown."""
    from tests.support.openapi import github_openapi

    emulator = GitHubEmulator(validator=github_openapi())
    with emulator:
        yield emulator
    emulator.assert_valid()

