"""Excerpt quality on the shared corpus (../shared/corpus/feeds), with the default length.

The measures are benchmarks/excerpt_quality.py's (its report prints the same figures). A fresh
clone has no corpus: the tests skip then, except under CI (conftest `corpus_dir`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from netplanet.enrich.excerpt import EXCERPT_WORDS

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.corpus


def _quality() -> ModuleType:
    spec = importlib.util.spec_from_file_location("excerpt_quality", BENCH / "excerpt_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(corpus_dir: Path) -> object:
    quality = _quality()
    quality.CORPUS = corpus_dir
    return quality.measure(EXCERPT_WORDS, show=20, keep_html=True)


def test_no_excerpt_stops_mid_sentence_without_a_visible_cut(report: object) -> None:
    # Before the fix: 119 of 2,085 (the "[…]" of WordPress summaries stripped, nothing in its
    # place). One is left that the measure cannot tell from a cut: a sentence ending '? "'.
    assert report.entries > 1500  # type: ignore[attr-defined]
    assert report.mid_sentence <= 1, report.samples  # type: ignore[attr-defined]


def test_read_more_footers_are_gone_in_every_language(report: object) -> None:
    assert report.footer == 0  # type: ignore[attr-defined]


def test_video_entries_get_their_media_description(report: object) -> None:
    # Empty excerpts with text available: Medium items whose only text is "Continue reading
    # on Medium »". Before the fix: 28, among them the 15 YouTube videos.
    assert report.empty <= 4  # type: ignore[attr-defined]
    assert report.empty_by_feed.get("youtube-atom-channel.xml", 0) == 0  # type: ignore[attr-defined]


def test_every_excerpt_is_well_formed_and_bounded(report: object) -> None:
    slack = max(2, EXCERPT_WORDS // 10)
    for html, words in report.htmls:  # type: ignore[attr-defined]
        etree.fromstring(f"<div>{html}</div>")  # strict XML: every tag closed, every entity known
        assert words <= EXCERPT_WORDS + slack or html.startswith("<pre>"), html[:200]


def test_lists_and_code_blocks_survive(report: object) -> None:
    assert report.lists > 50 and report.pre > 20  # type: ignore[attr-defined]
