"""HTTP to GitHub's REST API over PyGithub's ``Requester``, and the endpoints the tracker uses.

:class:`GitHubClient` knows HTTP and nothing of incidents: every request is
counted; faults (5xx, timeouts, resets, 403/429 rate limits) are retried with
backoff within a time budget, honouring ``Retry-After`` and ``X-RateLimit-Reset``;
writes are paced by PyGithub; list calls follow ``Link: rel="next"``. When GitHub
stays unavailable a :class:`RequestError` names the request and the response, and
later requests of the run fail fast. Requests are plain JSON so that no lazy
PyGithub object ever completes itself with a hidden extra request.

:class:`RepoApi` is one repository's endpoints as small calls (list issues,
create a comment...), the shape the issue mirror and the tracker are written against.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github, GithubException

from generator import secrets
from generator.incidents.base import TrackerError
from generator.incidents.labels import LabelSpec

log = logging.getLogger("statusgen.github")

# Looks a lost write up: what GitHub made of it, or None when it did not happen.
Reconcile = Callable[[], dict[str, Any] | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a run gives up on GitHub (seconds)."""

    budget: float = 60.0  # total time slept between attempts of one request
    backoff: float = 1.0  # first wait after a 5xx or a lost connection; doubles each time
    max_backoff: float = 20.0
    max_attempts: int = 5


class RequestError(TrackerError):
    """A request GitHub refused or never answered; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status


class GitHubClient:
    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        timeout: float,
        retry: RetryPolicy,
        seconds_between_requests: float | None,
        seconds_between_writes: float | None,
        sleep: Callable[[float], None],
    ):
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._sleep = sleep
        # PyGithub's own retries are off: this class retries with a budget it can report on.
        self._requester = Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            timeout=max(1, math.ceil(timeout)),  # PyGithub wants whole seconds
            retry=None,
            per_page=100,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
            user_agent="statusgen",
        ).requester
        self.requests = 0  # every attempt counts: the run reports what it cost
        self._unavailable: str | None = None  # set once GitHub stays unavailable: later calls fail fast

    def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        reconcile: Reconcile | None = None,
    ) -> Any:
        """The JSON answer of one request, retried within the budget.

        ``reconcile`` looks a write up before it is retried: the write may have happened
        although its answer was lost, and it must not happen twice.
        """
        return self._request(method, url, params=params, body=body, reconcile=reconcile)[1]

    def list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every page of a list call (each page is one counted request)."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = params
        pages = 0
        while url is not None and pages < 1000:  # bounded: 100,000 items at most
            headers, data = self._request("GET", url, params=query)
            pages += 1
            if not isinstance(data, list):
                raise TrackerError(f"GitHub request GET {self.base_url}{path} answered with {type(data).__name__}, "
                                   "not a list")
            items.extend(data)
            url, query = next_link(headers), None
        return items

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None,
        body: Any = None,
        reconcile: Reconcile | None = None,
    ) -> tuple[dict[str, Any], Any]:
        what = f"{method} {url if url.startswith('http') else self.base_url + url}"
        if params:
            what += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        if self._unavailable is not None:
            # GitHub already stayed down (or rate-limited us) in this run: fail fast, the next run catches up.
            raise RequestError(f"GitHub request {what} skipped: GitHub was unavailable earlier in this run "
                               f"({self._unavailable})", None)
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            status: int | None = None
            try:
                return self._requester.requestJsonAndCheck(method, url, parameters=params, input=body)
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
                raise self._give_up(method, url, what, detail, status, wait, attempt, slept)
            log.info("GitHub %s: %s; retrying in %.1fs", what, detail, wait)
            self._sleep(wait)
            slept += wait
            if ambiguous and reconcile is not None:
                found = reconcile()
                if found is not None:
                    return {}, found

    def _give_up(self, method: str, url: str, what: str, detail: str, status: int | None, wait: float | None,
                 attempt: int, slept: float) -> RequestError:
        why = "" if wait is None else f" (gave up after {attempt} attempt(s), {slept:.1f}s of waiting)"
        if wait is not None and slept + wait > self.retry.budget and attempt < self.retry.max_attempts:
            why = f" (the next try would be in {wait:.0f}s, beyond the retry budget of {self.retry.budget:.0f}s)"
        if wait is not None:  # retryable, yet it kept failing: unavailable for this run
            self._unavailable = secrets.mask(f"{method} {url.split('?')[0]}: {detail}")
        return RequestError(secrets.mask(f"GitHub request {what} failed: {detail}{why}"), status)

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.max_backoff, self.retry.backoff * (2 ** (attempt - 1)))

    def _retry_wait(self, status: int, headers: dict[str, Any], message: str, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        limited = status == 429 or (status == 403 and (
            "retry-after" in headers or str(headers.get("x-ratelimit-remaining")) == "0"
            or "rate limit" in message.lower()))
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


def next_link(headers: dict[str, Any]) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if any."""
    link = next((v for k, v in (headers or {}).items() if k.lower() == "link"), None)
    if not link:
        return None
    for part in str(link).split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="([^"]+)"', part)
        if match and match.group(2) == "next":
            return match.group(1)
    return None


class RepoApi:
    """The endpoints of one repository the tracker uses, each one call (lists: one per page)."""

    def __init__(self, client: GitHubClient, repo: str):
        self.client = client
        self.repo = repo
        self._path = f"/repos/{repo}"

    # The issue mirror's source (generator.incidents.github.mirror.IssueSource).

    def list_issues(self, label: str, since: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"state": "all", "labels": label, "sort": "updated", "direction": "asc",
                                  "per_page": 100}
        if since is not None:
            params["since"] = since
        return self.client.list(f"{self._path}/issues", params)

    def list_comments(self, number: int, since: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": 100}
        if since is not None:
            params["since"] = since
        return self.client.list(f"{self._path}/issues/{number}/comments", params)

    # The rest of what the tracker asks.

    def open_issues(self, label: str) -> list[dict[str, Any]]:
        return self.client.list(f"{self._path}/issues", {"state": "open", "labels": label, "per_page": 100})

    def get_issue(self, number: int) -> dict[str, Any]:
        return self.client.call("GET", f"{self._path}/issues/{number}")

    def create_issue(self, payload: dict[str, Any], reconcile: Reconcile) -> dict[str, Any]:
        return self.client.call("POST", f"{self._path}/issues", body=payload, reconcile=reconcile)

    def update_issue(self, number: int, change: dict[str, Any]) -> dict[str, Any]:
        return self.client.call("PATCH", f"{self._path}/issues/{number}", body=change)

    def create_comment(self, number: int, body: str, reconcile: Reconcile) -> dict[str, Any]:
        return self.client.call("POST", f"{self._path}/issues/{number}/comments", body={"body": body},
                                reconcile=reconcile)

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        return self.client.call("PATCH", f"{self._path}/issues/comments/{comment_id}", body={"body": body})

    def list_labels(self) -> list[dict[str, Any]]:
        return self.client.list(f"{self._path}/labels", {"per_page": 100})

    def create_label(self, spec: LabelSpec) -> None:
        self.client.call("POST", f"{self._path}/labels",
                         body={"name": spec.name, "color": spec.color, "description": spec.description})

    def login(self) -> str | None:
        """The token's login (``GET /user``); installation tokens may get 403 or 404 here."""
        user = self.client.call("GET", "/user")
        return user.get("login")
