"""Incident text shared by the trackers, notify and recovery (generator/incidents/text.py) and the label scheme."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from generator.incidents import labels as L
from generator.incidents import text
from generator.models import Check, CheckStatus, Impact
from generator.secrets import register

T = datetime(2026, 11, 24, 21, 57, 3, tzinfo=timezone.utc)


def test_times_are_shown_in_utc_whatever_the_zone():
    east = T.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert text.human_time(east) == "2026-11-24 21:57:03"
    assert text.utc_time(east) == "2026-11-24 21:57:03 UTC"


def test_downtime_is_never_negative():
    assert text.downtime(T, T + timedelta(hours=2, minutes=5, seconds=9)) == "2h 5m"
    assert text.downtime(T, T - timedelta(minutes=1)) == "0s"


def test_titles():
    assert text.incident_title("API", Impact.DOWN) == "🛑 API is down"
    assert text.incident_title("API", Impact.DEGRADED) == "⚠️ API is degraded"


def test_markdown_escaping():
    # issue 17: entities for what python-markdown cannot backslash-escape, so both renderers show the text
    assert text.md_escape("a*b_[c](d) <x> `e` |") == r"a\*b\_\[c\]\(d\) &lt;x&gt; \`e\` &#124;"
    assert text.table_cell("two\nlines | <!-- x -->") == "two lines \\| &lt;!-- x -->"


def test_describe_check():
    check = Check("api", T, CheckStatus.DOWN, latency_ms=120.4, code=503, error="connection reset", attempts=3)
    assert text.describe_check(check) == "HTTP 503 in 120 ms after 3 attempts: connection reset"
    assert text.describe_check(Check("api", T, CheckStatus.DOWN, code=503, error="HTTP 503")) == "HTTP 503"
    assert text.describe_check(Check("api", T, CheckStatus.DEGRADED)) == "degraded"
    register("s3cr3t-value-for-describe")
    assert "s3cr3t" not in text.describe_check(Check("api", T, CheckStatus.DOWN, error="token s3cr3t-value-for-describe"))


def test_incident_labels_of_both_backends():
    assert L.incident_labels("api", Impact.DOWN) == ["incident", "down", "critical", "monitor:api", "automated"]
    assert L.incident_labels(None, Impact.DEGRADED, automated=False, resolved=True,
                             extra=["db", "down", "monitor:x", " db ", "resolved", ""]) == \
        ["incident", "degraded", "warning", "resolved", "db"]
