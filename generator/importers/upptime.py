"""Upptime's ``.upptimerc.yml`` -> monitors.yaml.

Upptime checks ``sites`` (HTTP by default; ``check: tcp-ping`` with a ``port``; ``check: ws``) from a
GitHub workflow, as statusgen does. Its names, URLs, methods, headers, bodies, expected status
codes and ``maxResponseTime`` (-> ``degraded_after``) carry over; its ``$SECRET`` references become
``${SECRET}``. What has no equivalent is listed with its line number.
"""

from __future__ import annotations

from typing import Any

from generator.importers.common import (
    Converted,
    Ids,
    ImportProblem,
    Located,
    env_refs,
    line_of,
)

NAME = "upptime"
# top-level keys that only concern Upptime's own machinery
WORKFLOW_KEYS = {
    "assignees": "incident assignees (statusgen labels issues; assign them with a GitHub workflow rule)",
    "workflowSchedule": "workflow schedules (set the schedule in .github/workflows/status.yml)",
    "commitMessages": "commit message templates",
    "notifications": "notifications (use notify: with Apprise URLs)",
    "i18n": "interface strings (statusgen's site speaks en and zh; override site/i18n)",
    "user-agent": "a custom User-Agent (set headers: {User-Agent: ...} under defaults:)",
    "skipDescriptionUpdate": "repository description updates",
    "skipTopicsUpdate": "repository topic updates",
    "skipHomepageUpdate": "repository homepage updates",
    "summaryStartHtml": "README summary HTML",
    "summaryEndHtml": "README summary HTML",
}
SITE_IGNORED = ("navbar", "theme", "themeUrl", "favicon", "faviconSvg", "scripts", "links", "css", "js",
                "robotsText", "apiBaseUrl", "userContentBaseUrl", "singleCommit", "introTitle")
SITE_KEYS = ("name", "url", "method", "headers", "body", "expectedStatusCodes", "maxResponseTime", "check",
             "port", "slug", "__dangerous__insecure", "__dangerous__disable_verify_peer", "__dangerous__body_down",
             "__dangerous__body_down_if_text_missing")


def convert(document: Any, name: str) -> str:
    if not isinstance(document, Located) or not isinstance(document.get("sites"), list):
        raise ImportProblem(f"{name}: not an Upptime configuration (expected a mapping with a sites: list)")
    result = Converted(source=f"Upptime's {name}", command=f"statusgen import upptime {name}")
    _site(document, result)
    for key, what in WORKFLOW_KEYS.items():
        if key in document:
            result.note(line_of(document, key), f"{key}: {what}")
    for key in document:
        if key not in WORKFLOW_KEYS and key not in ("owner", "repo", "sites", "status-website"):
            result.note(line_of(document, key), f"{key}: no equivalent")
    ids = Ids()
    for index, site in enumerate(document["sites"]):
        if not isinstance(site, Located) or not site.get("url"):
            result.note(getattr(site, "line", 0), f"sites[{index}]: no url, skipped")
            continue
        result.monitors.append(_monitor(site, ids))
    return result.render()


def _site(document: Located, result: Converted) -> None:
    if document.get("owner") and document.get("repo"):
        result.site["repository"] = f"{document['owner']}/{document['repo']}"
    website = document.get("status-website")
    if not isinstance(website, Located):
        return
    if website.get("name"):
        result.site["title"] = str(website["name"])
    if website.get("introMessage"):
        result.site["description"] = str(website["introMessage"])
    if website.get("logoUrl"):
        result.site["logo"] = str(website["logoUrl"])
    if website.get("cname"):
        result.site["base_url"] = f"https://{website['cname']}/"
    elif website.get("baseUrl") and document.get("owner"):
        result.site["base_url"] = f"https://{document['owner']}.github.io/{str(website['baseUrl']).strip('/')}/"
    for key in website:
        if key in SITE_IGNORED:
            result.note(line_of(website, key), f"status-website.{key}: the statusgen site has its own theme")


def _monitor(site: Located, ids: Ids) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = [f"from line {site.line}"]
    name = str(site.get("name") or site["url"])
    monitor: dict[str, Any] = {"id": ids.make(site.get("slug") or name), "name": name}
    url = env_refs(str(site["url"]))
    check = str(site.get("check") or "http")
    if check == "tcp-ping":
        host = url.split("://", 1)[-1].split("/", 1)[0]
        monitor.update(type="tcp", host=host, port=int(site.get("port") or 80))
        if not site.get("port"):
            notes.append(f"line {site.line}: tcp-ping without a port: port 80 assumed")
    elif check == "ws":
        monitor.update(type="websocket", url=url)
    else:
        if check != "http":
            notes.append(f"line {line_of(site, 'check')}: check: {check} has no equivalent; checked over HTTP")
        monitor["url"] = url
        _http(site, monitor, notes)
    for key in site:
        if key not in SITE_KEYS:
            notes.append(f"line {line_of(site, key)}: {key}: no equivalent")
    return monitor, notes


def _http(site: Located, monitor: dict[str, Any], notes: list[str]) -> None:
    if site.get("method"):
        monitor["method"] = str(site["method"]).upper()
    headers = site.get("headers")
    if isinstance(headers, list):
        pairs = [str(header).split(":", 1) for header in headers]
        monitor["headers"] = {key.strip(): env_refs(value.strip()) for key, value in (p for p in pairs if len(p) == 2)}
    if site.get("body") is not None:
        monitor["body"] = env_refs(str(site["body"]))
    if site.get("__dangerous__insecure") or site.get("__dangerous__disable_verify_peer"):
        monitor["verify_tls"] = False
    if site.get("port"):
        notes.append(f"line {line_of(site, 'port')}: port: put it in the URL (host:port)")
    expect: dict[str, Any] = {}
    codes = site.get("expectedStatusCodes")
    if isinstance(codes, list) and codes:
        expect["status"] = [int(code) if str(code).isdigit() else str(code) for code in codes]
    if isinstance(site.get("maxResponseTime"), (int, float)):
        expect["degraded_after"] = f"{int(site['maxResponseTime'])}ms"
    if site.get("__dangerous__body_down"):
        expect["body_not_contains"] = str(site["__dangerous__body_down"])
    if site.get("__dangerous__body_down_if_text_missing"):
        expect["body_contains"] = str(site["__dangerous__body_down_if_text_missing"])
    if expect:
        monitor["expect"] = expect
