"""Secrets in the copies services send back (issue 17): each leak as reported, then the rule behind the fix.

Real probes and restart hooks against the loopback reflector; no mocks.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, quote_plus

import pytest

from generator import secrets
from generator.history import History
from generator.models import Check, CheckStatus, Impact, Monitor, MonitorState, RestartSpec, State
from generator.notify import Notifier
from generator.probes import PROBES
from generator.probes.http_spec import HttpExpect, HttpSpec, JsonAssertion
from generator.probes.tcp import TcpSpec
from generator.recovery import Recovery
from generator.timeutil import UTC
from tests.security.reflector import Reflector

TOKEN = "tok_9fQ2/xYz+Lm=Kp7RsT4uVwXy8Za1Bc3De5Fg6Hi0JkLmNoPqRsTuVwXyZ"  # 60 characters
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    secrets.clear()
    secrets.register(TOKEN)
    yield
    secrets.clear()


@pytest.fixture(scope="module")
def service() -> Iterator[Reflector]:
    with Reflector() as running:
        yield running


def pieces(text: str, secret: str = TOKEN) -> list[str]:
    """Every 8-character piece of any usual form of ``secret`` found in ``text``."""
    data = secret.encode()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), base64.b64encode(data).decode()}
    forms |= {base64.b64encode(data[i:][: (len(data) - i) // 3 * 3]).decode() for i in range(3)}
    found = []
    for form in forms:
        found += [form[i:i + 8] for i in range(len(form) - 7) if form[i:i + 8] in text]
    return found


def probe(url: str, **spec: object) -> Check:
    monitor = Monitor(id="m", name="M", type="http", spec=HttpSpec(url=url, **spec), timeout=3.0)  # type: ignore[arg-type]
    return PROBES["http"](monitor, 3.0)


# --------------------------------------------------------------------------- as reported


def test_a_json_assertion_masks_the_echoed_token_before_cutting_it(service: Reflector) -> None:
    check = probe(service.url("/json"), headers=(("Authorization", f"Bearer {TOKEN}"),),
                  expect=HttpExpect(json=(JsonAssertion("auth", equals="nope", has_equals=True),)))
    assert check.status is CheckStatus.DOWN
    assert check.error == 'json path auth: got "Bearer ***", expected "nope"'


@pytest.mark.parametrize("field", ["quoted", "b64", "q"])
def test_json_assertions_mask_encoded_echoes(service: Reflector, field: str) -> None:
    check = probe(service.url(f"/json?t={TOKEN}"), headers=(("Authorization", f"Bearer {TOKEN}"),),
                  expect=HttpExpect(json=(JsonAssertion(field, equals="nope", has_equals=True),)))
    assert check.status is CheckStatus.DOWN and "***" in check.error
    assert pieces(check.error) == [], check.error


def test_body_contains_a_secret_is_quoted_masked(service: Reflector) -> None:
    check = probe(service.url("/text"), expect=HttpExpect(body_contains=(TOKEN,)))
    assert check.error == "body does not contain '***'"


def test_a_redirect_to_ftp_with_the_secret_in_its_query_is_not_published(service: Reflector) -> None:
    check = probe(service.url(f"/redirect-ftp?t={quote(TOKEN, safe='')}"))
    assert check.status is CheckStatus.DOWN
    assert "ftp://127.0.0.1:1/file?q=***" in check.error and pieces(check.error) == [], check.error


def test_final_url_after_a_redirect_keeps_no_query_value(service: Reflector) -> None:
    check = probe(service.url(f"/redirect?t={quote(TOKEN, safe='')}"))
    assert check.status is CheckStatus.UP
    assert check.details["final_url"] == service.url("/landing?q=***&b=***")


def test_user_info_is_never_stored_as_final_url(service: Reflector) -> None:
    password = "hunter2-correct-horse"
    secrets.register(password)
    direct = probe(f"http://user:{password}@127.0.0.1:{service.port}/basic")
    assert "final_url" not in direct.details  # no redirect, nothing to store
    redirected = probe(f"http://user:{password}@127.0.0.1:{service.port}/redirect?t=x")
    assert redirected.details["final_url"] == service.url("/landing?q=***&b=***")


@pytest.mark.parametrize("mode", ["cut", "encoded"])
def test_restart_hook_errors_mask_before_quoting_200_characters(tmp_path: Path, service: Reflector,
                                                                mode: str) -> None:
    monitor = Monitor(id="api", name="API", type="tcp", spec=TcpSpec(host="127.0.0.1", port=1),
                      restart=RestartSpec(url=service.url(f"/restart?mode={mode}&token={TOKEN}"), timeout=1.0))
    state = MonitorState(monitor_id="api", status=State.DOWN, since=NOW, consecutive_failures=3,
                         incident_open=True, incident_impact=Impact.DOWN, incident_started=NOW, incident_key="1")
    check = Check(monitor_id="api", time=NOW, status=CheckStatus.DOWN, error="down")
    attempt = Recovery(History(tmp_path), sleep=lambda seconds: None).attempt(monitor, state, check, "1", NOW)
    assert attempt.error.startswith("HTTP 500") and "***" in attempt.error
    timeline = Recovery.timeline_text(attempt)
    assert pieces(attempt.error) == [] and pieces(timeline) == [], attempt.error


def test_notified_target_urls_are_shown_without_tokens(tmp_path: Path) -> None:
    from generator.models import NotifyTarget, Transition, TransitionKind

    monitor = Monitor(id="api", name="API", type="tcp", spec=TcpSpec(host="127.0.0.1", port=1),
                      notify=(NotifyTarget(url=f"json://user:pw-{TOKEN[:8]}@127.0.0.1:9/hook?token={TOKEN}"),))
    check = Check(monitor_id="api", time=NOW, status=CheckStatus.DOWN, error="down")
    transition = Transition(TransitionKind.OPENED, "api", NOW, Impact.DOWN, check, started=NOW)
    shown = Notifier(History(tmp_path), send=lambda *args: True).notify(monitor, transition)
    assert shown == ["json://127.0.0.1:9/hook?token=***"]


# --------------------------------------------------------------------------- the rule


def test_every_form_and_every_8_character_window_is_masked() -> None:
    basic = base64.b64encode(f"user:{TOKEN}".encode()).decode()
    for text in (TOKEN, quote(TOKEN, safe=""), quote(TOKEN).lower(), quote_plus(TOKEN), basic,
                 base64.urlsafe_b64encode(TOKEN.encode()).decode(), TOKEN[:51], TOKEN[9:17],
                 quote(TOKEN, safe="")[20:60], basic[:30]):
        assert pieces(secrets.mask(f"[{text}]")) == [], text
    assert secrets.mask(f"Basic {basic}").startswith("Basic dXNlcjp")  # "user:" stays readable
    for shift in range(3):  # the three alignments of the secret inside a longer base64 text
        wrapped = base64.b64encode(("x" * shift + TOKEN + "tail").encode()).decode()
        assert pieces(secrets.mask(wrapped)) == [], shift


def test_short_pieces_and_short_secrets_are_left_alone() -> None:
    assert secrets.mask(TOKEN[:7] + " ok") == TOKEN[:7] + " ok"  # 7 characters are not a secret
    secrets.register("abc123")
    assert secrets.mask("abc12 and abc123") == "abc12 and ***"


def test_a_secret_url_keeps_its_address_public() -> None:
    secrets.register("https://hooks.example.com/services/T000/B000/XXXXXXXXXXXX")
    assert secrets.mask("see https://hooks.example.com/status") == "see https://hooks.example.com/status"
    assert secrets.mask("POST https://hooks.example.com/services/T000/B000/XXXXXXXXXXXX") == "POST ***"
    assert secrets.mask("path /services/T000/B0") == "path ***"


def test_clip_masks_before_it_cuts() -> None:
    assert secrets.clip("A" * 10 + TOKEN, 30) == "A" * 10 + "***"
    assert secrets.clip("x" * 40, 10) == "x" * 9 + "…"


def test_safe_url_strips_user_info_and_query_values() -> None:
    assert secrets.safe_url("ftp://u:p@host:21/x?q=1&r=&s#frag") == "ftp://host:21/x?q=***&r=***&s=***#frag"
    assert secrets.safe_url("http://[::1]:8080/a?b=c") == "http://[::1]:8080/a?b=***"
    assert secrets.safe_url("http://user@host/") == "http://host/"
