"""The GitHub emulator's records: injected faults, the request log, users, labels, issues, comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DOCS = "https://docs.github.com/rest"
MAX_LABEL = 50  # GitHub refuses longer label names: 422 "name is too long"
ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE")
ROLES = ("admin", "maintain", "write", "triage", "read", "none")


# --------------------------------------------------------------------------- faults and records


@dataclass
class Fault:
    """One injected failure.

    kind: ``status`` (answer ``status`` with an error body), ``rate_limit`` (403 with
    ``X-RateLimit-Remaining: 0`` and a reset ``reset_in`` seconds ahead), ``retry_after``
    (``status`` 403 or 429 with ``Retry-After: retry_after``), ``secondary`` (``status``
    403 or 429, GitHub's secondary-limit message and *no* ``Retry-After``: GitHub's docs
    then say to wait at least a minute), ``reset`` (close the
    connection with a TCP RST, no answer), ``reset_after`` (do the work, then reset the
    connection: the answer is lost although the change happened), ``slow`` (do the
    work, then wait ``delay`` seconds before answering: a client with a shorter
    timeout gives up although the change happened).
    method/path: only requests matching these (path is a regex searched in the path).
    """

    kind: str = "status"
    status: int = 503
    retry_after: float = 1.0
    reset_in: float = 1.0
    delay: float = 2.0
    method: str | None = None
    path: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass
class Record:
    method: str
    path: str  # without query
    query: dict[str, str]
    status: int | None  # None: the connection was reset
    body: Any  # the JSON sent back (None when no body)
    fault: str | None = None
    user: str | None = None
    request_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # response headers


@dataclass
class User:
    login: str
    id: int
    token: str | None = None
    association: str = "NONE"  # what GitHub says about this user in this repository
    type: str = "User"
    app_token: bool = False  # an installation token (GITHUB_TOKEN): GET /user is forbidden
    role: str = "none"  # the repository role the collaborator-permission endpoint reports
    push: bool = True  # without push access GitHub drops the labels this user sets, silently


@dataclass
class LabelData:
    id: int
    name: str
    color: str
    description: str | None
    default: bool = False


@dataclass
class CommentData:
    id: int
    issue: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime
    association: str


@dataclass
class IssueData:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    association: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: list[int] = field(default_factory=list)


class HttpError(Exception):
    def __init__(self, status: int, message: str, extra: dict | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}

