"""Bad configurations: every problem at once, each with file, line, column and key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.config import ConfigError, load_config, validate_file
from tests.support.expect import expectations

INVALID = Path(__file__).resolve().parents[1] / "data" / "configs" / "invalid"
def write(tmp_path: Path, text: str, name: str = "monitors.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("fixture", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_problems(fixture):
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' lines"
    config, problems = validate_file(fixture)
    assert config is None
    got = [(p.line, p.col, p.key) for p in problems]
    assert got == [(line, col, key) for line, col, key, _ in expected]
    for problem, (_, _, _, text) in zip(problems, expected):
        assert text in problem.message
        assert problem.file == str(fixture)
        assert str(problem).startswith(f"{fixture}:{problem.line}:{problem.col}: ")


def test_every_problem_at_once(tmp_path):
    path = write(tmp_path, """
        site:
          titel: x
        monitors:
          - id: a
            url: http://127.0.0.1/
            timeout: soon
          - id: a
            type: dns
            host: example.com
            record_type: SRV
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    messages = [str(problem) for problem in caught.value.problems]
    assert messages == [
        f'{path}:3:3: site.titel: unknown key "titel" (did you mean "title"?)',
        f'{path}:5:9: monitors[0].id: duplicate monitor id "a" (also used at line 8)',
        f'{path}:7:14: monitors[0].timeout: "soon" is not a duration (e.g. 30s, 5m, 1h, 250ms)',
        f'{path}:8:9: monitors[1].id: duplicate monitor id "a" (also used at line 5)',
        f'{path}:11:18: monitors[1].record_type: "SRV" is not one of: A, AAAA, CNAME, MX, TXT',
    ]


def test_missing_file(tmp_path):
    config, problems = validate_file(tmp_path / "nope.yaml")
    assert config is None
    assert [str(p) for p in problems] == [f"{tmp_path / 'nope.yaml'}: file not found"]
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_directory_instead_of_file(tmp_path):
    config, problems = validate_file(tmp_path)
    assert config is None and "is a directory" in problems[0].message


def test_not_utf8(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_bytes(b"monitors:\n  - id: a\n    name: caf\xe9\n")
    config, problems = validate_file(path)
    assert config is None
    assert [(p.line, p.col, p.message) for p in problems] == [(3, 14, "the file is not UTF-8 text")]


def test_utf8_bom_is_fine(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_bytes("\ufeffmonitors:\n  - id: a\n    url: http://127.0.0.1/\n    name: Café\n".encode("utf-8"))
    config, problems = validate_file(path)
    assert problems == [] and config.monitors[0].name == "Café"


def test_tab_indentation_is_a_syntax_error_with_position(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text("monitors:\n\t- id: a\n", encoding="utf-8")
    config, problems = validate_file(path)
    assert config is None and len(problems) == 1
    assert (problems[0].line, problems[0].col) == (2, 1)
    assert problems[0].message.startswith("YAML syntax error:") and "tab" in problems[0].message


def test_unclosed_quote(tmp_path):
    path = write(tmp_path, 'monitors:\n  - id: "a\n    url: http://x/\n')
    config, problems = validate_file(path)
    assert config is None and problems[0].message.startswith("YAML syntax error")
    assert problems[0].line >= 2


def test_control_character(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text("monitors:\n  - id: a\x07b\n", encoding="utf-8")
    _, problems = validate_file(path)
    assert [(p.line, p.col) for p in problems] == [(2, 10)]
    assert "unacceptable character #x0007" in problems[0].message


def test_two_documents(tmp_path):
    path = write(tmp_path, "monitors: []\n---\nmonitors: []\n")
    _, problems = validate_file(path)
    assert len(problems) == 1 and problems[0].line == 2 and "single document" in problems[0].message


@pytest.mark.parametrize("text,what", [("just text\n", "string"), ("42\n", "integer"), ("[1, 2]\n", "a list"),
                                       ("null\n", "null")])
def test_top_level_not_a_mapping(tmp_path, text, what):
    config, problems = validate_file(write(tmp_path, text))
    assert config is None and len(problems) == 1
    assert problems[0].line == 1 and "the top level must be a mapping" in problems[0].message
    assert what in problems[0].message


def test_whitespace_only_file_is_empty(tmp_path):
    _, problems = validate_file(write(tmp_path, "\n\n   \n"))
    assert [(p.line, p.message) for p in problems] == [(1, "the file is empty: it needs at least a monitors: list")]


def test_missing_monitors_key(tmp_path):
    _, problems = validate_file(write(tmp_path, "site:\n  title: x\n"))
    assert [(p.line, p.key) for p in problems] == [(1, "monitors")]
    assert "missing required key" in problems[0].message


def test_x_keys_are_ignored_but_other_top_level_keys_are_not(tmp_path):
    path = write(tmp_path, """
        x-anything: {whatever: [1, 2]}
        monitor:
          - id: a
    """)
    _, problems = validate_file(path)
    # a missing key is reported where the mapping that lacks it starts
    assert [(p.line, p.key) for p in problems] == [(2, "monitors"), (3, "monitor")]
    assert 'did you mean "monitors"?' in problems[1].message


def test_unknown_key_inside_a_merged_anchor_is_reported_at_the_anchor(tmp_path):
    path = write(tmp_path, """
        x-base: &base
          timeout: 2s
          retires: 1
        monitors:
          - <<: *base
            id: a
            url: http://127.0.0.1/
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(4, "monitors[0].retires")]
    assert 'did you mean "retries"?' in problems[0].message


def test_bad_merge_value(tmp_path):
    path = write(tmp_path, """
        monitors:
          - <<: 5
            id: a
            url: http://127.0.0.1/
    """)
    _, problems = validate_file(path)
    assert len(problems) == 1 and problems[0].line == 3 and "merge key" in problems[0].message


def test_self_merging_anchor_does_not_loop(tmp_path):
    path = write(tmp_path, """
        monitors:
          - &m
            <<: *m
            id: a
            url: http://127.0.0.1/
    """)
    config, problems = validate_file(path)
    assert problems == [] and config.monitors[0].id == "a"  # merging itself adds nothing


def test_recursive_alias_in_a_free_form_value(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            url: http://127.0.0.1/
            expect:
              json:
                - path: x
                  equals: &loop [1, *loop]
    """)
    config, problems = validate_file(path)
    assert config is None
    assert [(p.line, p.col, p.key) for p in problems] == [(8, 19, "monitors[0].expect.json[0].equals")]
    assert "recursive" in problems[0].message


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text("monitors: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    config, problems = validate_file(path)
    assert config is None
    assert [(p.line, p.message) for p in problems] == [(1, "YAML nesting is too deep")]


def test_huge_file_is_refused(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_bytes(b"# " + b"x" * (6 * 1024 * 1024) + b"\n")
    config, problems = validate_file(path)
    assert config is None and "larger than" in problems[0].message


def test_non_string_keys(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            url: http://127.0.0.1/
            headers:
              ? [a, b]
              : c
            1: x
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(6, "monitors[0].headers"), (8, "monitors[0]")]
    assert 'quote it: "1"' in problems[1].message


def test_yaml_11_booleans_in_text_fields_get_a_hint(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            name: no
            url: http://127.0.0.1/
    """)
    _, problems = validate_file(path)
    assert [str(p).split(": ", 1)[1] for p in problems] == \
        ['monitors[0].name: expected a string, got boolean no (quote it: "no")']


def test_headers_must_be_valid(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            url: http://127.0.0.1/
            headers:
              "Bad Header": x
              X-Multi: "a\\nb"
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(6, "monitors[0].headers.Bad Header"),
                                                    (7, "monitors[0].headers.X-Multi")]


def test_duplicate_values_in_lists(tmp_path):
    path = write(tmp_path, """
        settings:
          regions: [eu, eu]
        monitors:
          - id: a
            url: http://127.0.0.1/
            notify:
              - url: json://x/
                events: [opened, opened]
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(3, "settings.regions"), (9, "monitors[0].notify[0].events")]
    assert all("listed twice" in p.message for p in problems)


def test_restart_validation(tmp_path):
    path = write(tmp_path, """
        monitors:
          - id: a
            url: http://127.0.0.1/
            restart:
              url: gopher://x/
              method: FETCH
              after_failures: 0
              verify_every: 0s
              secrt: x
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [
        (6, "monitors[0].restart.url"),
        (7, "monitors[0].restart.method"),
        (8, "monitors[0].restart.after_failures"),
        (9, "monitors[0].restart.verify_every"),
        (10, "monitors[0].restart.secrt"),
    ]
    assert 'did you mean "secret"?' in problems[-1].message


def test_canary_targets(tmp_path):
    path = write(tmp_path, """
        settings:
          canary:
            type: http
            target: 1.1.1.1:53
        monitors:
          - id: a
            url: http://127.0.0.1/
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(5, "settings.canary.target")]
    path = write(tmp_path, """
        settings:
          canary:
            target: 1.1.1.1
        monitors:
          - id: a
            url: http://127.0.0.1/
    """)
    _, problems = validate_file(path)
    assert [(p.line, p.key) for p in problems] == [(4, "settings.canary.target")]
    assert "needs a port" in problems[0].message
