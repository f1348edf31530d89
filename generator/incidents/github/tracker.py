"""Incidents as GitHub issues: the tracker that composes client, mirror, trust and text.

One issue per incident, opened with its labels in one request; every later event
is a comment; resolving adds ``resolved`` and closes the issue as completed.
Issues are found by label and by the hidden marker in their body, never by title.

Cost: the mirror (``github_issues`` in the cache) is refreshed with two list calls
per run, so a run where nothing changed costs 2 requests whatever the number of
monitors; every transition costs at most 2 more. A write whose answer was lost is
looked up before it is retried, so a lost answer never makes a second issue or a
second comment.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from generator import secrets
from generator.incidents import labels as L
from generator.incidents.base import JsonCache, Tracker, TrackerError
from generator.incidents.flaps import flap_text, is_flapping
from generator.incidents.github import text
from generator.incidents.github.client import GitHubClient, RequestError, RetryPolicy
from generator.incidents.github.flapfold import FlapComment
from generator.incidents.github.labeller import Labeller
from generator.incidents.github.mirror import Issue, IssueMirror, MemoryCache
from generator.incidents.github.repo import RepoApi
from generator.incidents.github.trust import Trust
from generator.incidents.text import resolution
from generator.models import (
    CheckStatus,
    Incident,
    Maintenance,
    Monitor,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from generator.timeutil import to_iso, utcnow

log = logging.getLogger("statusgen.github")

DEFAULT_RETRY = RetryPolicy()


def issue_number(key: str) -> int:
    try:
        return int(str(key).lstrip("#"))
    except ValueError:
        raise TrackerError(f"{key!r} is not a GitHub issue number") from None


class GitHubTracker(Tracker):
    name = "github"

    def __init__(
        self,
        repo: str,
        token: str,
        *,
        base_url: str = "https://api.github.com",
        cache: JsonCache | None = None,
        site_url: str | None = None,
        timeout: float = 15,
        retry: RetryPolicy = DEFAULT_RETRY,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
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
        self.site_url = site_url
        self.full_sync_every = full_sync_every
        self.sync_overlap = sync_overlap
        self._clock = clock
        self.client = GitHubClient(token, base_url=base_url, timeout=timeout, retry=retry, sleep=sleep,
                                   seconds_between_requests=seconds_between_requests,
                                   seconds_between_writes=seconds_between_writes)
        self.api = RepoApi(self.client, repo)
        self.mirror = IssueMirror(cache if cache is not None else MemoryCache(), repo)
        self.client.conditional = self.mirror  # ETags live in the cache: a 304 next run costs no quota
        self.trust = Trust(self.mirror, hashlib.sha256(token.encode()).hexdigest()[:16], self.api.login,
                           role=self.api.permission, clock=clock)
        self.labels = Labeller(self.api, self.mirror, self._problem)
        self.flaps = FlapComment(self.api, self.mirror, self.trust)
        self._synced = False
        self.problems: list[str] = []  # e.g. unreadable maintenance issues

    # ------------------------------------------------------------------ the interface

    def request_count(self) -> int:
        return self.client.requests

    def open(self, monitor: Monitor, transition: Transition) -> str:
        self._sync()
        if self.mirror.cold:  # a lost cache: our issues whose labels were dropped are found by author
            self.labels.adopt_mine(self.trust)
        existing = self._find_open(monitor.id)
        if existing is not None:
            return str(existing["number"])
        previous = self._issue(transition.incident_key) if transition.incident_key else None
        if (
            transition.kind is TransitionKind.REOPENED
            and previous is not None
            and self._automated(previous)
            and (text.marker_of(previous.get("body")) or {}).get("monitor") == monitor.id
        ):
            return self._reopen(previous, monitor, transition)
        started = transition.first_started
        names = L.incident_labels(monitor.id, transition.impact)
        body = text.issue_body(monitor, transition, started, text.monitor_url(self.site_url, monitor.id))
        payload = {"title": text.title(monitor, transition.impact), "body": body, "labels": self.labels.ensure(names)}
        issue = self.api.create_issue(payload, reconcile=lambda: self._lookup_open(monitor.id))
        issue = self.labels.check(issue, names, monitor.id)
        entry = self.mirror.merge_issue(issue)
        self.trust.learn_writer(issue)
        self.mirror.save()
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
        self.labels.ensure(names)
        change: dict[str, Any] = {}
        if set(names) != set(issue["labels"]):
            change["labels"] = names
        # The title follows the impact unless a person reworded it.
        new_title = text.title(monitor, transition.impact)
        if text.is_tool_title(issue["title"], monitor) and issue["title"] != new_title:
            change["title"] = new_title
        if change:
            self.mirror.merge_issue(self.labels.check(self.api.update_issue(issue["number"], change), names, None))
            self.mirror.save()
        verb = {TransitionKind.ESCALATED: "Escalated", TransitionKind.DEESCALATED: "De-escalated"}.get(
            transition.kind, "Changed")
        self._post_event(str(issue["number"]), transition.kind.value, transition.time,
                         text.impact_text(monitor, transition, verb))

    def resolve(self, key: str, monitor: Monitor, transition: Transition) -> None:
        self._sync()
        issue = self._issue(key, fetch=True)
        if issue is None:
            raise TrackerError(f"GitHub issue {self.repo}#{key} not found: cannot resolve it")
        if not self._automated(issue):
            return  # manual incidents are never closed by the tool
        if issue["state"] == "closed" and L.RESOLVED in issue["labels"]:
            return  # resolved already (a re-run): nothing to add
        marker = text.marker_of(issue.get("body")) or {}
        started = (text.parse_time(marker.get("started")) or transition.started
                   or text.parse_time(issue.get("created_at")) or transition.time)
        end, seconds = resolution(transition, started, down_before=text.marker_seconds(marker, "down_s") or 0.0,
                                  reopened=text.parse_time(marker.get("reopened")))
        if is_flapping(transition) and transition.check.status is not CheckStatus.NO_DATA:
            self.flaps.write(issue["number"], "resolved", end, flap_text(monitor.name, transition, end=end,
                                                                           seconds=seconds))
        else:
            self._post_event(str(issue["number"]), "resolved", end, text.resolve_text(monitor, transition, end, seconds))
        names = [*issue["labels"], *([L.RESOLVED] if L.RESOLVED not in issue["labels"] else [])]
        self.labels.ensure(names)
        body = text.with_marker(issue.get("body"), resolved=to_iso(end), down_s=round(seconds, 3), reopened=None)
        closed = self.api.update_issue(issue["number"], {"state": "closed", "state_reason": "completed",
                                                         "labels": names, "body": body})
        self.mirror.merge_issue(self.labels.check(closed, names, None))
        self.mirror.unclaim(issue["number"])
        self.mirror.save()

    def find_open(self, monitor_id: str) -> Incident | None:
        self._sync()
        issue = self._find_open(monitor_id)
        return self._incident(issue) if issue is not None else None

    def changed_since(self, since: datetime | None) -> list[Incident]:
        incidents = self.incidents()
        if since is None:
            return incidents
        return [i for i in incidents if (i.updated or i.started) >= since]

    def incidents(self) -> list[Incident]:
        self._sync()
        self.trust.ensure_for([i for i in self.mirror.issues() if self.mirror.is_incident(i)])
        return self.cached_incidents()

    def cached_incidents(self) -> list[Incident]:
        """The incidents of the last successful sync, without a request (GitHub is down)."""
        issues = [i for i in self.mirror.issues() if self.mirror.is_incident(i)]
        result = [self._incident(issue) for issue in issues]
        return sorted(result, key=lambda i: (i.started, int(i.key)), reverse=True)

    def maintenance(self) -> list[Maintenance]:
        self._sync()
        windows: list[Maintenance] = []
        for issue in self.mirror.issues():
            if L.MAINTENANCE not in issue["labels"] or issue.get("state_reason") == "not_planned":
                continue
            try:
                windows.append(text.read_maintenance(issue))
            except text.UnreadableIssue as error:
                self._problem(f"maintenance issue {self.repo}#{issue['number']} ({issue['html_url']}): {error}")
        return sorted(windows, key=lambda w: (w.start, w.key))

    def refresh(self) -> None:
        """Sync again now (a long run that wants to see changes made meanwhile)."""
        self._synced = False
        self._sync()

    # ------------------------------------------------------------------ writes

    def _reopen(self, issue: Issue, monitor: Monitor, transition: Transition) -> str:
        names = L.with_impact([n for n in issue["labels"] if n != L.RESOLVED], transition.impact)
        if L.INCIDENT not in names:  # a claimed issue whose labels GitHub dropped
            names = L.incident_labels(monitor.id, transition.impact)
        self.labels.ensure(names)
        marker = text.marker_of(issue.get("body")) or {}
        down = max(transition.down_before, text.marker_seconds(marker, "down_s") or 0.0)
        body = text.with_marker(issue.get("body"), resolved=None, down_s=round(down, 3),
                                reopened=to_iso(transition.started or transition.time))
        change: dict[str, Any] = {"state": "open", "labels": names, "body": body}
        if text.is_tool_title(issue["title"], monitor):  # not reworded by a person
            change["title"] = text.title(monitor, transition.impact)
        self.mirror.merge_issue(self.labels.check(self.api.update_issue(issue["number"], change), names, monitor.id))
        self.mirror.save()
        if is_flapping(transition):  # one comment, edited, however often it flaps
            self.flaps.write(issue["number"], "reopened", transition.time, flap_text(monitor.name, transition))
        else:
            self._post_event(str(issue["number"]), "reopened", transition.time, text.reopen_text(monitor, transition))
        return str(issue["number"])

    def _post_event(self, key: str, kind: str, moment: datetime, words: str) -> None:
        """One comment with a hidden event id; an event already on the issue is not posted twice."""
        number = issue_number(key)
        event = text.event_id(number, kind, moment, words)
        if text.has_event(self._issue(key), event):
            return

        def find() -> dict[str, Any] | None:
            for comment in self.mirror.refresh_comments(self.api, number, incremental=True):
                if (text.event_of(comment.get("body")) or {}).get("id") == event:
                    return comment
            return None

        comment = self.api.create_comment(number, text.event_comment(event, kind, moment, words), reconcile=find)
        self.trust.learn_writer(comment)
        self.mirror.add_comment(number, comment)
        self.mirror.save()

    # ------------------------------------------------------------------ reading

    def _sync(self) -> None:
        if not self._synced:
            self.mirror.sync(self.api, now=self._clock(), full_every=self.full_sync_every, overlap=self.sync_overlap)
            self._synced = True

    def _issue(self, key: str | None, *, fetch: bool = False) -> Issue | None:
        """A mirrored issue; with ``fetch``, one the mirror lacks is asked for (None when GitHub has none)."""
        if key is None:
            return None
        number = issue_number(key)
        entry = self.mirror.get(number)
        if entry is None and fetch:
            try:
                raw = self.api.get_issue(number)
            except RequestError as error:
                if error.status in (404, 410):
                    return None
                raise
            entry = self.mirror.merge_issue(raw)
            self.mirror.refresh_comments(self.api, number, incremental=False)
            self.mirror.save()
        return entry

    def _lookup_open(self, monitor_id: str) -> dict[str, Any] | None:
        """Ask GitHub (not the mirror) for the open automated issue of a monitor."""
        raws = {raw["number"]: raw for raw in self.api.open_issues(L.monitor_label(monitor_id))}
        for raw in raws.values():
            self.mirror.merge_issue(raw)
        self.mirror.save()
        found = self._find_open(monitor_id)
        return raws.get(found["number"]) if found is not None else None  # GitHub's shape, as a POST answers

    def _find_open(self, monitor_id: str) -> Issue | None:
        return self.mirror.find_open(monitor_id, self._automated)

    def _automated(self, issue: Issue) -> bool:
        return text.is_automated(issue, self.trust)

    def _incident(self, issue: Issue) -> Incident:
        return text.read_incident(issue, self.trust, self._clock)

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.warning("%s", message)
