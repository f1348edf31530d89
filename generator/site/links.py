"""Where pages live and how one page links to another.

Every link is relative (``../`` times the page's depth) so the site works under
any base path (a project's Pages site lives under /<repo>/) and straight from
disk; directory pages are linked as ``.../index.html`` because file:// has no
directory index. Keys and ids become safe path segments.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

SUBSCRIBE_PAGE = "subscribe/index.html"
CALENDAR = "maintenance.ics"
SITE_FEEDS = {"atom": "history.atom", "rss": "history.rss"}


def slug(value: str) -> str:
    """A path segment: letters, digits, ``.``, ``_``, ``-``; never empty, never ``.`` or ``..``."""
    text = _UNSAFE.sub("-", str(value)).strip("-.")
    return text or "x"


def relative_root(page: str) -> str:
    """``../`` for each folder above ``page`` (a path like ``monitors/api/index.html``)."""
    return "../" * page.count("/")


def monitor_page(monitor_id: str) -> str:
    return f"monitors/{slug(monitor_id)}/index.html"


def incident_page(key: str) -> str:
    return f"incidents/{slug(key)}/index.html"


def maintenance_page(key: str) -> str:
    return f"maintenance/{slug(key)}/index.html"


def group_page(name: str) -> str:
    """A group's own page (a large site folds groups on its home page)."""
    return f"groups/{slug(name)}/index.html"


def history_page(number: int) -> str:
    return "history/index.html" if number <= 1 else f"history/page/{number}/index.html"


def base_path(base_url: str) -> str:
    """The path part of the public URL (``/repo/``), for the 404 page which is served at any depth."""
    if not base_url:
        return ""
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def public_url(base_url: str, path: str) -> str:
    """An absolute URL when the site's address is known, else the path relative to the site root."""
    if path.endswith("index.html") and base_url:
        path = path[: -len("index.html")]
    if not base_url:
        return path
    return base_url.rstrip("/") + "/" + path


def feeds_of(monitor_id: str) -> dict[str, str]:
    """A monitor's own Atom and RSS feeds, beside its page."""
    folder = f"monitors/{slug(monitor_id)}/"
    return {"atom": folder + "history.atom", "rss": folder + "history.rss"}


def repository_url(repository: str | None) -> str | None:
    """The GitHub address of ``site.repository`` (owner/name), or None when it is not one."""
    text = (repository or "").strip().strip("/")
    return f"https://github.com/{text}" if _REPOSITORY.match(text) and ".." not in text else None
