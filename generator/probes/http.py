"""HTTP(S) probe: one request, checked against ``HttpExpect``; blocking through ``requests``, or async.

Blocking (:func:`probe`, for ``statusgen check``, restart hooks' neighbours and
anything outside a run): a fresh ``requests.Session`` per check, nothing shared
between threads. Async (:func:`probe_async`, what the runner uses): the run's
:class:`~generator.probes.http_client.AsyncHttpClient` (aiohttp; environment read
once, TLS contexts prepared once), one event loop for every check; it costs about
a third of the CPU per check. Both open a new connection per check, so each
measures a real connect; the timeout is a total deadline (see ``base.Deadline``)
that a trickling server cannot stretch; the body is read up to ``BODY_LIMIT``
bytes; the same expectations and error texts apply.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import socket
import threading
from typing import Any, Optional

import aiohttp
import regex
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from generator.models import Check, CheckStatus, Monitor
from generator.probes.base import RUN_CLIENTS, Deadline, describe_error, make_check, now
from generator.probes.http_client import AsyncHttpClient
from generator.probes.http_spec import KEYS, HttpExpect, HttpSpec, JsonAssertion
from generator.probes.probetype import ProbeType
from generator.secrets import clip, safe_url

BODY_LIMIT = 1 << 20  # 1 MiB: enough for any health page, bounded for a misbehaving one
MAX_REDIRECTS = 10
_MISSING = object()

# The deadline of the check running on this thread; connections made here register with it.
_current = threading.local()


def _watch_new_socket(sock: socket.socket) -> socket.socket:
    deadline: Optional[Deadline] = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)
    return sock


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _watch_new_socket(super()._new_conn())


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _watch_new_socket(super()._new_conn())


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _validate_conn(self, conn) -> None:
        # Same as urllib3's, minus InsecureRequestWarning: this pool only ever belongs to one
        # check, and an unverified request here is the monitor's explicit `verify_tls: false`.
        HTTPConnectionPool._validate_conn(self, conn)
        if conn.is_closed:
            conn.connect()


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


_PROXY_KEYS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc"}


def _proxies_configured() -> bool:
    """True when proxy (or netrc) variables are set. Without them we skip requests' per-request
    reading of the environment (trust_env), the largest CPU cost of a loopback check."""
    return any(key.lower() in _PROXY_KEYS for key in os.environ)


def _env_ca_bundle() -> Optional[str]:
    # what trust_env would have applied to verify=True, kept when trust_env is off
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = _proxies_configured()
    session.max_redirects = MAX_REDIRECTS
    adapter = _WatchedAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _read_body(response: requests.Response, deadline: Deadline) -> tuple[bytes, bool]:
    """Up to BODY_LIMIT bytes; (body, truncated). The deadline's watchdog ends a trickle."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        if deadline.expired:
            raise TimeoutError("body read past deadline")
        chunks.append(chunk)
        size += len(chunk)
        if size >= BODY_LIMIT:
            return b"".join(chunks)[:BODY_LIMIT], True
    if deadline.expired:
        raise TimeoutError("body read past deadline")
    return b"".join(chunks), False


def probe(monitor: Monitor, timeout: float) -> Check:
    spec = monitor.spec
    if not isinstance(spec, HttpSpec):
        raise TypeError(f"monitor {monitor.id}: http probe needs an HttpSpec")
    started = now()
    deadline = Deadline(timeout)
    session = _session()
    response: Optional[requests.Response] = None
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        verify: Any = spec.verify_tls
        if spec.verify_tls and spec.ca_bundle:
            verify = spec.ca_bundle
        elif spec.verify_tls and not session.trust_env:
            verify = _env_ca_bundle() or True
        try:
            response = session.request(
                spec.method.upper(),
                spec.url,
                headers=dict(spec.headers),
                data=spec.body.encode("utf-8") if spec.body is not None else None,
                allow_redirects=spec.follow_redirects,
                verify=verify,
                timeout=(max(deadline.remaining(), 0.001), max(deadline.remaining(), 0.001)),
                stream=True,
            )
            body, truncated = _read_body(response, deadline)
        except Exception as exc:  # every network failure becomes a short reason
            error = deadline.timed_out() if deadline.expired else describe_error(exc, timeout)
            code = response.status_code if response is not None else None
            return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), code=code, error=error)
        latency_ms = deadline.elapsed_ms()
    finally:
        _current.deadline = previous
        if response is not None:
            response.close()
        session.close()
        deadline.close()
    final_url = response.url if response.history else None  # only a redirect has a final URL worth keeping
    return verdict(monitor, started, latency_ms, response.status_code, body, response.encoding, truncated, final_url,
                   deadline)


def verdict(
    monitor: Monitor,
    started: Any,
    latency_ms: float,
    code: int,
    body: bytes,
    encoding: Optional[str],
    truncated: bool,
    final_url: Optional[str],
    deadline: Deadline,
) -> Check:
    """The check for an answer that arrived: its expectations (``body_regex`` within what is left of
    the deadline), then ``degraded_after``."""
    spec = monitor.spec
    assert isinstance(spec, HttpSpec)
    details: dict[str, Any] = {}
    if final_url is not None:
        details["final_url"] = safe_url(final_url)  # no user info, no query values
    if truncated:
        details["body_truncated"] = True
    try:
        failure = evaluate(spec.expect, code, body, encoding, truncated, seconds=deadline.remaining())
    except TimeoutError:
        failure = f"{deadline.timed_out()} (matching body_regex)"
    if failure:
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=latency_ms, code=code, error=failure, details=details)
    limit = spec.expect.degraded_after
    if limit is not None and latency_ms > limit * 1000.0:
        return make_check(
            monitor,
            started,
            CheckStatus.DEGRADED,
            latency_ms=latency_ms,
            code=code,
            error=f"slow: {latency_ms:.0f} ms > {limit * 1000.0:.0f} ms",
            details=details,
        )
    return make_check(monitor, started, CheckStatus.UP, latency_ms=latency_ms, code=code, details=details)


# --------------------------------------------------------------------------- async


async def probe_async(monitor: Monitor, timeout: float) -> Check:
    """:func:`probe` on an event loop, with the run's client (or one of its own outside a run)."""
    if not isinstance(monitor.spec, HttpSpec):
        raise TypeError(f"monitor {monitor.id}: http probe needs an HttpSpec")
    clients = RUN_CLIENTS.get()
    if clients is not None:
        return await _probe_async(clients.get("http", AsyncHttpClient), monitor, monitor.spec, timeout)
    client = AsyncHttpClient()
    try:
        return await _probe_async(client, monitor, monitor.spec, timeout)
    finally:
        await client.aclose()


async def _probe_async(client: AsyncHttpClient, monitor: Monitor, spec: HttpSpec, timeout: float) -> Check:
    if client.environment.blocking_only(spec.url):  # a netrc file or a SOCKS proxy: requests knows those
        return await asyncio.to_thread(probe, monitor, timeout)
    started = now()
    deadline = Deadline(timeout)  # the total budget is aiohttp's own timer here: no socket to watch
    code: Optional[int] = None
    try:
        # ceil_threshold: aiohttp would round deadlines over 5 s up to a whole second
        total = aiohttp.ClientTimeout(total=max(deadline.remaining(), 0.001), ceil_threshold=math.inf)
        async with client.session() as session, session.request(
            spec.method.upper(),
            spec.url,
            headers=dict(spec.headers),
            data=spec.body.encode("utf-8") if spec.body is not None else None,
            allow_redirects=spec.follow_redirects,
            max_redirects=MAX_REDIRECTS,
            ssl=client.ssl_for(spec),
            proxy=client.environment.proxy_for(spec.url),
            timeout=total,
        ) as response:
            code = response.status
            body, truncated = await _read_body_async(response.content)
            latency_ms = deadline.elapsed_ms()
            final = str(response.url) if response.history else None  # a redirect was followed
            encoding = requests.utils.get_encoding_from_headers(response.headers)  # the charset requests would use
    except Exception as exc:  # every network failure becomes a short reason, in requests' words
        if isinstance(exc, aiohttp.TooManyRedirects):
            error = f"TooManyRedirects: Exceeded {MAX_REDIRECTS} redirects."
        else:
            error = deadline.timed_out() if deadline.expired else describe_error(exc, timeout)
        return make_check(monitor, started, CheckStatus.DOWN, latency_ms=deadline.elapsed_ms(), code=code, error=error)
    if spec.expect.body_regex:  # matching may take its whole budget: off the loop that runs every check
        return await asyncio.to_thread(verdict, monitor, started, latency_ms, code, body, encoding, truncated, final,
                                       deadline)
    return verdict(monitor, started, latency_ms, code, body, encoding, truncated, final, deadline)


async def _read_body_async(stream: aiohttp.StreamReader) -> tuple[bytes, bool]:
    """Up to BODY_LIMIT bytes; (body, truncated), as :func:`_read_body` (the timeout bounds a trickle)."""
    chunks: list[bytes] = []
    size = 0
    while size < BODY_LIMIT:
        chunk = await stream.readany()
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:BODY_LIMIT], True


# --------------------------------------------------------------------------- expectations


def ranges_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def _quote(text: str, limit: int = 60) -> str:
    # masked before cut: a cut secret would no longer be recognised
    return "'" + clip(text, limit) + "'"


def evaluate(expect: HttpExpect, status: int, body: bytes, encoding: Optional[str], truncated: bool = False,
             *, seconds: Optional[float] = None) -> str:
    """The first unmet expectation as a short sentence, or "" when all hold.

    ``seconds`` bounds ``body_regex`` matching (TimeoutError past it): the body is the probed
    service's choice, and a backtracking pattern such as ``^(a+)+$`` could otherwise run for ever.
    """
    if expect.status and not any(low <= status <= high for low, high in expect.status):
        return f"status {status} not in {ranges_text(expect.status)}"
    if not (expect.body_contains or expect.body_not_contains or expect.body_regex or expect.json):
        return ""
    try:
        text = body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name from the server
        text = body.decode("utf-8", errors="replace")
    for needle in expect.body_contains:
        if needle not in text:
            return f"body does not contain {_quote(needle)}"
    for needle in expect.body_not_contains:
        if needle in text:
            return f"body contains {_quote(needle)}"
    if expect.body_regex:
        failure = _regex_failure(expect.body_regex, text, seconds)
        if failure:
            return failure
    if expect.json:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            suffix = " (truncated at 1 MiB)" if truncated else ""
            return f"body is not valid JSON{suffix}"
        for assertion in expect.json:
            failure = check_json(assertion, document)
            if failure:
                return failure
    return ""


def _regex_failure(pattern_text: str, text: str, seconds: Optional[float]) -> str:
    """The ``regex`` module (same syntax as ``re``) with a timeout, the GIL released while it runs."""
    try:
        pattern = regex.compile(pattern_text)
    except (regex.error, RecursionError, OverflowError, ValueError) as exc:
        return f"invalid body_regex {_quote(pattern_text)}: {exc}"
    if not pattern.search(text, concurrent=True, timeout=None if seconds is None else max(seconds, 0.001)):
        return f"body does not match /{pattern_text}/"
    return ""


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\.")


def parse_path(path: str) -> list[Any]:
    """``data.items[0].ok`` -> ``["data", "items", 0, "ok"]``; raises ValueError if malformed."""
    parts: list[Any] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match or match.end() == position:
            raise ValueError(f"bad json path {path!r} at {position}")
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        position = match.end()
    if not parts:
        raise ValueError("empty json path")
    return parts


def lookup(document: Any, path: str) -> Any:
    """The value at ``path`` or the ``_MISSING`` sentinel."""
    current = document
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return _MISSING
            current = current[part]
        else:
            if not isinstance(current, dict) or part not in current:
                return _MISSING
            current = current[part]
    return current


def _same(actual: Any, expected: Any) -> bool:
    # YAML `true` must not equal JSON `1`, nor `1` equal `true`
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    return bool(actual == expected)


def _show(value: Any, limit: int = 60) -> str:
    # masked before cut, as in _quote
    return clip(json.dumps(value, ensure_ascii=False, sort_keys=True), limit)


def check_json(assertion: JsonAssertion, document: Any) -> str:
    try:
        value = lookup(document, assertion.path)
    except ValueError as exc:
        return f"json path {assertion.path}: {exc}"
    if assertion.exists is False:
        return "" if value is _MISSING else f"json path {assertion.path}: present, expected absent"
    if value is _MISSING:
        return f"json path {assertion.path}: missing"
    if assertion.has_equals and not _same(value, assertion.equals):
        return f"json path {assertion.path}: got {_show(value)}, expected {_show(assertion.equals)}"
    return ""


TYPE = ProbeType(
    name="http", doc="an HTTP(S) request answers as expected", spec=HttpSpec, keys=KEYS, probe=probe, async_probe=probe_async
)
