"""The emulator's workflow-dispatch and workflow-run endpoints, checked against GitHub's OpenAPI
description, as the watch workflow and the status watchdog call them (curl with the job token)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Optional

from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi


def call(api: GitHubEmulator, method: str, path: str, body: Optional[dict[str, Any]] = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{api.url}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {api.token}",
                                              "Accept": "application/vnd.github+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_dispatch_queues_a_run_that_the_runs_lists_show() -> None:
    with GitHubEmulator(validator=github_openapi()) as api:
        repo = f"/repos/{api.full_name}"
        assert call(api, "GET", f"{repo}/actions/workflows/watch.yml/runs?status=in_progress") == \
            (200, {"total_count": 0, "workflow_runs": []})
        status, body = call(api, "POST", f"{repo}/actions/workflows/watch.yml/dispatches",
                            {"ref": "main", "inputs": {"reason": "hand-over"}})
        assert (status, body) == (204, None)
        [run] = api.dispatched("watch.yml")
        assert run["status"] == "queued" and run["_inputs"] == {"reason": "hand-over"}

        status, body = call(api, "GET", f"{repo}/actions/workflows/watch.yml/runs?status=queued")
        assert status == 200 and body["total_count"] == 1
        assert body["workflow_runs"][0]["path"] == ".github/workflows/watch.yml"
        api.set_run_status(run["id"], "in_progress")
        status, body = call(api, "GET", f"{repo}/actions/runs?status=in_progress")
        assert status == 200 and [r["id"] for r in body["workflow_runs"]] == [run["id"]]
        api.set_run_status(run["id"], "completed", "success")
        assert call(api, "GET", f"{repo}/actions/workflows/watch.yml/runs?status=in_progress")[1]["total_count"] == 0
        assert call(api, "GET", f"{repo}/actions/workflows/status.yml/runs")[1]["total_count"] == 0

        status, body = call(api, "POST", f"{repo}/actions/workflows/watch.yml/dispatches", {"inputs": {}})
        assert status == 422 and "ref" in body["message"]
        api.assert_valid()  # every answer above matched GitHub's OpenAPI description
