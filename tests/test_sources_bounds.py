"""Length bounds of source titles and category names (netplanet.sources.bounds)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netplanet.sources.bounds import (
    MAX_CATEGORY_CHARS,
    MAX_TITLE_CHARS,
    bound_category,
    bound_text,
    bound_title,
)


def test_short_text_is_kept_with_whitespace_collapsed() -> None:
    assert bound_title("  Packet   Pushers\n") == "Packet Pushers"
    assert bound_category("Routing \t/ BGP") == "Routing / BGP"


def test_long_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = "network " * 100
    cut = bound_text(text, 30)
    assert cut == "network network network…"


def test_one_giant_word_is_cut_hard() -> None:
    assert bound_text("x" * 1000, 10) == "x" * 9 + "…"


def test_giant_title_and_category() -> None:
    giant = "a" * 2_000_000
    assert len(bound_title(giant)) == MAX_TITLE_CHARS
    assert len(bound_category(giant)) == MAX_CATEGORY_CHARS


@given(st.text(max_size=600), st.integers(min_value=2, max_value=300))
def test_bounded_text_fits_is_a_prefix_and_is_stable(text: str, limit: int) -> None:
    cut = bound_text(text, limit)
    collapsed = " ".join(text.split())
    assert len(cut) <= limit
    if len(collapsed) <= limit:
        assert cut == collapsed
    else:
        assert cut.endswith("…") and collapsed.startswith(cut[:-1].rstrip())
    assert bound_text(cut, limit) == cut
