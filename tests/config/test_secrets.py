"""``${NAME}`` references: resolved from the environment, registered for masking, checked on pull requests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator import secrets
from generator.config import ConfigError, format_problems, load_config, validate_file

VALID = Path(__file__).resolve().parents[1] / "data" / "configs" / "valid"

ENV = {
    "GITHUB_REPOSITORY": "acme/status",
    "CANARY_HOST": "192.0.2.53",
    "API_HOST": "api.example.com",
    "API_TOKEN": "tok-9f8e7d6c",
    "RESTART_URL": "https://deploy.example.com/hook",
    "RESTART_SECRET": "hmac-key-123456",
    "NOTIFY_URL": "json://127.0.0.1:9/hook",
    "DB_HOST": "db.example.com",
}


@pytest.fixture(autouse=True)
def clean_secrets():
    secrets.clear()
    yield
    secrets.clear()


def test_references_resolve_everywhere_and_are_masked():
    config = load_config(VALID / "secrets.yaml", environ=ENV)
    api, db = config.monitors
    assert config.site.repository == "acme/status"
    assert config.settings.canary.target == "192.0.2.53:53"
    assert api.spec.url == "https://api.example.com/health"
    assert api.spec.headers == (("Authorization", "Bearer tok-9f8e7d6c"),)
    assert api.restart.url == "https://deploy.example.com/hook" and api.restart.secret == "hmac-key-123456"
    assert api.notify[0].url == "json://127.0.0.1:9/hook"
    assert db.spec.host == "db.example.com"
    # every resolved value is now hidden by the shared mask
    assert secrets.mask("sig with hmac-key-123456 and Bearer tok-9f8e7d6c") == "sig with *** and Bearer ***"


def test_missing_variables_name_monitor_and_key():
    env = {key: value for key, value in ENV.items() if key not in ("RESTART_SECRET", "API_TOKEN", "CANARY_HOST")}
    with pytest.raises(ConfigError) as caught:
        load_config(VALID / "secrets.yaml", environ=env)
    path = VALID / "secrets.yaml"
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:6:13: settings.canary.target: environment variable CANARY_HOST is not set",
        f'{path}:11:22: monitors[0].headers.Authorization: environment variable API_TOKEN is not set (monitor "api")',
        f'{path}:14:15: monitors[0].restart.secret: environment variable RESTART_SECRET is not set (monitor "api")',
    ]


def test_every_missing_variable_in_one_value_is_reported(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent("""
        monitors:
          - id: api
            url: https://${HOST}:${PORT}/x
    """), encoding="utf-8")
    _, problems = validate_file(path, environ={}, check_secrets=True)
    assert [p.message for p in problems] == ['environment variable HOST is not set (monitor "api")',
                                             'environment variable PORT is not set (monitor "api")']


def test_pull_request_check_keeps_references_and_needs_no_environment():
    config, problems = validate_file(VALID / "secrets.yaml", environ={}, check_secrets=False)
    assert problems == []
    api = config.monitors[0]
    assert api.spec.url == "https://${API_HOST}/health"
    assert api.restart.secret == "${RESTART_SECRET}"
    assert secrets.mask("${RESTART_SECRET}") == "${RESTART_SECRET}"  # nothing registered


def test_load_without_resolving():
    config = load_config(VALID / "secrets.yaml", environ={}, resolve_secrets=False)
    assert config.monitors[1].spec.host == "${DB_HOST}"


def test_process_environment_is_the_default(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config = load_config(VALID / "secrets.yaml")
    assert config.monitors[0].restart.secret == "hmac-key-123456"


def test_resolved_values_are_still_validated_and_messages_mask_them(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent("""
        monitors:
          - id: api
            url: ${API_URL}
    """), encoding="utf-8")
    config, problems = validate_file(path, environ={"API_URL": "ftp://user:pw-secret@host/"}, check_secrets=True)
    assert config is None and len(problems) == 1
    assert problems[0].key == "monitors[0].url" and "not an http(s) URL" in problems[0].message
    assert "pw-secret" not in str(problems[0]) and "pw-secret" not in format_problems(problems, github=True)
    # without secrets the same file is fine: the reference cannot be checked yet
    assert validate_file(path, environ={})[1] == []


def test_reference_syntax_is_checked_even_without_secrets(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent("""
        monitors:
          - id: api
            url: https://example.com/
            headers:
              Authorization: Bearer ${lower-case}
              X-Other: ${1ABC}
              X-Fine: costs $5 and ${OK}
    """), encoding="utf-8")
    _, problems = validate_file(path, environ={})
    assert [(p.line, p.key) for p in problems] == [(6, "monitors[0].headers.Authorization"),
                                                    (7, "monitors[0].headers.X-Other")]
    assert '"${lower-case}" is not a valid reference' in problems[0].message


def test_ids_and_enums_never_take_references(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent("""
        monitors:
          - id: ${ID}
            type: ${TYPE}
            url: https://example.com/
    """), encoding="utf-8")
    _, problems = validate_file(path, environ={"ID": "api", "TYPE": "http"}, check_secrets=True)
    assert [p.key for p in problems] == ["monitors[0].id", "monitors[0].type"]
