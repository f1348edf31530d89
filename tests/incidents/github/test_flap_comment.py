"""Rapid flaps on GitHub: one flap comment, edited through PATCH /repos/{o}/{r}/issues/comments/{id}."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from generator.history import History
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.models import Check, CheckStatus, TransitionKind
from generator.status import initial_state, step
from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi
from tests.tracker_contract import T0, monitor


def test_twenty_flaps_edit_one_comment_instead_of_posting_forty(tmp_path: Path) -> None:
    with GitHubEmulator(validator=github_openapi()) as api:
        tracker = GitHubTracker(api.full_name, api.token, base_url=api.url, cache=History(tmp_path),
                                retry=RetryPolicy(budget=1, backoff=0.01), seconds_between_requests=None,
                                seconds_between_writes=None)
        m, state, key = monitor(), initial_state("api"), ""
        for index in range(40):
            status = CheckStatus.DOWN if index % 2 == 0 else CheckStatus.UP
            state, transitions = step(m, state, Check("api", T0 + timedelta(minutes=index), status))
            for t in transitions:
                if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
                    key = tracker.open(m, t)
                    state = state.evolve(incident_key=key)
                else:
                    tracker.resolve(key, m, t)
        issue = api.issues[int(key)]
        assert len(issue.comments) == 2  # the first resolution, and the one flap comment
        edits = api.requests("PATCH", f"/repos/{api.full_name}/issues/comments/{issue.comments[1]}")
        assert len(edits) == 37  # every later reopening and recovery rewrote it
        flap = api.comments[issue.comments[1]]
        assert "Flapping: Public API is back up" in flap.body and "20 outages since" in flap.body
    api.assert_valid()  # each edit's answer has the shape GitHub's OpenAPI description gives it
