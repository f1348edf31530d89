"""The GitHub backend of the tracker contract: GitHubTracker against the local emulator.

Imported by ``tests/tracker_contract.py`` (modules named ``*_contract_backend``).
Every emulator response is checked against GitHub's OpenAPI description.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

from generator.history import History
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.models import Impact
from generator.timeutil import to_iso
from tests.support.github_emulator import GitHubEmulator
from tests.support.openapi import github_openapi
from tests.tracker_contract import Harness, register_backend


@register_backend("github")
@contextmanager
def github_backend(tmp_path: Path) -> Iterator[Harness]:
    with GitHubEmulator(validator=github_openapi()) as api:
        history = History(tmp_path / "data")

        def new_tracker() -> GitHubTracker:
            return GitHubTracker(api.full_name, api.token, base_url=api.url, cache=history,
                                 site_url="https://status.example.com/", retry=RetryPolicy(budget=1, backoff=0.01),
                                 seconds_between_requests=None, seconds_between_writes=None)

        def add_manual_incident(title: str, monitor_id: Optional[str], impact: Impact, started: datetime,
                                resolved: Optional[datetime], body: str) -> str:
            labels = ["incident", impact.value] + ([f"monitor:{monitor_id}"] if monitor_id else [])
            issue = api.create_issue(title, body, labels, user="maintainer", created_at=started,
                                     state="closed" if resolved else "open", closed_at=resolved)
            return str(issue.number)

        def add_maintenance(title: str, start: datetime, end: datetime, monitors: tuple[str, ...], body: str) -> str:
            text = (f"```yaml\nstart: {to_iso(start)}\nend: {to_iso(end)}\nmonitors: [{', '.join(monitors)}]\n```\n\n"
                    f"{body}\n")
            return str(api.create_issue(title, text, ["maintenance"], user="maintainer").number)

        tracker = new_tracker()
        yield Harness(tracker, new_tracker, add_manual_incident, add_maintenance)
        assert tracker.problems == [], tracker.problems
    api.assert_valid()
