"""The issue mirror on its own: raw issues and comments in GitHub's REST shape, fed by an in-memory source."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from generator.incidents.github.mirror import (
    CACHE_NAME,
    CACHE_VERSION,
    IssueMirror,
    MemoryCache,
)
from generator.timeutil import UTC, to_iso

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = 86400.0
BOT_BODY = '<!-- statusgen {"monitor":"api","started":"2026-11-20T09:00:00Z","kind":"automated"} -->\nAPI is down'


def raw_issue(number: int, labels: list[str], *, updated: str = "2026-11-20T10:00:00Z", comments: int = 0,
              body: str = "", state: str = "open", **extra: Any) -> dict[str, Any]:
    return {"number": number, "title": f"issue {number}", "body": body, "state": state, "state_reason": None,
            "labels": [{"name": name, "color": "ededed"} for name in labels],
            "user": {"login": "statusgen-bot", "type": "Bot"}, "author_association": "NONE",
            "created_at": "2026-11-20T09:00:00Z", "updated_at": updated, "closed_at": None,
            "html_url": f"https://github.com/o/r/issues/{number}", "comments": comments, **extra}


def raw_comment(comment_id: int, *, created: str, body: str = "a note", login: str = "maintainer",
                association: str = "OWNER", updated: str | None = None) -> dict[str, Any]:
    return {"id": comment_id, "user": {"login": login}, "author_association": association, "body": body,
            "created_at": created, "updated_at": updated or created}


class Source:
    """An in-memory IssueSource that answers like GitHub (``since``: updated at or after) and logs its calls."""

    def __init__(self) -> None:
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, Any, str | None]] = []

    def list_issues(self, label: str, since: str | None) -> list[dict[str, Any]]:
        self.calls.append(("issues", label, since))
        return [i for i in self.issues.values() if label in [x["name"] for x in i["labels"]]
                and (since is None or i["updated_at"] >= since)]

    def list_comments(self, number: int, since: str | None) -> list[dict[str, Any]]:
        self.calls.append(("comments", number, since))
        return [c for c in self.comments.get(number, []) if since is None or c["updated_at"] >= since]


def mirror_of(cache: MemoryCache) -> IssueMirror:
    return IssueMirror(cache, "o/r")


def test_first_sync_is_full_and_fetches_comments_only_where_the_count_moved():
    source = Source()
    source.issues[1] = raw_issue(1, ["incident", "down"], comments=1)
    source.issues[2] = raw_issue(2, ["maintenance"], comments=3)  # maintenance comments are never needed
    source.issues[3] = raw_issue(3, ["incident"], pull_request={"url": "x"})  # a PR with the label: ignored
    source.comments[1] = [raw_comment(10, created="2026-11-20T09:05:00Z")]
    cache = MemoryCache()
    mirror = mirror_of(cache)
    mirror.sync(source, now=NOW, full_every=DAY, overlap=60)
    # a full sync also lists Upptime's incidents (label "status"); later syncs only once there are some
    assert source.calls == [("issues", "incident", None), ("issues", "maintenance", None), ("issues", "status", None),
                            ("comments", 1, None)]
    assert sorted(i["number"] for i in mirror.issues()) == [1, 2]
    entry = mirror.get(1)
    assert entry is not None and entry["labels"] == ["incident", "down"] and entry["user"] == "statusgen-bot"
    assert [(c["id"], c["user"], c["association"]) for c in entry["comment_list"]] == [(10, "maintainer", "OWNER")]
    saved = cache.read_json(CACHE_NAME)
    assert saved["version"] == CACHE_VERSION and saved["synced"] == saved["full_synced"] == to_iso(NOW)


def test_next_sync_asks_since_the_newest_change_and_merges_new_comments_keeping_old_ones():
    source = Source()
    source.issues[1] = raw_issue(1, ["incident"], updated="2026-11-20T10:00:00Z", comments=1)
    source.comments[1] = [raw_comment(10, created="2026-11-20T09:05:00Z")]
    cache = MemoryCache()
    mirror_of(cache).sync(source, now=NOW, full_every=DAY, overlap=60)

    source.calls.clear()
    source.issues[1] = raw_issue(1, ["incident", "resolved"], updated="2026-11-20T11:00:00Z", comments=2,
                                 state="closed")
    source.comments[1].append(raw_comment(11, created="2026-11-20T10:59:00Z", login="stranger", association="NONE"))
    later = mirror_of(cache)  # a new run: read back from the cache
    later.sync(source, now=NOW + timedelta(hours=1), full_every=DAY, overlap=60)
    assert source.calls == [("issues", "incident", "2026-11-20T09:59:00Z"), ("issues", "maintenance", None),
                            ("comments", 1, "2026-11-20T09:05:00Z")]
    entry = later.get(1)
    assert entry is not None and entry["state"] == "closed" and "resolved" in entry["labels"]
    assert [c["id"] for c in entry["comment_list"]] == [10, 11] and entry["comments_count"] == 2


def test_deleted_comments_make_the_comment_list_start_over():
    source = Source()
    source.issues[1] = raw_issue(1, ["incident"], comments=2)
    source.comments[1] = [raw_comment(10, created="2026-11-20T09:05:00Z"),
                          raw_comment(11, created="2026-11-20T09:06:00Z")]
    mirror = mirror_of(MemoryCache())
    mirror.sync(source, now=NOW, full_every=DAY, overlap=60)
    del source.comments[1][0]  # someone deleted comment 10, then two were added
    source.comments[1] += [raw_comment(12, created="2026-11-20T10:28:00Z"),
                           raw_comment(13, created="2026-11-20T10:29:00Z")]
    source.issues[1] = raw_issue(1, ["incident"], updated="2026-11-20T10:30:00Z", comments=3)
    source.calls.clear()
    mirror.sync(source, now=NOW, full_every=DAY, overlap=60)
    # the incremental answer makes four known comments where GitHub counts three: the whole list again
    assert source.calls[-2:] == [("comments", 1, "2026-11-20T09:06:00Z"), ("comments", 1, None)]
    entry = mirror.get(1)
    assert entry is not None and [c["id"] for c in entry["comment_list"]] == [11, 12, 13]


def test_full_sync_drops_issues_that_lost_their_labels():
    source = Source()
    source.issues[1] = raw_issue(1, ["incident"])
    source.issues[2] = raw_issue(2, ["incident"])
    cache = MemoryCache()
    mirror_of(cache).sync(source, now=NOW, full_every=DAY, overlap=60)
    source.issues[2]["labels"] = [{"name": "question"}]
    quick = mirror_of(cache)
    quick.sync(source, now=NOW + timedelta(hours=1), full_every=DAY, overlap=60)
    assert sorted(i["number"] for i in quick.issues()) == [1, 2]  # an incremental sync cannot tell
    full = mirror_of(cache)
    full.sync(source, now=NOW + timedelta(days=1), full_every=DAY, overlap=60)
    assert [i["number"] for i in full.issues()] == [1]


def test_a_cache_of_another_version_or_repository_is_dropped():
    cache = MemoryCache()
    cache.write_json(CACHE_NAME, {"version": CACHE_VERSION + 1, "repo": "o/r", "issues": {"1": {}}})
    assert mirror_of(cache).issues() == []
    mirror = mirror_of(cache)
    mirror.merge_issue(raw_issue(1, ["incident"]))
    mirror.save()
    assert [i["number"] for i in mirror_of(cache).issues()] == [1]
    assert IssueMirror(cache, "o/other").issues() == []


def test_find_open_is_the_oldest_open_automated_issue_of_the_monitor():
    mirror = mirror_of(MemoryCache())
    mirror.merge_issue(raw_issue(5, ["incident"], body=BOT_BODY))
    mirror.merge_issue(raw_issue(3, ["incident"], body=BOT_BODY))
    mirror.merge_issue(raw_issue(2, ["incident"], body=BOT_BODY, state="closed"))
    mirror.merge_issue(raw_issue(1, ["maintenance"], body=BOT_BODY))
    mirror.merge_issue(raw_issue(4, ["incident"], body=BOT_BODY.replace('"api"', '"web"')))
    found = mirror.find_open("api", lambda issue: True)
    assert found is not None and found["number"] == 3
    assert mirror.find_open("api", lambda issue: issue["number"] != 3)["number"] == 5  # type: ignore[index]
    assert mirror.find_open("db", lambda issue: True) is None


def test_a_comment_the_tool_wrote_is_added_without_asking():
    mirror = mirror_of(MemoryCache())
    mirror.merge_issue(raw_issue(1, ["incident"]))
    mirror.add_comment(1, raw_comment(20, created="2026-11-20T11:00:00Z", login="statusgen-bot", association="NONE"))
    entry = mirror.get(1)
    assert entry is not None and entry["comments_count"] == 1 and entry["comment_list"][0]["user"] == "statusgen-bot"
    mirror.add_comment(99, raw_comment(21, created="2026-11-20T11:00:00Z"))  # not mirrored: nothing to do
    assert mirror.get(99) is None
