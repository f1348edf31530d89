"""The issue mirror: incident and maintenance issues with their comments, kept on disk between runs.

A run refreshes the mirror with two list calls (``labels=incident`` and
``labels=maintenance``, ``since`` the newest change already known), so a run
where nothing changed costs 2 requests whatever the number of monitors. Once a
day (``full_every``) the lists are read whole and issues that lost their labels
drop out. Comments are fetched only for issues whose comment count moved.

The mirror knows no HTTP: it is fed raw issue and comment objects in the shape of
GitHub's REST answers (``number``, ``labels``, ``user.login``, ``author_association``,
``comments``...) by an :class:`IssueSource`. Another forge's backend reuses it by
handing it the same shape. The document also keeps the few facts the tracker's
other parts remember (labels the repository has, who the token is, logins of the
tool's own writes, authors' permissions, ETags of earlier answers) so that one
cache file holds one backend's memory.

Claims: an issue whose labels GitHub dropped (the token has no push access) is not
listed by label, so the mirror remembers it by number as its monitor's incident
and reads it back with a (conditional) GET on each sync until it is closed or labelled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from generator.incidents import labels as L
from generator.incidents.base import JsonCache
from generator.incidents.github.foreign import UPPTIME_LABEL, is_listed
from generator.incidents.github.text import marker_of, parse_time
from generator.timeutil import to_iso

log = logging.getLogger("statusgen.github")

CACHE_NAME = "github_issues"
CACHE_VERSION = 1
# the labels whose issues are mirrored; comments are kept for incidents only (maintenance needs the body)
LISTED = (L.INCIDENT, L.MAINTENANCE)
ETAGS_KEPT = 20  # answers kept for conditional requests (the sync's lists, claimed issues)

Issue = dict[str, Any]  # one mirrored issue (see IssueMirror.merge_issue for its keys)

_ISSUE_FIELDS = {"number": int, "title": str, "body": str, "state": str, "labels": list, "user": str,
                 "association": str, "comments_count": int, "comment_list": list}


class IssueSource(Protocol):
    """Where the mirror's raw issues and comments come from (``since``: ISO 8601, the remote's clock)."""

    def list_issues(self, label: str, since: str | None) -> list[dict[str, Any]]: ...

    def list_comments(self, number: int, since: str | None) -> list[dict[str, Any]]: ...

    def get_issue(self, number: int) -> dict[str, Any]: ...


def cache_ok(data: Any, repo: str) -> bool:
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


class MemoryCache:
    """Stand-in for History's small-cache API when no cache is given (nothing persists)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def read_json(self, name: str, default: Any = None) -> Any:
        return json_copy(self.values[name]) if name in self.values else default

    def write_json(self, name: str, value: Any) -> None:
        self.values[name] = json_copy(value)


def json_copy(value: Any) -> Any:
    """What a JSON round trip would give back (the cache must not share objects with the caller)."""
    return json.loads(json.dumps(value))


def _login(raw: dict[str, Any]) -> str:
    return ((raw.get("user") or {}).get("login")) or "ghost"


class IssueMirror:
    def __init__(self, cache: JsonCache, repo: str, *, name: str = CACHE_NAME):
        self.cache = cache
        self.repo = repo
        self.name = name
        self._data: dict[str, Any] | None = None
        self.cold = False  # the run started without a usable cache: nothing remembered

    # ------------------------------------------------------------------ the document

    def _state(self) -> dict[str, Any]:
        if self._data is None:
            try:
                data = self.cache.read_json(self.name, None)
            except Exception as error:  # noqa: BLE001 (an unreadable cache costs one full sync, never a run)
                log.warning("GitHub cache unreadable, starting over: %s", error)
                data = None
            if not cache_ok(data, self.repo):
                data = {"version": CACHE_VERSION, "repo": self.repo, "synced": None, "full_synced": None,
                        "labels": [], "labels_listed": False, "identity": None, "writers": [], "issues": {}}
                self.cold = True
            for key in ("claims", "permissions", "etags"):  # added since version 1: empty when absent
                if not isinstance(data.get(key), dict):
                    data[key] = {}
            self._data = data
        return self._data

    def save(self) -> None:
        self.cache.write_json(self.name, self._state())

    # ------------------------------------------------------------------ issues

    def issues(self) -> list[Issue]:
        return list(self._state()["issues"].values())

    def get(self, number: int) -> Issue | None:
        return self._state()["issues"].get(str(number))

    def merge_issue(self, raw: dict[str, Any]) -> Issue:
        """Take in an issue as the remote sent it; its comments already mirrored are kept."""
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
            "user": _login(raw),
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
    def merge_comments(entry: Issue, raws: Iterable[dict[str, Any]]) -> None:
        """Add or update comments by id, kept in the order they were written."""
        by_id = {c["id"]: c for c in entry["comment_list"]}
        for raw in raws:
            by_id[raw["id"]] = {
                "id": raw["id"],
                "user": _login(raw),
                "association": raw.get("author_association") or "NONE",
                "body": raw.get("body") or "",
                "created_at": raw.get("created_at"),
                "updated_at": raw.get("updated_at") or raw.get("created_at"),
            }
        entry["comment_list"] = sorted(by_id.values(), key=lambda c: (c["created_at"] or "", c["id"]))

    def add_comment(self, number: int, raw: dict[str, Any]) -> None:
        """A comment the tool just wrote (the issue's count grows without asking the remote)."""
        entry = self.get(number)
        if entry is not None:
            self.merge_comments(entry, [raw])
            entry["comments_count"] = max(entry["comments_count"], len(entry["comment_list"]))

    def find_open(self, monitor_id: str, automated: Callable[[Issue], bool]) -> Issue | None:
        """The open automated incident of a monitor (the oldest if hands made two), from the mirror."""
        candidates = [
            issue for issue in self.issues()
            # ``automated`` last: it may have to ask the remote who the tool is
            if issue["state"] == "open" and self.is_incident(issue) and automated(issue)
            and (marker_of(issue["body"]) or {}).get("monitor") == monitor_id
        ]
        return min(candidates, key=lambda i: i["number"]) if candidates else None

    def is_incident(self, issue: Issue) -> bool:
        """Labelled as an incident (ours, Kener's or Upptime's), or one of ours whose labels GitHub
        dropped (claimed by number)."""
        return is_listed(issue["labels"]) or issue["number"] in self._state()["claims"].values()

    # ------------------------------------------------------------------ claims (issues without their labels)

    def claim(self, monitor_id: str, number: int) -> None:
        self._state()["claims"][monitor_id] = number

    def unclaim(self, number: int) -> None:
        claims = self._state()["claims"]
        for monitor_id in [m for m, n in claims.items() if n == number]:
            del claims[monitor_id]

    def claims(self) -> dict[str, int]:
        return dict(self._state()["claims"])

    # ------------------------------------------------------------------ sync

    def sync(self, source: IssueSource, *, now: datetime, full_every: float, overlap: float) -> None:
        """Bring the mirror up to date: changed issues since the last sync, then their new comments."""
        data = self._state()
        full_at = parse_time(data.get("full_synced"))
        full = full_at is None or (now - full_at).total_seconds() >= full_every
        seen: set[str] = set()
        # Upptime's incidents (label "status"): listed on a full sync, and on every sync once there are some
        upptime = full or any(UPPTIME_LABEL in i["labels"] for i in self.issues())
        for label in LISTED + ((UPPTIME_LABEL,) if upptime else ()):
            # ``since`` is the newest change already known, in the remote's own clock (no skew with
            # this runner); the small overlap catches a change committed during the last list.
            times = [parse_time(i["updated_at"]) for i in self.issues() if label in i["labels"]]
            newest = max((t for t in times if t is not None), default=None)
            since = to_iso(newest - timedelta(seconds=overlap)) if not full and newest is not None else None
            for raw in source.list_issues(label, since):
                if raw.get("pull_request") is not None:
                    continue
                seen.add(str(raw["number"]))
                self.merge_issue(raw)
        for number in [n for n in data["claims"].values() if str(n) not in seen]:
            # ours without labels: not listed by label, so asked for by number (a 304 when unchanged)
            raw = source.get_issue(number)
            seen.add(str(number))
            entry = self.merge_issue(raw)
            if entry["state"] == "closed" or L.INCIDENT in entry["labels"]:
                self.unclaim(number)
        if full:
            # Issues that lost their labels (or were deleted) drop out of the mirror.
            for number in [n for n in data["issues"] if n not in seen]:
                del data["issues"][number]
        for entry in self.issues():
            if self.is_incident(entry) and entry["comments_count"] != len(entry["comment_list"]):
                self.refresh_comments(source, entry["number"], incremental=True)
        data["synced"] = to_iso(now)
        if full:
            data["full_synced"] = to_iso(now)
        self.save()

    def refresh_comments(self, source: IssueSource, number: int, *, incremental: bool) -> list[dict[str, Any]]:
        """Refresh an issue's comments (only newer ones when ``incremental``); returns what the source sent."""
        entry = self.get(number)
        since = None
        if incremental and entry is not None and entry["comment_list"]:
            since = max(c["updated_at"] for c in entry["comment_list"])
        fetched = source.list_comments(number, since)
        if entry is not None:
            if since is not None:
                self.merge_comments(entry, fetched)
                if len(entry["comment_list"]) != entry["comments_count"]:
                    # Comments were deleted: start over from the whole list.
                    fetched = source.list_comments(number, None)
                    entry["comment_list"] = []
                    self.merge_comments(entry, fetched)
            else:
                entry["comment_list"] = []
                self.merge_comments(entry, fetched)
            entry["comments_count"] = len(entry["comment_list"])
        return fetched

    # ------------------------------------------------------------------ what the other parts remember

    def known_labels(self) -> list[str]:
        return list(self._state()["labels"])

    def labels_listed(self) -> bool:
        """Whether the repository's whole label list was read once (then only new labels are created)."""
        return bool(self._state()["labels_listed"])

    def remember_labels(self, names: Iterable[str], *, listed: bool = False) -> None:
        data = self._state()
        data["labels"].extend(names)
        data["labels_listed"] = data["labels_listed"] or listed

    def writers(self) -> list[str]:
        return list(self._state()["writers"])

    def add_writer(self, login: str) -> None:
        writers = self._state()["writers"]
        if login not in writers:
            writers.append(login)

    def identity(self) -> dict[str, Any]:
        return self._state().get("identity") or {}

    def set_identity(self, token_id: str, login: str | None) -> None:
        self._state()["identity"] = {"token": token_id, "login": login}

    def permission(self, login: str, ttl: float, now: datetime) -> str | None:
        """``login``'s role on the repository when looked up less than ``ttl`` seconds ago."""
        known = self._state()["permissions"].get(login)
        checked = parse_time(known.get("checked")) if isinstance(known, dict) else None
        if checked is None or (now - checked).total_seconds() >= ttl:
            return None
        return str(known["role"])  # type: ignore[index]

    def set_permission(self, login: str, role: str, now: datetime) -> None:
        self._state()["permissions"][login] = {"role": role, "checked": to_iso(now)}

    # ------------------------------------------------------------------ ETags (client.Conditional)

    def etag_of(self, key: str) -> tuple[str, Any] | None:
        kept = self._state()["etags"].get(key)
        return (kept[0], json_copy(kept[1])) if isinstance(kept, list) and len(kept) == 2 else None

    def remember_etag(self, key: str, etag: str, body: Any) -> None:
        etags = self._state()["etags"]
        etags.pop(key, None)
        etags[key] = [etag, json_copy(body)]
        while len(etags) > ETAGS_KEPT:  # oldest first: a new ``since`` makes old keys useless
            del etags[next(iter(etags))]
