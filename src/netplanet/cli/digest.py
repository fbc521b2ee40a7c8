"""`netplanet digest`: a week's digest on stdout, for newsletters and mailing lists, as
Markdown (renders on GitHub), plain text or an HTML fragment (publish/weekly.py draws all
three; operations/weekly.py reads the week, freezing a finished one on first read).

cli/__init__.py calls `register(app)`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from netplanet.cli._common import planet, warn


class Format(StrEnum):
    markdown = "markdown"
    text = "text"
    html = "html"


def register(app: typer.Typer) -> None:
    """Add `digest` to `app`."""
    app.command()(digest)


def digest(
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            "-w",
            metavar="YYYY-Www",
            help="The ISO week, e.g. 2026-W48 (default: the last finished week).",
        ),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="markdown, text or html.")
    ] = Format.markdown,
    topic: Annotated[
        str | None,
        typer.Option("--topic", "-t", metavar="SLUG", help="Only this topic, all its stories."),
    ] = None,
) -> None:
    """Print a week's digest: its posts grouped by topic, the widest covered stories first."""
    from datetime import UTC, datetime

    from netplanet.errors import UsageError
    from netplanet.operations.weekly import read_week
    from netplanet.publish.topics import TopicInfo
    from netplanet.publish.weekly import (
        PODCASTS,
        Week,
        build_digest,
        render_html,
        render_markdown,
        render_text,
        title_of,
    )
    from netplanet.publish.weeks import last_finished
    from netplanet.store.admin import BASE_URL_KEY

    current = planet()
    settings = current.settings
    now = datetime.now(UTC)
    chosen = Week.parse(week) if week is not None else last_finished(now)
    topics = [TopicInfo(t.slug, t.name, t.description) for t in current.taxonomy().topics]
    if topic is not None and topic not in {t.slug for t in topics} | {PODCASTS.slug}:
        known = ", ".join(t.slug for t in topics)
        raise UsageError(f"unknown topic {topic!r}; the topics are {known}, and podcasts")
    store = current.store
    read = read_week(store, chosen, now)
    base = (settings.site_url or store.get_setting(BASE_URL_KEY) or "").rstrip("/")
    if not base:
        warn(
            "note: the planet's URL is not known yet (set site_url), so links to its own "
            "pages are relative"
        )
    built = build_digest(
        read.data,
        chosen,
        topics,
        final=read.final,
        cap=settings.digest_items_per_topic,
        base=base,
        only_topic=topic,
    )
    heading = title_of(chosen, settings.site_title)
    if not read.final:
        heading += " (in progress)"
    if fmt is Format.markdown:
        out = render_markdown(built, heading=heading)
    elif fmt is Format.text:
        out = render_text(built, heading=heading)
    else:
        out = render_html(built, heading=heading)
    print(out, end="", flush=True)
