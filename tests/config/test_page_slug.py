"""``check`` rejects ids that the site would publish in one folder; its rule must be the site's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from generator.config.validators import SLUG, page_slug
from generator.site.links import slug


@given(st.from_regex(SLUG, fullmatch=True) | st.text(max_size=20))
def test_config_folds_ids_the_way_the_site_does(value: str) -> None:
    assert page_slug(value) == slug(value)


def test_ids_that_differ_in_trailing_dashes_share_a_page() -> None:
    assert page_slug("api") == page_slug("api-") == page_slug("api--") == "api"
    assert page_slug("a--b") != page_slug("a-b")
