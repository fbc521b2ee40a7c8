"""What a post shows of its story cluster (pure): "Also on" (the same post read through other
feeds) and "Also covered by" (other posts about the same story, each linking to its original),
built from what `SiteStore.coverage` returns (store/stories.py keeps the clusters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from netplanet.untrusted import http_url

RIVER_COVERAGE = 5
"""A river item names this many other sources at most; its post page lists them all."""


class CoverageLike(Protocol):
    """One other post of the cluster (store.base.Coverage has these fields)."""

    @property
    def entry_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def source_title(self) -> str: ...
    @property
    def source_slug(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def same_post(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoryLink:
    title: str
    url: str
    """The post on its own site (its planet page when it has no usable link)."""
    source_title: str
    source_href: str
    published_iso: str


@dataclass(frozen=True, slots=True)
class StoryCoverage:
    also_on: tuple[StoryLink, ...]
    """Other feeds carrying this very post."""
    also_covered: tuple[StoryLink, ...]
    """Other posts about the same story, newest first, one per post."""

    @property
    def river_covered(self) -> tuple[StoryLink, ...]:
        return self.also_covered[:RIVER_COVERAGE]

    @property
    def more_covered(self) -> int:
        return max(len(self.also_covered) - RIVER_COVERAGE, 0)


def story_coverage(others: Iterable[CoverageLike]) -> StoryCoverage | None:
    """The coverage lines of a post, or None when it stands alone. Another post read through
    several feeds is named once (by its first feed in the list)."""
    also_on: list[StoryLink] = []
    covered: list[StoryLink] = []
    seen_sources: set[str] = set()
    seen_posts: set[str] = set()
    for other in others:
        link = StoryLink(
            title=other.title or "(untitled)",
            url=http_url(other.url) or f"/post/{other.entry_id}/",
            source_title=other.source_title or other.source_slug,
            source_href=f"/source/{other.source_slug}/",
            published_iso=other.published.isoformat().replace("+00:00", "Z"),
        )
        if other.same_post:
            if other.source_slug not in seen_sources:
                seen_sources.add(other.source_slug)
                also_on.append(link)
            continue
        # Copies of another member carry its link or title: one entry per post.
        post_keys = {link.url, link.title.casefold()}
        if post_keys & seen_posts:
            continue
        seen_posts |= post_keys
        covered.append(link)
    if not also_on and not covered:
        return None
    return StoryCoverage(also_on=tuple(also_on), also_covered=tuple(covered))
