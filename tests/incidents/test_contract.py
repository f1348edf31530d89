"""Every tracker backend in tests.tracker_contract.BACKENDS against every contract check."""

from __future__ import annotations

import pytest

from tests.tracker_contract import BACKENDS, CONTRACT


@pytest.fixture(params=sorted(BACKENDS))
def harness(request, tmp_path):
    with BACKENDS[request.param](tmp_path) as value:
        yield value


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__.removeprefix("check_") for c in CONTRACT])
def test_contract(harness, check):
    check(harness)


def test_contract_is_not_empty():
    assert "files" in BACKENDS
    assert len(CONTRACT) >= 12
