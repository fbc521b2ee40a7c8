"""The sources stage: OPML in/out, feed autodiscovery (pure part), slugs and the default list.

Everything here is pure: no network, no database, no clock. The names below are loaded on first
use: the store imports `sources.slug` for every command, and should not pay for the OPML
and discovery parsers with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netplanet.lazy import lazy_exports

if TYPE_CHECKING:
    from netplanet.sources.defaults import load_default_sources
    from netplanet.sources.discover import (
        candidate_urls,
        find_feed_links,
        looks_like_feed,
        looks_like_html,
    )
    from netplanet.sources.opml import parse_opml, to_opml
    from netplanet.sources.slug import slugify, unique_slug

_HOME = {
    "candidate_urls": "discover",
    "find_feed_links": "discover",
    "load_default_sources": "defaults",
    "looks_like_feed": "discover",
    "looks_like_html": "discover",
    "parse_opml": "opml",
    "slugify": "slug",
    "to_opml": "opml",
    "unique_slug": "slug",
}

__all__ = [
    "candidate_urls",
    "find_feed_links",
    "load_default_sources",
    "looks_like_feed",
    "looks_like_html",
    "parse_opml",
    "slugify",
    "to_opml",
    "unique_slug",
]


__getattr__ = lazy_exports(__name__, _HOME)
