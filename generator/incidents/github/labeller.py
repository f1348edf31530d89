"""The scheme's labels on GitHub: created once, and checked on every write that sets them.

GitHub's "create an issue": "Only users with push access can set labels for new issues.
Labels are silently dropped otherwise" (the same holds for an update). So the labels
in a write's answer are compared with those asked for; when some are missing the
issue is claimed in the mirror by number as its monitor's incident (so that the next
run finds it without its labels and never opens a second one) and the labels are
added in a follow-up request. When that is refused too, the problem names the
missing permission.

Creating a label that exists answers 422 with the error code ``already_exists``; only
that code means "exists". Any other 422 (a name over 50 characters: ``invalid``...)
is an error naming the request and the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generator.incidents import labels as L
from generator.incidents.github.client import RequestError
from generator.incidents.github.mirror import IssueMirror
from generator.incidents.github.repo import RepoApi
from generator.incidents.github.text import marker_of
from generator.incidents.github.trust import Trust

REFUSED = (403, 404, 410, 422)  # a follow-up GitHub refuses (no permission), as opposed to a fault


class Labeller:
    def __init__(self, api: RepoApi, mirror: IssueMirror, problem: Callable[[str], None]):
        self.api = api
        self.mirror = mirror
        self._problem = problem

    def ensure(self, names: list[str]) -> list[str]:
        """Create the scheme's labels the repository lacks, once (then the mirror remembers them);
        returns ``names`` less those GitHub refused to create (an issue naming one would get 403)."""
        known = {name.lower() for name in self.mirror.known_labels()}
        missing = [n for n in dict.fromkeys(names) if n.lower() not in known]
        if not missing:
            return names
        refused: set[str] = set()
        if not self.mirror.labels_listed():
            listed = [label["name"] for label in self.api.list_labels()]
            self.mirror.remember_labels(listed, listed=True)
            known.update(name.lower() for name in listed)
            missing = [n for n in missing if n.lower() not in known]
        for name in missing:
            try:
                self.api.create_label(L.spec(name))
            except RequestError as error:
                if error.status == 422 and "already_exists" in error.codes:
                    pass  # made meanwhile (another run, a person): it exists, as wanted
                elif error.status in (403, 404):
                    # no push access: the issue is still opened (and claimed when its labels are dropped)
                    self._problem(f"GitHub label {name!r} not created in {self.api.repo}: {error} "
                                  "(creating labels needs push access to the repository)")
                    refused.add(name)
                    continue
                else:
                    raise
            self.mirror.remember_labels([name])
        self.mirror.save()
        return [name for name in names if name not in refused]

    def check(self, raw: dict[str, Any], wanted: list[str], monitor_id: str | None) -> dict[str, Any]:
        """``raw`` (an issue as a write answered) with the labels it lacks added; claimed when they stay missing."""
        number = raw["number"]
        kept = {_name(label).lower() for label in raw.get("labels") or []}
        missing = [name for name in wanted if name.lower() not in kept]
        if not missing:
            return raw
        if monitor_id is not None:
            # before anything else can fail: the next run must find this issue without its labels
            self.mirror.claim(monitor_id, number)
            self.mirror.merge_issue(raw)
            self.mirror.save()
        try:
            names = self.api.add_labels(number, missing)
        except RequestError as error:
            if error.status not in REFUSED:
                raise
            self._problem(
                f"GitHub dropped the labels {', '.join(missing)} of {self.api.repo}#{number} and refused to add "
                f"them ({error}): the token needs push access to {self.api.repo} to label issues (a fine-grained "
                "token or App: Issues read and write). statusgen tracks the issue by number meanwhile.")
            return raw
        labelled = dict(raw, labels=[{"name": name} for name in names])
        if {n.lower() for n in names} >= {n.lower() for n in wanted}:
            self.mirror.unclaim(number)
        return labelled

    def adopt_mine(self, trust: Trust) -> None:
        """With a cold cache, claim our open issues found by author (once per run): one whose labels
        were dropped has no other trace. Costs ``GET /user`` and one list; an installation token that
        cannot say who it is skips this (its labels are never dropped: it has Issues write)."""
        self.mirror.cold = False
        trust.know()
        login = trust.memory.identity().get("login")
        if not login:
            return
        for raw in self.api.open_issues_by(login):
            owner = (marker_of(raw.get("body")) or {}).get("monitor")
            if owner is not None:
                entry = self.mirror.merge_issue(raw)
                if L.INCIDENT not in entry["labels"] and owner not in self.mirror.claims():
                    self.mirror.claim(owner, entry["number"])
        self.mirror.save()


def _name(label: Any) -> str:
    return str(label["name"]) if isinstance(label, dict) else str(label)
