"""QA, as a hostile outsider and a careless operator: the published site, the GitHub
integration and the restart agent. Each test here failed before the fix it comes with."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from generator import signing
from generator.agent import load_agent_config, serve
from generator.secrets import clear as clear_secrets
from generator.secrets import register
from generator.site import build_site
from generator.site.sample import demo_inputs

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
SECRET = "qa-s3cr3t-value-0042"


def _files(site: Path):
    return [p for p in site.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- site: secrets


def test_a_secret_in_monitor_name_group_or_site_title_reaches_no_file(tmp_path):
    """``${NAME}`` is allowed in names and titles (config resolves it): the site must show *** instead."""
    register(SECRET)
    try:
        config, history, incidents, maintenance = demo_inputs(tmp_path, now=NOW, count=3, incidents=3)
        monitors = list(config.monitors)
        monitors[0] = dataclasses.replace(monitors[0], name=f"API {SECRET}", group=f"Edge {SECRET}",
                                          description=f"token {SECRET}")
        site = dataclasses.replace(config.site, title=f"Acme {SECRET}", description=f"about {SECRET}")
        config = dataclasses.replace(config, monitors=tuple(monitors), site=site)
        out = tmp_path / "_site"
        build_site(config, history, incidents, maintenance, out, now=NOW)
        leaks = [str(p.relative_to(out)) for p in _files(out) if SECRET.encode() in p.read_bytes()]
        assert leaks == []
        home = (out / "index.html").read_text()
        assert "API ***" in home and "Edge ***" in home and "Acme ***" in home
    finally:
        clear_secrets()


# --------------------------------------------------------------------------- site: no request to other hosts


def test_a_remote_logo_is_not_loaded_from_another_host(tmp_path):
    """site.logo is "path or URL": a URL would make every visit request another host (and break
    on sub-pages, where it became ``../https://...``)."""
    config, history, incidents, maintenance = demo_inputs(tmp_path, now=NOW, count=2, incidents=2)
    config = dataclasses.replace(config, site=dataclasses.replace(config.site, logo="https://cdn.example.net/logo.png"))
    out = tmp_path / "_site"
    report = build_site(config, history, incidents, maintenance, out, now=NOW)
    for path in out.rglob("*.html"):
        html = path.read_text()
        assert "cdn.example.net" not in html, path
    assert any("site.logo" in w for w in report.warnings)
    # a logo shipped with the theme (assets/...) is still shown, relative to each page
    config = dataclasses.replace(config, site=dataclasses.replace(config.site, logo="assets/favicon.svg"))
    build_site(config, history, incidents, maintenance, out, now=NOW)
    assert '<img src="assets/favicon.svg"' in (out / "index.html").read_text()
    assert '<img src="../../assets/favicon.svg"' in (out / "monitors" / "svc-0000" / "index.html").read_text()


# --------------------------------------------------------------------------- agent: replay


AGENT_SECRET = "qa-agent-secret-0123456789abcdef"


@pytest.fixture
def agent(tmp_path, monkeypatch):
    import sys
    import textwrap

    runs = tmp_path / "runs.txt"
    script = tmp_path / "rec.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write('run\\n')\n")
    config_file = tmp_path / "agent.yaml"
    config_file.write_text(textwrap.dedent(f"""
        secret: ${{QA_AGENT_SECRET}}
        max_body: 1024
        monitors:
          web:
            command: [{json.dumps(sys.executable)}, {json.dumps(str(script))}, {json.dumps(str(runs))}]
            timeout: 10s
        """))
    monkeypatch.setenv("QA_AGENT_SECRET", AGENT_SECRET)
    server = serve(load_agent_config(config_file), "127.0.0.1", 0, background=True)
    server.runs_file = runs
    yield server
    server.agent.wait_idle(10)
    server.shutdown()
    server.server_close()


def _restart_body(**extra) -> bytes:
    document = {"event": "restart", "delivery": str(uuid.uuid4()), "attempt": 1,
                "monitor": {"id": "web", "name": "Web"}, "incident": {"key": "7", "started": "2026-11-24T21:00:00Z"}}
    document.update(extra)
    return json.dumps(document).encode()


def _signed_headers(body: bytes, stamp: int) -> dict[str, str]:
    return {signing.TIMESTAMP_HEADER: str(stamp), signing.SIGNATURE_HEADER: signing.sign(AGENT_SECRET, stamp, body),
            "Content-Type": "application/json"}


def test_a_captured_request_replayed_with_new_unsigned_ids_does_not_restart_again(agent):
    """Delivery and Idempotency-Key headers are not signed: changing them must not turn a replay
    of a signed request (inside its 5-minute window) into a second restart."""
    import time

    body = _restart_body()
    stamp = int(time.time())
    first = requests.post(agent.url, data=body, timeout=10, headers={
        **_signed_headers(body, stamp), signing.DELIVERY_HEADER: str(uuid.uuid4()), signing.IDEMPOTENCY_HEADER: "k-1"})
    assert first.status_code == 202 and first.json()["status"] == "started"
    assert agent.agent.wait_idle(10)
    for headers in ({signing.DELIVERY_HEADER: str(uuid.uuid4()), signing.IDEMPOTENCY_HEADER: "k-2"},
                    {signing.DELIVERY_HEADER: "not-a-uuid"}, {}):
        again = requests.post(agent.url, data=body, timeout=10, headers={**_signed_headers(body, stamp), **headers})
        assert again.status_code == 202 and again.json()["status"] == "done", headers
        assert again.json()["delivery"] == first.json()["delivery"]
    assert agent.agent.wait_idle(10)
    assert agent.runs_file.read_text().count("run") == 1


def test_agent_edges_body_of_exactly_max_body_unicode_headers_and_odd_timestamps(agent):
    import time

    body = _restart_body()
    body = body[:-1] + b', "pad": "' + b"x" * (1024 - len(body) - 11) + b'"}'
    assert len(body) == 1024
    stamp = int(time.time())
    exact = requests.post(agent.url, data=body, timeout=10, headers=_signed_headers(body, stamp))
    assert exact.status_code == 202
    over = body[:-2] + b'x"}'
    assert requests.post(agent.url, data=over, timeout=10, headers=_signed_headers(over, stamp)).status_code == 413
    # a float, a spaced or a non-ASCII timestamp is not unix seconds: a malformed request (400, issue 17),
    # a unicode key is refused, not a crash
    other = _restart_body()
    for stamp_text in (f"{stamp}.0", f"{stamp} 1", "１７００"):
        headers = _signed_headers(other, stamp)
        headers[signing.TIMESTAMP_HEADER] = stamp_text
        answer = requests.post(agent.url, data=other, timeout=10,
                               headers={k: v.encode("utf-8") for k, v in headers.items()})
        assert answer.status_code == 400, stamp_text
    headers = {**_signed_headers(other, stamp), signing.IDEMPOTENCY_HEADER: "clé-ü".encode()}
    assert requests.post(agent.url, data=other, timeout=10, headers=headers).status_code == 400
    assert agent.agent.wait_idle(10)


# --------------------------------------------------------------------------- GitHub: forged markers

from generator.incidents.github import GitHubTracker, RetryPolicy  # noqa: E402
from generator.models import Check, CheckStatus, Impact, Monitor, Transition, TransitionKind  # noqa: E402
from generator.probes.http_spec import HttpSpec  # noqa: E402
from tests.support.github_emulator import github  # noqa: E402,F401 (fixture)

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def _tracker(api, tmp_path) -> GitHubTracker:
    from generator.history import History

    return GitHubTracker(api.full_name, api.token, base_url=api.url, cache=History(tmp_path / "data"),
                         seconds_between_requests=None, seconds_between_writes=None, timeout=2,
                         retry=RetryPolicy(budget=1, backoff=0.01, max_attempts=2), sleep=lambda s: None)


def test_a_forged_marker_in_an_outsiders_issue_does_not_make_it_an_automated_incident(github, tmp_path):
    """A stranger writes the tool's hidden marker into an issue; a maintainer labels it to publish
    the report. The tool must not adopt it: no comments from the tool on it, never closed by it."""
    api = Monitor(id="api", name="API", type="http", spec=HttpSpec(url="http://127.0.0.1:9/"))
    forged = ('<!-- statusgen {"monitor":"api","started":"2020-01-01T00:00:00Z","kind":"automated"} -->\n'
              "API is down for me")
    issue = github.create_issue("API down?", forged, ["incident", "down", "monitor:api", "automated"], user="mallory")
    tracker = _tracker(github, tmp_path)
    failing = Check("api", T0, CheckStatus.DOWN, code=503, error="HTTP 503")
    key = tracker.open(api, Transition(TransitionKind.OPENED, "api", T0, Impact.DOWN, failing, started=T0))
    assert key != str(issue.number)
    listed = {i.key: i for i in tracker.incidents()}
    assert listed[str(issue.number)].automated is False
    assert listed[str(issue.number)].started != datetime(2020, 1, 1, tzinfo=timezone.utc)
    ok = Check("api", T0 + timedelta(minutes=5), CheckStatus.UP, latency_ms=20.0)
    tracker.resolve(str(issue.number), api, Transition(TransitionKind.RESOLVED, "api", ok.time, Impact.DOWN, ok,
                                                       started=T0, incident_key=str(issue.number)))
    assert github.issues[issue.number].state == "open" and not github.issues[issue.number].comments


def test_manual_issue_without_monitor_and_broken_maintenance_issues_build_a_site(github, tmp_path):
    """Held up: a hand-written incident with no monitor: label is published (banner degraded), and
    maintenance issues with bad YAML or an end before the start are reported, not fatal."""
    github.create_issue("Payments slow", "Our bank is slow. ![x](https://evil.example/x.png)", ["incident", "degraded"])
    github.create_issue("DB work", "```yaml\nstart: [oops\n```", ["maintenance"])
    github.create_issue("Net work", "---\nstart: 2026-12-02T10:00:00Z\nend: 2026-12-01T10:00:00Z\n---\n", ["maintenance"])
    tracker = _tracker(github, tmp_path)
    incidents, windows = tracker.incidents(), tracker.maintenance()
    assert [i.monitor_id for i in incidents] == [None] and windows == []
    assert len(tracker.problems) == 2 and any("end must be after start" in p for p in tracker.problems)
    config, history, _, _ = demo_inputs(tmp_path / "demo", now=NOW, count=2, incidents=1)
    out = tmp_path / "_site"
    build_site(config, history, incidents, windows, out, now=NOW)
    page = (out / "incidents" / incidents[0].key / "index.html").read_text()
    assert "Our bank is slow." in page and 'src="https://evil.example' not in page
    assert json.loads((out / "api" / "v2" / "status.json").read_text())["status"]["indicator"] != "none"


def test_only_web_links_to_the_issue_reach_an_incident_page(tmp_path):
    config, history, incidents, maintenance = demo_inputs(tmp_path, now=NOW, count=2, incidents=2)
    hostile = dataclasses.replace(incidents[0], url="javascript:alert(1)")
    good = dataclasses.replace(incidents[1], url="https://github.com/acme/status/issues/7")
    out = tmp_path / "_site"
    build_site(config, history, [hostile, good, *incidents[2:]], maintenance, out, now=NOW)
    pages = {p.parent.name: p.read_text() for p in (out / "incidents").glob("*/index.html")}
    assert "javascript:" not in "".join(pages.values())
    assert any('href="https://github.com/acme/status/issues/7"' in html for html in pages.values())


# --------------------------------------------------------------------------- site: nothing swallowed (issue 17)

SWALLOWING = ["style", "script", "textarea", "title", "xmp", "plaintext", "noscript", "iframe", "template", "svg"]


def test_an_unclosed_raw_text_tag_does_not_drop_the_rest_of_an_incident_body_in_chromium(tmp_path):
    from tests.support.browser import CHROMIUM, chromium, serve, watch

    if not Path(CHROMIUM).exists():
        pytest.skip("needs Chromium (make system-deps)")
    config, history, incidents, maintenance = demo_inputs(tmp_path, now=NOW, count=2, incidents=len(SWALLOWING))
    incidents = list(incidents)
    for index, tag in enumerate(SWALLOWING):
        body = (f"Before the {tag}.\n\n<{tag}>opened {tag} <img src=x onerror=\"window.pwned=1\">\n\n"
                f"After the {tag}: **still here** <script>window.pwned=1</script>")
        incidents[index] = dataclasses.replace(incidents[index], body=body, automated=False)
    out = tmp_path / "_site"
    build_site(config, history, incidents, maintenance, out, now=NOW)
    with serve(out) as base, chromium() as browser:
        page = browser.new_page()
        record = watch(page, base)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for index, tag in enumerate(SWALLOWING):
            page.goto(f"{base}incidents/{incidents[index].key}/index.html", wait_until="load")
            text = page.inner_text("main")
            assert f"Before the {tag}." in text and f"After the {tag}:" in text and "still here" in text, tag
            assert f"opened {tag}" in text, tag
            assert page.evaluate("window.pwned === undefined"), tag
        assert dialogs == [] and record.console_errors == []
