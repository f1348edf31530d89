"""agent.yaml problems in monitors.yaml's format: ``file:line:col: key: message``, all at once, did-you-mean."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.agent import AgentConfigError, load_agent_config
from generator.cli import main
from generator.config import ConfigError, format_problems
from generator.secrets import mask
from tests.support.expect import expectations

DATA = Path(__file__).resolve().parent.parent / "data" / "agent"
ENVIRON = {"AGENT_SECRET": "agent-config-secret-0123456789", "DEPLOY_TOKEN": "deploy-token-123"}


def problems_of(path: Path, environ: dict[str, str]) -> list:
    with pytest.raises(AgentConfigError) as info:
        load_agent_config(path, environ=environ)
    return info.value.problems


@pytest.mark.parametrize("fixture", sorted((DATA / "invalid").glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_problems(fixture):
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' lines"
    environ = {"AGENT_SECRET": ENVIRON["AGENT_SECRET"]}  # DEPLOY_TOKEN and AGENT_SECRTE are missing
    problems = problems_of(fixture, environ)
    assert [(p.line, p.col, p.key) for p in problems] == [(line, col, key) for line, col, key, _ in expected]
    for problem, (_, _, key, text) in zip(problems, expected):
        assert text in problem.message
        assert str(problem).startswith(f"{fixture}:{problem.line}:{problem.col}: " + (f"{key}: " if key else ""))


def test_the_valid_example_loads_with_secrets_resolved():
    config = load_agent_config(DATA / "valid" / "agent.yaml", environ=ENVIRON)
    assert config.secret == ENVIRON["AGENT_SECRET"]
    assert config.max_body == 65536 and config.max_age == 120.0 and config.max_future == 60.0
    api, worker = config.monitors["api"], config.monitors["worker"]
    assert api.command == ("systemctl", "restart", "api.service") and api.timeout == 60.0 and api.cwd is None
    assert worker.command[-1] == "2"  # arguments are taken as written, numbers too
    assert worker.cwd == str((DATA / "valid").resolve())  # relative to agent.yaml's folder
    assert dict(worker.env) == {"COMPOSE_PROJECT_NAME": "acme", "TOKEN": "deploy-token-123", "REPLICAS": "3"}


def test_problems_print_like_monitors_yaml_and_hide_resolved_secrets(tmp_path):
    path = tmp_path / "agent.yaml"
    path.write_text(textwrap.dedent("""\
        secret: ${AGENT_SECRET}
        monitors:
          web:
            command: [/bin/true]
            cwd: ${AGENT_SECRET}
    """), encoding="utf-8")
    with pytest.raises(ConfigError) as info:  # the CLI maps ConfigError to exit code 2
        load_agent_config(path, environ=ENVIRON)
    # cwd is taken as written (no ${NAME}), so the message quotes the reference, never the value
    assert str(info.value) == f"{path}:5:10: monitors.web.cwd: directory ${{AGENT_SECRET}} does not exist"
    annotation = format_problems(info.value.problems, github=True).splitlines()[-1]
    assert annotation.startswith("::error file=") and ",line=5,col=10::monitors.web.cwd: " in annotation
    assert ENVIRON["AGENT_SECRET"] not in str(info.value)


def test_unreadable_and_odd_files_are_problems_not_tracebacks(tmp_path):
    missing = tmp_path / "missing.yaml"
    assert [str(p) for p in problems_of(missing, ENVIRON)] == [
        f"{missing}: cannot read: No such file or directory"]
    assert "is a directory" in str(problems_of(tmp_path, ENVIRON)[0]).lower()
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("secret: caf\xe9\n".encode("latin-1"))
    assert [p.message for p in problems_of(latin, ENVIRON)] == ["the file is not UTF-8 text"]
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    assert [p.message for p in problems_of(empty, ENVIRON)] == ["the file is empty: it needs secret and monitors"]


def test_resolved_secrets_are_registered_for_masking():
    load_agent_config(DATA / "valid" / "agent.yaml", environ=ENVIRON)
    assert mask(f"key {ENVIRON['AGENT_SECRET']} token {ENVIRON['DEPLOY_TOKEN']}") == "key *** token ***"


def test_config_errors_name_file_line_and_key(tmp_path, monkeypatch):
    # the shared format of monitors.yaml: a problem with a value is reported where the value starts
    monkeypatch.delenv("AGENT_SECRET", raising=False)
    bad = tmp_path / "agent.yaml"
    bad.write_text("secret: ${AGENT_SECRET}\nmonitors:\n  web:\n    command: systemctl restart web\n    timeout: soon\n")
    with pytest.raises(AgentConfigError) as info:
        load_agent_config(bad)
    problems = [str(problem) for problem in info.value.problems]
    assert f"{bad}:1:9: secret: environment variable AGENT_SECRET is not set" in problems
    assert any(p.startswith(f"{bad}:4:14: monitors.web.command: must be a non-empty list") for p in problems)

    short = tmp_path / "short.yaml"
    short.write_text("secret: abc\nmonitors:\n  web: {command: [/bin/true], timeout: soon}\n")
    with pytest.raises(AgentConfigError) as info:
        load_agent_config(short)
    problems = [str(problem) for problem in info.value.problems]
    assert any(":1:9: secret: too short" in p for p in problems)
    assert any(":3:40: monitors.web.timeout:" in p for p in problems)

    broken = tmp_path / "broken.yaml"
    broken.write_text("secret: [\n")
    with pytest.raises(AgentConfigError, match="YAML syntax error"):
        load_agent_config(broken)


def test_statusgen_agent_with_a_broken_config_exits_2_naming_file_line_and_key(tmp_path, capsys):
    config = tmp_path / "agent.yaml"
    config.write_text("secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nmonitors:\n  api:\n    comand: [true]\n")
    assert main(["agent", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}:4:" in err and "comand" in err and "Traceback" not in err
