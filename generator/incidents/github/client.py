"""HTTP to GitHub's REST API over PyGithub's ``Requester``.

:class:`GitHubClient` knows HTTP and nothing of incidents: every request is
counted; faults (5xx, timeouts, resets) are retried with backoff within a time
budget; writes are paced by PyGithub; list calls follow ``Link: rel="next"``;
redirects are followed as GitHub documents them (see ``transport``). When GitHub
stays unavailable a :class:`RequestError` names the request and the response, and
later requests of the run fail fast. Requests are plain JSON so that no lazy
PyGithub object ever completes itself with a hidden extra request.

Rate limits, as GitHub documents them (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
a primary limit answers 403/429 with ``x-ratelimit-remaining: 0`` and waits until
``x-ratelimit-reset``; ``Retry-After`` is always honoured; a *secondary* limit without
``Retry-After`` means "wait at least one minute", and retrying sooner may get the
integration banned, so the client waits ``RetryPolicy.secondary_wait`` (60 s, doubling)
when the run's budget allows, else gives up GitHub for the rest of the run.

Conditional requests: for the GETs whose description in GitHub's OpenAPI declares a
``304`` (one issue, ``/user``) the ``ETag`` of the answer is kept (``Conditional``, in the
issue mirror's cache) and sent back as ``If-None-Match``; a 304 costs nothing against
the primary rate limit and the kept answer is used. That is what a claimed issue (one
whose labels GitHub dropped) costs on each sync. List calls are not made conditional:
the description declares no 304 for them (a Prism check of our traffic would flag it).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from github import Auth, Github, GithubException

from generator import secrets
from generator.incidents.base import TrackerError
from generator.incidents.github.transport import (
    FOLLOWED,
    ForeignUrl,
    Redirected,
    connection,
    next_link,
    relative,
    same_api,
)

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
    # a secondary rate limit without Retry-After: GitHub asks for at least a minute (tests make it tiny)
    secondary_wait: float = 60.0


class RequestError(TrackerError):
    """A request GitHub refused or never answered; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None, codes: tuple[str, ...] = ()):
        super().__init__(message)
        self.status = status
        self.codes = codes  # the ``errors[].code`` of a 422 (``already_exists``, ``invalid``...)


class Conditional(Protocol):
    """Where the ETags of earlier answers are kept between runs (the issue mirror)."""

    def etag_of(self, key: str) -> tuple[str, Any] | None: ...

    def remember_etag(self, key: str, etag: str, body: Any) -> None: ...


class NoConditional:
    def etag_of(self, key: str) -> tuple[str, Any] | None:
        return None

    def remember_etag(self, key: str, etag: str, body: Any) -> None:
        pass


MAX_REDIRECTS = 3
# GETs whose description declares a 304 (get an issue, the authenticated user)
CONDITIONAL = re.compile(r"(/issues/\d+|^/user)$")
KEPT_ITEMS = 100  # answers with more items than this are not kept for a 304


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
        seconds = max(1, math.ceil(timeout))  # PyGithub wants whole seconds
        # PyGithub's own retries are off: this class retries with a budget it can report on.
        self._requester = Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            timeout=seconds,
            retry=None,
            per_page=100,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
            user_agent="statusgen",
        ).requester
        self._connection = connection(self.base_url, seconds)
        self.conditional: Conditional = NoConditional()
        self.requests = 0  # every attempt counts: the run reports what it cost
        self.not_modified = 0  # 304 answers: free of the primary rate limit
        self.moved: dict[str, str] = {}  # path prefixes GitHub moved for good (301) in this run
        self._unavailable: str | None = None  # set once GitHub stays unavailable: later calls fail fast
        self._secondary = 0  # secondary rate limits met in this run (each wait doubles)

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
            if url is not None:
                try:
                    same_api(self.base_url, url)
                except ForeignUrl:
                    raise RequestError(secrets.mask(f"GitHub request GET {self.base_url}{path}: the next page "
                                                    f"is on another host ({url}); statusgen follows links on "
                                                    f"{self.base_url} only (is base_url right?)"), None) from None
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
        url = self._moved(relative(self.base_url, url))
        what = f"{method} {self.base_url}{url}"
        if params:
            what += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        if self._unavailable is not None:
            # GitHub already stayed down (or rate-limited us) in this run: fail fast, the next run catches up.
            raise RequestError(f"GitHub request {what} skipped: GitHub was unavailable earlier in this run "
                               f"({self._unavailable})", None)
        slept = 0.0
        attempt = 0
        hops = 0
        while True:
            attempt += 1
            self.requests += 1
            status: int | None = None
            try:
                return self._exchange(method, url, params, body, what)
            except Redirected as moved:
                hops += 1
                url, params = self._follow(moved, method, url, what, hops), None
                attempt -= 1  # a redirect is no failed attempt
                continue
            except GithubException as error:
                status = error.status
                response_headers = {k.lower(): v for k, v in (error.headers or {}).items()}
                data = error.data if isinstance(error.data, dict) else {}
                message = data.get("message") if data else error.data
                detail = f"{status} {str(message or '')[:200]}".strip()
                codes = tuple(str(e.get("code")) for e in data.get("errors") or [] if isinstance(e, dict))
                if codes:
                    detail += f" ({', '.join(codes)})"
                wait = self._retry_wait(status, response_headers, str(message or ""), attempt)
                ambiguous = method != "GET" and status >= 500
            except (requests.RequestException, OSError) as error:
                detail, codes = f"no response ({type(error).__name__}: {str(error)[:200]})", ()
                wait = self._backoff(attempt)
                ambiguous = method != "GET"
            except AssertionError as error:  # PyGithub refuses a URL (another host or prefix)
                raise RequestError(secrets.mask(f"GitHub request {what} refused by PyGithub: {error}"), None) from None
            if wait is None or attempt >= self.retry.max_attempts or slept + wait > self.retry.budget:
                raise self._give_up(method, url, what, detail, status, wait, attempt, slept, codes)
            log.info("GitHub %s: %s; retrying in %.1fs", what, detail, wait)
            self._sleep(wait)
            slept += wait
            if ambiguous and reconcile is not None:
                found = reconcile()
                if found is not None:
                    return {}, found

    def _exchange(self, method: str, url: str, params: dict[str, Any] | None, body: Any,
                  what: str) -> tuple[dict[str, Any], Any]:
        """One HTTP exchange: conditional when a GET's answer was kept, raising GithubException on >= 400."""
        key = what.split(" ", 1)[1]
        conditional = method == "GET" and CONDITIONAL.search(url.split("?")[0]) is not None
        kept = self.conditional.etag_of(key) if conditional else None
        headers = {"If-None-Match": kept[0]} if kept else {}
        status, response_headers, output = self._requester.requestJson(
            method, url, params, headers, body, self._connection)
        if status == 304 and kept is not None:
            self.not_modified += 1
            return response_headers, kept[1]
        try:
            data = json.loads(output) if output else None
        except ValueError:
            data = {"message": str(output)[:200]}
        if status >= 400 or status == 304:
            raise self._requester.createException(status, response_headers, data if isinstance(data, dict) else {})
        etag = response_headers.get("etag")
        if etag and conditional and _small(data):
            self.conditional.remember_etag(key, etag, data)
        return response_headers, data

    def _follow(self, moved: Redirected, method: str, url: str, what: str, hops: int) -> str:
        """Where to send the request again after a 3xx, or a RequestError naming both ends."""
        answer = f"{moved.status} to {moved.location or '(no Location)'}"
        if moved.status not in FOLLOWED or not moved.location:
            raise RequestError(secrets.mask(f"GitHub request {what} answered {answer}: not a redirect statusgen "
                                            "can follow"), moved.status)
        if hops > MAX_REDIRECTS:
            raise RequestError(secrets.mask(f"GitHub request {what}: more than {MAX_REDIRECTS} redirects "
                                            f"(last {answer})"), moved.status)
        try:
            target = relative(self.base_url, same_api(self.base_url, moved.location))
        except ForeignUrl:
            raise RequestError(secrets.mask(f"GitHub request {what} answered {answer}, another host: not followed "
                                            "(the token would go with it); is the repository or base_url "
                                            "right?"), moved.status) from None
        if moved.status in (301, 308):  # moved for good: later requests of the run go there at once
            old, new = url.split("?")[0], target.split("?")[0]
            suffix = _common_suffix(old, new)
            if old[: len(old) - len(suffix)] and new[: len(new) - len(suffix)]:
                self.moved[old[: len(old) - len(suffix)]] = new[: len(new) - len(suffix)]
            log.warning("GitHub request %s was moved for good (%s): the repository was renamed or transferred? "
                        "Update its name in the configuration", secrets.mask(what), answer)
        return target

    def _moved(self, url: str) -> str:
        for old, new in self.moved.items():
            if url == old or url.startswith((old + "/", old + "?")):
                return new + url[len(old):]
        return url

    def _give_up(self, method: str, url: str, what: str, detail: str, status: int | None, wait: float | None,
                 attempt: int, slept: float, codes: tuple[str, ...] = ()) -> RequestError:
        why = "" if wait is None else f" (gave up after {attempt} attempt(s), {slept:.1f}s of waiting)"
        if wait is not None and slept + wait > self.retry.budget and attempt < self.retry.max_attempts:
            why = f" (the next try would be in {wait:.0f}s, beyond the retry budget of {self.retry.budget:.0f}s)"
        if wait is not None and self._secondary and status in (403, 429):
            why += ("; GitHub's secondary rate limit asks to wait at least a minute and may ban an integration "
                    "that retries sooner: no more requests to GitHub in this run, the next run catches up")
        if wait is not None:  # retryable, yet it kept failing: unavailable for this run
            self._unavailable = secrets.mask(f"{method} {url.split('?')[0]}: {detail}")
        return RequestError(secrets.mask(f"GitHub request {what} failed: {detail}{why}"), status, codes)

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.max_backoff, self.retry.backoff * (2 ** (attempt - 1)))

    def _retry_wait(self, status: int, headers: dict[str, Any], message: str, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if status in (403, 429):
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
            if status == 429 or "rate limit" in message.lower():
                # secondary: "wait at least one minute", longer each time it comes back
                self._secondary += 1
                return self.retry.secondary_wait * (2 ** (self._secondary - 1))
            return None  # a plain 403: no permission, retrying cannot help
        if status in (500, 502, 503, 504):
            return self._backoff(attempt)
        return None


def _small(data: Any) -> bool:
    return isinstance(data, dict) or (isinstance(data, list) and len(data) <= KEPT_ITEMS)


def _common_suffix(a: str, b: str) -> str:
    """The longest run of whole path segments both end with."""
    left, right = a.split("/"), b.split("/")
    same: list[str] = []
    while left and right and left[-1] == right[-1]:
        same.insert(0, left.pop())
        right.pop()
    return "/" + "/".join(same) if same else ""
