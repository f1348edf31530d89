"""The site builder end to end: a real History, real incident files, the built _site/ checked file by file."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import jsonschema
import pytest

from generator.models import CheckStatus, MonitorState, State
from generator.secrets import clear as clear_secrets
from generator.secrets import register
from generator.site import SiteError, build_site, collect, render_site
from generator.site.badges import text_width
from generator.site.sample import demo_inputs, sample_config

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "statuspage-v2.schema.json").read_text())
SECRET = "hunter2-very-secret-token"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    register(SECRET)
    config, history, incidents, maintenance = demo_inputs(folder, now=NOW)
    # a secret that leaked into an incident title must not reach the site
    incidents[-1] = type(incidents[-1])(**{**incidents[-1].__dict__, "title": f"Payments delays {SECRET}"})
    out = folder / "_site"
    report = build_site(config, history, incidents, maintenance, out, now=NOW)
    yield {"folder": folder, "out": out, "report": report, "config": config, "history": history,
           "incidents": incidents, "maintenance": maintenance}
    clear_secrets()


# --------------------------------------------------------------------------- link checker


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if tag == "base" or (tag == "link" and (value or "").startswith("data:image/svg+xml;base64,")):
                continue  # the 404 page's base (moved by its script) and inline icon are checked in the browser
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def broken_links(site: Path) -> list[str]:
    """Every relative href/src of every page must name an existing file (or a fragment on the page)."""
    problems = []
    pages = sorted(site.rglob("*.html"))
    assert pages, "no pages built"
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            if parts.scheme or parts.netloc:
                problems.append(f"{page.relative_to(site)}: unexpected scheme in {link!r}")
                continue
            if not parts.path:
                if parts.fragment and parts.fragment not in parser.ids:
                    problems.append(f"{page.relative_to(site)}: missing anchor {link!r}")
                continue
            if parts.path.startswith("/"):
                problems.append(f"{page.relative_to(site)}: absolute path {link!r} breaks under a base path")
                continue
            if parts.path.endswith("/"):
                problems.append(f"{page.relative_to(site)}: {link!r} needs index.html to work from file://")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file():
                problems.append(f"{page.relative_to(site)}: {link!r} -> missing {target}")
            elif site.resolve() not in target.parents:
                problems.append(f"{page.relative_to(site)}: {link!r} leaves the site")
    return problems


def test_every_link_resolves(demo):
    assert broken_links(demo["out"]) == []


def test_expected_pages_exist(demo):
    out = demo["out"]
    for name in ("index.html", "404.html", "history/index.html", "history.atom", "history.rss", "assets/style.css",
                 "monitors/svc-0000/index.html", "incidents/100/index.html", "incidents/manual-1/index.html",
                 "incidents/2026-11-23-svc-0001-1/index.html", "maintenance/maint-db/index.html",
                 "badges/status.svg", "badges/svc-0000/uptime-30d.json", "build.json"):
        assert (out / name).is_file(), name
    assert demo["report"].pages == len(list(out.rglob("*.html")))


# --------------------------------------------------------------------------- home page content


def test_home_page_shows_status_in_words_bars_and_uptime(demo):
    html = (demo["out"] / "index.html").read_text()
    assert '<html lang="en">' in html
    # the open incident on svc-0000 makes a partial outage, listed before the monitors
    assert "Partial outage" in html
    assert html.index("Active incidents") < html.index('id="h-mon"')
    assert html.index("Scheduled maintenance") < html.index('id="h-mon"')
    # status in words next to an icon, never colour alone
    assert re.search(r'<span class="st st-down"><svg[^>]*><use href="#i-down"/></svg>Down</span>', html)
    assert "Operational</span>" in html
    # 90 daily bars per monitor, grouped into focusable items whose text names dates, uptime, incidents
    for bars in re.findall(r'<ol class="bars"[^>]*>(.*?)</ol>', html):
        days = sum(int(n) for n in re.findall(r'style="--n:(\d+)"', bars))
        assert days == 90
        assert bars.count('tabindex="0"') == bars.count("<li ")
    assert re.search(r"Nov 24: [\d.]+% uptime, 1 incident<", html)
    # a monitor whose history starts later shows those days as no data, never green
    assert re.search(r'<li class="d-nodata old" style="--n:\d+" tabindex="0"><span>Aug 27 – [A-Z][a-z]{2} \d+: No data</span>', html)
    for window in ("24 h", "7 days", "30 days", "90 days"):
        assert f"<dt>{window}</dt>" in html
    assert html.count('<svg class="spark"') == 5


def test_uptime_figures_match_history(demo):
    history, config = demo["history"], demo["config"]
    site = collect(config, history, demo["incidents"], demo["maintenance"], NOW)
    from generator.site.renderer import Renderer
    from generator.site.theme import theme_dirs

    renderer = Renderer(site, theme_dirs())
    for monitor in config.monitors:
        view = renderer.view_of(monitor)
        as_of = renderer.as_of(view)  # a monitor's pages are drawn as of its newest check today
        assert as_of == history.last_observation(monitor.id)[0] <= NOW
        # every window is rolling and time-weighted, the same figure History computes
        for name, days in (("24h", 1), ("7d", 7), ("30d", 30), ("90d", 90)):
            exact = history.uptime(view.id, as_of, timedelta(days=days))
            assert view.uptime[name] == pytest.approx(exact) if exact is not None else view.uptime[name] is None


def test_a_gap_in_checks_is_not_uptime(tmp_path):
    """A monitor with no check in the last 24 hours has no 24 h uptime and its day reads 'no data'."""
    from generator.history import History
    from generator.models import Check

    config = sample_config(2)
    history = History(tmp_path / "data")
    history.record([Check("svc-0000", NOW - timedelta(days=2), CheckStatus.UP, latency_ms=20.0)])
    history.save_states({"svc-0000": MonitorState("svc-0000", State.UP, since=NOW - timedelta(days=2))})
    build_site(config, history, [], [], tmp_path / "_site", now=NOW)
    html = (tmp_path / "_site" / "index.html").read_text()
    assert "Nov 22: 100% uptime" in html
    assert re.search(r"Nov 23 – Nov 24: No data", html)
    assert "<dt>24 h</dt><dd>No data</dd>" in html
    # a monitor with nothing at all: no data everywhere, status "No data"
    # (a run of days never crosses into the last 30, which a phone shows alone)
    assert "Aug 27 – Oct 25: No data" in html and "Oct 26 – Nov 24: No data" in html
    assert "No data</span>" in html


# --------------------------------------------------------------------------- monitor and incident pages


def test_monitor_page_has_charts_with_axes_table_and_incidents(demo):
    html = (demo["out"] / "monitors" / "svc-0000" / "index.html").read_text()
    assert html.count('<svg class="chart"') == 3
    for chart in re.findall(r'<svg class="chart".*?</svg>', html):
        assert "<title" in chart and "<desc" in chart
        assert re.search(r'<text[^>]*text-anchor="end">\d+(\.\d)?</text>', chart)  # value axis labels
        assert '<text class="unit"' in chart and ">ms</text>" in chart  # ... and their unit
    assert html.count("<tr class=") == 90
    assert 'href="../../incidents/100/index.html"' in html
    assert 'src="../../badges/svc-0000/status.svg"' in html


def test_incident_page_times_timeline_and_sanitized_markdown(demo):
    out = demo["out"]
    html = (out / "incidents" / "2026-11-23-svc-0001-1" / "index.html").read_text()
    assert "Restart requested." in html  # the tool's sentence, told again from the timeline kind
    # shown in the display zone (Europe/Paris) and named; the instant in UTC for machines and on hover
    assert '<time datetime="2026-11-23T19:30:00Z" title="Nov 23, 2026 19:30 UTC">Nov 23, 2026 20:30 CET</time>' in html
    assert "12m" in html
    github = (out / "incidents" / "100" / "index.html").read_text()
    assert 'href="https://github.com/example/status/issues/100"' in github
    assert "We are looking into it." in github  # trusted comment
    assert "untrusted" not in github  # a stranger's comment is not published
    hostile = (out / "incidents" / "manual-1" / "index.html").read_text()
    assert "Provider is slow." in hostile
    lowered = hostile.lower()
    for bad in ("<script>alert", "onerror", "onclick", "javascript:", "evil.example/x.png\"", "<img src=\"https://"):
        assert bad not in lowered, bad
    assert SECRET not in hostile and "***" in hostile


def test_no_secret_anywhere(demo):
    for path in demo["out"].rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_history_is_paginated_newest_first(tmp_path):
    from generator.history import History
    from generator.site.sample import sample_incident

    config = sample_config(3)
    history = History(tmp_path / "data")
    incidents = [
        sample_incident(str(n), "svc-0001", NOW - timedelta(days=n + 1), NOW - timedelta(days=n + 1) + timedelta(hours=1))
        for n in range(45)
    ]
    build_site(config, history, incidents, [], tmp_path / "_site", now=NOW)
    first = (tmp_path / "_site" / "history" / "index.html").read_text()
    third = (tmp_path / "_site" / "history" / "page" / "3" / "index.html").read_text()
    assert not (tmp_path / "_site" / "history" / "page" / "4").exists()
    keys = [int(k) for k in re.findall(r'href="\.\./incidents/(\d+)/index.html"', first)]
    assert keys == list(range(20))  # newest (1 day ago) first
    assert re.findall(r'href="\.\./\.\./\.\./incidents/(\d+)/index.html"', third) == [str(n) for n in range(40, 45)]
    assert 'rel="prev"' in third and 'rel="next"' not in third
    assert broken_links(tmp_path / "_site") == []


# --------------------------------------------------------------------------- machine-readable


def test_api_documents_match_statuspage_schema(demo):
    api = demo["out"] / "api" / "v2"
    documents = {
        "summary.json": "summary",
        "status.json": "statusDocument",
        "components.json": "components",
        "incidents.json": "incidents",
        "incidents/unresolved.json": "unresolved",
        "scheduled-maintenances.json": "scheduledMaintenances",
    }
    for name, definition in documents.items():
        value = json.loads((api / name).read_text())
        schema = {"$ref": f"#/$defs/{definition}", "$defs": SCHEMA["$defs"]}
        jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)
    summary = json.loads((api / "summary.json").read_text())
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert summary["page"]["time_zone"] == "Europe/Paris"
    by_id = {c["id"]: c for c in summary["components"]}
    assert by_id["svc-0000"]["status"] == "major_outage"
    assert by_id["svc-0000"]["group_id"] == "group-Core" and by_id["group-Core"]["group"] is True
    assert "svc-0000" in by_id["group-Core"]["components"]
    assert [i["id"] for i in summary["incidents"]] == ["100"]
    assert summary["incidents"][0]["status"] == "investigating"
    assert [m["id"] for m in summary["scheduled_maintenances"]] == ["maint-net"]
    incidents = json.loads((api / "incidents.json").read_text())["incidents"]
    resolved = next(i for i in incidents if i["id"] == "2026-11-23-svc-0001-1")
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2026-11-23T19:42:00Z"
    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "identified", "investigating"]


def test_api_schema_rejects_wrong_values():
    """The schema is not a rubber stamp: a value outside Statuspage's sets fails."""
    page = {"id": "x", "name": "n", "url": "", "time_zone": "UTC", "updated_at": "2026-11-24T21:30:00Z"}
    schema = {"$ref": "#/$defs/statusDocument", "$defs": SCHEMA["$defs"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"page": page, "status": {"indicator": "green", "description": "x"}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"page": {**page, "updated_at": "yesterday"}, "status": {"indicator": "none", "description": "x"}}, schema)


def test_badges_endpoint_json_and_svg(demo):
    out = demo["out"]
    for path in sorted((out / "badges").rglob("*.json")):
        value = json.loads(path.read_text())
        assert value["schemaVersion"] == 1 and set(value) == {"schemaVersion", "label", "message", "color"}, path
    assert json.loads((out / "badges" / "svc-0000" / "status.json").read_text())["color"] == "red"
    assert json.loads((out / "badges" / "status.json").read_text())["message"] == "Partial outage"
    for path in sorted((out / "badges").rglob("*.svg")):
        root = ET.fromstring(path.read_text())
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        title = root.find("{http://www.w3.org/2000/svg}title").text
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert title == f"{texts[0]}: {texts[1]}"
        assert "href" not in path.read_text()  # self-contained
    # wider text, wider badge; CJK counts as full width
    assert text_width("operational") > text_width("down") > 0
    assert text_width("正常运行") > text_width("up")


def test_feeds_are_valid(demo):
    for name in ("history.atom", "history.rss"):
        feed = feedparser.parse((demo["out"] / name).read_bytes())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert len(feed.entries) == len(demo["incidents"]) + len(demo["maintenance"])
        for entry in feed.entries:
            assert entry.get("id") and entry.get("title") and entry.get("link")
            assert entry.get("published_parsed") or entry.get("updated_parsed")
        dates = [e.published_parsed for e in feed.entries]
        assert dates == sorted(dates, reverse=True)
        assert SECRET not in (demo["out"] / name).read_text()
        assert "<script" not in (demo["out"] / name).read_text()


# --------------------------------------------------------------------------- determinism, languages, themes


def _snapshot(site: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "build.json":
                data = re.sub(rb'"built_at": ?"[^"]*"', b'"built_at":""', data)
            files[path.relative_to(site).as_posix()] = data
    return files


def test_builds_are_deterministic(demo, tmp_path):
    d = demo
    shuffled = list(reversed(d["incidents"]))  # input order must not matter
    build_site(d["config"], d["history"], shuffled, list(reversed(d["maintenance"])), tmp_path / "again", now=NOW)
    first, second = _snapshot(d["out"]), _snapshot(tmp_path / "again")
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_chinese_interface(tmp_path):
    config, history, incidents, maintenance = demo_inputs(tmp_path, now=NOW, language="zh", timezone="Asia/Shanghai")
    build_site(config, history, incidents, maintenance, tmp_path / "_site", now=NOW)
    html = (tmp_path / "_site" / "index.html").read_text()
    assert '<html lang="zh-Hans">' in html
    assert "部分服务中断" in html and "正常运行" in html and "最近 90 天每日可用率" in html
    page = (tmp_path / "_site" / "incidents" / "2026-11-23-svc-0001-1" / "index.html").read_text()
    assert 'title="2026年11月23日 19:30 UTC">2026年11月24日 03:30 CST</time>' in page
    assert "12分" in page


def test_theme_override_and_bad_settings(demo, tmp_path):
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "i18n").mkdir()
    (theme / "templates" / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>Custom lost</h1>{% endblock %}')
    (theme / "static" / "style.css").write_text("body{background:#ffe}\n")
    (theme / "i18n" / "en.yaml").write_text("overall.partial_outage: Some things are broken\n")
    site = collect(demo["config"], demo["history"], demo["incidents"], demo["maintenance"], NOW)
    render_site(site, tmp_path / "_site", theme_dir=theme)
    assert "Custom lost" in (tmp_path / "_site" / "404.html").read_text()
    assert (tmp_path / "_site" / "assets" / "style.css").read_text() == "body{background:#ffe}\n"
    assert (tmp_path / "_site" / "assets" / "favicon.svg").is_file()  # the rest still comes from the bundled theme
    assert "Some things are broken" in (tmp_path / "_site" / "index.html").read_text()

    from dataclasses import replace

    bad_zone = replace(site, config=replace(site.config, site=replace(site.config.site, timezone="Mars/Olympus")))
    with pytest.raises(SiteError, match="site.timezone: 'Mars/Olympus'"):
        render_site(bad_zone, tmp_path / "_site")
    bad_language = replace(site, config=replace(site.config, site=replace(site.config.site, language="fr")))
    with pytest.raises(SiteError, match="site.language: 'fr'"):
        render_site(bad_language, tmp_path / "_site")
    broken = tmp_path / "broken"
    (broken / "templates").mkdir(parents=True)
    (broken / "templates" / "home.html").write_text('{% extends "base.html" %}\n{% block main %}{{ nope( }}{% endblock %}')
    with pytest.raises(SiteError, match=r"home.html:2: template error"):
        render_site(site, tmp_path / "_site", theme_dir=broken)
    # a theme that does not compile fails before any file is written: the previous site stays whole,
    # and beside it only the build manifest (the previous build's)
    assert "Custom lost" in (tmp_path / "_site" / "404.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == ["._site.manifest"]


def test_404_page_uses_the_base_path(tmp_path):
    config = sample_config(1, base_url="https://example.github.io/status/")
    build_site(config, None, [], [], tmp_path / "_site", now=NOW)
    html = (tmp_path / "_site" / "404.html").read_text()
    assert 'href="/status/assets/style.css"' in html and 'href="/status/index.html"' in html
    home = (tmp_path / "_site" / "index.html").read_text()
    assert 'href="assets/style.css"' in home
    summary = json.loads((tmp_path / "_site" / "api" / "v2" / "summary.json").read_text())
    assert summary["page"]["url"] == "https://example.github.io/status"


def test_parallel_build_matches_serial(demo, tmp_path, monkeypatch):
    """Forked page workers (used from 200 monitors), each reading its own monitors, give the very same files."""
    import generator.site.builder as builder

    monkeypatch.setattr(builder, "PARALLEL_FROM", 2)
    d = demo
    report = build_site(d["config"], d["history"], d["incidents"], d["maintenance"], tmp_path / "parallel", now=NOW)
    first, second = _snapshot(d["out"]), _snapshot(tmp_path / "parallel")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert (report.pages, report.files) == (d["report"].pages, d["report"].files)
