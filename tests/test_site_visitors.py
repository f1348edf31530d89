"""What a visitor reads during an incident: updates with states, one time zone, Chinese texts, ways to subscribe.

Built end to end from the demo input (a real History, a real files-tracker incident) and
from incidents shaped like the GitHub tracker's, with the restart text the real
Recovery writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from generator.models import Comment, Impact, Incident, TimelineEntry
from generator.recovery import Recovery, RestartAttempt
from generator.site import build_site
from generator.site.ical import fold
from generator.site.sample import demo_inputs, sample_config
from generator.site.updates import incident_updates, stated

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
STARTED = NOW - timedelta(hours=2)


def _restart_text(ok: bool) -> str:
    attempt = RestartAttempt(monitor_id="svc-0002", attempt=1, max_attempts=3, time=STARTED + timedelta(minutes=3),
                             incident_started=STARTED.isoformat(), incident_key="7", delivery="d-1", idempotency_key="k",
                             ok=ok, status_code=202 if ok else 500, latency_ms=41.0, error="" if ok else "HTTP 500", tries=1)
    return Recovery.timeline_text(attempt)


def github_like_incident(resolved: bool = True) -> Incident:
    """An automated incident as the GitHub tracker reads it back: the tool's English body and event comments."""
    body = ("**Service 2** is **down** since 2026-11-24 19:30:00 UTC (severity: critical).\n\nFirst failing check:\n\n"
            "| | |\n| --- | --- |\n| Time (UTC) | 2026-11-24 19:30:00 |\n| Status code | 503 |\n| Error | HTTP 503 |\n\n"
            "_Opened by statusgen; it comments on each change and closes this issue on recovery._")
    timeline = [
        TimelineEntry(STARTED, "detected", body.split("\n\n")[0]),
        TimelineEntry(STARTED + timedelta(minutes=2), "restart", _restart_text(False)),
        TimelineEntry(STARTED + timedelta(minutes=3), "restart", _restart_text(True)),
        TimelineEntry(STARTED + timedelta(minutes=4), "recovered",
                      "Recovered after the restart: answering again 4.0s after the restart request (4m after the incident started)."),
    ]
    if resolved:
        timeline.append(TimelineEntry(STARTED + timedelta(minutes=5), "resolved", "Service 2 is back up after 5m of downtime."))
    comments = (
        Comment("ops", "MEMBER", STARTED + timedelta(minutes=1), "**Identified**\nThe disk filled up; clearing it.", trusted=True),
        Comment("ops", "MEMBER", STARTED + timedelta(minutes=2, seconds=30), "State: monitoring", trusted=True),
        Comment("visitor", "NONE", STARTED + timedelta(minutes=2), "Resolved: not really", trusted=False),
    )
    return Incident(key="7", title="🛑 Service 2 is down", monitor_id="svc-0002", impact=Impact.DOWN,
                    status="resolved" if resolved else "open", started=STARTED,
                    resolved=STARTED + timedelta(minutes=5) if resolved else None, url="https://github.com/example/status/issues/7",
                    body=body + "\n\nCustomers in the EU saw errors.", timeline=tuple(timeline), comments=comments,
                    updated=STARTED + timedelta(minutes=5))


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    built = {}
    for language, zone in (("en", "Europe/Paris"), ("zh", "Asia/Shanghai")):
        folder = tmp_path_factory.mktemp(language)
        config, history, incidents, maintenance = demo_inputs(folder, now=NOW, language=language, timezone=zone)
        incidents = incidents + [github_like_incident(resolved=True), replace(github_like_incident(resolved=False), key="8")]
        build_site(config, history, incidents, maintenance, folder / "_site", now=NOW)
        built[language] = folder / "_site"
    return built


class _Text(HTMLParser):
    """Visible text and every <time> (its datetime and its text)."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.times: list[tuple[str, str]] = []
        self._skip = 0
        self._time: list = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title", "svg"):
            self._skip += 1
        if tag == "time":
            self._time = [dict(attrs).get("datetime", ""), ""]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title", "svg"):
            self._skip -= 1
        if tag == "time" and self._time:
            self.times.append((self._time[0], self._time[1]))
            self._time = []

    def handle_data(self, data):
        if self._time:
            self._time[1] += data
        if not self._skip:
            self.text.append(data)


def _read(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# --------------------------------------------------------------------------- states


@pytest.mark.parametrize("text, state, rest", [
    ("**Identified**\nThe disk filled up.", "identified", "The disk filled up."),
    ("State: monitoring", "monitoring", ""),
    ("Identified: the disk filled up", "identified", "the disk filled up"),
    ("**Monitoring:** a fix is out", "monitoring", "a fix is out"),
    ("Resolved.", "resolved", ""),
    ("已定位：磁盘已满", "identified", "磁盘已满"),
    ("Identified the cause, fixing it", None, "Identified the cause, fixing it"),  # a sentence, not a state
    ("We are looking into it.", None, "We are looking into it."),
])
def test_a_state_word_opens_an_update(text, state, rest):
    assert stated(text) == (state, rest)


def test_updates_merge_timeline_and_team_newest_first_with_states():
    updates = incident_updates(github_like_incident())
    assert [u.time for u in updates] == sorted((u.time for u in updates), reverse=True)
    # oldest first: detected, ops "Identified", refused restart (keeps), ops "State: monitoring", accepted restart,
    # recovered after restart, resolved; the stranger's "Resolved:" is not published
    assert [(u.kind, u.state) for u in reversed(updates)] == [
        ("detected", "investigating"), ("comment", "identified"), ("restart", "identified"),
        ("comment", "monitoring"), ("restart", "identified"), ("recovered", "monitoring"), ("resolved", "resolved"),
    ]
    assert updates[-2].text == "The disk filled up; clearing it." and updates[-2].author == "ops"
    assert all(u.author != "visitor" for u in updates)


def test_a_closed_incident_without_a_resolution_entry_still_ends_resolved():
    manual = Incident(key="m", title="Card payments delayed", monitor_id=None, impact=Impact.DEGRADED, status="resolved",
                      started=STARTED, resolved=STARTED + timedelta(hours=1), automated=False, body="The bank is late.")
    updates = incident_updates(manual)
    assert [(u.kind, u.state) for u in updates] == [("closed", "resolved"), ("opened", "investigating")]
    assert updates[0].time == STARTED + timedelta(hours=1)


def test_incident_page_api_and_feed_tell_the_same_updates(sites):
    out = sites["en"]
    page = (out / "incidents" / "7" / "index.html").read_text()
    section = page[page.index('id="h-up"'):]
    shown = re.findall(r'<span class="us us-(\w+)">', section)
    assert shown == ["resolved", "monitoring", "identified", "monitoring", "identified", "identified", "investigating"]
    assert "The disk filled up; clearing it." in section and "by ops" in section
    assert "not really" not in page
    api = json.loads((out / "api" / "v2" / "incidents.json").read_text())["incidents"]
    seven = next(i for i in api if i["id"] == "7")
    assert [u["status"] for u in seven["incident_updates"]] == shown
    assert seven["name"] == "Resolved: Service 2 was down" and seven["monitoring_at"] == "2026-11-24T19:32:30Z"
    feed = feedparser.parse((out / "history.atom").read_bytes())
    entry = next(e for e in feed.entries if e.link.endswith("incidents/7/index.html"))
    assert entry.title == "Resolved: Service 2 was down"  # the tool's title already says it is over
    heads = re.findall(r"<strong>(\w+) · [^<]+</strong>", entry.summary)
    assert [h.lower() for h in heads] == shown and "The disk filled up" in entry.summary


def test_home_page_shows_the_latest_update_under_an_active_incident(sites):
    home = (sites["en"] / "index.html").read_text()
    active = home[home.index('id="h-active"'):home.index('id="h-mon"')]
    latest = re.search(r'<a href="incidents/8/index.html">Service 2 is down</a>.*?<p class="latest">(.*?)</p>', active, re.S)
    assert latest, active
    assert "<strong>Monitoring</strong>" in latest.group(1) and "answers again after the restart" in latest.group(1)
    assert "Investigating</strong>" in active  # the demo's own open incident: the team's first comment


# --------------------------------------------------------------------------- one time zone


def test_every_time_on_every_page_is_in_the_display_zone_and_named(sites):
    out = sites["en"]
    pages = sorted(out.rglob("*.html"))
    checked = 0
    for path in pages:
        parsed = _read(path)
        for instant, text in parsed.times:
            if "T" not in instant:
                continue  # a day (YYYY-MM-DD) of the UTC roll-ups, labelled "Date (UTC)"
            assert instant.endswith("Z"), (path, instant)
            assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{2}:\d{2} CES?T", text.strip()), (path, text)
            checked += 1
        visible = " ".join(parsed.text)
        assert not re.search(r"\d{2}:\d{2}(:\d{2})? UTC", visible), path  # no UTC clock time left in the text
    assert checked > 100
    monitor = (out / "monitors" / "svc-0000" / "index.html").read_text()
    assert ">Time (CET)</text>" in monitor and monitor.count(">Day (UTC)</text>") == 2  # every chart axis names its zone
    history = (out / "history" / "index.html").read_text()
    assert re.search(r'<time datetime="[^"]+Z" title="[^"]+ UTC">[^<]+ CES?T</time>', history)
    maintenance = (out / "maintenance" / "maint-net" / "index.html").read_text()
    assert "Nov 26, 2026 22:30 CET" in maintenance


# --------------------------------------------------------------------------- Chinese


def test_chinese_site_tells_automated_incidents_in_chinese(sites):
    out = sites["zh"]
    english = ("is down", "is back up", "Automated incident", "Restart", "failing since", "Recovered", "🛑", "severity")
    for key in ("7", "8", "100", "2026-11-23-svc-0001-1"):
        page = (out / "incidents" / key / "index.html").read_text()
        visible = " ".join(_read(out / "incidents" / key / "index.html").text)
        for phrase in english:
            assert phrase not in visible, (key, phrase)
        assert "自动创建的事件" in page
    seven = (out / "incidents" / "7" / "index.html").read_text()
    assert "<h1>已解决：Service 2 曾服务中断</h1>" in seven
    assert "重启请求失败（第 1 次，共 3 次）：HTTP 500 · 41 ms。" in seven
    assert "已请求重启（第 1 次，共 3 次）：HTTP 202 · 41 ms。" in seven
    assert "检测到 Service 2 服务中断：HTTP 503。" in seven  # the facts; the error said no more than the status
    assert "Customers in the EU saw errors." in seven  # a paragraph people added stays as written
    assert "The disk filled up" in seven  # so does the team's comment
    assert '<span class="us us-identified">已定位</span>' in seven
    home = (out / "index.html").read_text()
    assert "Service 2 服务中断</a>" in home and "Service 2 is down" not in home
    api = json.loads((out / "api" / "v2" / "incidents.json").read_text())["incidents"]
    assert next(i for i in api if i["id"] == "7")["name"] == "已解决：Service 2 曾服务中断"
    feed = (out / "history.atom").read_text()
    assert "is down" not in feed and "已解决：Service 1 曾服务中断" in feed


def test_a_title_people_wrote_is_kept(tmp_path):
    config = sample_config(3, language="zh")
    renamed = replace(github_like_incident(), title="数据库磁盘已满")
    build_site(config, None, [renamed], [], tmp_path / "_site", now=NOW)
    assert "<h1>数据库磁盘已满</h1>" in (tmp_path / "_site" / "incidents" / "7" / "index.html").read_text()


# --------------------------------------------------------------------------- subscribing


def test_per_monitor_feeds_hold_that_monitors_incidents_and_its_maintenance(sites):
    out = sites["en"]
    for monitor_id in ("svc-0000", "svc-0002", "svc-0004"):
        for name in ("history.atom", "history.rss"):
            feed = feedparser.parse((out / "monitors" / monitor_id / name).read_bytes())
            assert not feed.bozo, (monitor_id, name, feed.get("bozo_exception"))
            titles = [e.title for e in feed.entries]
            assert "[Maintenance] Network work" in titles  # covers every monitor
            assert ("[Maintenance] Database upgrade" in titles) == (monitor_id in ("svc-0000", "svc-0001"))
            for entry in feed.entries:
                assert entry.link.startswith("../../")  # relative to the feed's own address
                target = (out / "monitors" / monitor_id / entry.link).resolve()
                assert target.is_file(), entry.link
    two = feedparser.parse((out / "monitors" / "svc-0002" / "history.atom").read_bytes())
    assert any("Service 2" in e.title for e in two.entries)
    assert not any("Service 0" in e.title for e in two.entries)
    page = (out / "monitors" / "svc-0002" / "index.html").read_text()
    assert 'rel="alternate" type="application/atom+xml" title="Service 2: Atom feed" href="../../monitors/svc-0002/history.atom"' in page


def _unfold(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line
    return text.replace("\r\n ", "").split("\r\n")


def test_maintenance_calendar_is_valid_icalendar(sites):
    lines = _unfold((sites["en"] / "maintenance.ics").read_bytes())
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events = [i for i, line in enumerate(lines) if line == "BEGIN:VEVENT"]
    assert len(events) == 2
    network = lines[lines.index("SUMMARY:Network work") - 5:]
    assert "DTSTART:20261126T213000Z" in network[:6] and "DTEND:20261126T223000Z" in network[:6]
    assert any(line.startswith("UID:maint-net@") for line in lines)
    assert "DESCRIPTION:Affects: All services\\n\\nAll services may blip." in lines
    long = "x" * 40 + "维护" * 30
    assert all(len(part.encode()) <= 75 for part in fold("SUMMARY:" + long).split("\r\n"))
    assert fold("SUMMARY:" + long).replace("\r\n ", "") == "SUMMARY:" + long


def test_subscribe_page_offers_feeds_calendar_api_and_github(sites, tmp_path):
    page = (sites["en"] / "subscribe" / "index.html").read_text()
    for href in ('href="../history.atom"', 'href="../history.rss"', 'href="../maintenance.ics"',
                 'href="../monitors/svc-0003/history.atom"', 'href="../api/v2/summary.json"',
                 'href="https://github.com/example/status"', 'href="https://github.com/example/status/issues?q=label%3Aincident"'):
        assert href in page, href
    assert 'href="subscribe/index.html">Subscribe</a>' in (sites["en"] / "index.html").read_text()
    # without a repository there is no GitHub section, and a bad value never becomes a link
    for repository in (None, "javascript:alert(1)//x", "../../evil"):
        config = sample_config(1)
        config = replace(config, site=replace(config.site, repository=repository))
        build_site(config, None, [], [], tmp_path / "_site", now=NOW)
        other = (tmp_path / "_site" / "subscribe" / "index.html").read_text()
        assert "github.com" not in other and "javascript:" not in other
