"""The emulator answers like recordings of the real GitHub (npm ``@octokit/fixtures``).

For each endpoint statusgen uses that has a recording, the recorded request is replayed
against the emulator and the answers' shapes are compared: every key GitHub sent is
there with the same JSON type (``null`` matches anything: those fields are nullable),
plus the headers that matter (``Location``, ``Link`` to ``/repositories/{id}``).
Endpoints with no recording in the package (issue comments, update or get an issue,
``GET /user``, collaborator permission) are checked against the OpenAPI description only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "node_modules" / "@octokit" / "fixtures" / "scenarios" / "api.github.com"


def recording(scenario: str) -> list[dict[str, Any]]:
    path = SCENARIOS / scenario / "normalized-fixture.json"
    assert path.exists(), f"{path} missing: run make npm-deps (npm package @octokit/fixtures)"
    return json.loads(path.read_text())


def shape_problems(real: Any, ours: Any, where: str = "") -> list[str]:
    """Where ``ours`` lacks a key of ``real`` or has another JSON type (lists: their first items)."""
    if real is None or ours is None:
        return []
    if isinstance(real, bool) or isinstance(ours, bool):
        return [] if isinstance(real, bool) and isinstance(ours, bool) else [f"{where or '/'}: {real!r} vs {ours!r}"]
    if isinstance(real, (int, float)) and isinstance(ours, (int, float)):
        return []
    if type(real) is not type(ours):
        return [f"{where or '/'}: GitHub sent {type(real).__name__}, the emulator {type(ours).__name__}"]
    if isinstance(real, dict):
        problems = [f"{where}/{key}: missing" for key in real if key not in ours]
        for key in real:
            if key in ours:
                problems += shape_problems(real[key], ours[key], f"{where}/{key}")
        return problems
    if isinstance(real, list) and real and ours:
        return shape_problems(real[0], ours[0], f"{where}[0]")
    return []


@pytest.fixture
def api():
    emulator = GitHubEmulator(owner="octokit-fixture-org", repo="repo", validator=github_openapi())
    with emulator:
        yield emulator
    emulator.assert_valid()


def call(api: GitHubEmulator, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method.upper(), api.url + path, json=body, timeout=10,
                            headers={"Authorization": f"token {api.token}"})


def test_create_an_issue_and_add_labels(api):
    created, labelled = recording("add-labels-to-issue")[:2]
    ours = call(api, "post", "/repos/octokit-fixture-org/repo/issues", created["body"])
    assert ours.status_code == created["status"] == 201
    assert shape_problems(created["response"], ours.json()) == []
    assert re.fullmatch(rf"{re.escape(api.url)}/repos/octokit-fixture-org/repo/issues/1", ours.headers["Location"])
    assert created["headers"]["location"].endswith("/issues/1")
    added = call(api, "post", "/repos/octokit-fixture-org/repo/issues/1/labels", labelled["body"])
    assert added.status_code == labelled["status"] == 200
    assert shape_problems(labelled["response"], added.json()) == []


def test_list_and_create_labels_and_the_422_shape(api):
    listed, created = recording("labels")[:2]
    ours = call(api, "get", "/repos/octokit-fixture-org/repo/labels")
    assert ours.status_code == listed["status"] and shape_problems(listed["response"], ours.json()) == []
    made = call(api, "post", "/repos/octokit-fixture-org/repo/labels", created["body"])
    assert made.status_code == created["status"] == 201
    assert shape_problems(created["response"], made.json()) == [] and "Location" in made.headers
    [invalid] = recording("errors")
    refused = call(api, "post", "/repos/octokit-fixture-org/repo/labels", invalid["body"])
    assert refused.status_code == invalid["status"] == 422
    assert shape_problems(invalid["response"], refused.json()) == []
    assert refused.json()["errors"] == invalid["response"]["errors"]  # resource, code and field alike


def test_list_issues_and_their_next_links(api):
    first, second = recording("paginate-issues")[:2]
    for number in range(7):
        api.create_issue(f"Issue {number}", "body", ["incident"])
    ours = call(api, "get", "/repos/octokit-fixture-org/repo/issues?per_page=3")
    assert ours.status_code == first["status"] == 200
    assert shape_problems(first["response"], ours.json()) == []
    # GitHub's next link names the repository by id; so does the emulator's
    assert re.search(r"/repositories/\d+/issues\?", first["headers"]["link"])
    assert re.search(rf"<{re.escape(api.url)}/repositories/1/issues\?[^>]*page=2", ours.headers["Link"])
    following = call(api, "get", "/repositories/1/issues?per_page=3&page=2")
    assert shape_problems(second["response"], following.json()) == []


def test_a_renamed_repository_answers_301_and_307(api):
    _, moved, _, temporary, _ = recording("rename-repository")
    api.create_issue("Open", "body", ["incident"])
    api.rename("renamed")
    ours = call(api, "get", "/repos/octokit-fixture-org/repo")
    first = ours.history[0] if ours.history else ours  # requests followed it: look at the first answer
    assert first.status_code == moved["status"] == 301
    assert shape_problems(moved["response"], first.json()) == []
    assert first.headers["Location"] == f"{api.url}/repositories/1"
    assert moved["headers"]["location"].endswith("/repositories/1000")
    patched = requests.patch(f"{api.url}/repos/octokit-fixture-org/repo/issues/1", json={"title": "x"}, timeout=10,
                             headers={"Authorization": f"token {api.token}"}, allow_redirects=False)
    assert patched.status_code == temporary["status"] == 307
    assert shape_problems(temporary["response"], patched.json()) == []
    assert patched.headers["Location"] == f"{api.url}/repositories/1/issues/1"
