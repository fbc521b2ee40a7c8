"""The sources stage: OPML in/out, feed autodiscovery (pure part), slugs and the default list.

Everything here is pure: no network, no database, no clock.
"""

from netplanet.sources.defaults import load_default_sources
from netplanet.sources.discover import (
    candidate_urls,
    find_feed_links,
    looks_like_feed,
    looks_like_html,
)
from netplanet.sources.opml import parse_opml, to_opml
from netplanet.sources.slug import slugify, unique_slug

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
