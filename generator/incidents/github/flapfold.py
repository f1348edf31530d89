"""The one comment a flapping incident's reopenings and recoveries keep rewriting.

From an incident's first reopening on, the tracker does not post a comment per flap: it edits its
own *flap comment* (event marker ``"flap": true``) through ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``,
so twenty flaps leave one comment that says how often the service went down and, on recovery, the
downtime so far. Its marker's ``kind`` and ``time`` follow the latest event, so the site reads it as
the incident's latest update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from generator.incidents.github import text
from generator.incidents.github.mirror import IssueMirror
from generator.incidents.github.repo import RepoApi
from generator.incidents.github.trust import Trust


class FlapComment:
    def __init__(self, api: RepoApi, mirror: IssueMirror, trust: Trust):
        self.api = api
        self.mirror = mirror
        self.trust = trust

    def _mine(self, number: int) -> dict[str, Any] | None:
        """The tool's flap comment on the issue (the newest, should a lost answer have made two)."""
        issue = self.mirror.get(number)
        found = [c for c in (issue or {}).get("comment_list", [])
                 if (text.event_of(c.get("body")) or {}).get("flap") is True and self.trust.is_me(c["user"])]
        return found[-1] if found else None

    def write(self, number: int, kind: str, moment: datetime, words: str) -> None:
        """Say ``words`` in the flap comment: edit it when there is one, else post it."""
        event = text.event_id(number, kind, moment, words)
        body = text.event_comment(event, kind, moment, words, flap=True)
        existing = self._mine(number)
        if existing is not None:
            if (text.event_of(existing.get("body")) or {}).get("id") == event:
                return  # said already (a re-run)
            raw = self.api.update_comment(int(existing["id"]), body)
        else:
            def find() -> dict[str, Any] | None:
                for comment in self.mirror.refresh_comments(self.api, number, incremental=True):
                    if (text.event_of(comment.get("body")) or {}).get("id") == event:
                        return comment
                return None

            raw = self.api.create_comment(number, body, reconcile=find)
            self.trust.learn_writer(raw)
        self.mirror.add_comment(number, raw)
        self.mirror.save()
