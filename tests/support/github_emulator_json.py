"""The GitHub emulator's answers in GitHub's shapes (users, labels, issues, comments, the repository).

A mixin of :class:`~tests.support.github_emulator.GitHubEmulator`: it reads the emulator's state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from generator.timeutil import UTC, to_iso
from tests.support.github_emulator_model import CommentData, IssueData, LabelData, User


class Shapes:
    owner: str
    repo: str
    users: dict[str, User]
    labels: dict[str, LabelData]
    issues: dict[int, IssueData]
    created_at: datetime
    clock: Callable[[], datetime]
    url: str
    full_name: str


    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    def user_json(self, login: str) -> dict[str, Any]:
        user = self.users[login]
        base = self._api(f"/users/{quote(login)}")
        return {
            "login": login, "id": user.id, "node_id": f"U_{user.id}",
            "avatar_url": f"https://avatars.example.test/u/{user.id}", "gravatar_id": "",
            "url": base, "html_url": f"https://github.example.test/{quote(login)}",
            "followers_url": f"{base}/followers", "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}", "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions", "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events", "type": user.type, "site_admin": False,
            "user_view_type": "public",
        }

    def label_json(self, label: LabelData) -> dict[str, Any]:
        return {
            "id": label.id, "node_id": f"LA_{label.id}",
            "url": self._api(f"{self._repo_path()}/labels/{quote(label.name, safe='')}"),
            "name": label.name, "description": label.description, "color": label.color, "default": label.default,
        }

    def _reactions(self, url: str) -> dict[str, Any]:
        return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
                "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}

    def issue_json(self, issue: IssueData) -> dict[str, Any]:
        url = self._api(f"{self._repo_path()}/issues/{issue.number}")
        return {
            "id": issue.id, "node_id": f"I_{issue.id}", "url": url,
            "repository_url": self._api(self._repo_path()),
            "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
            "events_url": f"{url}/events", "html_url": f"https://github.example.test/{self.full_name}/issues/{issue.number}",
            "number": issue.number, "state": issue.state, "state_reason": issue.state_reason,
            "title": issue.title, "body": issue.body, "user": self.user_json(issue.user),
            "labels": [self.label_json(self.labels[name.lower()]) for name in issue.labels],
            "assignee": None, "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(issue.comments), "closed_at": to_iso(issue.closed_at) if issue.closed_at else None,
            "created_at": to_iso(issue.created_at), "updated_at": to_iso(issue.updated_at),
            "closed_by": self.user_json(issue.closed_by) if issue.closed_by else None,
            "author_association": issue.association, "reactions": self._reactions(url),
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
        }

    def comment_json(self, comment: CommentData) -> dict[str, Any]:
        url = self._api(f"{self._repo_path()}/issues/comments/{comment.id}")
        return {
            "id": comment.id, "node_id": f"IC_{comment.id}", "url": url,
            "html_url": f"https://github.example.test/{self.full_name}/issues/{comment.issue}#issuecomment-{comment.id}",
            "body": comment.body, "user": self.user_json(comment.user),
            "created_at": to_iso(comment.created_at), "updated_at": to_iso(comment.updated_at),
            "issue_url": self._api(f"{self._repo_path()}/issues/{comment.issue}"),
            "author_association": comment.association, "performed_via_github_app": None,
            "reactions": self._reactions(url),
        }

    def repo_json(self) -> dict[str, Any]:
        base = self._api(self._repo_path())
        html = f"https://github.example.test/{self.full_name}"
        templated = {
            "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}", "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}",
            "issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
            "milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}", "statuses_url": "/statuses/{sha}",
            "trees_url": "/git/trees{/sha}",
        }
        plain = ("contributors", "deployments", "downloads", "events", "forks", "hooks", "languages", "merges",
                 "stargazers", "subscribers", "subscription", "tags", "teams")
        data: dict[str, Any] = {key: base + suffix for key, suffix in templated.items()}
        data.update({f"{name}_url": f"{base}/{name}" for name in plain})
        open_count = sum(1 for issue in self.issues.values() if issue.state == "open")
        data.update({
            "id": 1, "node_id": "R_1", "name": self.repo, "full_name": self.full_name,
            "owner": self.user_json(self.owner), "private": False, "html_url": html, "description": None,
            "fork": False, "url": base, "clone_url": f"{html}.git", "git_url": f"git://github.example.test/{self.full_name}.git",
            "ssh_url": f"git@github.example.test:{self.full_name}.git", "svn_url": html, "mirror_url": None,
            "homepage": None, "language": "Python", "forks": 0, "forks_count": 0, "stargazers_count": 0,
            "watchers": 0, "watchers_count": 0, "size": 1, "default_branch": "main", "open_issues": open_count,
            "open_issues_count": open_count, "has_issues": True, "has_projects": False, "has_wiki": False,
            "has_pages": True, "has_discussions": False, "archived": False, "disabled": False,
            "license": None, "pushed_at": to_iso(self.created_at), "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.created_at), "network_count": 0, "subscribers_count": 0,
        })
        return data

    def private_user_json(self, login: str) -> dict[str, Any]:
        data = self.user_json(login)
        data.update({
            "user_view_type": "private", "name": None, "company": None, "blog": "", "location": None,
            "email": None, "hireable": None, "bio": None, "public_repos": 1, "public_gists": 0,
            "followers": 0, "following": 0, "created_at": to_iso(self.created_at), "updated_at": to_iso(self.created_at),
            "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
            "collaborators": 0, "two_factor_authentication": True,
        })
        return data

