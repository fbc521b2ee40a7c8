"""The bundled default source list (netplanet/data/sources.opml)."""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlsplit

import pytest

from netplanet.model import SourceSpec
from netplanet.sources import load_default_sources


@pytest.fixture(scope="module")
def defaults() -> list[SourceSpec]:
    return load_default_sources()


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def test_bundled_opml_has_at_least_40_sources(defaults: list[SourceSpec]) -> None:
    assert len(defaults) >= 40


def test_every_default_source_has_title_site_feed_and_category(
    defaults: list[SourceSpec],
) -> None:
    incomplete = [
        spec
        for spec in defaults
        if not (spec.title and spec.category and _is_web_url(spec.feed_url))
        or not _is_web_url(spec.site_url)
    ]
    assert incomplete == []


def test_default_feed_urls_are_unique(defaults: list[SourceSpec]) -> None:
    # parse_opml drops duplicates silently, so count the file's xmlUrl attributes too.
    raw = files("netplanet").joinpath("data/sources.opml").read_bytes()
    assert raw.count(b"xmlUrl=") == len(defaults)
    assert len({spec.feed_url.lower() for spec in defaults}) == len(defaults)


def test_default_categories_are_the_planned_folders(defaults: list[SourceSpec]) -> None:
    assert {spec.category for spec in defaults} <= {
        "Networking",
        "Network Automation",
        "Cloud & Data Center",
        "Security",
        "Internet & Routing",
        "Podcasts",
        "Vendor Blogs",
    }


def test_load_default_sources_returns_a_fresh_list() -> None:
    first = load_default_sources()
    first.clear()
    assert load_default_sources()
