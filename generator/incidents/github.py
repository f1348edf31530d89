"""Incidents as GitHub issues, through PyGithub.

One issue per incident, opened with its labels in one request; every later event
is a comment; resolving adds ``resolved`` and closes the issue as completed.
Issues are found by label and by the hidden marker in their body, never by title.

Cost: a local cache (``cache.read_json/write_json("github_issues")``) holds the
incident and maintenance issues and their comments. A run refreshes it with two
list calls (``labels=incident`` and ``labels=maintenance``, ``since`` the last
sync), so a run where nothing changed costs 2 requests whatever the number of
monitors; every transition costs at most 2 more. Requests go through PyGithub's
``Requester`` as plain JSON so that no lazy object ever completes itself with a
hidden extra request.

Faults (5xx, timeouts, resets, 403/429 rate limits) are retried with backoff
within a time budget, honouring ``Retry-After`` and ``X-RateLimit-Reset``; when
GitHub stays unavailable a ``TrackerError`` names the request and the response.
A write whose answer was lost is looked up before it is retried, so a lost
answer never makes a second issue or a second comment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Optional, TypeVar
from urllib.parse import quote

import requests
import yaml
from github import Auth, Github, GithubException

from generator import secrets
from generator.incidents import labels as L
from generator.incidents.base import Tracker, TrackerError
from generator.models import (
    Check,
    CheckStatus,
    Comment,
    Impact,
    Incident,
    Maintenance,
    Monitor,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from generator.timeutil import UTC, duration_between, format_duration, parse_iso, to_iso, utcnow

log = logging.getLogger("statusgen.github")

CACHE_NAME = "github_issues"
CACHE_VERSION = 1
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
MARKER = re.compile(r"<!--\s*statusgen\s+(\{.*?\})\s*-->", re.DOTALL)
EVENT_MARKER = re.compile(r"<!--\s*statusgen-event\s+(\{.*?\})\s*-->", re.DOTALL)
_YAML_BLOCK = re.compile(r"```ya?ml[ \t]*\r?\n(.*?)\r?\n[ \t]*```", re.DOTALL)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)

T = TypeVar("T")


class _MemoryCache:
    """Stand-in for History's small-cache API when no cache is given (nothing persists)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def read_json(self, name: str, default: Any = None) -> Any:
        return json.loads(json.dumps(self.values[name])) if name in self.values else default

    def write_json(self, name: str, value: Any) -> None:
        self.values[name] = json.loads(json.dumps(value))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a run gives up on GitHub (seconds)."""

    budget: float = 60.0  # total time slept between attempts of one request
    backoff: float = 1.0  # first wait after a 5xx or a lost connection; doubles each time
    max_backoff: float = 20.0
    max_attempts: int = 5


def _json_comment(pattern: re.Pattern, body: Optional[str], key: str) -> Optional[dict[str, Any]]:
    """The JSON object of the first hidden HTML comment ``pattern`` finds, if it holds text ``key``."""
    match = pattern.search(body or "")
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get(key), str) else None


def marker_of(body: Optional[str]) -> Optional[dict[str, Any]]:
    """The machine-readable marker of an issue body (the first one), if any."""
    return _json_comment(MARKER, body, "monitor")


def event_of(body: Optional[str]) -> Optional[dict[str, Any]]:
    """The event id marker of a comment the tool posted, if any."""
    return _json_comment(EVENT_MARKER, body, "id")


def _strip_markers(body: Optional[str]) -> str:
    return EVENT_MARKER.sub("", MARKER.sub("", body or "")).strip()


def _cell(text: object) -> str:
    """A Markdown table cell: one line, no pipes, no way to open an HTML comment."""
    return str(text).replace("\n", " ").replace("|", "\\|").replace("<", "&lt;").strip()


class GitHubTracker(Tracker):
    name = "github"

    def __init__(
        self,
        repo: str,
        token: str,
        *,
        base_url: str = "https://api.github.com",
        cache: Any = None,
        site_url: Optional[str] = None,
        timeout: float = 15,
        retry: RetryPolicy = RetryPolicy(),
        seconds_between_requests: Optional[float] = 0.25,
        seconds_between_writes: Optional[float] = 1.0,
        full_sync_every: float = 86400.0,
        sync_overlap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo or ""):
            raise TrackerError(f"GitHub repository {repo!r} is not of the form owner/name")
        if not token:
            raise TrackerError("GitHub tracker needs a token (GITHUB_TOKEN)")
        secrets.register(token)  # never in a message, an issue or a log
        self.repo = repo
        self.base_url = base_url.rstrip("/")
        self.site_url = site_url
        self.retry = retry
        self.full_sync_every = full_sync_every
        self.sync_overlap = sync_overlap
        self._sleep = sleep
        self._clock = clock
        self._cache = cache if cache is not None else _MemoryCache()
        self._token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
        # PyGithub's own retries are off: this class retries with a budget it can report on.
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            timeout=max(1, math.ceil(timeout)),  # PyGithub wants whole seconds
            retry=None,
            per_page=100,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
            user_agent="statusgen",
        )
        self._requester = self._gh.requester
        self._requests = 0
        self._unavailable: Optional[str] = None  # set once GitHub stays unavailable: later calls fail fast
        self._synced = False
        self._data: Optional[dict[str, Any]] = None
        self.problems: list[str] = []  # e.g. unreadable maintenance issues

    # ------------------------------------------------------------------ the interface

    def request_count(self) -> int:
        return self._requests

    def open(self, monitor: Monitor, transition: Transition) -> str:
        self._sync()
        existing = self._find_open(monitor.id)
        if existing is not None:
            return str(existing["number"])
        previous = self._issue(transition.incident_key) if transition.incident_key else None
        if (
            transition.kind is TransitionKind.REOPENED
            and previous is not None
            and self._automated(previous)
            and (marker_of(previous.get("body")) or {}).get("monitor") == monitor.id
        ):
            return self._reopen(previous, monitor, transition)
        started = transition.started or transition.time
        names = L.incident_labels(monitor.id, transition.impact)
        self._ensure_labels(names)
        payload = {"title": self._title(monitor, transition.impact), "body": self._body(monitor, transition, started),
                   "labels": names}

        def find() -> Optional[dict[str, Any]]:
            return self._lookup_open(monitor.id)

        issue = self._call("POST", f"{self._repo_path}/issues", body=payload, reconcile=find)
        entry = self._merge_issue(issue)
        self._learn_writer(issue)
        self._save()
        return str(entry["number"])

    def comment(self, key: str, entry: TimelineEntry) -> None:
        self._sync()
        self._post_event(key, entry.kind, entry.time, entry.text)

    def change_impact(self, key: str, monitor: Monitor, transition: Transition) -> None:
        self._sync()
        issue = self._issue(key, fetch=True)
        if issue is None or not self._automated(issue):
            return  # manual incidents are the people's to edit
        names = L.with_impact(issue["labels"], transition.impact)
        self._ensure_labels(names)
        change: dict[str, Any] = {}
        if set(names) != set(issue["labels"]):
            change["labels"] = names
        # The title follows the impact unless a person reworded it.
        if issue["title"] in {self._title(monitor, impact) for impact in Impact} \
                and issue["title"] != self._title(monitor, transition.impact):
            change["title"] = self._title(monitor, transition.impact)
        if change:
            updated = self._call("PATCH", f"{self._repo_path}/issues/{issue['number']}", body=change)
            self._merge_issue(updated)
            self._save()
        verb = "Escalated" if transition.kind is TransitionKind.ESCALATED else "Changed"
        if transition.kind is TransitionKind.DEESCALATED:
            verb = "De-escalated"
        text = (f"**{verb}**: {monitor.name} is now **{transition.impact.value}** "
                f"({transition.severity.value}).\n\n{self._check_line(transition.check)}")
        self._post_event(str(issue["number"]), transition.kind.value, transition.time, text)

    def resolve(self, key: str, monitor: Monitor, transition: Transition) -> None:
        self._sync()
        issue = self._issue(key, fetch=True)
        if issue is None:
            raise TrackerError(f"GitHub issue {self.repo}#{key} not found: cannot resolve it")
        if not self._automated(issue):
            return  # manual incidents are never closed by the tool
        if issue["state"] == "closed" and L.RESOLVED in issue["labels"]:
            return  # resolved already (a re-run): nothing to add
        marker = marker_of(issue.get("body")) or {}
        started = transition.started or _parse(marker.get("started")) or _parse(issue.get("created_at")) or transition.time
        downtime = format_duration(duration_between(started, transition.time).total_seconds())
        text = (f"**Resolved**: {monitor.name} is back up at {_human(transition.time)} UTC "
                f"after **{downtime}** of downtime.")
        if transition.check.status is CheckStatus.NO_DATA:  # closed without a good check (monitor removed)
            text = (f"**Closed** at {_human(transition.time)} UTC after **{downtime}**: "
                    f"{secrets.mask(transition.check.error) or 'no data'}.")
        self._post_event(str(issue["number"]), "resolved", transition.time, text)
        names = [*issue["labels"], *([L.RESOLVED] if L.RESOLVED not in issue["labels"] else [])]
        self._ensure_labels(names)
        closed = self._call("PATCH", f"{self._repo_path}/issues/{issue['number']}",
                            body={"state": "closed", "state_reason": "completed", "labels": names})
        self._merge_issue(closed)
        self._save()

    def find_open(self, monitor_id: str) -> Optional[Incident]:
        self._sync()
        issue = self._find_open(monitor_id)
        return self._incident(issue) if issue is not None else None

    def changed_since(self, since: Optional[datetime]) -> list[Incident]:
        incidents = self.incidents()
        if since is None:
            return incidents
        return [i for i in incidents if (i.updated or i.started) >= since]

    def incidents(self) -> list[Incident]:
        self._sync()
        self._ensure_identity([i for i in self._issues() if L.INCIDENT in i["labels"]])
        return self.cached_incidents()

    def cached_incidents(self) -> list[Incident]:
        """The incidents of the last successful sync, without a request (GitHub is down)."""
        issues = [i for i in self._issues() if L.INCIDENT in i["labels"]]
        result = [self._incident(issue) for issue in issues]
        return sorted(result, key=lambda i: (i.started, int(i.key)), reverse=True)

    def maintenance(self) -> list[Maintenance]:
        self._sync()
        windows: list[Maintenance] = []
        for issue in self._issues():
            if L.MAINTENANCE not in issue["labels"] or issue.get("state_reason") == "not_planned":
                continue
            window = self._maintenance(issue)
            if window is not None:
                windows.append(window)
        return sorted(windows, key=lambda w: (w.start, w.key))

    def refresh(self) -> None:
        """Sync again now (a long run that wants to see changes made meanwhile)."""
        self._synced = False
        self._sync()

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _title(monitor: Monitor, impact: Impact) -> str:
        title = f"🛑 {monitor.name} is down" if impact is Impact.DOWN else f"⚠️ {monitor.name} is degraded"
        # masked in case a secret reached a monitor's name
        return secrets.mask(title)

    def _monitor_url(self, monitor_id: str) -> Optional[str]:
        if not self.site_url:
            return None
        base = self.site_url if self.site_url.endswith("/") else self.site_url + "/"
        return f"{base}monitors/{quote(monitor_id)}/"

    def _body(self, monitor: Monitor, transition: Transition, started: datetime) -> str:
        marker = json.dumps({"monitor": monitor.id, "started": to_iso(started), "kind": "automated"},
                            separators=(",", ":"))
        check = transition.check
        rows = [("Time (UTC)", _human(check.time))]
        if check.code is not None:
            rows.append(("Status code", check.code))
        if check.latency_ms is not None:
            rows.append(("Latency", f"{check.latency_ms:.0f} ms"))
        if check.error:
            rows.append(("Error", check.error))
        if check.attempts > 1:
            rows.append(("Attempts", check.attempts))
        lines = [
            f"<!-- statusgen {marker} -->",
            f"**{_cell(monitor.name)}** is **{transition.impact.value}** since {_human(started)} UTC "
            f"(severity: {transition.severity.value}).",
            "",
            "First failing check:",
            "",
            "| | |",
            "| --- | --- |",
            *[f"| {name} | {_cell(value)} |" for name, value in rows],
        ]
        url = self._monitor_url(monitor.id)
        if url:
            lines += ["", f"Monitor page: {url}"]
        lines += ["", "_Opened by statusgen; it comments on each change and closes this issue on recovery._"]
        return secrets.mask("\n".join(lines))

    @staticmethod
    def _check_line(check: Check) -> str:
        parts = [f"Check at {_human(check.time)} UTC: {check.status.value}"]
        if check.code is not None:
            parts.append(f"status {check.code}")
        if check.latency_ms is not None:
            parts.append(f"{check.latency_ms:.0f} ms")
        if check.error:
            parts.append(f"error: {_cell(check.error)}")
        return ", ".join(parts) + "."

    # ------------------------------------------------------------------ writes

    def _reopen(self, issue: dict[str, Any], monitor: Monitor, transition: Transition) -> str:
        names = L.with_impact([n for n in issue["labels"] if n != L.RESOLVED], transition.impact)
        self._ensure_labels(names)
        change: dict[str, Any] = {"state": "open", "labels": names}
        if issue["title"] in {self._title(monitor, impact) for impact in Impact}:  # not reworded by a person
            change["title"] = self._title(monitor, transition.impact)
        updated = self._call("PATCH", f"{self._repo_path}/issues/{issue['number']}", body=change)
        self._merge_issue(updated)
        self._save()
        text = (f"**Reopened**: {monitor.name} is **{transition.impact.value}** again soon after recovering.\n\n"
                f"{self._check_line(transition.check)}")
        self._post_event(str(issue["number"]), "reopened", transition.time, text)
        return str(issue["number"])

    def _post_event(self, key: str, kind: str, moment: datetime, text: str) -> None:
        """One comment with a hidden event id; an event already on the issue is not posted twice."""
        number = _number(key)
        issue = self._issue(key)
        event_id = hashlib.sha1(f"{number}|{kind}|{to_iso(moment)}|{text}".encode()).hexdigest()[:16]
        if issue is not None and any((event_of(c["body"]) or {}).get("id") == event_id for c in issue["comment_list"]):
            return
        marker = json.dumps({"id": event_id, "kind": kind, "time": to_iso(moment)}, separators=(",", ":"))
        body = secrets.mask(f"<!-- statusgen-event {marker} -->\n{text}")

        def find() -> Optional[dict[str, Any]]:
            for comment in self._fetch_comments(number, incremental=True):
                if (event_of(comment.get("body")) or {}).get("id") == event_id:
                    return comment
            return None

        comment = self._call("POST", f"{self._repo_path}/issues/{number}/comments", body={"body": body}, reconcile=find)
        self._learn_writer(comment)
        entry = self._issue(key)
        if entry is not None:
            self._merge_comments(entry, [comment])
            entry["comments_count"] = max(entry["comments_count"], len(entry["comment_list"]))
        self._save()

    def _ensure_labels(self, names: Iterable[str]) -> None:
        """Create the scheme's labels the repository lacks, once; then the cache remembers them."""
        data = self._state()
        known = {name.lower() for name in data["labels"]}
        missing = [n for n in dict.fromkeys(names) if n.lower() not in known]
        if not missing:
            return
        if not data["labels_listed"]:
            for label in self._list(f"{self._repo_path}/labels", {"per_page": 100}):
                known.add(label["name"].lower())
                data["labels"].append(label["name"])
            data["labels_listed"] = True
            missing = [n for n in missing if n.lower() not in known]
        for name in missing:
            spec = L.spec(name)
            try:
                self._call("POST", f"{self._repo_path}/labels",
                           body={"name": spec.name, "color": spec.color, "description": spec.description})
            except TrackerError as error:
                if getattr(error, "status", None) != 422:  # 422: it exists already (made meanwhile)
                    raise
            data["labels"].append(name)
        self._save()

    # ------------------------------------------------------------------ sync

    def _sync(self) -> None:
        if self._synced:
            return
        data = self._state()
        started = self._clock()
        full_at = _parse(data.get("full_synced"))
        full = full_at is None or (started - full_at).total_seconds() >= self.full_sync_every
        seen: set[str] = set()
        for label in (L.INCIDENT, L.MAINTENANCE):
            params = {"state": "all", "labels": label, "sort": "updated", "direction": "asc", "per_page": 100}
            # ``since`` is the newest change already known, in GitHub's own clock (no skew with
            # this runner); the small overlap catches a change committed during the last list.
            newest = max((_parse(i["updated_at"]) for i in self._issues() if label in i["labels"] and i["updated_at"]),
                         default=None)
            if not full and newest is not None:
                params["since"] = to_iso(newest - timedelta(seconds=self.sync_overlap))
            for raw in self._list(f"{self._repo_path}/issues", params):
                if raw.get("pull_request") is not None:
                    continue
                seen.add(str(raw["number"]))
                self._merge_issue(raw)
        if full:
            # Issues that lost their labels (or were deleted) drop out of the cache.
            for number in [n for n in data["issues"] if n not in seen]:
                del data["issues"][number]
        for entry in list(data["issues"].values()):
            if L.INCIDENT in entry["labels"] and entry["comments_count"] != len(entry["comment_list"]):
                self._fetch_comments(entry["number"], incremental=True)
        data["synced"] = to_iso(started)
        if full:
            data["full_synced"] = to_iso(started)
        self._synced = True
        self._save()

    def _fetch_comments(self, number: int, *, incremental: bool) -> list[dict[str, Any]]:
        """Refresh an issue's comments in the cache; returns what GitHub sent."""
        entry = self._issue(str(number))
        params: dict[str, Any] = {"per_page": 100}
        if incremental and entry is not None and entry["comment_list"]:
            params["since"] = max(c["updated_at"] for c in entry["comment_list"])
        fetched = self._list(f"{self._repo_path}/issues/{number}/comments", params)
        if entry is not None:
            if "since" in params:
                self._merge_comments(entry, fetched)
                if len(entry["comment_list"]) != entry["comments_count"]:
                    # Comments were deleted: start over from the whole list.
                    fetched = self._list(f"{self._repo_path}/issues/{number}/comments", {"per_page": 100})
                    entry["comment_list"] = []
                    self._merge_comments(entry, fetched)
            else:
                entry["comment_list"] = []
                self._merge_comments(entry, fetched)
            entry["comments_count"] = len(entry["comment_list"])
        return fetched

    def _lookup_open(self, monitor_id: str) -> Optional[dict[str, Any]]:
        """Ask GitHub (not the cache) for the open automated issue of a monitor."""
        params = {"state": "open", "labels": L.monitor_label(monitor_id), "per_page": 100}
        raws = {raw["number"]: raw for raw in self._list(f"{self._repo_path}/issues", params)}
        for raw in raws.values():
            self._merge_issue(raw)
        self._save()
        found = self._find_open(monitor_id)
        return raws.get(found["number"]) if found is not None else None  # GitHub's shape, as a POST answers

    # ------------------------------------------------------------------ cache

    def _state(self) -> dict[str, Any]:
        if self._data is None:
            try:
                data = self._cache.read_json(CACHE_NAME, None)
            except Exception as error:  # an unreadable cache costs one full sync, never a run
                log.warning("GitHub cache unreadable, starting over: %s", error)
                data = None
            if not _cache_ok(data, self.repo):
                data = {"version": CACHE_VERSION, "repo": self.repo, "synced": None, "full_synced": None,
                        "labels": [], "labels_listed": False, "identity": None, "writers": [], "issues": {}}
            self._data = data
        return self._data

    def _save(self) -> None:
        self._cache.write_json(CACHE_NAME, self._state())

    def _issues(self) -> list[dict[str, Any]]:
        return list(self._state()["issues"].values())

    def _issue(self, key: Optional[str], *, fetch: bool = False) -> Optional[dict[str, Any]]:
        if key is None:
            return None
        number = _number(key)
        entry = self._state()["issues"].get(str(number))
        if entry is None and fetch:
            try:
                raw = self._call("GET", f"{self._repo_path}/issues/{number}")
            except TrackerError as error:
                if getattr(error, "status", None) in (404, 410):
                    return None
                raise
            entry = self._merge_issue(raw)
            self._fetch_comments(number, incremental=False)
            self._save()
        return entry

    def _merge_issue(self, raw: dict[str, Any]) -> dict[str, Any]:
        issues = self._state()["issues"]
        key = str(raw["number"])
        old = issues.get(key)
        entry = {
            "number": raw["number"],
            "title": raw.get("title") or "",
            "body": raw.get("body") or "",
            "state": raw.get("state") or "open",
            "state_reason": raw.get("state_reason"),
            "labels": [label["name"] if isinstance(label, dict) else str(label) for label in raw.get("labels") or []],
            "user": ((raw.get("user") or {}).get("login")) or "ghost",
            "association": raw.get("author_association") or "NONE",
            "created_at": raw.get("created_at"),
            "updated_at": raw.get("updated_at"),
            "closed_at": raw.get("closed_at"),
            "html_url": raw.get("html_url"),
            "comments_count": int(raw.get("comments") or 0),
            "comment_list": old["comment_list"] if old else [],
        }
        issues[key] = entry
        return entry

    @staticmethod
    def _merge_comments(entry: dict[str, Any], raws: Iterable[dict[str, Any]]) -> None:
        by_id = {c["id"]: c for c in entry["comment_list"]}
        for raw in raws:
            by_id[raw["id"]] = {
                "id": raw["id"],
                "user": ((raw.get("user") or {}).get("login")) or "ghost",
                "association": raw.get("author_association") or "NONE",
                "body": raw.get("body") or "",
                "created_at": raw.get("created_at"),
                "updated_at": raw.get("updated_at") or raw.get("created_at"),
            }
        entry["comment_list"] = sorted(by_id.values(), key=lambda c: (c["created_at"] or "", c["id"]))

    def _find_open(self, monitor_id: str) -> Optional[dict[str, Any]]:
        candidates = [
            issue for issue in self._issues()
            if issue["state"] == "open" and L.INCIDENT in issue["labels"] and self._automated(issue)
            and (marker_of(issue["body"]) or {}).get("monitor") == monitor_id
        ]
        return min(candidates, key=lambda i: i["number"]) if candidates else None

    def _automated(self, issue: dict[str, Any]) -> bool:
        """An issue the tool opened: its marker, written by someone who can have written it.

        Anyone can paste the hidden marker into an issue; one written by a stranger (then
        labelled by a maintainer to publish it) stays a manual incident the tool never closes.
        A bot (Actions' github-actions[bot], an App) is installed by the owner: trusted.
        """
        if (marker_of(issue.get("body")) or {}).get("kind") != "automated":
            return False
        user = str(issue.get("user") or "")
        if issue.get("association") in TRUSTED_ASSOCIATIONS or user.endswith("[bot]") or self._is_me(user):
            return True
        self._know_identity()  # a cold cache has not seen our own writes yet: ask who we are (once per token)
        return self._is_me(user)

    # ------------------------------------------------------------------ identity and trust

    def _learn_writer(self, raw: dict[str, Any]) -> None:
        login = (raw.get("user") or {}).get("login")
        data = self._state()
        if login and login not in data["writers"]:
            data["writers"].append(login)

    def _ensure_identity(self, issues: list[dict[str, Any]]) -> None:
        """Fetch the token's login once, and only when some comment needs it to be judged."""
        data = self._state()
        identity = data.get("identity") or {}
        if identity.get("token") == self._token_id:
            return
        known = set(data["writers"])
        needs = any(c["association"] not in TRUSTED_ASSOCIATIONS and c["user"] not in known
                    for i in issues for c in i["comment_list"])
        if not needs:
            return
        self._know_identity()

    def _know_identity(self) -> None:
        """The token's login, fetched once per token and cached (None when the token may not read it)."""
        data = self._state()
        if (data.get("identity") or {}).get("token") == self._token_id:
            return
        try:
            user = self._call("GET", "/user")
            data["identity"] = {"token": self._token_id, "login": user.get("login")}
        except TrackerError as error:
            if getattr(error, "status", None) not in (401, 403, 404):
                # GitHub is unavailable, not refusing: ask again on a later run.
                log.info("GitHub identity not fetched (%s); will ask again", error)
                return
            # An installation token (Actions' GITHUB_TOKEN) may not read /user: fall back to
            # the logins seen on our own writes, and remember that we tried.
            log.info("GitHub identity unavailable (%s); trusting the tool's own comments by author", error)
            data["identity"] = {"token": self._token_id, "login": None}
        self._save()

    def _is_me(self, login: str) -> bool:
        data = self._state()
        return login in data["writers"] or login == (data.get("identity") or {}).get("login")

    def _trusted(self, login: str, association: str) -> bool:
        return association in TRUSTED_ASSOCIATIONS or self._is_me(login)

    # ------------------------------------------------------------------ reading back

    def _incident(self, issue: dict[str, Any]) -> Incident:
        automated = self._automated(issue)
        marker = marker_of(issue["body"]) if automated else None
        created = _parse(issue["created_at"]) or self._clock()
        started = (_parse(marker.get("started")) if marker else None) or created
        monitor_id = (marker or {}).get("monitor") or L.monitor_of(issue["labels"])
        resolved = issue["state"] == "closed"
        timeline = [TimelineEntry(started, "detected", _strip_markers(issue["body"]).split("\n\n")[0])] if automated else []
        comments: list[Comment] = []
        for c in issue["comment_list"]:
            event = event_of(c["body"])
            moment = _parse(c["created_at"]) or created
            if event is not None and self._is_me(c["user"]):  # only the tool's own events make the timeline
                timeline.append(TimelineEntry(_parse(event.get("time")) or moment, str(event.get("kind") or "update"),
                                              _strip_markers(c["body"])))
                continue
            comments.append(Comment(author=c["user"], association=c["association"], time=moment, body=c["body"],
                                    trusted=self._trusted(c["user"], c["association"])))
        return Incident(
            key=str(issue["number"]),
            title=issue["title"],
            monitor_id=monitor_id,
            impact=L.impact_from(issue["labels"]),
            status="resolved" if resolved else "open",
            started=started,
            resolved=(_parse(issue["closed_at"]) if resolved else None),
            automated=automated,
            url=issue["html_url"],
            body=_strip_markers(issue["body"]),
            labels=tuple(issue["labels"]),
            timeline=tuple(sorted(timeline, key=lambda e: e.time)),
            comments=tuple(comments),
            updated=_parse(issue["updated_at"]),
        )

    def _maintenance(self, issue: dict[str, Any]) -> Optional[Maintenance]:
        body = issue["body"] or ""
        where = f"{self.repo}#{issue['number']} ({issue['html_url']})"
        match = _YAML_BLOCK.search(body) or _FRONT_MATTER.search(body)
        if not match:
            self._problem(f"maintenance issue {where}: no ```yaml block or --- front matter with start and end")
            return None
        try:
            meta = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark else ""
            self._problem(f"maintenance issue {where}: front matter{line}: {getattr(error, 'problem', error)}")
            return None
        if not isinstance(meta, dict):
            self._problem(f"maintenance issue {where}: front matter must be a mapping with start and end")
            return None
        try:
            start, end = _moment(meta.get("start"), "start"), _moment(meta.get("end"), "end")
        except ValueError as error:
            self._problem(f"maintenance issue {where}: {error}")
            return None
        if end <= start:
            self._problem(f"maintenance issue {where}: end must be after start")
            return None
        monitors = meta.get("monitors") or ()
        if isinstance(monitors, str):
            monitors = [m.strip() for m in monitors.split(",") if m.strip()]
        if not isinstance(monitors, (list, tuple)) or not all(isinstance(m, str) for m in monitors):
            self._problem(f"maintenance issue {where}: monitors must be a list of monitor ids")
            return None
        text = (body[: match.start()] + body[match.end():]).strip()
        return Maintenance(key=str(issue["number"]), title=issue["title"], start=start, end=end,
                           monitors=tuple(monitors), body=text, url=issue["html_url"])

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.warning("%s", message)

    # ------------------------------------------------------------------ HTTP with retries

    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.repo}"

    def _list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every page of a list call (each page is one counted request)."""
        items: list[dict[str, Any]] = []
        url: Optional[str] = path
        query: Optional[dict[str, Any]] = params
        pages = 0
        while url is not None and pages < 1000:  # bounded: 100,000 items at most
            headers, data = self._call("GET", url, params=query, with_headers=True)
            pages += 1
            if not isinstance(data, list):
                raise TrackerError(f"GitHub request GET {self.base_url}{path} answered with {type(data).__name__}, not a list")
            items.extend(data)
            url, query = _next_link(headers), None
        return items

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: Optional[dict[str, Any]] = None,
        body: Any = None,
        reconcile: Optional[Callable[[], Optional[dict[str, Any]]]] = None,
        with_headers: bool = False,
    ) -> Any:
        """One request, retried within the budget; ``reconcile`` looks a lost write up before a retry."""
        what = f"{method} {url if url.startswith('http') else self.base_url + url}"
        if params:
            what += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        if self._unavailable is not None:
            # GitHub already stayed down (or rate-limited us) in this run: fail fast, the next run catches up.
            raise TrackerError(f"GitHub request {what} skipped: GitHub was unavailable earlier in this run "
                               f"({self._unavailable})")
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._requests += 1
            status: Optional[int] = None
            try:
                headers, data = self._requester.requestJsonAndCheck(method, url, parameters=params, input=body)
                return (headers, data) if with_headers else data
            except GithubException as error:
                status = error.status
                response_headers = {k.lower(): v for k, v in (error.headers or {}).items()}
                message = (error.data or {}).get("message") if isinstance(error.data, dict) else error.data
                detail = f"{status} {str(message or '')[:200]}".strip()
                wait = self._retry_wait(status, response_headers, str(message or ""), attempt)
                ambiguous = method != "GET" and status >= 500
            except (requests.RequestException, OSError) as error:
                detail = f"no response ({type(error).__name__}: {str(error)[:200]})"
                wait = self._backoff(attempt)
                ambiguous = method != "GET"
            if wait is None or attempt >= self.retry.max_attempts or slept + wait > self.retry.budget:
                why = "" if wait is None else f" (gave up after {attempt} attempt(s), {slept:.1f}s of waiting)"
                if wait is not None and slept + wait > self.retry.budget and attempt < self.retry.max_attempts:
                    why = f" (the next try would be in {wait:.0f}s, beyond the retry budget of {self.retry.budget:.0f}s)"
                error = TrackerError(secrets.mask(f"GitHub request {what} failed: {detail}{why}"))
                error.status = status  # type: ignore[attr-defined]
                if wait is not None:  # retryable, yet it kept failing: unavailable for this run
                    self._unavailable = secrets.mask(f"{method} {url.split('?')[0]}: {detail}")
                raise error
            log.info("GitHub %s: %s; retrying in %.1fs", what, detail, wait)
            self._sleep(wait)
            slept += wait
            if ambiguous and reconcile is not None:
                # The write may have happened although its answer was lost: look before writing again.
                found = reconcile()
                if found is not None:
                    return found

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.max_backoff, self.retry.backoff * (2 ** (attempt - 1)))

    def _retry_wait(self, status: int, headers: dict[str, Any], message: str, attempt: int) -> Optional[float]:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        limited = status == 429 or (status == 403 and (
            "retry-after" in headers or str(headers.get("x-ratelimit-remaining")) == "0" or "rate limit" in message.lower()))
        if limited:
            if "retry-after" in headers:
                try:
                    return max(0.0, float(headers["retry-after"]))
                except ValueError:
                    pass
            if str(headers.get("x-ratelimit-remaining")) == "0" and "x-ratelimit-reset" in headers:
                try:
                    return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 0.5
                except ValueError:
                    pass
            return max(self._backoff(attempt), 60.0 if status == 403 else self._backoff(attempt))
        if status in (500, 502, 503, 504):
            return self._backoff(attempt)
        return None


# --------------------------------------------------------------------------- helpers


_ISSUE_FIELDS = {"number": int, "title": str, "body": str, "state": str, "labels": list, "user": str,
                 "association": str, "comments_count": int, "comment_list": list}


def _cache_ok(data: Any, repo: str) -> bool:
    """A cache this version wrote for this repository; anything else is dropped (one full sync)."""
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("repo") != repo:
        return False
    if not isinstance(data.get("issues"), dict) or not isinstance(data.get("labels"), list):
        return False
    if not isinstance(data.get("writers"), list) or not isinstance(data.get("labels_listed"), bool):
        return False
    for entry in data["issues"].values():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), t) for k, t in _ISSUE_FIELDS.items()):
            return False
        if not all(isinstance(c, dict) and isinstance(c.get("id"), int) and isinstance(c.get("body"), str)
                   for c in entry["comment_list"]):
            return False
    return True


def _number(key: str) -> int:
    try:
        return int(str(key).lstrip("#"))
    except ValueError:
        raise TrackerError(f"{key!r} is not a GitHub issue number") from None


def _parse(value: Any) -> Optional[datetime]:
    if value in (None, ""):
        return None
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def _moment(value: Any, key: str) -> datetime:
    if value is None:
        raise ValueError(f"{key}: missing (an ISO 8601 time such as 2026-12-01T02:00:00Z)")
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: {value!r} is not an ISO 8601 time such as 2026-12-01T02:00:00Z") from None


def _human(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _next_link(headers: dict[str, Any]) -> Optional[str]:
    link = next((v for k, v in (headers or {}).items() if k.lower() == "link"), None)
    if not link:
        return None
    for part in str(link).split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="([^"]+)"', part)
        if match and match.group(2) == "next":
            return match.group(1)
    return None
