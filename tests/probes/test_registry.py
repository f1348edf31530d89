"""Every registered probe type still fits the interface, documents every key, and its schema and loader agree.

The Gatus way (a check that each provider still fits its interface), for our ProbeType: a new type
gets these checks by adding its line to the registry.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from generator.config import schema as schema_module
from generator.config import validate_file
from generator.config.keys import Block, Key
from generator.probes import PROBES, registry
from generator.probes.probetype import ProbeType

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema.Draft7Validator(schema_module.build_schema())
TYPES = registry.TYPES
IDS = [probe_type.name for probe_type in TYPES]


def every_key(keys: tuple[Key, ...], where: str = "") -> list[tuple[str, Key]]:
    found = []
    for key in keys:
        found.append((where + key.name, key))
        if isinstance(key, Block):
            found.extend(every_key(key.keys, f"{where}{key.name}."))
    return found


@pytest.mark.parametrize("probe_type", TYPES, ids=IDS)
def test_each_type_fits_the_interface(probe_type):
    assert isinstance(probe_type, ProbeType)
    assert registry.BY_NAME[probe_type.name] is probe_type
    assert PROBES[probe_type.name] is probe_type.probe  # what the runner calls
    assert list(inspect.signature(probe_type.probe).parameters) == ["monitor", "timeout"]
    assert dataclasses.is_dataclass(probe_type.spec)
    assert probe_type.spec.__dataclass_params__.frozen  # monitors are shared between threads
    fields = {field.name: field for field in dataclasses.fields(probe_type.spec)}
    attrs = [key.attr for key in probe_type.keys]
    assert len(set(attrs)) == len(attrs) and set(attrs) <= set(fields), "each key fills one spec field"
    for key in probe_type.keys:
        field = fields[key.attr]
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        assert key.required or has_default, f"{key.name}: optional, so its field needs a default"


@pytest.mark.parametrize("probe_type", TYPES, ids=IDS)
def test_each_key_has_docs_and_samples(probe_type):
    for path, key in every_key(probe_type.keys):
        assert key.doc.strip(), f"{probe_type.name}.{path} has no docs"
        outcomes = {ok for _, ok in key.samples()}
        assert outcomes == {True, False}, f"{probe_type.name}.{path} needs good and bad samples"


def test_names_are_unique_and_the_default_is_registered():
    assert len(set(registry.NAMES)) == len(registry.NAMES)
    assert registry.DEFAULT in registry.NAMES
    assert set(PROBES) == set(registry.NAMES)


def test_a_key_defaults_may_set_means_the_same_for_every_type():
    seen: dict[str, Key] = {}
    for probe_type in TYPES:
        for key in probe_type.keys:
            if key.inherit:
                assert seen.setdefault(key.name, key) == key, f"defaults.{key.name} is declared twice, differently"


# --------------------------------------------------------------------------- schema and loader agree


def minimal(probe_type: ProbeType) -> dict[str, Any]:
    """A monitor of this type with only its required keys, each given its first good sample."""
    monitor: dict[str, Any] = {"id": "m", "type": probe_type.name}
    for key in probe_type.keys:
        if key.required:
            monitor[key.name] = next(value for value, ok in key.samples() if ok)
    return monitor


def verdicts(tmp_path: Path, document: dict[str, Any]) -> tuple[bool, bool, list[str]]:
    path = tmp_path / "monitors.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    config, problems = validate_file(path)
    schema_errors = [error.message for error in VALIDATOR.iter_errors(document)]
    return config is not None, not schema_errors, [str(problem) for problem in problems] + schema_errors


def cases() -> list[Any]:
    found = []
    for probe_type in TYPES:
        for key in probe_type.keys:
            for index, (value, ok) in enumerate(key.samples()):
                found.append(pytest.param(probe_type, key, value, ok, id=f"{probe_type.name}.{key.name}[{index}]"))
    return found


@pytest.fixture
def without_cross_key_rules(monkeypatch):
    """Rules across keys (tls: down_days <= degraded_days) are the loader's alone: no schema states them."""
    for probe_type in TYPES:
        monkeypatch.setitem(registry.BY_NAME, probe_type.name, dataclasses.replace(probe_type, check=None))


@pytest.mark.parametrize(("probe_type", "key", "value", "ok"), cases())
def test_schema_and_loader_accept_and_reject_the_same_values(tmp_path, without_cross_key_rules,
                                                             probe_type, key, value, ok):
    monitor = {**minimal(probe_type), key.name: value}
    loader, schema, messages = verdicts(tmp_path, {"monitors": [monitor]})
    assert (loader, schema) == (ok, ok), messages
    if key.inherit:
        loader, schema, messages = verdicts(tmp_path, {"defaults": {key.name: value},
                                                       "monitors": [minimal(probe_type)]})
        assert (loader, schema) == (ok, ok), messages


@pytest.mark.parametrize("probe_type", TYPES, ids=IDS)
def test_schema_and_loader_both_want_each_required_key(tmp_path, probe_type):
    assert verdicts(tmp_path, {"monitors": [minimal(probe_type)]})[:2] == (True, True)
    for name in probe_type.required:
        monitor = {key: value for key, value in minimal(probe_type).items() if key != name}
        loader, schema, messages = verdicts(tmp_path, {"monitors": [monitor]})
        assert (loader, schema) == (False, False), messages
        assert any(f'missing required key "{name}"' in message for message in messages)


# --------------------------------------------------------------------------- one-way imports


@pytest.mark.parametrize("module", ["generator.probes", "generator.probes.tcp", "generator.probes.probetype",
                                    "generator.config", "generator.config.keys", "generator.models",
                                    "generator.run.probing", "generator.config.schema", "generator.config.build",
                                    "generator.probes.http_spec", "generator.probes.registry", "generator.cli"])
def test_any_module_can_be_imported_first(module):
    """The probe modules use the config room's Reader and the loader reads the registry: whichever is
    imported first, both must load (see the note in config/build.py)."""
    code = f"import {module}; from generator.probes.http_spec import HttpSpec; from generator.probes import registry; " \
           f"print(json.dumps(registry.NAMES))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, capture_output=True, text=True,
                         check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == list(registry.NAMES)
