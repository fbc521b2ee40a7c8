"""Polling one source now, outside the schedule: the admin's "Poll now".

The pipeline comes from the PipelineFactory the caller was handed (Planet.pipeline), so a poll
from the admin area parses in the planet's process pool and follows its policy, like every
other poll.
"""

from __future__ import annotations

import asyncio

from netplanet.errors import NetplanetError
from netplanet.fetch.http import Fetcher
from netplanet.settings import Settings
from netplanet.store.base import Store
from netplanet.store.indexing import catch_up
from netplanet.update.factory import PipelineFactory


async def poll_now(
    store: Store,
    settings: Settings,
    pipelines: PipelineFactory | None,
    source_id: int,
) -> str:
    """Run the pipeline for one source inline, within the fetch time limit plus a margin;
    returns the line to show. `pipelines` None: this process does not poll (an error)."""
    source = store.get_source(source_id)
    if source is None:
        raise NetplanetError(f"no source with id {source_id}")
    if pipelines is None:
        raise NetplanetError("polling is not available here; the scheduler polls the source")
    async with Fetcher(settings) as fetcher:
        pipeline = pipelines(fetcher)
        try:
            async with asyncio.timeout(settings.total_timeout + 10):
                report = await pipeline.update_source(source)
        except TimeoutError:
            raise NetplanetError(
                f"polling took longer than {settings.total_timeout + 10:g} s; "
                "the scheduler will try again"
            ) from None
    # Searchable when the page comes back, whether or not a `run` indexes in the background.
    await asyncio.to_thread(catch_up, store)
    if report.failed:
        return f"Polled: {report.outcome} — {report.error}"
    return f"Polled: {report.outcome.replace('_', ' ')}, {report.new} new posts."
