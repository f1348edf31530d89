"""Who the tool is on GitHub, and whose words the status page publishes.

Trusted: the repository's owner, members and collaborators (``author_association``),
and the tool itself. The tool's login is learnt from its own writes and, when a
comment cannot be judged otherwise, from ``GET /user`` once per token (an
installation token such as Actions' ``GITHUB_TOKEN`` may not read it: then the
logins of the tool's own writes are all it goes by).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from generator.incidents.github.client import RequestError

log = logging.getLogger("statusgen.github")

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


class IdentityMemory(Protocol):
    """What trust remembers between runs (the issue mirror keeps it in its cache)."""

    def writers(self) -> list[str]: ...

    def add_writer(self, login: str) -> None: ...

    def identity(self) -> dict[str, Any]: ...

    def set_identity(self, token_id: str, login: str | None) -> None: ...

    def save(self) -> None: ...


class Trust:
    def __init__(self, memory: IdentityMemory, token_id: str, login: Callable[[], str | None]):
        self.memory = memory
        self.token_id = token_id  # a hash of the token: a new token means asking again
        self._login = login  # asks the remote who the token is (raises RequestError)

    def learn_writer(self, raw: dict[str, Any]) -> None:
        """Remember the author of something the tool just wrote (an issue or comment as GitHub sent it)."""
        login = (raw.get("user") or {}).get("login")
        if login:
            self.memory.add_writer(login)

    def is_me(self, login: str) -> bool:
        return login in self.memory.writers() or login == self.memory.identity().get("login")

    def trusted(self, login: str, association: str) -> bool:
        """May the site publish what ``login`` wrote?"""
        return association in TRUSTED_ASSOCIATIONS or self.is_me(login)

    def may_automate(self, login: str, association: str) -> bool:
        """Could ``login`` have opened an automated issue (so that the tool may close it)?

        Anyone can paste the hidden marker into an issue; one written by a stranger (then
        labelled by a maintainer to publish it) stays a manual incident the tool never closes.
        A bot (Actions' github-actions[bot], an App) is installed by the owner: trusted.
        """
        if association in TRUSTED_ASSOCIATIONS or login.endswith("[bot]") or self.is_me(login):
            return True
        self.know()  # a cold cache has not seen our own writes yet: ask who we are (once per token)
        return self.is_me(login)

    def ensure_for(self, issues: Iterable[dict[str, Any]]) -> None:
        """Ask who the token is once, and only when some comment needs it to be judged."""
        if self.memory.identity().get("token") == self.token_id:
            return
        known = set(self.memory.writers())
        if any(c["association"] not in TRUSTED_ASSOCIATIONS and c["user"] not in known
               for i in issues for c in i["comment_list"]):
            self.know()

    def know(self) -> None:
        """The token's login, fetched once per token and remembered (None when the token may not read it)."""
        if self.memory.identity().get("token") == self.token_id:
            return
        try:
            self.memory.set_identity(self.token_id, self._login())
        except RequestError as error:
            if error.status not in (401, 403, 404):
                # GitHub is unavailable, not refusing: ask again on a later run.
                log.info("GitHub identity not fetched (%s); will ask again", error)
                return
            # An installation token may not read /user: fall back to the logins seen on our
            # own writes, and remember that we tried.
            log.info("GitHub identity unavailable (%s); trusting the tool's own comments by author", error)
            self.memory.set_identity(self.token_id, None)
        self.memory.save()
