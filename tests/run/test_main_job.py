"""The main job end to end: `statusgen run` as a user runs it, against real loopback services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.support.switch import switchable_service

ROOT = Path(__file__).resolve().parents[2]


def statusgen(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    environ.update(env or {})
    environ["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeout)


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "monitors.yaml"
    path.write_text(textwrap.dedent(f"""\
        site:
          title: Test Status
          base_url: https://status.example.test/
        monitors:
          - id: shop
            name: Shop
            group: Web
            url: {url}
            timeout: 2s
            retries: 0
            expect:
              json:
                - path: status
                  equals: ok
        """) + extra)
    return path


def front_matter(path: Path) -> dict:
    text = path.read_text()
    assert text.startswith("---\n"), text[:80]
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.fixture
def service():
    with switchable_service() as svc:
        yield svc


def test_outage_opens_one_incident_and_recovery_resolves_it(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    first = statusgen("run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert not (tmp_path / "incidents").exists() or not list((tmp_path / "incidents").glob("*.md"))

    service.mode = "error"
    down = statusgen("run", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert "opened incident" in down.stdout
    files = sorted((tmp_path / "incidents").glob("*.md"))
    assert len(files) == 1, files
    meta = front_matter(files[0])
    assert meta["status"] == "open"
    assert {"incident", "down", "critical", "monitor:shop", "automated"} <= set(meta["labels"])

    again = statusgen("run", cwd=tmp_path)  # still down: no second incident
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "incidents").glob("*.md"))) == 1

    service.mode = "up"
    up = statusgen("run", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "resolved incident" in up.stdout
    meta = front_matter(files[0])
    assert meta["status"] == "resolved"
    assert {"incident", "down", "resolved"} <= set(meta["labels"])
    assert meta["resolved"] >= meta["started"]

    state = json.loads((tmp_path / "data" / "state.json").read_text())
    assert "shop" in json.dumps(state)
    assert (tmp_path / "_site" / "index.html").is_file()
    assert (tmp_path / "_site" / "api" / "v2" / "summary.json").is_file()


def test_slow_service_opens_a_degraded_warning_incident(tmp_path: Path, service) -> None:
    config = write_config(tmp_path, service.url)
    config.write_text(config.read_text().replace("      json:", "      degraded_after: 300ms\n      json:"))
    service.mode = "slow"
    service.slow_seconds = 0.6
    result = statusgen("run", "--no-build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "incidents").glob("*.md"))
    assert len(files) == 1
    meta = front_matter(files[0])
    assert meta["impact"] == "degraded" and meta["severity"] == "warning"
    assert {"incident", "degraded", "warning"} <= set(meta["labels"])


def test_invalid_config_exits_2_with_location_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "monitors.yaml").write_text("monitors:\n  - id: a\n    name: A\n    url: http://127.0.0.1:1/\n    timeout: soon\n")
    for command in ("check", "run", "probe", "build"):
        result = statusgen(command, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        assert "monitors.yaml:5:" in output and "timeout" in output
    assert not (tmp_path / "data").exists()


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = statusgen("run", "--config", "nowhere.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere.yaml" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_unreadable_state_exits_4_and_keeps_the_file(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    assert statusgen("run", "--no-build", cwd=tmp_path).returncode == 0
    state = tmp_path / "data" / "state.json"
    state.write_text("{ not json")
    result = statusgen("run", "--no-build", cwd=tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "state.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert state.read_text() == "{ not json"


def test_secret_in_url_never_printed(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url + "?token=${SHOP_TOKEN}")
    service.mode = "error"
    result = statusgen("run", cwd=tmp_path, env={"SHOP_TOKEN": "hunter2-very-secret"})
    assert result.returncode == 0, result.stderr
    everything = result.stdout + result.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            everything += path.read_text(errors="replace")
    assert "hunter2-very-secret" not in everything


def test_missing_secret_is_an_error_naming_monitor_and_key(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url + "?token=${SHOP_TOKEN}")
    result = statusgen("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "SHOP_TOKEN" in result.stderr and "shop" in result.stderr
    assert statusgen("check", cwd=tmp_path).returncode == 0  # pull requests have no secrets


def test_step_summary_gets_the_table(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    summary = tmp_path / "summary.md"
    service.mode = "error"
    result = statusgen("run", "--no-build", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    text = summary.read_text()
    assert "shop" in text and "|" in text and "opened incident" in text


# --------------------------------------------------------------------------- with GitHub (the local emulator)

from tests.support.github_emulator import Fault, github  # noqa: E402,F401  (fixture)


def github_env(emulator) -> dict:
    return {"GITHUB_TOKEN": emulator.token, "GITHUB_REPOSITORY": emulator.full_name,
            "GITHUB_API_URL": emulator.url, "STATUSGEN_GITHUB_BACKOFF": "0.05",
            "STATUSGEN_GITHUB_RETRY_BUDGET": "0.5", "STATUSGEN_GITHUB_WRITE_PACE": "0"}


def test_github_outage_opens_issue_and_recovery_closes_it(tmp_path: Path, service, github) -> None:
    write_config(tmp_path, service.url)
    env = github_env(github)
    assert statusgen("run", cwd=tmp_path, env=env).returncode == 0

    service.mode = "error"
    down = statusgen("run", cwd=tmp_path, env=env)
    assert down.returncode == 0, down.stderr
    issues = list(github.issues.values())
    assert len(issues) == 1
    assert github.issue_labels(issues[0].number) >= {"incident", "down", "critical", "monitor:shop", "automated"}
    assert not list((tmp_path / "incidents").glob("*.md")) if (tmp_path / "incidents").exists() else True

    assert statusgen("run", cwd=tmp_path, env=env).returncode == 0
    assert len(github.issues) == 1  # still down: the same issue, not a second

    service.mode = "up"
    up = statusgen("run", cwd=tmp_path, env=env)
    assert up.returncode == 0, up.stderr
    issue = github.issues[issues[0].number]
    assert issue.state == "closed"
    assert github.issue_labels(issue.number) >= {"incident", "down", "resolved"}
    assert (tmp_path / "_site" / "index.html").is_file()


def test_github_unavailable_exits_3_keeps_checks_and_reconciles(tmp_path: Path, service, github) -> None:
    write_config(tmp_path, service.url)
    env = github_env(github)
    service.mode = "error"
    github.inject(*[Fault(kind="status", status=502) for _ in range(200)])
    result = statusgen("run", cwd=tmp_path, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "502" in result.stderr
    raw = list((tmp_path / "data").rglob("*.tsv"))
    assert raw and "down" in "".join(p.read_text() for p in raw)  # the check was recorded
    assert (tmp_path / "_site" / "index.html").is_file()  # the site was still built

    github.faults.clear()
    again = statusgen("run", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(github.issues) == 1  # reconciled: exactly one incident
    assert "incident" in github.issue_labels(next(iter(github.issues)))


def test_malformed_incident_file_is_reported_and_skipped(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    (tmp_path / "incidents").mkdir()
    broken = tmp_path / "incidents" / "2026-11-20-broken.md"
    broken.write_text("---\ntitle: Broken\nimpact: down\nstatus: open\nstarted: last tuesday\n---\nbody\n")
    result = statusgen("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2026-11-20-broken.md" in result.stderr and "started" in result.stderr
    assert "Traceback" not in result.stderr
    assert broken.read_text().startswith("---\ntitle: Broken")  # never rewritten
    assert (tmp_path / "_site" / "index.html").is_file()


def test_run_notifies_once_per_event_with_the_issue_link(tmp_path: Path, service, github) -> None:
    from tests.test_notify import Inbox

    box = Inbox()
    try:
        write_config(tmp_path, service.url, extra=f"    notify:\n      - {box.url('/hook')}\n")
        env = github_env(github)
        service.mode = "error"
        for _ in range(3):  # three runs while it stays down: one notification
            assert statusgen("run", "--no-build", cwd=tmp_path, env=env).returncode == 0
        service.mode = "up"
        assert statusgen("run", "--no-build", cwd=tmp_path, env=env).returncode == 0
        assert statusgen("run", "--no-build", cwd=tmp_path, env=env).returncode == 0
    finally:
        box.server.shutdown()
        box.server.server_close()
    bodies = [json.dumps(post["json"]) for post in box.posts]
    assert len(bodies) == 2, bodies
    number = next(iter(github.issues))
    assert "Shop" in bodies[0] and f"/issues/{number}" in bodies[0]
    assert "resolved" in bodies[1].lower() or "recovered" in bodies[1].lower() or "back" in bodies[1].lower()


def test_broken_theme_override_is_a_clear_error_and_keeps_the_history(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "templates" / "home.html").write_text("{% extends 'base.html' %}{% block nope %}{{ missing_var }}{% endblock %}{% if %}")
    result = statusgen("run", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "home.html" in result.stderr and "Traceback" not in result.stderr
    assert list((tmp_path / "data").rglob("*.tsv"))  # the checks were recorded before the build failed
    (tmp_path / "site" / "templates" / "home.html").unlink()
    (tmp_path / "site" / "static").mkdir()
    (tmp_path / "site" / "static" / "style.css").write_text("body{background:#fefefe}")
    assert statusgen("build", cwd=tmp_path).returncode == 0
    assert (tmp_path / "_site" / "assets" / "style.css").read_text() == "body{background:#fefefe}"


def test_two_services_restarted_in_one_run_both_resolve_in_it(tmp_path: Path) -> None:
    import http.server
    import threading

    with switchable_service() as first, switchable_service() as second:
        services = {"/restart/first": first, "/restart/second": second}
        calls: list[str] = []

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                calls.append(self.path)
                service = services[self.path]
                threading.Timer(1.0, lambda: setattr(service, "mode", "up")).start()  # back a second later
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{hook.server_address[1]}/restart"
        try:
            monitors = ""
            for name, service in (("first", first), ("second", second)):
                service.mode = "error"
                monitors += textwrap.dedent(f"""\
                  - id: {name}
                    name: {name.title()}
                    url: {service.url}
                    timeout: 2s
                    retries: 0
                    restart:
                      url: {base}/{name}
                      secret: ${{HOOK_SECRET}}
                      verify_every: 300ms
                      verify_for: 10s
                """)
            (tmp_path / "monitors.yaml").write_text("monitors:\n" + textwrap.indent(monitors, "  "))
            result = statusgen("run", "--no-build", cwd=tmp_path, env={"HOOK_SECRET": "s3cret-hook-key"})
        finally:
            hook.shutdown()
            hook.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(calls) == ["/restart/first", "/restart/second"]
    for name in ("first", "second"):
        [incident] = list((tmp_path / "incidents").glob(f"*-{name}-*.md"))
        text = incident.read_text()
        assert front_matter(incident)["status"] == "resolved", text
        assert "Recovered after the restart" in text and "s3cret-hook-key" not in text


def test_github_settings_errors_exit_2_without_traceback(tmp_path: Path, service) -> None:
    write_config(tmp_path, service.url)
    cases = [
        (["--tracker", "github"], {}, "GITHUB_TOKEN"),
        ([], {"GITHUB_TOKEN": "ghp_x", "GITHUB_REPOSITORY": "not a repo"}, "owner/name"),
        ([], {"GITHUB_TOKEN": "ghp_x", "GITHUB_REPOSITORY": "a/b", "STATUSGEN_GITHUB_RETRY_BUDGET": "lots"},
         "STATUSGEN_GITHUB_RETRY_BUDGET"),
    ]
    for args, env, words in cases:
        result = statusgen("run", "--no-build", *args, cwd=tmp_path, env=env)
        assert result.returncode == 2, (args, env, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr


def test_github_issue_of_a_removed_monitor_is_closed_with_the_reason(tmp_path: Path, service, github) -> None:
    env = github_env(github)
    write_config(tmp_path, service.url)
    service.mode = "error"
    assert statusgen("run", "--no-build", cwd=tmp_path, env=env).returncode == 0
    [number] = list(github.issues)
    config = tmp_path / "monitors.yaml"
    config.write_text(config.read_text().replace("id: shop", "id: shop-v2"))  # renamed in a pull request
    result = statusgen("run", "--no-build", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert github.issues[number].state == "closed"
    assert "resolved" in github.issue_labels(number)
    closing = [c.body for c in github.comments.values() if c.issue == number][-1]
    assert "monitors.yaml" in closing and "is back up" not in closing


def test_demo_refuses_bad_ports(tmp_path: Path) -> None:
    (tmp_path / "monitors.yaml").write_text((ROOT / "monitors.yaml").read_text())
    for port in ("0", "-1", "many", "65535"):
        result = statusgen("demo", "--port", port, cwd=tmp_path)
        assert result.returncode == 2 and "--port" in result.stderr, result.stderr


def test_demo_crash_restart_resolve_on_free_ports_when_its_own_are_taken(tmp_path: Path) -> None:
    """`make run`'s scenario, faster through the test-only interval floor (2 s instead of 10 s):
    payments crashes, the incident opens, the agent restarts it, the incident is resolved."""
    import socket

    (tmp_path / "monitors.yaml").write_text((ROOT / "monitors.yaml").read_text())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        busy.listen()
        result = statusgen("demo", "--port", str(taken), cwd=tmp_path, env={"STATUSGEN_TEST_MIN_INTERVAL": "2"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"ports {taken}-{taken + 2} are taken; using" in output
    assert "Traceback" not in output
    lines = output.splitlines()
    order = [next(i for i, line in enumerate(lines) if text in line) for text in
             ("crashed: killed with SIGKILL", "for payments: Payments is down", "restart requested for payments: accepted",
              "resolved incident")]
    assert order == sorted(order), output
    [incident] = sorted((tmp_path / "data" / "demo-incidents").glob("*-payments-*.md"))
    assert "status: resolved" in incident.read_text()
    assert (tmp_path / "_site" / "index.html").exists()
    assert not (tmp_path / "incidents").exists()


def test_merged_results_for_unknown_monitors_are_not_recorded(tmp_path: Path, service) -> None:
    from generator.models import Check, CheckStatus
    from generator.run.shard import write_partial
    from generator.timeutil import utcnow

    write_config(tmp_path, service.url)
    now = utcnow()
    write_partial(tmp_path / "merged.json", [Check("shop", now, CheckStatus.UP, latency_ms=5.0, code=200),
                                             Check("retired", now, CheckStatus.DOWN, error="gone")],
                  started=now, finished=now)
    result = statusgen("run", "--no-build", "--checks", "merged.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "retired" in result.stderr
    assert (tmp_path / "data" / "checks" / "shop").is_dir()
    assert not (tmp_path / "data" / "checks" / "retired").exists()
