"""One repository's endpoints as small calls: the shape the mirror, labeller, trust and tracker use.

Every answer is checked for the few fields the callers read (an issue's ``number``,
a comment's ``id``...): an unexpected answer is a :class:`RequestError` naming the
request and what came back, never a ``KeyError`` further down.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from generator import secrets
from generator.incidents.github.client import GitHubClient, Reconcile, RequestError
from generator.incidents.labels import LabelSpec


def _shaped(answer: Any, key: str, what: str) -> dict[str, Any]:
    """``answer`` when it is an object with an integer ``key``; else a RequestError naming the request."""
    if isinstance(answer, dict) and isinstance(answer.get(key), int):
        return answer
    shown = str(answer)[:200]
    raise RequestError(secrets.mask(f"GitHub request {what} answered without an integer {key!r}: {shown}"), None)


class RepoApi:
    """The endpoints of one repository the tracker uses, each one call (lists: one per page)."""

    def __init__(self, client: GitHubClient, repo: str):
        self.client = client
        self.repo = repo
        self._path = f"/repos/{repo}"

    # The issue mirror's source (generator.incidents.github.mirror.IssueSource).

    def list_issues(self, label: str, since: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"state": "all", "labels": label, "sort": "updated", "direction": "asc",
                                  "per_page": 100}
        if since is not None:
            params["since"] = since
        return self._issues(self.client.list(f"{self._path}/issues", params), "GET issues")

    def list_comments(self, number: int, since: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": 100}
        if since is not None:
            params["since"] = since
        what = f"GET {self._path}/issues/{number}/comments"
        return [_shaped(c, "id", what) for c in self.client.list(f"{self._path}/issues/{number}/comments", params)]

    def get_issue(self, number: int) -> dict[str, Any]:
        url = f"{self._path}/issues/{number}"
        return _shaped(self.client.call("GET", url), "number", f"GET {url}")

    # The rest of what the tracker asks.

    def open_issues(self, label: str) -> list[dict[str, Any]]:
        params = {"state": "open", "labels": label, "per_page": 100}
        return self._issues(self.client.list(f"{self._path}/issues", params), "GET issues")

    def open_issues_by(self, login: str) -> list[dict[str, Any]]:
        """Open issues ``login`` created, whatever their labels (ours, when labels were dropped)."""
        params = {"state": "open", "creator": login, "per_page": 100}
        return self._issues(self.client.list(f"{self._path}/issues", params), "GET issues")

    def create_issue(self, payload: dict[str, Any], reconcile: Reconcile) -> dict[str, Any]:
        url = f"{self._path}/issues"
        return _shaped(self.client.call("POST", url, body=payload, reconcile=reconcile), "number", f"POST {url}")

    def update_issue(self, number: int, change: dict[str, Any]) -> dict[str, Any]:
        url = f"{self._path}/issues/{number}"
        return _shaped(self.client.call("PATCH", url, body=change), "number", f"PATCH {url}")

    def add_labels(self, number: int, names: list[str]) -> list[str]:
        """Add labels to an issue; the names the issue has afterwards."""
        url = f"{self._path}/issues/{number}/labels"
        answer = self.client.call("POST", url, body={"labels": names})
        if not isinstance(answer, list):
            raise RequestError(secrets.mask(f"GitHub request POST {url} answered {str(answer)[:200]}, "
                                            "not a list of labels"), None)
        return [label["name"] for label in answer if isinstance(label, dict) and "name" in label]

    def create_comment(self, number: int, body: str, reconcile: Reconcile) -> dict[str, Any]:
        url = f"{self._path}/issues/{number}/comments"
        return _shaped(self.client.call("POST", url, body={"body": body}, reconcile=reconcile), "id", f"POST {url}")

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        url = f"{self._path}/issues/comments/{comment_id}"
        return _shaped(self.client.call("PATCH", url, body={"body": body}), "id", f"PATCH {url}")

    def list_labels(self) -> list[dict[str, Any]]:
        return self.client.list(f"{self._path}/labels", {"per_page": 100})

    def create_label(self, spec: LabelSpec) -> None:
        self.client.call("POST", f"{self._path}/labels",
                         body={"name": spec.name, "color": spec.color, "description": spec.description})

    def permission(self, login: str) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``: ``login``'s role here."""
        url = f"{self._path}/collaborators/{quote(login, safe='')}/permission"
        answer = self.client.call("GET", url)
        if not isinstance(answer, dict):
            raise RequestError(secrets.mask(f"GitHub request GET {url} answered {str(answer)[:200]}"), None)
        # role_name tells maintain and triage apart; permission is the older, coarser field
        return str(answer.get("role_name") or answer.get("permission") or "none")

    def login(self) -> str | None:
        """The token's login (``GET /user``); installation tokens may get 403 or 404 here."""
        user = self.client.call("GET", "/user")
        return user.get("login") if isinstance(user, dict) else None

    def _issues(self, raws: list[Any], what: str) -> list[dict[str, Any]]:
        return [_shaped(raw, "number", f"{what} of {self.repo}") for raw in raws]
