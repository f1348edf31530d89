"""The command probe with Debian's real Monitoring Plugins against loopback servers, and scripts of our own."""

from __future__ import annotations

import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from generator import secrets
from generator.config import load_config, validate_file
from generator.models import CheckStatus, Monitor
from generator.probes import PROBES
from generator.probes.command import KEEP_BYTES, CommandLine, CommandSpec
from tests.support.servers import DnsServer, HttpServer, TcpListener, closed_port

PLUGINS = Path("/usr/lib/nagios/plugins")
SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "probes"



@pytest.fixture(autouse=True)
def plugins_installed():
    # part of the test set-up (make system-deps): a clear failure, not a silent skip, when it is missing
    assert (PLUGINS / "check_dummy").exists(), "install Debian's monitoring-plugins: make system-deps"


def run(*argv: str, env: dict[str, str] | None = None, on_unknown: str = "down", timeout: float = 10.0,
        folder: str = ""):
    spec = CommandSpec(command=CommandLine(argv=argv, folder=folder), env=tuple((env or {}).items()),
                       on_unknown=on_unknown)
    return PROBES["command"](Monitor(id="plugin", name="Plugin", type="command", spec=spec, timeout=timeout), timeout)


# --------------------------------------------------------------------------- the real Monitoring Plugins


@pytest.mark.parametrize(("code", "status"), [(0, CheckStatus.UP), (1, CheckStatus.DEGRADED),
                                              (2, CheckStatus.DOWN), (3, CheckStatus.DOWN)])
def test_check_dummy_maps_every_exit_code(code, status):
    check = run("check_dummy", str(code), "said by check_dummy")  # found in the plugin folder, not on PATH
    assert check.status is status
    state = ("OK", "WARNING", "CRITICAL", "UNKNOWN")[code]
    assert check.details["state"] == state and check.details["exit_code"] == code
    assert check.details["message"] == f"{state}: said by check_dummy"
    if code == 0:
        assert check.error == ""
    elif code == 3:
        assert check.error == "UNKNOWN: the plugin could not tell: UNKNOWN: said by check_dummy"
    else:
        assert check.error == f"{state}: said by check_dummy"


def test_unknown_can_count_as_degraded():
    check = run(str(PLUGINS / "check_dummy"), "3", "no idea", on_unknown="degraded")
    assert check.status is CheckStatus.DEGRADED
    assert check.error.startswith("UNKNOWN: the plugin could not tell")


def test_check_http_up_with_its_performance_data():
    with HttpServer() as server:
        check = run("check_http", "-H", "127.0.0.1", "-p", str(server.port), "-u", "/ok", "-w", "2", "-c", "5")
    assert check.status is CheckStatus.UP, check.error
    assert check.details["message"].startswith("HTTP OK: HTTP/1.0 200 OK")
    perf = check.details["perfdata"]
    assert perf["time"]["unit"] == "s" and perf["time"]["warn"] == "2.000000" and perf["time"]["crit"] == "5.000000"
    assert perf["size"]["unit"] == "B" and perf["size"]["min"] == 0.0
    # the plugin's own time is the latency (in ms), not the process's wall time
    assert check.latency_ms == pytest.approx(round(perf["time"]["value"] * 1000, 1), abs=0.1)


def test_check_http_critical_on_a_500_and_when_refused():
    with HttpServer() as server:
        check = run("check_http", "-H", "127.0.0.1", "-p", str(server.port), "-u", "/status/500")
    assert check.status is CheckStatus.DOWN
    assert check.error.startswith("HTTP CRITICAL: HTTP/1.0 500")
    refused = run("check_http", "-H", "127.0.0.1", "-p", str(closed_port()))
    assert refused.status is CheckStatus.DOWN
    assert "Connection refused" in refused.error


def test_check_http_warning_on_a_slow_answer_is_degraded():
    with HttpServer() as server:
        check = run("check_http", "-H", "127.0.0.1", "-p", str(server.port), "-u", "/slow?ms=1200", "-w", "1",
                    "-c", "5")
    assert check.status is CheckStatus.DEGRADED
    assert check.error.startswith("HTTP WARNING")
    assert check.latency_ms is not None and check.latency_ms >= 1000


def test_check_tcp_open_and_closed():
    with TcpListener() as listener:
        check = run("check_tcp", "-H", listener.host, "-p", str(listener.port))
    assert check.status is CheckStatus.UP, check.error
    assert check.details["message"].startswith("TCP OK")
    closed = run("check_tcp", "-H", "127.0.0.1", "-p", str(closed_port()))
    assert closed.status is CheckStatus.DOWN
    assert "Connection refused" in closed.error


def test_check_dig_against_a_loopback_resolver():
    assert shutil.which("dig"), "check_dig runs dig: make system-deps installs bind9-dnsutils"
    with DnsServer([("status.example", "A", "192.0.2.7")]) as server:
        check = run("check_dig", "-H", "127.0.0.1", "-p", str(server.port), "-l", "status.example",
                    "-a", "192.0.2.7")
    assert check.status is CheckStatus.UP, check.error
    assert "192.0.2.7" in check.details["message"]


# --------------------------------------------------------------------------- our own scripts


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


def test_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    check = run(str(SCRIPTS / "check_sleepy.sh"), env={"PID_FILE": str(pid_file)}, timeout=0.5)
    took = time.monotonic() - started
    assert check.status is CheckStatus.DOWN
    assert check.error == "timed out after 0.5s: the program and its children were killed"
    assert took < 2.0
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _state(child) not in ("gone", "Z") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _state(child) in ("gone", "Z"), "the script's background child survived"


def test_unknown_from_a_script():
    check = run(str(SCRIPTS / "check_unknown.sh"))
    assert check.status is CheckStatus.DOWN
    assert check.error == ("UNKNOWN: the plugin could not tell: BACKUP UNKNOWN - cannot read /var/backups/last-run: "
                           "permission denied")


def test_huge_output_is_bounded():
    check = run(str(SCRIPTS / "check_huge.sh"))
    assert check.status is CheckStatus.UP
    assert check.details["message"] == "HUGE OK - lots to say"
    assert check.details["perfdata"] == {"rows": {"value": 42.0, "min": 0.0}}
    first_line = len("HUGE OK - lots to say | rows=42;;;0\n")
    assert check.details["output_truncated"] is True and check.details["output_bytes"] == first_line + 1_000_000
    assert "output" not in check.details  # long output is kept for failures only
    assert len(str(check.details)) < KEEP_BYTES


def test_secrets_are_masked_in_message_and_output(tmp_path):
    secrets.clear()
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent(f"""
        monitors:
          - id: auth
            type: command
            command: [{SCRIPTS / 'check_echo_secret.sh'}, "${{LOGIN_TOKEN}}"]
            env:
              API_TOKEN: "${{API_KEY}}"
    """), encoding="utf-8")
    config = load_config(path, environ={"LOGIN_TOKEN": "tok-s3cret-1", "API_KEY": "key-s3cret-2"})
    monitor = config.monitors[0]
    check = PROBES["command"](monitor, 5.0)
    assert check.status is CheckStatus.DOWN
    assert check.error == "AUTH CRITICAL - token *** rejected (env: ***)"
    assert check.details["output"] == "long output mentions *** again"
    assert "s3cret" not in repr(check)
    assert check.latency_ms == 250.0
    secrets.clear()


def test_crash_missing_program_and_not_executable():
    crash = run(str(SCRIPTS / "check_crash.sh"))
    assert crash.status is CheckStatus.DOWN
    assert crash.error == "the program crashed (SIGSEGV): about to crash"
    missing = run("check_nothing_like_this")
    assert missing.status is CheckStatus.DOWN
    assert missing.error.startswith("program not found: check_nothing_like_this (looked in PATH and /usr/lib/nagios")
    not_executable = run(str(SCRIPTS / "not_a_program.sh"))
    assert not_executable.error.endswith("permission denied (is it executable?)")
    absent = run(str(SCRIPTS / "nope.sh"))
    assert absent.error == f"program not found: {SCRIPTS / 'nope.sh'}"


def test_non_utf8_output_and_percent_perfdata():
    check = run(str(SCRIPTS / "check_latin1.sh"))
    assert check.status is CheckStatus.DEGRADED
    assert check.error == "DISK WARNING - caf\ufffd volume at 91%"
    assert check.details["perfdata"]["used"] == {"value": 91.0, "unit": "%", "warn": "80", "crit": "90",
                                                 "min": 0.0, "max": 100.0}


def test_only_the_declared_environment_and_path(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "must-not-leak")
    check = run(str(SCRIPTS / "check_env.sh"), env={"SERVICE_URL": "http://127.0.0.1/"})
    assert check.status is CheckStatus.UP
    assert check.details["message"].split() == ["ENV", "OK", "-", "LC_NUMERIC", "PATH", "SERVICE_URL"]


def test_stderr_explains_a_silent_failure_and_odd_exit_codes():
    check = run(str(SCRIPTS / "check_stderr.sh"))
    assert check.status is CheckStatus.DOWN
    assert check.error == "CRITICAL (exit 2): no output; stderr: ZeroDivisionError: division by zero"
    odd = run(str(SCRIPTS / "check_exit127.sh"))
    assert odd.status is CheckStatus.DOWN
    assert odd.error == "exit code 127 is not a plugin state (0-3): check_nothing: not found"


def test_a_script_is_found_relative_to_monitors_yaml(tmp_path, monkeypatch):
    probes = tmp_path / "repo" / "probes"
    probes.mkdir(parents=True)
    script = probes / "check_backup.sh"
    script.write_text("#!/bin/sh\necho \"BACKUP OK - last run in $(basename \"$PWD\")\"\n", encoding="utf-8")
    script.chmod(0o755)
    (tmp_path / "repo" / "monitors.yaml").write_text(
        "monitors:\n  - id: backup\n    type: command\n    command: [probes/check_backup.sh]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the run starts elsewhere: the script is still found, and runs in the repo
    config = load_config(Path("repo/monitors.yaml"))
    check = PROBES["command"](config.monitors[0], 5.0)
    assert check.status is CheckStatus.UP, check.error
    assert check.details["message"] == "BACKUP OK - last run in repo"


def test_config_problems_name_file_line_and_key(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent("""
        monitors:
          - id: shell
            type: command
            command: check_http -H example.com
          - id: script
            type: command
            command: [probes/missing.sh, --verbose]
            env:
              1BAD: x
            on_unknown: up
    """), encoding="utf-8")
    config, problems = validate_file(path)
    assert config is None
    assert [str(problem) for problem in problems] == [
        (f"{path}:5:14: monitors[0].command: a command is a list of arguments, not a shell line: "
        f"write [check_http, -H, example.com]"),
        (f'{path}:8:14: monitors[1].command: "probes/missing.sh" is not a file (looked for '
        f'{tmp_path / "probes" / "missing.sh"}, relative to the folder of monitors.yaml)'),
        (f'{path}:10:7: monitors[1].env.1BAD: "1BAD" is not a variable name: use letters, digits and _, '
        f"not starting with a digit"),
        f'{path}:11:17: monitors[1].on_unknown: "up" is not one of: down, degraded',
    ]


def test_numbers_in_arguments_are_kept_as_written(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text("monitors:\n  - id: db\n    type: command\n    command: [check_tcp, -H, 127.0.0.1, -p, 05432,"
                    " -w, 1.50]\n", encoding="utf-8")
    config = load_config(path)
    assert config.monitors[0].spec.command.argv == ("check_tcp", "-H", "127.0.0.1", "-p", "05432", "-w", "1.50")
    assert os.path.isabs(config.monitors[0].spec.command.folder)
