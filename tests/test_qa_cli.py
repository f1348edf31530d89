"""The command line as a hostile-but-honest operator uses it: broken files and folders, odd arguments.

Every failure must be a clear message with a documented exit code (0, 2, 3, 4), never a
traceback, and never cost recorded history. Real loopback services, real subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.switch import switchable_service

ROOT = Path(__file__).resolve().parent.parent


def statusgen(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k != "CI"}
    environ.update(env or {})
    environ["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeout)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def write_config(folder: Path, *monitors: tuple[str, str]) -> None:
    lines = ["defaults: {timeout: 2s, retries: 0}", "monitors:"]
    lines += [f"  - {{id: {mid}, name: {mid.title()}, url: '{url}'}}" for mid, url in monitors]
    (folder / "monitors.yaml").write_text("\n".join(lines) + "\n")


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n", 2)[1])


@pytest.fixture
def service():
    with switchable_service() as svc:
        yield svc


@pytest.mark.parametrize("name", ["tracker_pending", "restarts", "notify-sent"])
def test_corrupt_cache_is_a_clear_data_error_and_checks_are_kept(tmp_path: Path, service, name: str) -> None:
    write_config(tmp_path, ("shop", service.url))
    first = statusgen("run", "--no-build", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    cache = tmp_path / "data" / "cache" / f"{name}.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json")
    raw = next((tmp_path / "data" / "checks" / "shop").glob("*.tsv"))
    lines_before = raw.read_text().count("\n")

    result = statusgen("run", "--no-build", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 4, result.stderr
    assert f"{name}.json" in result.stderr and "not valid JSON" in result.stderr
    assert cache.read_text() == "{not json"  # left for the operator, not overwritten
    assert raw.read_text().count("\n") == lines_before + 1  # this run's check is still recorded


def test_build_with_a_corrupt_rollup_exits_4_naming_the_file(tmp_path: Path, service) -> None:
    write_config(tmp_path, ("shop", service.url))
    assert statusgen("run", "--no-build", cwd=tmp_path).returncode == 0
    rollup = next((tmp_path / "data" / "daily" / "shop").glob("*.json"))
    rollup.write_text('{"broken')
    result = statusgen("build", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 4, result.stderr
    assert str(rollup.relative_to(tmp_path)) in result.stderr
    assert rollup.read_text() == '{"broken'


@pytest.mark.parametrize("command", [["probe", "--out", "folder"], ["merge", "p.json", "--out", "folder"]])
def test_partial_output_that_is_a_folder_is_a_clear_error(tmp_path: Path, service, command: list[str]) -> None:
    write_config(tmp_path, ("shop", service.url))
    assert statusgen("probe", "--out", "p.json", cwd=tmp_path).returncode == 0
    (tmp_path / "folder").mkdir()
    result = statusgen(*command, cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "folder" in result.stderr


def test_empty_shard_argument_is_rejected_before_probing(tmp_path: Path, service) -> None:
    write_config(tmp_path, ("shop", service.url))
    result = statusgen("probe", "--shard", "", "--out", "p.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "--shard" in result.stderr
    assert service.hits == 0
    assert not (tmp_path / "p.json").exists()


def test_unwritable_step_summary_does_not_fail_a_finished_run(tmp_path: Path, service) -> None:
    write_config(tmp_path, ("shop", service.url))
    result = statusgen("run", "--no-build", cwd=tmp_path,
                       env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path)})
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "GITHUB_STEP_SUMMARY" in result.stderr
    assert (tmp_path / "data" / "state.json").is_file()


def test_removed_monitor_has_its_open_incident_resolved(tmp_path: Path, service) -> None:
    """A monitor taken out of monitors.yaml (or renamed) must not leave an incident open forever."""
    write_config(tmp_path, ("shop", service.url), ("blog", service.url))
    service.mode = "error"
    opened = statusgen("run", "--no-build", cwd=tmp_path)
    assert opened.returncode == 0, opened.stderr
    files = {front_matter(p)["monitor"]: p for p in (tmp_path / "incidents").glob("*.md")}
    assert set(files) == {"shop", "blog"}

    write_config(tmp_path, ("shop", service.url), ("blog-v2", service.url))  # blog renamed
    result = statusgen("run", "--no-build", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert front_matter(files["blog"])["status"] == "resolved"
    text = files["blog"].read_text()
    assert "no longer in monitors.yaml" in text and "removed from monitors.yaml" in text
    assert "is back up" not in text  # it was never seen up again
    assert front_matter(files["shop"])["status"] == "open"  # still configured, still down
    states = json.loads((tmp_path / "data" / "state.json").read_text())["monitors"]
    assert states["blog"]["incident_open"] is False

    again = statusgen("run", "--no-build", cwd=tmp_path)  # nothing more happens to it
    assert again.returncode == 0, again.stderr
    assert "blog:" not in again.stdout.replace("blog-v2", "")
    assert sum(1 for p in (tmp_path / "incidents").glob("*.md") if front_matter(p)["monitor"] == "blog") == 1


def test_actions_without_token_warns_that_incidents_go_to_files(tmp_path: Path, service) -> None:
    write_config(tmp_path, ("shop", service.url))
    result = statusgen("run", "--no-build", cwd=tmp_path, env={"CI": "true", "GITHUB_ACTIONS": "true"})
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "GITHUB_TOKEN" in result.stderr and "incidents" in result.stderr
    quiet = statusgen("run", "--no-build", "--tracker", "files", cwd=tmp_path,
                      env={"CI": "true", "GITHUB_ACTIONS": "true"})
    assert "GITHUB_TOKEN" not in quiet.stderr


def test_a_title_edited_by_hand_survives_the_resolve(tmp_path: Path, service) -> None:
    """incidents/README.md: "you may edit the title ...: they are kept"."""
    write_config(tmp_path, ("shop", service.url))
    service.mode = "error"
    assert statusgen("run", "--no-build", cwd=tmp_path).returncode == 0
    (path,) = (tmp_path / "incidents").glob("*.md")
    path.write_text(path.read_text().replace(front_matter(path)["title"], "Checkout outage at the CDN", 1))
    service.mode = "up"
    result = statusgen("run", "--no-build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    meta = front_matter(path)
    assert meta["status"] == "resolved"
    assert meta["title"] == "Checkout outage at the CDN"


def test_recovery_after_a_failed_open_does_not_claim_to_resolve_incident_none(tmp_path: Path, service) -> None:
    write_config(tmp_path, ("shop", service.url))
    (tmp_path / "not-a-folder").write_text("x")
    service.mode = "error"
    failed = statusgen("run", "--no-build", "--incidents", "not-a-folder", cwd=tmp_path)
    no_traceback(failed)
    assert failed.returncode == 3, failed.stderr
    assert "not-a-folder" in failed.stderr
    service.mode = "up"
    result = statusgen("run", "--no-build", "--incidents", "not-a-folder", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "incident None" not in result.stdout
    assert "shop recovered" in result.stdout


@pytest.mark.parametrize("which", ["state", "rollup"])
def test_history_written_by_a_newer_statusgen_is_not_downgraded(tmp_path: Path, service, which: str) -> None:
    """Rewriting a newer format with this version's fields would drop what this version does not know."""
    write_config(tmp_path, ("shop", service.url))
    assert statusgen("run", "--no-build", cwd=tmp_path).returncode == 0
    path = (tmp_path / "data" / "state.json" if which == "state"
            else next((tmp_path / "data" / "daily" / "shop").glob("*.json")))
    document = json.loads(path.read_text())
    document["version"] = 99
    document["added_later"] = {"kept": True}
    path.write_text(json.dumps(document))
    before = path.read_text()

    result = statusgen("run", "--no-build", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 4, result.stderr
    assert path.name in result.stderr and "newer" in result.stderr
    assert path.read_text() == before
