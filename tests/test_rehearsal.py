"""A dress rehearsal of .github/workflows/status.yml, without GitHub.

Every ``run:`` step of the workflow is executed as written, in order, with
``bash -e`` (what Actions uses when a step names no shell), in a fresh clone of
the repository per scheduled run, exactly as a runner would see it:

- ``origin`` is a local bare repository holding ``main`` (the repository at
  HEAD, with this working tree's status.yml and a test monitors.yaml);
- the GITHUB_* variables are set as Actions sets them; GITHUB_API_URL points at
  the GitHub REST emulator (tests/support/github_emulator.py);
- ``${{ ... }}`` expressions are substituted from the contexts (github.token,
  steps.<id>.outputs.<name>, env.<NAME>); one the rehearsal does not know fails it;
- ``uses:`` steps are stood in for by what they do: checkout = a depth-1 clone of
  origin; setup-python = a Python on PATH (a throwaway venv that sees the test
  venv's packages, so ``pip install .`` installs statusgen without touching it);
  upload-pages-artifact = copy the folder; deploy-pages = publish the copy.

A loopback service is up, goes down for two runs and comes back across four
scheduled runs. The rehearsal checks that the history branch was created, pushed
and stays one commit while the history inside it grows, that one issue was opened
and then closed, that the site was built and published each time, that no token
was written to disk, and that the daily keep-alive call is made.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from generator.timeutil import parse_iso, utcnow

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STEP_TIMEOUT = 240  # seconds; a hung step fails the rehearsal instead of hanging it


def _tracker_committed() -> bool:
    """The rehearsal clones HEAD: it needs the main job and the GitHub tracker committed."""
    for path in ("generator/run/main_job.py", "generator/incidents/github/tracker.py"):
        probe = subprocess.run(["git", "cat-file", "-e", f"HEAD:{path}"], cwd=ROOT, capture_output=True)
        if probe.returncode != 0:
            return False
    return True


pytestmark = pytest.mark.skipif(
    not _tracker_committed(), reason="statusgen run with the GitHub tracker is not committed yet (HEAD)"
)


def git(*args: str, cwd: Path, check: bool = True) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Rehearsal", "-c", "user.email=rehearsal@example.invalid", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


# --------------------------------------------------------------------------- expressions


EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Contexts:
    github: dict[str, str]
    token: str
    env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    matrix: dict[str, str] = field(default_factory=dict)
    job_failed: bool = False

    def value(self, expression: str) -> str:
        expression = expression.strip()
        if expression == "github.token":
            return self.token
        match = re.fullmatch(r"github\.([a-z_.]+)", expression)
        if match and match.group(1) in self.github:
            return self.github[match.group(1)]
        match = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", expression)
        if match:
            return self.env.get(match.group(1), "")
        match = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression)
        if match:
            return self.steps.get(match.group(1), {}).get(match.group(2), "")
        match = re.fullmatch(r"matrix\.([A-Za-z0-9_-]+)", expression)
        if match and match.group(1) in self.matrix:
            return self.matrix[match.group(1)]
        match = re.fullmatch(r"secrets\.[A-Za-z0-9_]+", expression)
        if match:
            return ""  # no repository secrets in the rehearsal
        raise AssertionError(f"the rehearsal does not know the expression ${{{{ {expression} }}}}: teach it")

    def substitute(self, text: Any) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), str(text))

    def condition(self, text: Optional[str]) -> bool:
        """A step's ``if:``; the forms the workflow uses, nothing more."""
        if text is None:
            return not self.job_failed
        inner = EXPRESSION.fullmatch(text.strip())
        expression = (inner.group(1) if inner else text).strip()
        status_checks = {"always()": True, "success()": not self.job_failed, "failure()": self.job_failed,
                         "cancelled()": False, "!cancelled()": True}
        if expression in status_checks:
            return status_checks[expression]
        match = re.fullmatch(r"([a-z_.]+)\s*(==|!=)\s*'([^']*)'", expression)
        if match:
            equal = self.value(match.group(1)) == match.group(3)
            return (equal if match.group(2) == "==" else not equal) and not self.job_failed
        raise AssertionError(f"the rehearsal does not know the condition {text!r}: teach it")


def read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as the runner reads GITHUB_OUTPUT."""
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            index += 1
            while index < len(lines) and lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        index += 1
    return outputs


# --------------------------------------------------------------------------- the runner


@dataclass
class StepLog:
    name: str
    code: Optional[int]  # None: skipped
    stdout: str = ""
    stderr: str = ""


@dataclass
class RunResult:
    number: int
    succeeded: bool
    logs: list[StepLog]
    summary: str
    outputs: dict[str, dict[str, str]]
    published: Optional[Path]

    def describe(self) -> str:
        parts = []
        for log in self.logs:
            state = "skipped" if log.code is None else f"exit {log.code}"
            parts.append(f"--- {log.name}: {state}\n{log.stdout[-3000:]}{log.stderr[-3000:]}")
        return "\n".join(parts)


class Rehearsal:
    def __init__(self, base: Path, *, python_bin: Path, emulator, date_bin: str):
        self.base = base
        self.python_bin = python_bin
        self.emulator = emulator
        self.origin = base / "origin.git"
        self.shims = base / "shims"
        self.published = base / "published"
        self.workflows = {}
        for path in WORKFLOWS.glob("*.yml"):
            workflow = yaml.safe_load(path.read_text())
            workflow["on"] = workflow.pop(True, workflow.get("on"))
            self.workflows[path.name] = workflow
        self.shims.mkdir()
        # The runner's clock, for `date` in the scripts: REHEARSAL_NOW sets it (the keep-alive looks at the hour).
        shim = self.shims / "date"
        shim.write_text(f'#!/bin/bash\nif [ -n "${{REHEARSAL_NOW:-}}" ]; then exec {date_bin} -d "$REHEARSAL_NOW" "$@"; fi\n'
                        f'exec {date_bin} "$@"\n')
        shim.chmod(0o755)

    def make_origin(self, monitors_yaml: str) -> None:
        setup = self.base / "setup"
        git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(setup), cwd=self.base)
        for path in WORKFLOWS.glob("*.yml"):  # the ones under test, as in this working tree
            shutil.copyfile(path, setup / ".github" / "workflows" / path.name)
        (setup / "monitors.yaml").write_text(monitors_yaml)
        git("add", "--all", ".", cwd=setup)
        git("commit", "--quiet", "--allow-empty", "-m", "rehearsal: monitors.yaml on loopback", cwd=setup)
        git("init", "--quiet", "--bare", str(self.origin), cwd=self.base)
        git("push", "--quiet", str(self.origin), "HEAD:refs/heads/main", cwd=setup)
        git("symbolic-ref", "HEAD", "refs/heads/main", cwd=self.origin)

    def push_branch(self, branch: str, files: dict[str, str]) -> None:
        """A pull request's branch: main plus ``files``, pushed to origin."""
        work = self.base / f"branch-{branch}"
        git("clone", "--quiet", f"file://{self.origin}", str(work), cwd=self.base)
        git("checkout", "--quiet", "-b", branch, cwd=work)
        for name, text in files.items():
            (work / name).write_text(text)
        git("commit", "--quiet", "--all", "-m", f"change {', '.join(files)}", cwd=work)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)

    def run(self, number: int, *, now: str, workflow_file: str = "status.yml", job_id: str = "run",
            event: str = "schedule", branch: str = "main", extra_github: Optional[dict[str, str]] = None,
            matrix: Optional[dict[str, str]] = None, downloads: Optional[list[Path]] = None,
            env_overrides: Optional[dict[str, str]] = None, extra_env: Optional[dict[str, str]] = None) -> RunResult:
        """One job of one workflow run on a fresh runner; ``downloads``: artifact folders of earlier jobs;
        ``env_overrides``: workflow-level ``env:`` values changed for this run (e.g. a shorter WATCH_FOR);
        ``extra_env``: variables of the runner itself."""
        self.workflow = workflow = self.workflows[workflow_file]
        self.branch = branch
        self.downloads = downloads or []
        home = self.base / (f"run-{number}" + "".join(f"-{v}" for v in (matrix or {}).values()))
        workspace = home / "work" / self.emulator.repo
        temp = home / "temp"
        temp.mkdir(parents=True)
        workspace.mkdir(parents=True)  # a runner's workspace exists (empty) before any checkout
        sha = git("rev-parse", f"refs/heads/{branch}", cwd=self.origin)
        github = {
            "event_name": event, "repository": self.emulator.full_name, "ref": f"refs/heads/{branch}",
            "sha": sha, "run_id": str(9000 + number), "workflow": workflow["name"], **(extra_github or {}),
        }
        base_env = {
            "PATH": f"{self.python_bin}:{self.shims}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", str(home)),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": self.emulator.full_name,
            "GITHUB_REPOSITORY_OWNER": self.emulator.owner,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": self.emulator.url,
            "GITHUB_GRAPHQL_URL": self.emulator.url + "/graphql",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_REF": f"refs/heads/{branch}",
            "GITHUB_REF_NAME": branch,
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_SHA": sha,
            "GITHUB_RUN_ID": github["run_id"],
            "GITHUB_RUN_NUMBER": str(number),
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_WORKFLOW": workflow["name"],
            "GITHUB_WORKFLOW_REF": f"{self.emulator.full_name}/.github/workflows/{workflow_file}@refs/heads/{branch}",
            "GITHUB_JOB": job_id,
            "GITHUB_ACTOR": self.emulator.owner,
            "GITHUB_EVENT_PATH": str(temp / "event.json"),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(temp),
            "REHEARSAL_NOW": now,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_BUILD_ISOLATION": "false",  # pip's spelling of --no-build-isolation (see python_bin)
        }
        base_env.update(extra_env or {})
        (temp / "event.json").write_text("{}")
        contexts = Contexts(github=github, token=self.emulator.token, matrix={k: str(v) for k, v in (matrix or {}).items()})
        contexts.env = {k: contexts.substitute(v) for k, v in workflow.get("env", {}).items()}
        contexts.env.update(env_overrides or {})
        job = workflow["jobs"][job_id]
        logs: list[StepLog] = []
        summary_parts: list[str] = []
        artifact: Optional[Path] = None
        extra_env: dict[str, str] = {}

        for position, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {position}"
            if not contexts.condition(step.get("if")):
                logs.append(StepLog(name, None))
                continue
            if "uses" in step:
                action = step["uses"].split("@")[0]
                inputs = {k: contexts.substitute(v) for k, v in (step.get("with") or {}).items()}
                code, out = self._stand_in(action, inputs, workspace, home)
                if action == "actions/upload-pages-artifact" and code == 0:
                    artifact = home / "artifacts" / "github-pages"
                logs.append(StepLog(name, code, out))
                contexts.job_failed |= code != 0
                continue
            files = {key: temp / f"{key.lower()}-{position}" for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
            for path in files.values():
                path.touch()
            env = dict(base_env)
            env.update(contexts.env)
            env.update({k: contexts.substitute(v) for k, v in (job.get("env") or {}).items()})
            env.update(extra_env)
            env.update({k: contexts.substitute(v) for k, v in (step.get("env") or {}).items()})
            env.update({k: str(v) for k, v in files.items()})
            script = temp / f"step-{position}.sh"
            script.write_text(contexts.substitute(step["run"]))
            shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail"] if step.get("shell") == "bash" else ["bash", "-e"]
            try:
                done = subprocess.run([*shell, str(script)], cwd=workspace / step.get("working-directory", "."),
                                      env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
                code, stdout, stderr = done.returncode, done.stdout, done.stderr
            except subprocess.TimeoutExpired as expired:
                code, stdout, stderr = 124, str(expired.stdout or ""), f"step timed out after {STEP_TIMEOUT}s"
            logs.append(StepLog(name, code, stdout, stderr))
            if "id" in step:
                contexts.steps[step["id"]] = read_outputs(files["GITHUB_OUTPUT"])
            extra_env.update(read_outputs(files["GITHUB_ENV"]))
            for line in files["GITHUB_PATH"].read_text().splitlines():
                base_env["PATH"] = f"{line}:{base_env['PATH']}"
            summary_parts.append(files["GITHUB_STEP_SUMMARY"].read_text())
            contexts.job_failed |= code != 0

        published = None
        if "deploy" in workflow["jobs"] and not contexts.job_failed and artifact is not None:
            # the deploy job: needs this one, one step, actions/deploy-pages
            deploy = workflow["jobs"]["deploy"]
            assert deploy["needs"] == job_id
            assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
            published = self.published / f"run-{number}"
            shutil.copytree(artifact, published)
        return RunResult(number, not contexts.job_failed, logs, "".join(summary_parts), contexts.steps, published)

    def _stand_in(self, action: str, inputs: dict[str, str], workspace: Path, home: Path) -> tuple[int, str]:
        if action == "actions/checkout":
            assert inputs.get("persist-credentials") == "False", "checkout must not persist the token"
            workspace.parent.mkdir(parents=True, exist_ok=True)
            git("clone", "--quiet", "--depth", "1", "--branch", self.branch, f"file://{self.origin}", str(workspace),
                cwd=home)
            return 0, f"cloned {self.origin} into {workspace}"
        if action == "actions/setup-python":
            assert (self.python_bin / "python").exists()
            return 0, f"python {inputs.get('python-version')} -> {self.python_bin / 'python'}"
        if action == "actions/upload-pages-artifact":
            source = workspace / inputs.get("path", "_site")
            if not (source / "index.html").exists():
                return 1, f"{source}: no index.html to upload"
            shutil.copytree(source, home / "artifacts" / "github-pages")
            return 0, f"uploaded {source}"
        if action == "actions/download-artifact":
            import fnmatch

            target = workspace / inputs.get("path", ".")
            target.mkdir(parents=True, exist_ok=True)
            assert inputs.get("merge-multiple") == "True"
            found = [d for d in self.downloads if fnmatch.fnmatch(d.name, inputs.get("pattern", "*"))]
            for folder in found:
                shutil.copytree(folder, target, dirs_exist_ok=True)
            return 0, f"downloaded {[d.name for d in found]} into {target}"
        if action == "actions/upload-artifact":
            source = workspace / inputs["path"]
            if not source.exists():
                return (1 if inputs.get("if-no-files-found") == "error" else 0), f"{source}: nothing to upload"
            if source.is_dir():
                shutil.copytree(source, home / "artifacts" / inputs["name"])
            else:
                (home / "artifacts" / inputs["name"]).mkdir(parents=True)
                shutil.copy2(source, home / "artifacts" / inputs["name"] / source.name)
            return 0, f"uploaded {source} as {inputs['name']}"
        raise AssertionError(f"the rehearsal has no stand-in for {action}: add one")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def python_bin(tmp_path_factory) -> Path:
    """A throwaway venv that sees the test venv's packages; `pip install .` lands in it only."""
    venv = tmp_path_factory.mktemp("python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    (Path(purelib) / "_rehearsal_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # `pip install .` builds the wheel without build isolation (PIP_NO_BUILD_ISOLATION in the run
    # environment) so that four runs do not each set up a build environment; the build backend
    # it needs (setuptools with bdist_wheel) is installed here once, from PyPI or pip's cache.
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "setuptools>=70.1"], check=True, timeout=300, capture_output=True)
    return venv / "bin"


MONITORS = """\
site:
  title: Rehearsal Status
  repository: {repository}
settings:
  concurrency: 2
defaults:
  timeout: 2s
  retries: 0
  failure_threshold: 1
  success_threshold: 1
monitors:
  - id: api
    name: API
    url: {url}
    expect:
      status: [200]
"""


def branch_commits(origin: Path, branch: str) -> list[str]:
    out = git("rev-list", f"refs/heads/{branch}", cwd=origin, check=False)
    return out.split() if out else []


# --------------------------------------------------------------------------- the rehearsal


def test_status_workflow_rehearsal(tmp_path, python_bin):
    from tests.support.github_emulator import GitHubEmulator
    from tests.support.switch import switchable_service

    date_bin = shutil.which("date")
    assert date_bin
    with switchable_service() as service, GitHubEmulator() as emulator:
        rehearsal = Rehearsal(tmp_path, python_bin=python_bin, emulator=emulator, date_bin=date_bin)
        rehearsal.make_origin(MONITORS.format(repository=emulator.full_name, url=service.url))
        main_sha = git("rev-parse", "refs/heads/main", cwd=rehearsal.origin)
        started = utcnow()
        day = started.strftime("%Y-%m-%d")
        plan = [("up", f"{day}T12:03:00Z"), ("error", f"{day}T12:08:00Z"), ("error", f"{day}T12:13:00Z"),
                ("up", f"{day}T00:08:00Z")]  # the last run falls in the keep-alive hour
        results = []
        history_heads = []
        for number, (mode, now) in enumerate(plan, start=1):
            service.mode = mode
            result = rehearsal.run(number, now=now)
            results.append(result)
            assert result.succeeded, f"run {number} failed:\n{result.describe()}"
            assert result.outputs["run"]["exit-code"] == "0", result.describe()

            # the history branch: pushed, and always exactly one commit
            commits = branch_commits(rehearsal.origin, "status-data")
            assert len(commits) == 1, f"run {number}: status-data has {len(commits)} commits"
            history_heads.append(commits[0])
            assert git("ls-tree", "-r", "--name-only", commits[0], cwd=rehearsal.origin), "empty history commit"
            # main is untouched by the run
            assert git("rev-parse", "refs/heads/main", cwd=rehearsal.origin) == main_sha

            # the site was built, uploaded and published
            assert result.published is not None and (result.published / "index.html").exists()
            assert "History: `status-data` is now" in result.summary
            assert "API (`api`)" in result.summary  # statusgen's own table of this run's checks

            issues = [i for i in emulator.issues.values() if "incident" in [n.lower() for n in i.labels]]
            if number == 1:
                assert issues == [], "an up service must not open an incident"
            elif number in (2, 3):
                assert len(issues) == 1, f"run {number}: expected one incident issue, found {len(issues)}"
                assert issues[0].state == "open"
                assert {"incident", "down"} <= {n.lower() for n in issues[0].labels}
                assert ("opened incident" in result.summary) == (number == 2), result.summary
            else:
                assert len(issues) == 1
                assert issues[0].state == "closed"
                assert "resolved" in {n.lower() for n in issues[0].labels}
                assert "resolved incident" in result.summary, result.summary

        assert len(set(history_heads)) == len(history_heads), "each run replaces the history commit"
        assert service.hits >= len(plan)

        # the history inside the single commit kept every run's check
        final = tmp_path / "final-history"
        git("worktree", "add", "--quiet", "--detach", str(final), "refs/heads/status-data", cwd=rehearsal.origin)
        from generator.history import History

        statuses = [c.status.value for c in History(final).checks("api", started - timedelta(hours=1))]
        assert statuses == ["up", "down", "down", "up"], statuses

        # the keep-alive call was made once, in the run at 00:08 UTC, for this workflow file
        enables = emulator.requests("PUT", r"/actions/workflows/")
        assert [r.path for r in enables] == [f"/repos/{emulator.full_name}/actions/workflows/status.yml/enable"]

        # the token never reached a file: no persisted credentials, no extraheader in any config
        for number in range(1, len(plan) + 1):
            config = (tmp_path / f"run-{number}" / "work" / emulator.repo / ".git" / "config").read_text()
            assert emulator.token not in config and "extraheader" not in config
        assert emulator.token not in (rehearsal.origin / "config").read_text()

        # validate.yml on two pull requests: a broken monitors.yaml is annotated and stops the job;
        # a good one gets a preview built from the current history, uploaded as an artifact.
        good = MONITORS.format(repository=emulator.full_name, url=service.url).replace("Rehearsal Status", "Preview Status")
        bad = good.replace("    url: ", "    ur1: ")
        rehearsal.push_branch("broken", {"monitors.yaml": bad})
        rehearsal.push_branch("preview", {"monitors.yaml": good})
        pr = {"event.pull_request.number": "7"}
        broken = rehearsal.run(5, now=plan[0][1], workflow_file="validate.yml", job_id="validate",
                               event="pull_request", branch="broken", extra_github=pr)
        assert not broken.succeeded
        check_log = next(log for log in broken.logs if log.name == "Validate monitors.yaml")
        assert check_log.code == 2, broken.describe()
        assert re.search(r"^::error file=monitors\.yaml,line=\d+", check_log.stdout, re.M), broken.describe()
        assert [log.code for log in broken.logs[-3:]] == [None, None, None]  # nothing after the failed check

        preview = rehearsal.run(6, now=plan[0][1], workflow_file="validate.yml", job_id="validate",
                                event="pull_request", branch="preview", extra_github=pr)
        assert preview.succeeded, preview.describe()
        fetch_log = next(log for log in preview.logs if log.name.startswith("Fetch the current history"))
        assert f"Preview built from the history at {history_heads[-1][:7]}" in fetch_log.stdout, preview.describe()
        artifact = tmp_path / "run-6" / "artifacts" / "site-preview-pr-7"
        assert "Preview Status" in (artifact / "index.html").read_text()
        assert branch_commits(rehearsal.origin, "status-data") == [history_heads[-1]]  # read-only

        # status-sharded.yml, one run: a probe job per matrix shard, then the record job merges them
        sharded = rehearsal.workflows["status-sharded.yml"]
        shards = sharded["jobs"]["probe"]["strategy"]["matrix"]["shard"]
        uploads = []
        for shard in shards:
            probe = rehearsal.run(7, now=plan[0][1], workflow_file="status-sharded.yml", job_id="probe",
                                  event="workflow_dispatch", matrix={"shard": shard})
            assert probe.succeeded, probe.describe()
            uploads.append(tmp_path / f"run-7-{shard}" / "artifacts" / f"partial-{shard}")
        assert all((folder / f"{folder.name}.json").exists() for folder in uploads)
        record = rehearsal.run(8, now=plan[0][1], workflow_file="status-sharded.yml", job_id="record",
                               event="workflow_dispatch", downloads=uploads)
        assert record.succeeded, record.describe()
        assert record.published is not None and (record.published / "index.html").exists()
        commits = branch_commits(rehearsal.origin, "status-data")
        assert len(commits) == 1 and commits[0] != history_heads[-1]
        shutil.rmtree(final)
        git("worktree", "prune", cwd=rehearsal.origin)
        git("worktree", "add", "--quiet", "--detach", str(final), "refs/heads/status-data", cwd=rehearsal.origin)
        statuses = [c.status.value for c in History(final).checks("api", started - timedelta(hours=1))]
        assert statuses == ["up", "down", "down", "up", "up"], statuses


# --------------------------------------------------------------------------- watch mode

WATCH_MONITORS = """\
site:
  title: Watch Rehearsal
  repository: {repository}
settings:
  interval: 1s
  publish_every: 2s
defaults:
  timeout: 1s
  retries: 0
monitors:
  - id: api
    name: API
    url: {url}
    restart:
      url: {hook}
      verify_every: 500ms
      verify_for: 10s
"""


def test_watch_workflow_rehearsal(tmp_path, python_bin):
    """watch.yml's real steps: an outage, a restart that resolves it, the history pushed and the deploy
    dispatched on the publish cadence, a second watcher started while the first still runs (it waits
    for the lease, then continues the history: one writer, one incident), the hand-over dispatches,
    pages.yml deploying from the pushed history, and status.yml's watchdog in watch mode."""
    import threading
    import time

    from generator.history import History
    from tests.run.test_engine import restart_hooks
    from tests.support.github_emulator import GitHubEmulator
    from tests.support.switch import switchable_service

    date_bin = shutil.which("date")
    assert date_bin
    with switchable_service() as service, restart_hooks({"api": service}) as (hook, calls), \
            GitHubEmulator() as emulator:
        service.mode = "error"  # the outage: down when the first watcher starts
        rehearsal = Rehearsal(tmp_path, python_bin=python_bin, emulator=emulator, date_bin=date_bin)
        rehearsal.make_origin(WATCH_MONITORS.format(repository=emulator.full_name, url=service.url,
                                                    hook=f"{hook}/api"))
        started = utcnow()
        fast = {"STATUSGEN_TEST_MIN_INTERVAL": "1"}
        results: dict[str, RunResult] = {}

        def watcher(name: str, number: int, watch_for: str) -> None:
            results[name] = rehearsal.run(number, now="", workflow_file="watch.yml", job_id="watch",
                                          event="workflow_dispatch", extra_env=fast,
                                          env_overrides={"WATCH_FOR": watch_for, "LEASE_WAIT": "120"})

        first = threading.Thread(target=watcher, args=("first", 1, "24s"))
        first.start()
        deadline = time.monotonic() + 180
        while not branch_commits(rehearsal.origin, "status-data") and time.monotonic() < deadline:
            time.sleep(0.2)  # the first watcher published (and pushed) at least once
        assert branch_commits(rehearsal.origin, "status-data"), "the first watcher never pushed the history"
        second = threading.Thread(target=watcher, args=("second", 2, "6s"))
        second.start()  # overlapping: started while the first one still watches
        first.join(STEP_TIMEOUT)
        second.join(STEP_TIMEOUT)
        a, b = results["first"], results["second"]
        assert a.succeeded, a.describe()
        assert b.succeeded, b.describe()
        assert a.outputs["watch"]["exit-code"] == "0" and b.outputs["watch"]["exit-code"] == "0"

        # the outage, the restart and the recovery, with one issue across both watchers
        watch_log = next(log for log in a.logs if log.name.startswith("Watch until"))
        assert re.search(r"opened incident \S+ for api", watch_log.stdout), a.describe()
        assert "verifying the restart of api" in watch_log.stdout and "resolved incident" in watch_log.stdout
        assert calls == ["api"]
        issues = [i for i in emulator.issues.values() if "incident" in [n.lower() for n in i.labels]]
        assert len(issues) == 1 and issues[0].state == "closed", [(i.number, i.state) for i in issues]
        assert "resolved" in {n.lower() for n in issues[0].labels}

        # the second watcher waited for the first one's lease in the pushed history, then took over
        wait_log = next(log for log in b.logs if log.name.startswith("Check out the history branch"))
        assert "waiting for it to hand over" in wait_log.stdout, b.describe()
        assert "History: continuing `status-data`" in wait_log.stdout

        # the history branch: one commit, every check of both watchers, one writer at a time
        commits = branch_commits(rehearsal.origin, "status-data")
        assert len(commits) == 1
        final = tmp_path / "final-history"
        git("worktree", "add", "--quiet", "--detach", str(final), "refs/heads/status-data", cwd=rehearsal.origin)
        checks = History(final).checks("api", started - timedelta(minutes=5))
        times = [c.time.timestamp() for c in checks]
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        assert len(times) >= 12 and max(gaps) < 20, gaps  # the hand-over's gap: the lease poll, the next start
        # one writer at a time: the second watcher started watching after the first one stopped
        second_log = next(log for log in b.logs if log.name.startswith("Watch until"))
        stopped = re.search(r"^(\S+)  watch stopped", watch_log.stdout, re.M)
        began = re.search(r"^(\S+)  watching 1 monitors", second_log.stdout, re.M)
        assert stopped and began and began.group(1) >= stopped.group(1), (watch_log.stdout, second_log.stdout)
        assert not [t for t in times if t > parse_iso(stopped.group(1)).timestamp() + 1
                    and t < parse_iso(began.group(1)).timestamp()], "a check between the two watchers"
        assert {c.status.value for c in checks} == {"up", "down"}
        lease = (final / "lease.json").read_text()
        assert '"released": true' in lease

        # deploys dispatched on the publish cadence (a transition happened; and the last publishes),
        # and each watcher queued its successor
        assert len(emulator.dispatched("pages.yml")) >= 2
        hand_overs = emulator.dispatched("watch.yml")
        assert [r["_inputs"] for r in hand_overs] == [{"reason": "hand-over"}] * 2
        assert "Hand-over: the next watcher is queued." in a.summary
        assert "### statusgen watch" in a.summary  # the job summary statusgen keeps up to date

        # pages.yml, as dispatched: builds the site from the pushed history and deploys it
        pages = rehearsal.run(3, now="", workflow_file="pages.yml", job_id="build", event="workflow_dispatch",
                              extra_env=fast)
        assert pages.succeeded, pages.describe()
        assert pages.published is not None and "Watch Rehearsal" in (pages.published / "index.html").read_text()

        # status.yml in watch mode: its schedule is the watchdog
        for run in hand_overs:
            emulator.set_run_status(run["id"], "in_progress")
        quiet = rehearsal.run(4, now="", env_overrides={"STATUS_MODE": "watch"}, extra_env=fast)
        assert quiet.succeeded, quiet.describe()
        assert quiet.outputs["mode"]["mode"] == "watch" and quiet.published is None
        assert "Watchdog: a watcher is alive" in quiet.summary
        ran = [log.name for log in quiet.logs[1:] if log.code is not None]
        assert ran == ["Keep the schedule alive"], ran  # nothing else runs: the watchdog's schedule stays alive
        assert len(emulator.dispatched("watch.yml")) == 2
        for run in hand_overs:
            emulator.set_run_status(run["id"], "completed", "cancelled")  # a lost hand-over
        healed = rehearsal.run(5, now="", env_overrides={"STATUS_MODE": "watch"}, extra_env=fast)
        assert healed.succeeded, healed.describe()
        assert "dispatched watch.yml" in healed.summary
        assert [r["_inputs"] for r in emulator.dispatched("watch.yml")][-1] == {"reason": "watchdog"}
        assert branch_commits(rehearsal.origin, "status-data") == commits  # the watchdog writes nothing
