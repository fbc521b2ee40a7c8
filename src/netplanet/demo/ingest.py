"""Populating a store with the demo, through the real update pipeline.

`add_demo_sources` stores the catalogue's sources (pointing at a running DemoFeedServer);
`update_demo` polls them with a given pipeline and seals the archive pages; `ingest_demo` does
both with a Fetcher built from Settings and a pipeline from the given PipelineFactory
(Planet.pipeline, or what a test builds). Nothing here is faked: the fetcher talks HTTP to the
loopback server, so the Settings must allow private networks (the demo's own fetcher only).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from netplanet.demo import DEMO_SOURCES
from netplanet.fetch.http import Fetcher
from netplanet.model import Source
from netplanet.settings import Settings
from netplanet.store.base import Store
from netplanet.store.indexing import catch_up
from netplanet.update.factory import PipelineFactory
from netplanet.update.pipeline import SourceReport, UpdatePipeline


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What one update of the demo did."""

    reports: tuple[SourceReport, ...]
    sealed: int
    """Entries given stable archive positions by this update."""

    @property
    def new(self) -> int:
        return sum(r.new for r in self.reports)

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(r for r in self.reports if r.failed)

    def lines(self) -> list[str]:
        """A short human summary, one line per fact."""
        outcomes = Counter(r.outcome for r in self.reports)
        parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(outcomes.items()))
        out = [f"{len(self.reports)} sources polled: {parts}; {self.new} new posts"]
        out += [f"  failing as intended: {r.title}: {r.error}" for r in self.failed]
        return out


def add_demo_sources(store: Store, base_url: str) -> list[Source]:
    """Store the demo sources for the server at `base_url` (skipping those already stored)."""
    out: list[Source] = []
    for demo in DEMO_SOURCES:
        spec = demo.spec(base_url)
        source = store.get_source_by_url(spec.feed_url) or store.add_source(spec)
        out.append(source)
    return out


def demo_sources(store: Store, base_url: str) -> list[Source]:
    """The stored, enabled demo sources, with their current cache state."""
    return [s for s in store.list_sources() if s.enabled and s.feed_url.startswith(base_url + "/")]


async def update_demo(
    pipeline: UpdatePipeline, store: Store, base_url: str, *, now: datetime | None = None
) -> DemoSummary:
    """Poll every demo source once, then seal the archive pages up to `now`."""
    before = pipeline.sealed
    reports = await pipeline.update_many(demo_sources(store, base_url))
    # The round sealed what is past the usual cut-off; the demo's posts are all final, so
    # seal the rest too: its numbered pages exist from the start.
    pipeline.seal(force=True, cutoff=now or datetime.now(UTC))
    catch_up(store)  # the demo's posts are searchable as soon as it is up
    sealed = pipeline.sealed - before
    return DemoSummary(tuple(sorted(reports, key=lambda r: r.title)), sealed)


async def ingest_demo(
    store: Store,
    settings: Settings,
    base_url: str,
    *,
    pipelines: PipelineFactory,
    now: datetime | None = None,
) -> DemoSummary:
    """Add the demo sources and run the real pipeline (`pipelines`, over `store`) once."""
    add_demo_sources(store, base_url)
    async with Fetcher(settings) as fetcher:
        return await update_demo(pipelines(fetcher), store, base_url, now=now)
