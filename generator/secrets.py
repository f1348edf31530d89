"""``${NAME}`` references resolved from the environment, and masking of every resolved value.

Masking must hold for what services send back, not only for the value as written. The rule:

1. **Whole forms.** A registered value (3+ characters) is hidden as written, URL-encoded
   (``quote`` with and without ``/`` kept, ``quote_plus``; upper- and lower-case hex), JSON- and
   HTML-escaped, and base64-encoded (standard and URL-safe alphabets), both on its own and at each
   of the three byte alignments it can have inside a longer encoded text (``Basic
   base64(user:password)``): for alignment ``i`` the encoding of ``value[i:]`` cut to whole 3-byte
   groups appears verbatim in any base64 text that holds the value at that alignment.
2. **Partial forms.** For a value of ``WINDOW`` (8) characters or more, any run of text made of
   8-character windows of any of those forms is hidden: a service that echoes the first 51
   characters of a token, a URL-encoded token cut at its 200th character, or a base64 echo
   truncated mid-way all leave 8-character windows behind. Shorter pieces are not hidden (too
   little of a secret to matter, and too likely to be ordinary text).
   A value that is a URL (``scheme://host...``) keeps its address public: its windows come from
   its user info, path, query and fragment only, so a secret webhook URL does not turn every
   ``https://`` on the page into ``***``. The whole URL is still hidden in every form.
3. **Mask, then cut.** Text is always masked before it is truncated (:func:`clip`): a cut can
   only ever shorten ``***``, never expose the start of a secret.
4. **URLs we store or show** go through :func:`safe_url`: user info dropped, every query value
   replaced by ``***``; :func:`scrub` does that to every URL inside a text, then masks it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MASK = "***"
MIN_LENGTH = 3  # shorter values are not secrets worth the false positives
WINDOW = 8  # characters: the shortest piece of a secret that is hidden on its own

_URL_FRAME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?[^/?#]*")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
# absolute URLs, and absolute paths carrying a query (urllib3 says "with url: /path?token=...")
_URL_IN_TEXT = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>`]+|(?<![\w/.])/[^\s'"<>`?]*\?[^\s'"<>`]+""")

_lock = threading.Lock()
_secrets: set[str] = set()


@dataclass(frozen=True)
class _Patterns:
    exact: tuple[str, ...]  # every whole form, longest first
    windows: frozenset[str]  # every WINDOW-character piece of the forms of long values


_EMPTY = _Patterns((), frozenset())
_patterns = _EMPTY


class MissingSecret(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


# --------------------------------------------------------------------------- forms of a value


def _encoded(value: str) -> set[str]:
    """The value as a URL, JSON, HTML or a form would carry it (the value itself included)."""
    quoted = {quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="/")}
    quoted |= {_PERCENT.sub(lambda m: m.group(0).lower(), text) for text in quoted}
    escaped = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
               html.escape(value), html.escape(value, quote=False)}
    return {value} | quoted | escaped


def _base64_forms(value: str) -> set[str]:
    """Base64 of the value alone, and of its whole 3-byte groups at each alignment (8+ characters)."""
    data = value.encode("utf-8")
    found: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(data).decode("ascii"))
        for offset in range(3):
            chunk = data[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % 3]
            core = encode(chunk).decode("ascii")
            if len(core) >= WINDOW:
                found.add(core)
    return found


def forms(value: str) -> set[str]:
    """Every whole form of a secret value that :func:`mask` hides (see the module's rule 1)."""
    return _encoded(value) | _base64_forms(value)


def _windows(value: str) -> set[str]:
    """Every WINDOW-character piece of the forms of a value's private part (rule 2)."""
    frame = _URL_FRAME.match(value)
    private = [value]
    if frame:
        userinfo = frame.group(0).split("://", 1)[1].rpartition("@")[0]
        private = [part for part in (userinfo, value[frame.end():]) if part]
    found: set[str] = set()
    for part in private:
        if len(part) < WINDOW:
            continue
        for text in forms(part):
            found.update(text[start:start + WINDOW] for start in range(len(text) - WINDOW + 1))
    return found


def _build(values: set[str]) -> _Patterns:
    exact: set[str] = set()
    windows: set[str] = set()
    for value in values:
        exact |= {text for text in forms(value) if len(text) >= MIN_LENGTH}
        if len(value) >= WINDOW:
            windows |= _windows(value)
    return _Patterns(tuple(sorted(exact, key=len, reverse=True)), frozenset(windows))


# --------------------------------------------------------------------------- registry


def register(value: str) -> None:
    """Remember a secret value so that :func:`mask` hides it (and its forms) everywhere."""
    global _patterns
    if value and len(value) >= MIN_LENGTH:
        with _lock:
            if value not in _secrets:
                _secrets.add(value)
                _patterns = _build(_secrets)


def clear() -> None:
    global _patterns
    with _lock:
        _secrets.clear()
        _patterns = _EMPTY


def _spans(text: str, patterns: _Patterns) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for form in patterns.exact:
        start = text.find(form)
        while start >= 0:
            found.append((start, start + len(form)))
            start = text.find(form, start + 1)
    windows = patterns.windows
    if windows:
        for start in range(len(text) - WINDOW + 1):
            if text[start:start + WINDOW] in windows:
                found.append((start, start + WINDOW))
    return found


def mask(text: object) -> str:
    """``text`` with every form of every registered secret, whole or partial, replaced by ``***``."""
    result = "" if text is None else str(text)
    patterns = _patterns
    if not patterns.exact or not result:
        return result
    spans = sorted(_spans(result, patterns))
    if not spans:
        return result
    pieces: list[str] = []
    position = 0
    current_start, current_end = spans[0]
    for start, end in spans[1:] + [(len(result) + 1, len(result) + 1)]:
        if start <= current_end:  # overlapping or touching: one masked run
            current_end = max(current_end, end)
            continue
        pieces.append(result[position:current_start])
        pieces.append(MASK)
        position = current_end
        current_start, current_end = start, end
    pieces.append(result[position:])
    return "".join(pieces)


def clip(text: object, limit: int) -> str:
    """Masked, then cut to ``limit`` characters (with ``…``): never the other way round."""
    value = mask(text)
    return value if len(value) <= limit else value[: max(0, limit - 1)] + "…"


# --------------------------------------------------------------------------- URLs


def safe_url(url: str) -> str:
    """A URL fit to store or show: no user info, every query value ``***``, and masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return mask(url)
    netloc = parts.netloc
    if "@" in netloc:
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{port}" if port is not None else host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, MASK) for key, _ in pairs], safe="*") if pairs else MASK
    return mask(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def scrub(text: object) -> str:
    """Masked text whose URLs (and ``/path?query`` pieces) went through :func:`safe_url`."""
    value = "" if text is None else str(text)
    if "?" in value or "://" in value:
        value = _URL_IN_TEXT.sub(lambda m: safe_url(m.group(0)), value)
    return mask(value)


# --------------------------------------------------------------------------- references


def references(text: str) -> list[str]:
    return REFERENCE.findall(text)


def resolve(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Substitute ``${NAME}`` from the environment, registering each value; raises MissingSecret."""
    env = os.environ if environ is None else environ

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingSecret(name)
        value = env[name]
        register(value)
        return value

    return REFERENCE.sub(substitute, text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks secret values in a record's final message (third-party loggers too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = MaskingFilter()


def mask_logs(*names: str) -> None:
    """Attach the masking filter to the named loggers (e.g. ``urllib3.connectionpool``, ``apprise``).

    Logger filters only see records created by that logger itself, which is why
    libraries that log URLs (with tokens in their query) are named one by one.
    """
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
