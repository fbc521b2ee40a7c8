"""Property: from any front page, following "Older posts" shows every post exactly once.

Random planets (two sources in two categories, posts stored and sealed in two rounds, so late
arrivals older than sealed posts are filed among them, and any page size) are walked from the
front page of the river, of a category and of each source down to page 1 (docs/pagination.md).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import NOW, make_entry, spec
from netplanet.store import open_store
from test_web_client import Planet, make_planet, numbers, pager_links

# (post number, source 1 or 2, stored in round 1 or 2); post n is published n hours before NOW.
Post = tuple[int, int, int]

posts_strategy = st.lists(
    st.tuples(st.integers(1, 80), st.integers(1, 2), st.integers(1, 2)),
    unique_by=lambda p: p[0],
    max_size=45,
)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated database file: each example starts from a copy (migrating one per
    example would cost most of the test's time)."""
    path = tmp_path_factory.mktemp("walk") / "template.db"
    open_store(f"sqlite:///{path}").close()
    return path


def _walk(planet: Planet, front: str, page_size: int) -> list[int]:
    """Every post number met following "Older posts" from `front` to the end."""
    seen: list[int] = []
    url: str | None = front
    while url is not None:
        reply = planet.client.get(url)
        assert reply.status == 200, url
        shown = numbers(reply.text)
        if "/page/" in url:
            assert len(shown) == page_size, url  # only full numbered pages are linked
        seen += shown
        url = pager_links(reply.text).get("older")
        assert len(seen) <= 200, "the walk does not end"
    return seen


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    posts=posts_strategy,
    page_size=st.integers(1, 7),
    first_cutoff=st.integers(0, 90),
    second_cutoff=st.integers(0, 90),
)
def test_older_posts_from_the_front_page_shows_every_post_once(
    migrated: Path, posts: list[Post], page_size: int, first_cutoff: int, second_cutoff: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(migrated, Path(tmp) / "walk.db")
        store = open_store(f"sqlite:///{Path(tmp) / 'walk.db'}")
        try:
            one = store.add_source(spec(1))
            two = store.add_source(spec(2, category="Security"))
            planet = make_planet(store, page_size=page_size)
            ids = {1: one.id, 2: two.id}
            for round_ in (1, 2):
                for src in (1, 2):
                    batch = [
                        make_entry(
                            ids[src], n, categories=("Security",) if src == 2 else ("Networking",)
                        )
                        for n, s, r in posts
                        if s == src and r == round_
                    ]
                    if batch:
                        planet.add(ids[src], *batch)
                # Every writer seals at the end of its round (UpdatePipeline.seal), with a cutoff
                # that never moves back: a round-2 post older than the newest sealed one is
                # filed at its place then, not left out of the front pages' head.
                cutoff = first_cutoff if round_ == 1 else min(first_cutoff, second_cutoff)
                store.seal_pages(NOW - timedelta(hours=cutoff, minutes=30))

            def expect(which: set[int]) -> list[int]:
                return sorted(n for n, s, _ in posts if s in which)

            lists = {
                "/": {1, 2},
                "/category/security/": {2},
                "/source/example-blog-1/": {1},
                "/source/example-blog-2/": {2},
            }
            for front, which in lists.items():
                seen = _walk(planet, front, page_size)
                repeated = [n for n, k in Counter(seen).items() if k > 1]
                assert not repeated, f"{front}: shown twice: {repeated}"
                assert sorted(seen) == expect(which), front
        finally:
            store.close()
