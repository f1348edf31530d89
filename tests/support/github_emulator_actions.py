"""The GitHub emulator's Actions endpoints, kept apart from the rest: workflow_dispatch and the
listing of workflow runs (what watch.yml, pages.yml and status.yml's watchdog call)."""

from __future__ import annotations

import re
from typing import Any, Optional
from urllib.parse import unquote

from generator.timeutil import to_iso
from tests.support.github_emulator_model import HttpError


class ActionsRuns:
    """Workflow runs and workflow_dispatch (``POST .../actions/workflows/{id}/dispatches``, ``GET
    .../actions/runs`` and ``GET .../actions/workflows/{id}/runs``), shaped as GitHub's OpenAPI says.

    A dispatch queues a run (event ``workflow_dispatch``); the test moves it on with
    :meth:`set_run_status` (queued -> in_progress -> completed), as GitHub's runners would.
    """

    def _runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.__dict__.setdefault("workflow_runs", [])
        return runs

    def add_run(self, workflow: str, *, event: str = "workflow_dispatch", status: str = "queued",
                inputs: Optional[dict[str, Any]] = None, ref: str = "main") -> dict[str, Any]:
        """A run of ``.github/workflows/<workflow>`` (what a dispatch or the schedule starts)."""
        emu: Any = self
        runs = self._runs()
        number = len(runs) + 1
        now = to_iso(emu._now())
        base = emu._api(f"{emu._repo_path()}/actions/runs/{9000 + number}")
        run = {
            "id": 9000 + number, "node_id": f"WFR_{number}", "name": workflow.rsplit(".", 1)[0],
            "head_branch": ref, "head_sha": "0" * 40, "path": f".github/workflows/{workflow}",
            "display_title": workflow.rsplit(".", 1)[0], "run_number": number, "run_attempt": 1,
            "event": event, "status": status, "conclusion": None, "workflow_id": 700 + len(workflow),
            "url": base, "html_url": f"https://github.example.test/{emu.full_name}/actions/runs/{9000 + number}",
            "created_at": now, "updated_at": now, "run_started_at": now, "head_commit": None,
            "head_repository": emu.repo_json(), "repository": emu.repo_json(), "pull_requests": [],
            "jobs_url": f"{base}/jobs", "logs_url": f"{base}/logs", "check_suite_url": f"{base}/check-suite",
            "cancel_url": f"{base}/cancel", "rerun_url": f"{base}/rerun", "artifacts_url": f"{base}/artifacts",
            "workflow_url": emu._api(f"{emu._repo_path()}/actions/workflows/{700 + len(workflow)}"),
            "_inputs": dict(inputs or {}),
        }
        runs.append(run)
        return run

    def set_run_status(self, run_id: int, status: str, conclusion: Optional[str] = None) -> None:
        emu: Any = self
        for run in self._runs():
            if run["id"] == run_id:
                run["status"], run["conclusion"], run["updated_at"] = status, conclusion, to_iso(emu._now())

    def dispatched(self, workflow: str) -> list[dict[str, Any]]:
        """The runs a workflow_dispatch of ``workflow`` queued, oldest first."""
        return [r for r in self._runs() if r["path"].endswith("/" + workflow) and r["event"] == "workflow_dispatch"]

    def actions_route(self, method: str, rest: str, query: dict[str, str],
                      payload: Any) -> Optional[tuple[int, Any, dict[str, str]]]:
        """The three endpoints; None for any other path (the caller answers 404)."""
        match = re.fullmatch(r"/actions/workflows/([^/]+)/dispatches", rest)
        if match and method == "POST":
            if not isinstance(payload, dict) or not isinstance(payload.get("ref"), str):
                raise HttpError(422, "Invalid request.\n\n\"ref\" wasn't supplied.")
            inputs = payload.get("inputs") or {}
            if not isinstance(inputs, dict) or len(inputs) > 25:
                raise HttpError(422, "Invalid request.\n\nFor 'properties/inputs', it is not an object.")
            self.add_run(unquote(match.group(1)), inputs=inputs, ref=payload["ref"])
            return 204, None, {}
        match = re.fullmatch(r"/actions(?:/workflows/([^/]+))?/runs", rest)
        if match and method == "GET":
            runs = [r for r in self._runs() if match.group(1) is None or r["path"].endswith("/" + unquote(match.group(1)))]
            if query.get("status"):
                wanted = query["status"]
                runs = [r for r in runs if wanted in (r["status"], r["conclusion"])]
            if query.get("event"):
                runs = [r for r in runs if r["event"] == query["event"]]
            shown = [{k: v for k, v in r.items() if not k.startswith("_")} for r in reversed(runs)]
            per_page = min(100, int(query.get("per_page") or 30))
            return 200, {"total_count": len(shown), "workflow_runs": shown[:per_page]}, {}
        return None
