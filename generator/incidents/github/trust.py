"""Who the tool is on GitHub, and whose words the status page publishes.

Trusted: the repository's owner, members and collaborators (``author_association``),
the tool itself, and anyone the repository reports with push access or more
(``admin``, ``maintain`` or ``write`` from ``GET /repos/{owner}/{repo}/collaborators/{login}/permission``).
The last rule is there because ``author_association`` hides private organisation
members (GitHub shows them as CONTRIBUTOR or NONE to anyone outside the org, the
token included), so maintainers' updates would be judged untrusted. A login is
looked up only when its association alone does not trust it, at most
``MAX_LOOKUPS`` per run, and the answer is kept in the mirror's cache for
``PERMISSION_TTL`` (a day): a steady run asks nothing. The tool's login is learnt from its own writes and, when a
comment cannot be judged otherwise, from ``GET /user`` once per token (an
installation token such as Actions' ``GITHUB_TOKEN`` may not read it: then the
logins of the tool's own writes are all it goes by).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from generator.incidents.github.client import RequestError

log = logging.getLogger("statusgen.github")

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
TRUSTED_ROLES = frozenset({"admin", "maintain", "write"})  # push access or more
PERMISSION_TTL = 86400.0
MAX_LOOKUPS = 20  # permission look-ups per run: a flood of strangers' comments costs a bounded amount


class IdentityMemory(Protocol):
    """What trust remembers between runs (the issue mirror keeps it in its cache)."""

    def writers(self) -> list[str]: ...

    def add_writer(self, login: str) -> None: ...

    def identity(self) -> dict[str, Any]: ...

    def set_identity(self, token_id: str, login: str | None) -> None: ...

    def save(self) -> None: ...

    def permission(self, login: str, ttl: float, now: datetime) -> str | None: ...

    def set_permission(self, login: str, role: str, now: datetime) -> None: ...


def _no_role(login: str) -> str:
    return "none"


class Trust:
    def __init__(self, memory: IdentityMemory, token_id: str, login: Callable[[], str | None], *,
                 role: Callable[[str], str] = _no_role, clock: Callable[[], datetime] | None = None):
        self.memory = memory
        self.token_id = token_id  # a hash of the token: a new token means asking again
        self._login = login  # asks the remote who the token is (raises RequestError)
        self._role = role  # asks the remote for a login's role on the repository (raises RequestError)
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._lookups = 0

    def learn_writer(self, raw: dict[str, Any]) -> None:
        """Remember the author of something the tool just wrote (an issue or comment as GitHub sent it)."""
        login = (raw.get("user") or {}).get("login")
        if login:
            self.memory.add_writer(login)

    def is_me(self, login: str) -> bool:
        return login in self.memory.writers() or login == self.memory.identity().get("login")

    def trusted(self, login: str, association: str) -> bool:
        """May the site publish what ``login`` wrote?"""
        return association in TRUSTED_ASSOCIATIONS or self.is_me(login) or self._pushes(login)

    def may_automate(self, login: str, association: str) -> bool:
        """Could ``login`` have opened an automated issue (so that the tool may close it)?

        Anyone can paste the hidden marker into an issue; one written by a stranger (then
        labelled by a maintainer to publish it) stays a manual incident the tool never closes.
        A bot (Actions' github-actions[bot], an App) is installed by the owner: trusted.
        """
        if association in TRUSTED_ASSOCIATIONS or login.endswith("[bot]") or self.is_me(login):
            return True
        self.know()  # a cold cache has not seen our own writes yet: ask who we are (once per token)
        if self.is_me(login):
            return True
        self.look_up(login)
        return self._pushes(login)

    def ensure_for(self, issues: Iterable[dict[str, Any]]) -> None:
        """Ask who the token is once, and the roles of commenters no association trusts (cached)."""
        known = set(self.memory.writers())
        strangers = [c["user"] for i in issues for c in i["comment_list"]
                     if c["association"] not in TRUSTED_ASSOCIATIONS and c["user"] not in known]
        if strangers and self.memory.identity().get("token") != self.token_id:
            self.know()
        for login in dict.fromkeys(strangers):
            if not self.is_me(login):
                self.look_up(login)

    def look_up(self, login: str) -> None:
        """``login``'s role on the repository, asked once per TTL (an unreadable answer counts as none)."""
        now = self._clock()
        if self.memory.permission(login, PERMISSION_TTL, now) is not None or self._lookups >= MAX_LOOKUPS:
            return
        self._lookups += 1
        try:
            role = self._role(login)
        except RequestError as error:
            if error.status not in (403, 404):
                log.info("GitHub permission of %s not fetched (%s); will ask again", login, error)
                return
            role = "none"  # not a collaborator, or the token may not read collaborators
        self.memory.set_permission(login, role, now)
        self.memory.save()

    def _pushes(self, login: str) -> bool:
        return self.memory.permission(login, PERMISSION_TTL, self._clock()) in TRUSTED_ROLES

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
