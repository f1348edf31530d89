"""The HTTP connection under PyGithub's ``Requester``, and the rules for URLs GitHub hands back.

PyGithub answers a 3xx in two ways, both wrong for us: it follows a 301 itself to
the Location's *path*, dropping the query (a list of ``labels=incident&state=all``
becomes a list of every open issue), and it returns a 307 as if it were the answer
(``open()`` then read a redirect body as an issue: ``KeyError: 'number'``). Our
connection therefore raises :class:`Redirected` on any 3xx but 304, and the client
follows it as GitHub documents (https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
and .../best-practices-for-using-the-rest-api#follow-redirects): 301 (moved for good:
later requests go to the new place), 302/307 (repeat the request verbatim, keep the
original URL for later). A Location on another host is never followed: the token
would go with it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass

FOLLOWED = (301, 302, 307, 308)


class Redirected(Exception):
    """A 3xx answer (other than 304), carrying what the client needs to follow it or report it."""

    def __init__(self, status: int, location: str | None, body: str):
        super().__init__(f"{status} redirect to {location}")
        self.status = status
        self.location = location
        self.body = body


def _raise_on_redirect(response: Any) -> Any:
    status = int(response.status)
    if 300 <= status < 400 and status != 304:
        headers = {k.lower(): v for k, v in response.getheaders()}
        raise Redirected(status, headers.get("location"), str(response.read()[:300]))
    return response


class HttpConnection(HTTPRequestsConnectionClass):
    def getresponse(self) -> Any:
        return _raise_on_redirect(super().getresponse())


class HttpsConnection(HTTPSRequestsConnectionClass):
    def getresponse(self) -> Any:
        return _raise_on_redirect(super().getresponse())


def connection(base_url: str, timeout: int) -> HttpConnection | HttpsConnection:
    """One kept-alive connection to ``base_url``'s host (PyGithub's own retries off: the client retries)."""
    parts = urlsplit(base_url)
    kind = HttpsConnection if parts.scheme == "https" else HttpConnection
    return kind(parts.hostname or "", parts.port, timeout=timeout, retry=0)


class ForeignUrl(ValueError):
    """A URL from an answer (Location, Link) that leaves the API's scheme, host or port."""


def same_api(base_url: str, url: str) -> str:
    """``url`` when it is on the API of ``base_url`` (scheme, host, port and path prefix), else ForeignUrl."""
    base, given = urlsplit(base_url), urlsplit(url)
    prefix = base.path.rstrip("/")
    if url.startswith("/"):
        return url
    if (given.scheme, given.hostname, given.port) != (base.scheme, base.hostname, base.port) \
            or not given.path.startswith(prefix + "/"):
        raise ForeignUrl(f"{url} is not on {base_url}")
    return url


def relative(base_url: str, url: str) -> str:
    """``url`` as a path below ``base_url`` (with its query): the form PyGithub sends."""
    if url.startswith("/"):
        return url
    parts = urlsplit(url)
    path = parts.path[len(urlsplit(base_url).path.rstrip("/")):]
    return path + (f"?{parts.query}" if parts.query else "")


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
