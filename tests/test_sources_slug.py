"""Slugs for sources and categories (netplanet.sources.slug)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplanet.sources.slug import slugify, unique_slug


def test_slugify_lowercases_and_hyphenates() -> None:
    assert slugify("The Networking Nerd") == "the-networking-nerd"


def test_slugify_transliterates_accents() -> None:
    assert slugify("Crème Brûlée à Zürich") == "creme-brulee-a-zurich"


def test_slugify_spells_letters_that_do_not_decompose() -> None:
    assert slugify("Straße Ørsted Łódź Æther") == "strasse-orsted-lodz-aether"


def test_slugify_joins_apostrophes_and_spells_ampersand() -> None:
    assert slugify("Ivan's Cloud & Data Center") == "ivans-cloud-and-data-center"


def test_slugify_collapses_punctuation_runs_and_trims_hyphens() -> None:
    assert slugify("  --ipSpace.net :: blog!!  ") == "ipspace-net-blog"


def test_slugify_falls_back_when_nothing_is_left() -> None:
    assert slugify("日本語") == "source"
    assert slugify("", fallback="category") == "category"


def test_slugify_truncates_at_a_word_boundary() -> None:
    slug = slugify("network " * 20, max_len=30)
    assert slug == "network-network-network"


def test_slugify_cuts_a_long_word_hard() -> None:
    assert slugify("a" * 100, max_len=10) == "a" * 10


def test_slugify_rejects_a_zero_max_len() -> None:
    with pytest.raises(ValueError, match="max_len"):
        slugify("x", max_len=0)


@given(st.text(max_size=200), st.integers(min_value=1, max_value=80))
def test_slugify_is_always_a_nonempty_ascii_slug(text: str, max_len: int) -> None:
    slug = slugify(text, max_len=max_len, fallback="x")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= max_len


def test_unique_slug_returns_the_base_when_free() -> None:
    assert unique_slug("packet-pushers", set()) == "packet-pushers"


def test_unique_slug_appends_the_first_free_number() -> None:
    assert unique_slug("blog", {"blog", "blog-2", "blog-3"}) == "blog-4"


def test_unique_slug_stays_within_max_len() -> None:
    base = "x" * 60
    assert unique_slug(base, {base}) == "x" * 58 + "-2"


def test_slug_allocator_gives_each_of_many_equal_titles_its_own_slug() -> None:
    from netplanet.sources.slug import SlugAllocator

    slugs = SlugAllocator({"blog", "blog-3"})
    got = [slugs.take("blog") for _ in range(5)]
    assert got == ["blog-2", "blog-4", "blog-5", "blog-6", "blog-7"]
    assert slugs.take("other") == "other" and slugs.take("other") == "other-2"


@given(st.lists(st.sampled_from(["a", "b", "a-2", "x" * 60]), max_size=40))
def test_slug_allocator_agrees_with_unique_slug(bases: list[str]) -> None:
    from netplanet.sources.slug import SlugAllocator

    taken: set[str] = set()
    allocator = SlugAllocator(())
    for base in bases:
        expected = unique_slug(base, taken)
        taken.add(expected)
        assert allocator.take(base) == expected
