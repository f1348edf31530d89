"""Issue 17: text from a probed service is text, never Markdown, wherever it is written."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from generator.incidents.text import describe_check, md_escape, md_unescape
from generator.models import Check, CheckStatus
from generator.site.markup import render_markdown

T = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)
HOSTILE = [
    "[phish](https://evil.example/login)", "![x](https://evil.example/p.png)", "<https://evil.example/a>",
    "see https://evil.example/b and www.evil.example/c", "<b>bold</b> <script>alert(1)</script>",
    "*em* __strong__ `code` ~~del~~ | a | b |", "# heading", "1. list", "a@evil.example",
]


@pytest.mark.parametrize("said", HOSTILE)
def test_a_probed_error_written_into_markdown_renders_as_the_same_text_and_no_markup(said):
    line = describe_check(Check("api", T, CheckStatus.DOWN, code=503, error=said))
    html = str(render_markdown(line))
    assert "<a " not in html and "<script" not in html and "<b>" not in html and "<em>" not in html
    assert "<h" not in html and "<ol" not in html and "<img" not in html
    # GitHub autolinks bare URLs outside code: none is left outside a code span
    outside = re.sub(r"`[^`]*`", "", md_escape(said))
    assert not re.search(r"https?://|www\.|@evil", outside)
    assert md_unescape(md_escape(said)) == " ".join(said.split())  # nothing is lost


def test_the_phishing_link_from_the_issue_is_text_in_every_markdown_writer():
    from generator.incidents.github.text import check_line, issue_body  # noqa: F401 - the call sites
    from generator.recovery.words import timeline_text  # noqa: F401

    check = Check("api", T, CheckStatus.DOWN, code=200, error="body: [phish](https://evil.example/login)")
    html = str(render_markdown(describe_check(check)))
    assert "phish" in html and "https://evil.example/login" in html and "href" not in html
