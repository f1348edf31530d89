"""Pure checks on single values; each returns an error message (``None`` when the value is fine)."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import ssl
from typing import Iterable, Optional, Union
from urllib.parse import urlsplit

import regex as regex_engine

from generator.secrets import mask

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_STATUS_RANGE = re.compile(r"^\s*(\d{3})\s*-\s*(\d{3})\s*$", re.ASCII)
_STATUS_CLASS = re.compile(r"^\s*([1-5])[xX][xX]\s*$")
_APPRISE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$")
# a JSON path: ``status``, ``data.items[0].ok``, ``[2].name``
JSON_PATH = re.compile(r"^(?:[^.\[\]\s]+|\[\d+\])(?:\[\d+\])*(?:\.[^.\[\]\s]+(?:\[\d+\])*)*$")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PAGE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean "timeout"?)`` when a choice is close, else ``""``."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def quote(value: object) -> str:
    text = mask(value)  # before the cut: a cut secret is no longer recognised
    if len(text) > 80:
        text = text[:77] + "..."
    return f'"{text}"'


def page_slug(value: str) -> str:
    """The folder the site gives an id (``monitors/<slug>/``, ``badges/<slug>/``).

    The rule of :func:`generator.site.links.slug`, repeated here so ``check`` does not load the
    site builder; tests/config pins the two together.
    """
    return _PAGE_UNSAFE.sub("-", value).strip("-.") or "x"


def http_url(value: str) -> Optional[str]:
    if not value.strip():
        return "URL is empty"
    if any(ch.isspace() for ch in value):
        return f"{quote(value)} is not a valid URL (it contains whitespace)"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as error:
        return f"{quote(value)} is not a valid URL ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        if not parts.scheme:
            return f"{quote(value)} is not a URL: it needs http:// or https://"
        return f"{quote(value)} is not an http(s) URL (scheme must be http or https, not {parts.scheme})"
    if not parts.hostname:
        return f"{quote(value)} has no host"
    if port == 0:
        return f"{quote(value)} has port 0"
    return hostname(parts.hostname, what="URL host")


def apprise_url(value: str) -> Optional[str]:
    if not _APPRISE.match(value):
        return f"{quote(value)} is not a notification URL (e.g. json://host/path, mailto://..., tgram://...)"
    return None


def hostname(value: str, *, what: str = "host") -> Optional[str]:
    """A DNS name or an IP address (IPv6 with or without brackets)."""
    text = value.strip("[]") if value.startswith("[") else value
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"{quote(value)} is not a valid {what} name or IP address"
    if len(labels) > 1 and labels[-1].isdigit():  # 999.1.1.1: meant as an address, and not one
        return f"{quote(value)} is not a valid IP address"
    return None


def host_port(value: str, *, default_port: Optional[int] = None) -> Union[str, tuple[str, int]]:
    """``host:port`` (``[v6]:port``) -> ``(host, port)``; a message when it is not."""
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return f"{quote(value)} is not host:port"
        host, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            return f"{quote(value)} is not host:port"
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a name, or a bare IPv6 address
    if port_text == "":
        if default_port is None:
            return f"{quote(value)} needs a port (host:port)"
        port = default_port
    else:
        if not (port_text.isascii() and port_text.isdigit()):
            return f"{quote(value)}: port {quote(port_text)} is not a number"
        port = int(port_text)
    problem = hostname(host) or port_range(port)
    return problem if problem else (host, port)


def host_port_problem(value: str, *, default_port: Optional[int] = None) -> Optional[str]:
    """What is wrong with ``value`` as host:port, or ``None``."""
    result = host_port(value, default_port=default_port)
    return result if isinstance(result, str) else None


def port_range(port: int) -> Optional[str]:
    if not 1 <= port <= 65535:
        return f"port {port} is out of range (1-65535)"
    return None


def status_range(value: object) -> Union[str, tuple[int, int]]:
    """``200`` / ``"200"`` / ``"200-299"`` / ``"2xx"`` -> inclusive ``(low, high)``; a message when not."""
    bad = f'{quote(value)} is not a status code or range (e.g. 200, 200-299, 2xx)'
    if isinstance(value, bool):
        return bad
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) == 3:
            low = high = int(text)
        elif found := _STATUS_RANGE.match(text):
            low, high = int(found.group(1)), int(found.group(2))
        elif found := _STATUS_CLASS.match(text):
            digit = int(found.group(1))
            low, high = digit * 100, digit * 100 + 99
        else:
            return bad
    else:
        return bad
    for code in (low, high):
        if not 100 <= code <= 599:
            return f"{quote(value)}: status {code} is outside 100-599"
    if low > high:
        return f"{quote(value)}: the range is backwards ({low} > {high})"
    return low, high


def regex(value: str) -> Optional[str]:
    """Python's ``re`` syntax, which the probe's engine (``regex``, with a timeout) must also compile."""
    try:
        re.compile(value)
        regex_engine.compile(value)
    except (re.error, regex_engine.error) as error:
        position, message = getattr(error, "pos", None), getattr(error, "msg", str(error))
        where = f" at position {position}" if position is not None else ""
        return f"{quote(value)} is not a valid regular expression: {message}{where}"
    except (RecursionError, OverflowError, ValueError) as error:  # absurd nesting or repeat counts
        return f"{quote(value)} is not a valid regular expression: {error}"
    return None


def ca_bundle(path: str) -> Optional[str]:
    """Why ``path`` cannot verify a certificate (missing, unreadable, no PEM certificate), or None."""
    if not os.path.exists(path):
        return "no such file"
    if not os.path.isfile(path):
        return "not a file"
    try:
        context = ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as error:
        return f"not a CA bundle of PEM certificates ({getattr(error, 'strerror', None) or error})"
    if not context.cert_store_stats().get("x509"):
        return "holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
    return None


def json_path(value: str) -> Optional[str]:
    if not JSON_PATH.match(value):
        return f"{quote(value)} is not a JSON path (e.g. status, data.items[0].ok)"
    return None


def timezone(value: str) -> Optional[str]:
    if value == "UTC":
        return None
    try:
        from zoneinfo import ZoneInfo, available_timezones
        known = available_timezones()
        if not known:  # no time zone database on this machine: cannot tell, trust it
            return None
        ZoneInfo(value)
        return None
    except Exception:  # ZoneInfoNotFoundError, or ValueError for names like "../x"
        return f"{quote(value)} is not a time zone name (e.g. UTC, Europe/Berlin, Asia/Shanghai)" + \
            did_you_mean(value, _known_zones())


def _known_zones() -> set[str]:
    try:
        from zoneinfo import available_timezones
        return available_timezones()
    except Exception:  # pragma: no cover - no zoneinfo at all
        return set()
