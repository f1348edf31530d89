"""Loading valid configurations: every monitor type, defaults and their merging, the demo file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.config import ConfigError, Problem, format_problems, load_config, summary, validate_file
from generator.probes.dns import DnsSpec
from generator.probes.http_spec import HttpSpec, JsonAssertion
from generator.probes.tcp import TcpSpec
from generator.probes.tls import TlsSpec

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests" / "data" / "configs" / "valid"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_minimal_file_gets_every_default(tmp_path):
    config = load_config(write(tmp_path, """
        monitors:
          - id: home
            url: http://127.0.0.1:8080/
    """))
    (monitor,) = config.monitors
    assert monitor.id == "home" and monitor.name == "home" and monitor.type == "http"
    assert monitor.spec == HttpSpec(url="http://127.0.0.1:8080/")
    assert monitor.spec.expect.status == ((200, 399),)
    assert (monitor.timeout, monitor.retries, monitor.retry_backoff) == (10.0, 2, 0.5)
    assert (monitor.failure_threshold, monitor.success_threshold) == (1, 1)
    assert monitor.restart is None and monitor.notify == () and monitor.labels == ()
    assert monitor.line == 3
    assert config.site.title == "Status" and config.settings.retention_days == 90
    assert config.path == str(tmp_path / "monitors.yaml")


def test_full_fixture_every_type_and_option():
    config = load_config(VALID / "full.yaml")
    web, api, db, cert, dns = config.monitors

    assert config.site.base_url == "https://example.github.io/status/"  # a trailing slash is added
    assert (config.site.timezone, config.site.language, config.site.repository) == \
        ("Europe/Berlin", "zh", "example/status")
    settings = config.settings
    assert (settings.concurrency, settings.retention_days, settings.degraded_counts_as_up) == (4, 30, False)
    assert settings.flap_window == 600.0 and settings.quorum == 2
    assert settings.canary.type == "http" and settings.canary.target == "https://www.example.com/"
    assert settings.canary.timeout == 2.0 and settings.regions == ("eu", "us", "asia")

    assert isinstance(web.spec, HttpSpec)
    assert web.spec.method == "HEAD" and web.spec.follow_redirects is False
    # headers merge by name without case: the monitor's user-agent replaces the default one
    assert web.spec.headers == (("user-agent", "custom"), ("X-Extra", "1"))
    expect = web.spec.expect
    assert expect.status == ((200, 200), (300, 399))  # from defaults.expect
    assert expect.degraded_after == 2.0  # from defaults.expect, merged key by key
    assert expect.body_contains == ("Welcome", "Example") and expect.body_not_contains == ("Error",)
    assert expect.body_regex == r"v\d+\.\d+"
    assert expect.json == (
        JsonAssertion(path="status", equals="ok", has_equals=True),
        JsonAssertion(path="data.items[0].id", exists=True),
        JsonAssertion(path="data.missing", exists=False),
        JsonAssertion(path="count", exists=True),  # a path alone asserts it exists
        JsonAssertion(path="value", equals=None, has_equals=True),  # equals: null is an assertion
    )
    # restart merges defaults.restart, a YAML merge key and the monitor's own keys
    assert web.restart.url == "https://deploy.example.com/hooks/restart"
    assert web.restart.method == "POST" and web.restart.secret == "shared-secret"
    assert web.restart.cooldown == 300.0 and web.restart.after_failures == 2
    assert web.restart.max_attempts == 3 and web.restart.verify_for == 60.0
    assert [target.url for target in web.notify] == ["mailto://ops@example.com", "tgram://token/chat"]
    assert web.notify[0].severities == ("critical",) and web.notify[0].events == ("opened", "resolved")
    assert web.notify[1].severities == ("critical", "warning")
    assert web.labels == ()  # the monitor's empty list replaces the default labels
    assert (web.timeout, web.retries, web.retry_backoff) == (5.0, 3, 0.25)
    assert (web.failure_threshold, web.success_threshold) == (2, 2)

    assert api.spec.method == "POST" and api.spec.body == '{"ping": true}'
    assert api.spec.verify_tls is False and api.spec.ca_bundle == str(VALID / "certs" / "internal.pem")
    assert api.spec.headers == (("User-Agent", "statusgen"),)
    assert api.spec.expect.status == ((200, 299),) and api.spec.expect.degraded_after == 2.0
    assert (api.timeout, api.retries) == (1.5, 0)
    assert api.regions == ("eu",) and api.labels == ("prod",)
    assert api.restart is None  # defaults.restart alone does not give a monitor a restart
    assert [target.url for target in api.notify] == ["json://127.0.0.1:9/hook"]

    assert db.spec == TcpSpec(host="db.internal.example.com", port=5432)
    assert db.notify == () and db.regions == ("eu", "us")

    assert cert.spec == TlsSpec(host="www.example.com", port=8443, server_name="example.com",
                                ca_bundle=str(VALID / "certs" / "ca.pem"), degraded_days=30, down_days=7)
    assert cert.name == "cert" and cert.group is None

    assert dns.spec == DnsSpec(name="_dmarc.example.com", record_type="TXT",
                               resolver="[2606:4700:4700::1111]:53", expect=("v=DMARC1; p=reject",), match="all")
    assert [m.line for m in config.monitors] == [48, 82, 96, 104, 113]


def test_tcp_tls_dns_defaults():
    config = load_config(VALID / "tcp_tls_dns.yaml")
    ssh, ipv6, tls, dns, dns2 = config.monitors
    assert ssh.spec == TcpSpec(host="192.0.2.10", port=22)
    assert ipv6.spec == TcpSpec(host="::1", port=8080)
    assert tls.spec == TlsSpec(host="example.org")
    assert (tls.spec.port, tls.spec.degraded_days, tls.spec.down_days) == (443, 14, 3)
    assert dns.spec == DnsSpec(name="example.org", record_type="A", resolver=None, expect=(), match="any")
    assert dns2.spec == DnsSpec(name="example.org.", record_type="AAAA", resolver="9.9.9.9", expect=("2001:db8::1",))


def test_yaml_anchors_and_merge_keys(tmp_path):
    config = load_config(VALID / "anchors.yaml")
    one, two = config.monitors
    assert (one.timeout, one.retries, one.spec.expect.status) == (2.0, 1, ((200, 200),))
    assert two.timeout == 4.0  # the monitor's own key beats the merged one
    assert two.spec.url == "http://127.0.0.1:2/"


def test_settings_retention_in_days_and_tcp_canary():
    settings = load_config(VALID / "settings.yaml").settings
    assert settings.retention_days == 400 and settings.flap_window == 0.0
    assert settings.canary.type == "tcp" and settings.canary.target == "1.1.1.1:53" and settings.canary.timeout == 3.0


@pytest.mark.parametrize("text,days", [("90d", 90), ("36h", 2), ("1s", 1), ("12", 12)])
def test_retention_forms(tmp_path, text, days):
    config = load_config(write(tmp_path, f"""
        settings:
          retention: {text}
        monitors:
          - id: a
            url: http://127.0.0.1/
    """))
    assert config.settings.retention_days == days


@pytest.mark.parametrize("text,seconds", [("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("250ms", 0.25),
                                          ("2", 2.0), ("0.5", 0.5), ('"45"', 45.0)])
def test_duration_forms(tmp_path, text, seconds):
    config = load_config(write(tmp_path, f"""
        monitors:
          - id: a
            url: http://127.0.0.1/
            timeout: {text}
    """))
    assert config.monitors[0].timeout == seconds


@pytest.mark.parametrize("text,ranges", [
    ("200", ((200, 200),)),
    ('"204"', ((204, 204),)),
    ('"200-299"', ((200, 299),)),
    ('"2xx"', ((200, 299),)),
    ('[200, "301-302", 4XX]', ((200, 200), (301, 302), (400, 499))),
])
def test_status_forms(tmp_path, text, ranges):
    config = load_config(write(tmp_path, f"""
        monitors:
          - id: a
            url: http://127.0.0.1/
            expect:
              status: {text}
    """))
    assert config.monitors[0].spec.expect.status == ranges


def test_defaults_apply_to_every_monitor_and_monitors_override(tmp_path):
    config = load_config(write(tmp_path, """
        defaults:
          timeout: 4s
          retries: 0
          labels: [team-a]
          follow_redirects: false
          expect:
            body_contains: ok
        monitors:
          - id: a
            url: http://127.0.0.1/
          - id: b
            url: http://127.0.0.1/
            timeout: 1s
            labels: [team-b, urgent]
            follow_redirects: true
            expect:
              status: 204
          - id: c
            type: tcp
            host: localhost
            port: 1
    """))
    a, b, c = config.monitors
    assert (a.timeout, a.retries, a.labels, a.spec.follow_redirects) == (4.0, 0, ("team-a",), False)
    assert a.spec.expect.body_contains == ("ok",)
    assert (b.timeout, b.retries, b.labels, b.spec.follow_redirects) == (1.0, 0, ("team-b", "urgent"), True)
    assert b.spec.expect.status == ((204, 204),) and b.spec.expect.body_contains == ("ok",)
    assert (c.timeout, c.labels) == (4.0, ("team-a",))  # http-only defaults do not touch a tcp monitor


def test_shared_restart_webhook_from_defaults(tmp_path):
    config = load_config(write(tmp_path, """
        defaults:
          restart:
            url: https://hooks.example.com/restart
            headers: {X-Team: ops}
        monitors:
          - id: a
            url: http://127.0.0.1/
            restart:
              max_attempts: 5
              headers: {X-Service: a}
    """))
    restart = config.monitors[0].restart
    assert restart.url == "https://hooks.example.com/restart" and restart.max_attempts == 5
    assert restart.headers == (("X-Team", "ops"), ("X-Service", "a"))


def test_bundled_demo_monitors_yaml():
    config = load_config(ROOT / "monitors.yaml", environ={})
    by_id = {monitor.id: monitor for monitor in config.monitors}
    assert list(by_id) == ["website", "api", "search", "payments", "database"]
    assert config.site.title == "Acme Status"
    assert {monitor.group for monitor in config.monitors} == {"Web", "Backend"}
    assert by_id["website"].spec.url == "http://127.0.0.1:8711/"
    assert by_id["website"].spec.expect.body_contains == ("Welcome",)
    assert by_id["api"].spec.url == "http://127.0.0.1:8711/health"
    assert by_id["api"].spec.expect.json == (JsonAssertion(path="status", equals="ok", has_equals=True),)
    assert by_id["search"].spec.url == "http://127.0.0.1:8712/"
    assert by_id["search"].spec.expect.degraded_after == 1.0
    assert by_id["payments"].spec.url == "http://127.0.0.1:8713/"
    assert by_id["database"].spec == TcpSpec(host="127.0.0.1", port=8711)
    # short enough that the demo finishes in a few seconds
    for monitor in config.monitors:
        assert monitor.timeout <= 3 and monitor.retries <= 1 and monitor.retry_backoff <= 0.5
    assert summary(config) == f"{ROOT / 'monitors.yaml'}: 5 monitors (4 http, 1 tcp) in 2 groups, valid"


def test_bundled_demo_commented_examples_are_valid(tmp_path):
    """The commented tls, dns, restart and notify blocks in monitors.yaml, uncommented, load."""
    lines = (ROOT / "monitors.yaml").read_text(encoding="utf-8").splitlines()
    uncommented = []
    for line in lines:
        stripped = line.lstrip()
        # "  # key: value" -> "  key: value"; keep prose comments (no colon or a leading capital word)
        if stripped.startswith("# ") and not line.startswith("#") and ":" in stripped \
                and not stripped[2:3].isupper():
            indent = len(line) - len(stripped)
            uncommented.append(" " * indent + stripped[2:])
        else:
            uncommented.append(line)
    text = "\n".join(uncommented)
    assert "type: tls" in text and "type: dns" in text and "restart:" in text and "notify:" in text
    path = tmp_path / "monitors.yaml"
    path.write_text(text, encoding="utf-8")
    env = {"RESTART_SECRET": "s3cret-value", "TELEGRAM_TOKEN": "123:abc", "TELEGRAM_CHAT": "42"}
    config, problems = validate_file(path, environ=env, check_secrets=True)
    assert problems == [], format_problems(problems)
    by_id = {monitor.id: monitor for monitor in config.monitors}
    assert by_id["certificate"].type == "tls" and by_id["dns"].type == "dns"
    assert by_id["payments"].restart.secret == "s3cret-value"
    assert config.settings.canary is not None
    assert [t.url for t in by_id["website"].notify] == ["json://127.0.0.1:9/hook", "tgram://123:abc/42"]


def test_summary_wording():
    config = load_config(VALID / "full.yaml")
    assert summary(config).endswith("full.yaml: 5 monitors (2 http, 1 tcp, 1 tls, 1 dns) in 2 groups, valid")
    minimal = load_config(VALID / "minimal.yaml")
    assert summary(minimal).endswith("minimal.yaml: 1 monitor (1 http), valid")


def test_problem_text_and_github_annotation():
    problem = Problem("monitors.yaml", 12, 5, "monitors[3].expect.status", 'bad, really: 100%\nsecond line')
    assert str(problem) == 'monitors.yaml:12:5: monitors[3].expect.status: bad, really: 100%\nsecond line'
    assert problem.annotation() == \
        "::error file=monitors.yaml,line=12,col=5::monitors[3].expect.status: bad, really: 100%25%0Asecond line"
    whole_file = Problem("dir/a,b:c.yaml", 0, 0, "", "file not found")
    assert str(whole_file) == "dir/a,b:c.yaml: file not found"
    assert whole_file.annotation() == "::error file=dir/a%2Cb%3Ac.yaml::file not found"
    text = format_problems([problem, whole_file], github=True)
    assert text.splitlines()[0].startswith("monitors.yaml:12:5: ")
    assert sum(line.startswith("::error ") for line in text.splitlines()) == 2
    assert "::error" not in format_problems([problem, whole_file])


def test_config_error_carries_every_problem(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            url: ftp://x/
          - id: b
            type: tcp
            host: localhost
            port: 0
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    keys = [problem.key for problem in caught.value.problems]
    assert keys == ["monitors[0].url", "monitors[1].port"]
    assert str(caught.value).count("\n") == 1


def test_empty_sections_read_as_absent(tmp_path):
    config = load_config(write(tmp_path, """
        site:
          # title: commented out
        settings:
        defaults:
        monitors:
          - id: a
            url: http://127.0.0.1/
    """))
    assert config.site.title == "Status" and config.settings.concurrency == 32
    assert config.monitors[0].timeout == 10.0


def test_json_equals_keeps_yaml_types_but_dates_stay_text(tmp_path):
    config = load_config(write(tmp_path, """
        monitors:
          - id: a
            url: http://127.0.0.1/
            expect:
              json:
                - {path: version, equals: 2}
                - {path: ok, equals: true}
                - {path: day, equals: 2026-11-24}
                - {path: tags, equals: [a, {b: 1}]}
    """))
    values = [assertion.equals for assertion in config.monitors[0].spec.expect.json]
    assert values == [2, True, "2026-11-24", ["a", {"b": 1}]]


def test_stale_after_and_notify_every_are_settings_with_defaults(tmp_path):
    import json

    from generator.config.schema import SCHEMA_FILE

    default = load_config(write(tmp_path, "monitors:\n  - id: a\n    url: https://example.com/\n")).settings
    assert default.stale_after is None and default.notify_every == 1800.0  # stale: 3 intervals, >= 15 min
    given = load_config(write(tmp_path, "settings: {stale_after: 1h, notify_every: 10m}\n"
                                        "monitors:\n  - id: a\n    url: https://example.com/\n")).settings
    assert (given.stale_after, given.notify_every) == (3600.0, 600.0)
    with pytest.raises(ConfigError) as failure:
        load_config(write(tmp_path, "settings: {stale_after: 0s}\nmonitors:\n  - id: a\n    url: https://example.com/\n"))
    assert "stale_after" in str(failure.value)
    described = json.loads(SCHEMA_FILE.read_text())["properties"]["settings"]["properties"]
    assert "no data" in described["stale_after"]["description"] and described["notify_every"]["default"] == "30m"
