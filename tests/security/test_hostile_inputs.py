"""Inputs that used to hang or crash statusgen (issue 17), each reproduced as it was reported.

Real subprocesses of ``python -m generator``, loopback services, a memory ceiling where the report
was about memory: each command must answer in bounded time and memory, with file:line and key,
never a traceback.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Event, Thread
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CEILING = 1 << 30  # bytes of address space: the alias bombs took 0.7 to 5.9 GB


def statusgen(*args: str, cwd: Path, timeout: float = 60, memory: int | None = None,
              env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k != "CI"}
    environ.update(env or {}, PYTHONPATH=str(ROOT))

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=environ,
                            capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    return result, time.monotonic() - started


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


def alias_bomb(levels: int = 9, width: int = 9) -> list[str]:
    """The billion laughs: ``width ** levels`` strings from a few hundred bytes."""
    lines = ["x-l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"x-l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return lines


@pytest.fixture
def body_service() -> Iterator[str]:
    """Answers every GET with the 41-byte body of the report: 40 times "a", then "!"."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def do_GET(self) -> None:
            body = b"a" * 40 + b"!"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- regular expressions


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(a|aa)+$"])
def test_a_backtracking_body_regex_cannot_hang_the_run(tmp_path: Path, body_service: str, pattern: str) -> None:
    (tmp_path / "monitors.yaml").write_text(textwrap.dedent(f"""\
        monitors:
          - id: page
            url: {body_service}
            timeout: 2s
            retries: 0
            expect: {{body_regex: '{pattern}'}}
        """), encoding="utf-8")
    result, seconds = statusgen("run", "--no-build", cwd=tmp_path, timeout=120)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert seconds < 30  # the check is bounded by its 2 s timeout (plus start-up)
    state = json.loads((tmp_path / "data" / "state.json").read_text())
    assert state["monitors"]["page"]["status"] == "down"
    recorded = "".join(path.read_text() for path in (tmp_path / "data" / "checks" / "page").glob("*.tsv"))
    # no match; or the matcher's own timeout; or, past the timeout's grace, the runner gave up on it
    assert any(reason in recorded for reason in ("does not match", "timed out after 2.0s", "within 2.0s")), recorded


# --------------------------------------------------------------------------- alias bombs


def test_alias_bomb_in_a_json_equals_is_refused_by_check_and_run(tmp_path: Path) -> None:
    lines = alias_bomb() + ["monitors:", "  - id: api", "    url: http://127.0.0.1:9/",
                            "    expect: {json: [{path: status, equals: *l8}]}"]
    (tmp_path / "monitors.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in (("check",), ("run", "--no-build")):
        result, seconds = statusgen(*command, cwd=tmp_path, timeout=60, memory=MEMORY_CEILING)
        no_traceback(result)
        assert result.returncode == 2, result.stdout + result.stderr
        assert seconds < 20
        assert "monitors.yaml:9:" in result.stdout + result.stderr and "alias" in result.stdout + result.stderr
    assert not (tmp_path / "incidents").exists()  # no false incident


def test_alias_bomb_in_incident_front_matter_is_skipped_by_build(tmp_path: Path) -> None:
    (tmp_path / "monitors.yaml").write_text("monitors:\n  - {id: api, url: 'http://127.0.0.1:9/'}\n")
    folder = tmp_path / "incidents"
    folder.mkdir()
    bomb = "---\n" + "\n".join(alias_bomb()) + "\ntitle: hi\nimpact: down\nstatus: open\nstarted: 2026-11-01\n---\n"
    assert len(bomb) < 1200  # about 1 KB, as reported
    (folder / "2026-11-01-bomb.md").write_text(bomb, encoding="utf-8")
    result, seconds = statusgen("build", cwd=tmp_path, timeout=60, memory=MEMORY_CEILING)
    no_traceback(result)
    assert seconds < 20
    output = result.stdout + result.stderr
    assert "2026-11-01-bomb.md:9:" in output and "alias" in output, output  # the anchor used 9 times


def test_alias_bomb_in_agent_yaml_stops_the_agent_at_once(tmp_path: Path) -> None:
    lines = ["secret: 0123456789abcdef0123", *alias_bomb(), "monitors:",
             "  web: {command: [true], env: {X: *l8}}"]
    (tmp_path / "agent.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, seconds = statusgen("agent", "--config", "agent.yaml", "--listen", "127.0.0.1:0", cwd=tmp_path,
                                timeout=60, memory=MEMORY_CEILING)
    no_traceback(result)
    assert result.returncode == 2 and seconds < 20
    assert "agent.yaml:10:" in result.stderr and "alias" in result.stderr, result.stderr


def test_alias_bomb_in_a_maintenance_issue_is_an_unreadable_issue() -> None:
    from generator.incidents.github.text import UnreadableIssue, read_maintenance

    body = "```yaml\n" + "\n".join(alias_bomb()) + "\nstart: 2026-11-01T00:00:00Z\nend: *l8\n```\n"
    started = time.monotonic()
    with pytest.raises(UnreadableIssue) as caught:
        read_maintenance({"number": 7, "title": "window", "body": body, "html_url": "https://x/7"})
    assert time.monotonic() - started < 5
    assert "line 9" in str(caught.value) and "alias" in str(caught.value)


# --------------------------------------------------------------------------- values check must refuse


def test_check_refuses_each_reported_value_with_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "monitors.yaml").write_text(textwrap.dedent("""\
        settings: {retention: 800000}
        monitors:
          - id: api
            url: http://127.0.0.1:9/
            timeout: 99999999999999999999d
            ca_bundle: /nonexistent/ca.pem
            headers:
              X-Name: "Zoë 中文"
              x-token: one
              X-Token: two
          - id: api-
            url: http://127.0.0.1:9/
        """), encoding="utf-8")
    result, seconds = statusgen("check", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    expected = [
        ("monitors.yaml:1:23: settings.retention:", "at most 3650 days"),
        ("monitors.yaml:3:9: monitors[0].id:", '"api-" (line 11)'),
        ("monitors.yaml:5:14: monitors[0].timeout:", "too long: at most 1h"),
        ("monitors.yaml:6:16: monitors[0].ca_bundle:", "no such file"),
        ("monitors.yaml:8:15: monitors[0].headers.X-Name:", "Latin-1"),
        ("monitors.yaml:10:7: monitors[0].headers.X-Token:", '"x-token" again (line 9)'),
        ("monitors.yaml:11:9: monitors[1].id:", '"api" (line 3)'),
    ]
    assert len(lines) == len(expected), result.stdout
    for line, (where, what) in zip(lines, expected):
        assert line.startswith(where) and what in line, line


def test_run_with_a_huge_retention_is_bad_input_not_an_overflow(tmp_path: Path) -> None:
    (tmp_path / "monitors.yaml").write_text("settings: {retention: 800000}\nmonitors:\n"
                                            "  - {id: api, url: 'http://127.0.0.1:9/'}\n")
    result, _ = statusgen("run", "--no-build", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2 and "settings.retention" in result.stdout + result.stderr
    assert "OverflowError" not in result.stdout + result.stderr


def test_duplicate_monitors_in_agent_yaml_are_each_named(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(textwrap.dedent("""\
        secret: 0123456789abcdef0123
        monitors:
          web: {command: [echo, one]}
          web: {command: [echo, two]}
          "web": {command: [echo, three]}
          db: {command: [echo, db], env: {A: 1, A: 2}}
        """), encoding="utf-8")
    result, seconds = statusgen("agent", "--config", "agent.yaml", "--listen", "127.0.0.1:0", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2 and seconds < 20
    assert "agent.yaml:4:3: monitors.web: duplicate key (first given at line 3)" in result.stderr
    assert "agent.yaml:5:3: monitors.web: duplicate key (first given at line 3)" in result.stderr
    assert "agent.yaml:6:41: monitors.db.env.A: duplicate key (first given at line 6)" in result.stderr


# --------------------------------------------------------------------------- the outer bound


def test_a_check_is_bounded_whatever_its_probe_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.models import CheckStatus, Monitor
    from generator.probes import PROBES
    from generator.probes.http_spec import HttpSpec
    from generator.run.probing import OVERRUN_GRACE, probe_with_retries

    release = Event()

    def stuck(monitor: Monitor, timeout: float):  # a probe type that never answers
        release.wait(60)
        raise RuntimeError("released")

    monkeypatch.setitem(PROBES, "stuck", stuck)  # the registry's dict: tests add probes of their own
    monitor = Monitor(id="s", name="S", type="stuck", spec=HttpSpec(url="http://127.0.0.1:9/"), timeout=0.5,
                      retries=1, retry_backoff=0.0)
    started = time.monotonic()
    try:
        check = probe_with_retries(monitor, sleep=lambda seconds: None)
    finally:
        release.set()
    assert time.monotonic() - started < 2 * (0.5 + OVERRUN_GRACE) + 1
    assert check.status is CheckStatus.DOWN and check.attempts == 2
    assert check.error == "probe did not return within 0.5s (abandoned)"


def test_alias_bomb_in_a_file_to_import_is_refused(tmp_path: Path) -> None:
    lines = [*alias_bomb(), "sites:", "  - name: api", "    url: *l8"]
    (tmp_path / ".upptimerc.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, seconds = statusgen("import", "upptime", ".upptimerc.yml", cwd=tmp_path, timeout=60,
                                memory=MEMORY_CEILING)
    no_traceback(result)
    assert result.returncode == 2 and seconds < 20
    assert ".upptimerc.yml:9:" in result.stderr and "alias" in result.stderr, result.stderr
