"""The JSON Schema and the loader describe the same file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.config import SCHEMA_PATH, sections, validate_file
from generator.config import build as b
from generator.config import schema as schema_module
from generator.probes import http_spec, registry

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "data" / "configs"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
VALID_FILES = sorted((CONFIGS / "valid").glob("*.yaml")) + [ROOT / "monitors.yaml"]


def schema_errors(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(data)]


def marker(path: Path) -> str:
    match = re.search(r"^# schema: (accept|reject)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else ""


def test_committed_schema_is_generated_from_schema_py():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_module.render(), \
        "run: python -m generator.config.schema"


def test_schema_is_a_valid_draft_07_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_schema_names_the_same_keys_as_the_loader():
    props = SCHEMA["properties"]
    defs = SCHEMA["definitions"]
    assert set(props) == set(b.TOP_KEYS)
    assert set(props["site"]["properties"]) == set(sections.SITE_KEYS)
    assert set(props["settings"]["properties"]) == set(sections.SETTINGS_KEYS)
    assert set(props["settings"]["properties"]["canary"]["properties"]) == set(sections.CANARY_KEYS)
    assert set(props["defaults"]["properties"]) == set(b.defaults_keys())
    for probe_type in registry.TYPES:
        assert set(defs[f"{probe_type.name}Monitor"]["properties"]) == set(b.BASE_KEYS) | set(probe_type.key_names)
    assert set(defs["httpExpect"]["properties"]) == {key.name for key in http_spec.EXPECT.keys}
    assert set(defs["jsonAssertion"]["properties"]) == set(http_spec.JSON_KEYS)
    assert set(defs["restartDefaults"]["properties"]) == set(b.RESTART_KEYS)
    object_target = [s for s in defs["notifyTarget"]["oneOf"] if s.get("type") == "object"][0]
    assert set(object_target["properties"]) == set(b.NOTIFY_KEYS)


def every_description(node, where="") -> list[str]:
    """Paths of schema properties that lack a description (directly or through their $ref)."""
    missing = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            target = sub
            if "$ref" in sub and "description" not in sub:
                target = SCHEMA["definitions"][sub["$ref"].rsplit("/", 1)[-1]]
            if "description" not in target and "oneOf" not in target:
                missing.append(f"{where}.{name}")
            missing.extend(every_description(sub, f"{where}.{name}"))
        for name, sub in node.get("definitions", {}).items():
            missing.extend(every_description(sub, f"#{name}"))
    return missing


def test_every_key_is_described_for_editors():
    assert every_description(SCHEMA) == []


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_files_pass_both(path):
    config, problems = validate_file(path)
    assert problems == [] and config is not None
    assert schema_errors(path) == []


@pytest.mark.parametrize("path", sorted((CONFIGS / "invalid").glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_fixtures_against_schema(path):
    config, problems = validate_file(path)
    assert config is None and problems
    try:
        errors = schema_errors(path)
    except yaml.YAMLError:
        return  # not YAML at all: nothing for a schema to look at
    expected = marker(path)
    if expected == "reject":
        assert errors, f"the schema accepts {path.name}, the loader does not"
    elif expected == "accept":
        # things only the loader can tell (duplicate ids, regex syntax, tls days order, references)
        assert errors == [], errors
    else:
        assert path.name == "empty.yaml"  # None: no document for a schema


def test_check_jsonschema_cli_accepts_the_bundled_file():
    """The real CLI an editor or CI would use, on the bundled file and a broken one."""
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    if not Path(exe).exists():
        pytest.skip("check-jsonschema is not installed")
    good = subprocess.run([exe, "--schemafile", str(SCHEMA_PATH), str(ROOT / "monitors.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([exe, "--schemafile", str(SCHEMA_PATH), str(CONFIGS / "invalid" / "unknown_keys.yaml")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "titel" in bad.stdout + bad.stderr
