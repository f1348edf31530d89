"""Trust rules and the one-time identity look-up, with the mirror as memory and a login callable."""

from __future__ import annotations

import pytest

from generator.incidents.github.client import RequestError
from generator.incidents.github.mirror import IssueMirror, MemoryCache
from generator.incidents.github.trust import Trust


class Login:
    """What ``GET /user`` answers: a login, or an error with an HTTP status; counts the asks."""

    def __init__(self, login: str | None = "statusgen-bot", status: int | None = None):
        self.login, self.status, self.asked = login, status, 0

    def __call__(self) -> str | None:
        self.asked += 1
        if self.status is not None:
            raise RequestError(f"GitHub request GET /user failed: {self.status}", self.status)
        return self.login


def trust_with(login: Login, cache: MemoryCache | None = None, token_id: str = "t1") -> Trust:
    return Trust(IssueMirror(cache or MemoryCache(), "o/r"), token_id, login)


def comment(user: str, association: str) -> dict:
    return {"id": 1, "user": user, "association": association, "body": "hi", "created_at": None, "updated_at": None}


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_the_repository_s_people_are_trusted(association):
    assert trust_with(Login()).trusted("someone", association)


def test_strangers_are_not_trusted_and_the_tool_is_once_it_wrote():
    trust = trust_with(Login())
    assert not trust.trusted("stranger", "NONE") and not trust.trusted("statusgen-bot", "NONE")
    trust.learn_writer({"user": {"login": "statusgen-bot"}, "body": "..."})
    assert trust.trusted("statusgen-bot", "NONE") and trust.is_me("statusgen-bot")


def test_bots_may_open_automated_issues_without_an_identity_request():
    login = Login()
    trust = trust_with(login)
    assert trust.may_automate("github-actions[bot]", "NONE") and trust.may_automate("owner", "OWNER")
    assert login.asked == 0


def test_an_unknown_author_makes_the_tool_ask_who_it_is_once_per_token():
    login = Login("statusgen-bot")
    cache = MemoryCache()
    trust = trust_with(login, cache)
    assert not trust.may_automate("stranger", "NONE")
    assert trust.may_automate("statusgen-bot", "NONE") and login.asked == 1
    assert trust_with(login, cache).is_me("statusgen-bot") and login.asked == 1  # remembered in the cache
    fresh = trust_with(login, cache, token_id="t2")  # another token: ask again
    fresh.know()
    assert login.asked == 2


def test_a_token_that_may_not_read_user_is_remembered_and_an_outage_is_not():
    refused = Login(status=403)
    cache = MemoryCache()
    trust = trust_with(refused, cache)
    trust.know()
    trust.know()
    assert refused.asked == 1 and not trust.is_me("statusgen-bot")
    down = Login(status=503)
    outage = trust_with(down, MemoryCache())
    outage.know()
    outage.know()
    assert down.asked == 2  # unavailable, not refusing: asked again


def test_identity_is_asked_only_when_a_comment_cannot_be_judged_otherwise():
    login = Login()
    trust = trust_with(login)
    trust.learn_writer({"user": {"login": "statusgen-bot"}})
    trust.ensure_for([{"comment_list": [comment("owner", "OWNER"), comment("statusgen-bot", "NONE")]}])
    assert login.asked == 0
    trust.ensure_for([{"comment_list": [comment("stranger", "NONE")]}])
    assert login.asked == 1
