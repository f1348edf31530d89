"""Notifications through a real Apprise json:// target served on loopback: filtering and de-duplication."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator import secrets
from generator.history import History
from generator.models import Check, CheckStatus, Impact, Monitor, NotifyTarget, Transition, TransitionKind
from generator.notify import Notifier, message
from generator.probes.tcp import TcpSpec
from generator.timeutil import UTC


def make_history(path: Path) -> History:
    return History(path)


class Inbox:
    """Records every POST; answers ``code``."""

    def __init__(self, code=200):
        self.code = code
        self.posts: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append({"path": self.path, "json": json.loads(body or b"null")})
                self.send_response(outer.code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def url(self, path="/hook"):
        return f"json://127.0.0.1:{self.port}{path}"


@pytest.fixture
def inbox():
    boxes = []

    def start(code=200):
        box = Inbox(code)
        boxes.append(box)
        return box

    yield start
    for box in boxes:
        box.server.shutdown()
        box.server.server_close()


START = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def monitor(*targets: NotifyTarget) -> Monitor:
    return Monitor(id="api", name="Public API", type="tcp", spec=TcpSpec("127.0.0.1", 1), notify=targets)


def transition(kind: TransitionKind, impact: Impact, at: datetime, started=START) -> Transition:
    status = CheckStatus.UP if kind is TransitionKind.RESOLVED else CheckStatus.DOWN
    check = Check(monitor_id="api", time=at, status=status, code=503, latency_ms=40.0, error="HTTP 503")
    return Transition(kind=kind, monitor_id="api", time=at, impact=impact, check=check, started=started, incident_key="7")


def test_each_event_is_sent_once_even_across_runs(tmp_path, inbox):
    box = inbox()
    mon = monitor(NotifyTarget(url=box.url()))
    opened = transition(TransitionKind.OPENED, Impact.DOWN, START)
    first = Notifier(make_history(tmp_path)).notify(mon, opened, incident_url="https://x/issues/7", site_url="https://status.example")
    assert first == [box.url()]
    # the same transition again, in this run and in a later run (new Notifier, same data dir)
    assert Notifier(make_history(tmp_path)).notify(mon, opened) == []
    assert Notifier(make_history(tmp_path)).notify(mon, opened) == []
    assert len(box.posts) == 1
    post = box.posts[0]
    assert post["path"] == "/hook"
    assert post["json"]["title"] == "[critical] Public API is down"
    assert "2026-11-24 21:00:00 UTC" in post["json"]["message"]
    assert "https://x/issues/7" in post["json"]["message"] and "https://status.example" in post["json"]["message"]
    assert post["json"]["type"] == "failure"

    resolved = transition(TransitionKind.RESOLVED, Impact.DOWN, START + timedelta(minutes=12))
    assert Notifier(make_history(tmp_path)).notify(mon, resolved) == [box.url()]
    assert Notifier(make_history(tmp_path)).notify(mon, resolved) == []
    assert [p["json"]["type"] for p in box.posts] == ["failure", "success"]
    assert "after 12m down" in box.posts[1]["json"]["message"]

    # a new incident (new start) is a new message
    again = transition(TransitionKind.OPENED, Impact.DOWN, START + timedelta(hours=1), started=START + timedelta(hours=1))
    assert Notifier(make_history(tmp_path)).notify(mon, again) == [box.url()]
    assert len(box.posts) == 3


def test_severity_and_event_filters_and_follow_ups(tmp_path, inbox):
    critical_only = inbox()
    everything = inbox()
    resolved_only = inbox()
    mon = monitor(
        NotifyTarget(url=critical_only.url(), severities=("critical",)),
        NotifyTarget(url=everything.url(), events=("opened", "escalated", "resolved")),
        NotifyTarget(url=resolved_only.url(), events=("resolved",)),
    )
    notifier = Notifier(make_history(tmp_path))
    # degraded first: the critical-only target stays quiet
    notifier.notify(mon, transition(TransitionKind.OPENED, Impact.DEGRADED, START))
    assert (len(critical_only.posts), len(everything.posts), len(resolved_only.posts)) == (0, 1, 0)
    notifier.notify(mon, transition(TransitionKind.ESCALATED, Impact.DOWN, START + timedelta(minutes=5)))
    assert (len(critical_only.posts), len(everything.posts)) == (1, 2)
    assert critical_only.posts[0]["json"]["title"] == "[critical] Public API is now down"
    # back to degraded: the critical-only target was told about this incident, so it hears the follow-up
    notifier.notify(mon, transition(TransitionKind.DEESCALATED, Impact.DEGRADED, START + timedelta(minutes=8)))
    assert (len(critical_only.posts), len(everything.posts)) == (2, 3)
    notifier.notify(mon, transition(TransitionKind.RESOLVED, Impact.DEGRADED, START + timedelta(minutes=9)))
    assert (len(critical_only.posts), len(everything.posts), len(resolved_only.posts)) == (3, 4, 1)
    assert critical_only.posts[-1]["json"]["type"] == "success"


def test_a_failed_notification_is_logged_never_raises_and_is_retried_later(tmp_path, inbox, caplog):
    broken = inbox(code=500)
    good = inbox()
    token = "hook-token-7788990011"
    secrets.register(token)
    try:
        mon = monitor(
            NotifyTarget(url=broken.url(f"/{token}")),
            NotifyTarget(url="nosuchscheme://whatever"),
            NotifyTarget(url=good.url()),
        )
        caplog.set_level(logging.DEBUG)
        opened = transition(TransitionKind.OPENED, Impact.DOWN, START)
        sent = Notifier(make_history(tmp_path)).notify(mon, opened)
        assert sent == [good.url()]
        assert len(broken.posts) == 1  # Apprise did try
        assert "not delivered" in caplog.text
        assert token not in caplog.text
        # the failed target was not recorded: an identical later call tries it again; the good one stays quiet
        broken.code = 200
        assert Notifier(make_history(tmp_path)).notify(mon, opened) == [f"json://127.0.0.1:{broken.port}/***"]
        assert len(good.posts) == 1 and len(broken.posts) == 2
        ledger_text = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file())
        assert token not in ledger_text and "127.0.0.1" not in ledger_text
    finally:
        secrets.clear()


def test_messages_for_each_kind_and_masked():
    secrets.register("sekrit-value-123")
    try:
        mon = monitor()
        check = Check(monitor_id="api", time=START, status=CheckStatus.DOWN, error="auth sekrit-value-123 refused")
        reopened = Transition(TransitionKind.REOPENED, "api", START, Impact.DOWN, check, started=START)
        title, body, kind = message(mon, reopened)
        assert title == "[critical] Public API is down again" and kind == "failure"
        assert "sekrit-value-123" not in body and "***" in body
        deesc = Transition(TransitionKind.DEESCALATED, "api", START, Impact.DEGRADED, check, started=START)
        assert message(mon, deesc)[0] == "[warning] Public API is degraded, no longer down"
    finally:
        secrets.clear()


def test_no_targets_no_work(tmp_path):
    assert Notifier(make_history(tmp_path)).notify(monitor(), transition(TransitionKind.OPENED, Impact.DOWN, START)) == []
    assert not (tmp_path / "cache").exists()


def test_reopened_reaches_targets_listing_opened_or_reopened_only_once(tmp_path, inbox):
    opened_only = inbox()
    reopened_only = inbox()
    resolved_only = inbox()
    mon = monitor(
        NotifyTarget(url=opened_only.url(), events=("opened",)),
        NotifyTarget(url=reopened_only.url(), events=("reopened",)),
        NotifyTarget(url=resolved_only.url(), events=("resolved",)),
    )
    flap = transition(TransitionKind.REOPENED, Impact.DOWN, START + timedelta(minutes=20))
    notifier = Notifier(make_history(tmp_path))
    assert len(notifier.notify(mon, flap)) == 2
    assert notifier.notify(mon, flap) == []
    assert (len(opened_only.posts), len(reopened_only.posts), len(resolved_only.posts)) == (1, 1, 0)
    assert opened_only.posts[0]["json"]["title"] == "[critical] Public API is down again"


def test_a_reopening_after_notify_every_is_sent_with_the_count_of_outages(tmp_path, inbox):
    from dataclasses import replace as evolve

    box = inbox()
    mon = monitor(NotifyTarget(box.url("/flaps")))
    notifier = Notifier(make_history(tmp_path), notify_every=1800.0)
    minute = timedelta(minutes=1)

    def flap(kind, at, started, flaps):
        return evolve(transition(kind, Impact.DOWN, START + at, started=START + started), opened=START, flaps=flaps)

    sent = [
        notifier.notify(mon, flap(TransitionKind.OPENED, 0 * minute, 0 * minute, 0)),
        notifier.notify(mon, flap(TransitionKind.RESOLVED, 1 * minute, 0 * minute, 0)),
        notifier.notify(mon, flap(TransitionKind.REOPENED, 2 * minute, 2 * minute, 1)),  # held: 1 min after
        notifier.notify(mon, flap(TransitionKind.RESOLVED, 3 * minute, 2 * minute, 1)),  # held: they know it is up
        notifier.notify(mon, flap(TransitionKind.REOPENED, 40 * minute, 40 * minute, 2)),  # 39 min after: sent
        notifier.notify(mon, flap(TransitionKind.RESOLVED, 41 * minute, 40 * minute, 2)),  # its recovery: sent
    ]
    assert [bool(s) for s in sent] == [True, True, False, False, True, True]
    reopened = box.posts[2]["json"]
    assert reopened["title"] == "[critical] Public API is down again (flapping)"
    assert "3 times since 2026-11-24 21:00:00 UTC" in reopened["message"]
