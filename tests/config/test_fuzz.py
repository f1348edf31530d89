"""Property tests: whatever the file holds, validation answers (a Config or located problems), never raises.

Valid configurations are mutated (keys deleted, values swapped for other types, junk keys
inserted, text edited); when the loader still accepts the result, the JSON Schema must too.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.config import SCHEMA_PATH, Problem, validate_file
from generator.models import Config

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "tests" / "data" / "configs" / "valid").glob("*.yaml")) + [ROOT / "monitors.yaml"]
TEXTS = [path.read_text(encoding="utf-8") for path in SOURCES]
DOCS = [yaml.safe_load(text) for text in TEXTS]
VALIDATOR = jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = ["id", "url", "type", "host", "port", "timeout", "expect", "status", "restart", "notify", "labels",
        "retries", "record_type", "json", "path", "equals", "site", "settings", "defaults", "monitors", "x-y",
        "<<", "name", "group", "body_regex", "degraded_after", "headers", "match", "secret"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["http://127.0.0.1/", "tcp", "dns", "2xx", "200-299", "5m", "0s", "-1", "${X}", "${",
                     "[", "abc", "", " ", "yes", "~", "!!", "2024-13-45", "&a", "*a", "\t"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=4)), max_leaves=12)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in a document: dict keys and list indexes."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append(prefix + (key,))
            found.extend(paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append(prefix + (index,))
            found.extend(paths(value, prefix + (index,)))
    return found


def container(doc: Any, path: tuple) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def mutate(doc: Any, data: st.DataObject) -> Any:
    doc = json.loads(json.dumps(doc, default=str))  # a deep copy the test may scribble on
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        locations = paths(doc)
        op = data.draw(st.sampled_from(["delete", "replace", "insert", "swap", "whole"]), label="op")
        if op == "whole" or not locations:
            doc = data.draw(values, label="whole document")
            continue
        path = data.draw(st.sampled_from(locations), label="path")
        parent, last = container(doc, path), path[-1]
        if op == "delete":
            del parent[last]
        elif op == "replace":
            parent[last] = data.draw(values, label="value")
        elif op == "insert":
            target = parent[last] if isinstance(parent[last], (dict, list)) else parent
            if isinstance(target, dict):
                target[data.draw(st.sampled_from(KEYS), label="key")] = data.draw(values, label="value")
            else:
                target.insert(data.draw(st.integers(0, len(target)), label="at"), data.draw(values, label="value"))
        else:  # swap: the same value as another type
            value = parent[last]
            parent[last] = ([value] if not isinstance(value, list) else (value[0] if value else {}))
    return doc


def check(text: str) -> tuple[Config | None, list[Problem]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "monitors.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = validate_file(path, environ={})
    config, problems = result
    assert (config is None) != (problems == []), "either a Config or problems, never both or neither"
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1, problem
        assert problem.message and "internal error" not in problem.message, problem
        assert str(problem).startswith(str(path))
    return result


@SETTINGS
@given(data=st.data(), index=st.integers(0, len(DOCS) - 1))
def test_mutated_documents(data, index):
    doc = mutate(DOCS[index], data)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    config, problems = check(text)
    if config is not None:
        # whatever the loader accepts, the schema accepts too
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(yaml.safe_load(text))]
        assert errors == [], text


@SETTINGS
@given(data=st.data(), index=st.integers(0, len(TEXTS) - 1))
def test_mutated_text(data, index):
    text = TEXTS[index]
    for _ in range(data.draw(st.integers(1, 5), label="edits")):
        at = data.draw(st.integers(0, len(text)), label="at")
        cut = data.draw(st.integers(0, 8), label="cut")
        insert = data.draw(st.one_of(st.text(max_size=6), st.sampled_from(
            [":", "- ", "\n", "  ", "\t", "{", "[", "'", '"', "&a ", "*a", "<<: ", "!!str ", "${", "#", "?"])),
            label="insert")
        text = text[:at] + insert + text[at + cut:]
    check(text)


@SETTINGS
@given(text=st.text(max_size=200))
def test_random_text(text):
    check(text)


@pytest.mark.parametrize("text", ["", "\x00", "\ufeff", "---", "...", "%YAML 1.1\n---\n", "? ? ?", "*a", "&a [*a]",
                                  "monitors: *x", "monitors:\n- !!binary x", "{", "\udcff"])
def test_known_odd_texts(text):
    check(text)
