"""Reading the planet from a terminal: `netplanet entries` and `netplanet search`.

cli/__init__.py calls `register(app)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import console, find_source, planet, say

if TYPE_CHECKING:
    from netplanet.model import StoredEntry
    from netplanet.store.base import Coverage


def register(app: typer.Typer) -> None:
    """Add `entries` and `search` to `app`."""
    app.command()(entries)
    app.command()(search)


def entries(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option("--topic", "-t", help="Only posts filed under this topic (slug)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line (fields: see README).")
    ] = False,
    every_row: Annotated[
        bool,
        typer.Option("--all", help="List every feed's copy of a post, not the original alone."),
    ] = False,
) -> None:
    """List the newest posts (another feed's copy of a post is listed once, as the original
    with the copies' sources; --all lists every row)."""
    store = planet().store
    source_id = find_source(source).id if source else None
    if topic is not None:
        _check_topic(topic)
    rows = store.list_entries(source_id=source_id, topic=topic, copies=every_row, limit=limit)
    coverage = store.coverage([e.id for e in rows])
    if as_json:
        import json
        import sys

        for e in rows:
            record = _entry_record(e, coverage.get(e.id, []))
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} newest posts", title_justify="left")
    for col in ("id", "published", "source", "title", "topics", "url"):
        # The title is what a reader scans for: it keeps its width when the terminal is narrow.
        table.add_column(col, overflow="fold", min_width=24 if col == "title" else None)
    for e in rows:
        labels = [*e.topic_slugs]
        labels += ["podcast"] if e.podcast else []
        labels += ["sponsored"] if e.sponsored else []
        also = [c.source_title for c in coverage.get(e.id, []) if c.same_post]
        table.add_row(  # feed data: never read as Rich markup
            str(e.id),
            e.published.strftime("%Y-%m-%d %H:%M") if e.date_known else "date unknown",
            Text(e.source_title + (f" (also on {', '.join(also)})" if also else "")),
            Text(e.title),
            Text(", ".join(labels)),
            Text(e.url),
        )
    console().print(table)


def _entry_record(e: StoredEntry, coverage: list[Coverage]) -> dict[str, object]:
    """One post as `entries --json` prints it (the README lists the fields)."""
    from datetime import UTC

    return {
        "id": e.id,
        "guid": e.guid,
        "url": e.url,
        "title": e.title,
        "source": e.source_title,
        "published": e.published.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "date_known": e.date_known,
        "topics": [slug for slug, _ in e.topics],
        "topic_scores": [score for _, score in e.topics],
        "topics_manual": e.topics_manual,
        "podcast": e.podcast,
        "sponsored": e.sponsored,
        "cluster": e.cluster_id,
        "also_covered_by": [c.entry_id for c in coverage if not c.same_post],
        "also_on": [c.source_title for c in coverage if c.same_post],
        "duplicate_of": e.duplicate_of,
    }


def _check_topic(slug: str) -> None:
    """A usage error naming the topics when `slug` is none of them."""
    from netplanet.errors import UsageError

    taxonomy = planet().taxonomy()
    if taxonomy.get(slug) is None:
        raise UsageError(
            f"no topic {slug!r}; the topics are: {', '.join(taxonomy.slugs)} "
            "(`netplanet topics list`)"
        )


def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all must match), "exact phrases", prefix*, OR between alternatives, '
            "-word to exclude. Only exclusions list the newest posts without those words."
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="How many posts to show.")
    ] = 20,
    category: Annotated[
        str | None,
        typer.Option("--category", "-c", help="Only posts in this category (name or slug)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
) -> None:
    """Full-text search over titles, text and source names.

    A query that starts with - comes after --, as in: netplanet search -- -vxlan
    """
    import html

    from netplanet.errors import NotFoundError, UsageError
    from netplanet.store.fts_query import parse_query
    from netplanet.store.sql import SEARCH_COUNT_CAP

    parsed = parse_query(query)
    if parsed.empty:
        raise UsageError(
            f"the query {query!r} has no words to search for; "
            'try words, "a phrase", prefix* or -word'
        )
    store = planet().store
    slug = _category_slug(category) if category is not None else None
    try:
        source_id = find_source(source).id if source is not None else None
    except NotFoundError as exc:  # a filter that matches nothing is a mistake, not 0 results
        raise UsageError(str(exc)) from None
    hits = store.search(query, limit=limit + 1, category=slug, source_id=source_id)
    if not hits:
        say(f"no posts match {query!r}")
        return
    if len(hits) > limit:  # only then is a count query needed
        hits = hits[:limit]
        found = store.count_matches(query, category=slug, source_id=source_id)
    else:
        found = len(hits)
    many = f"more than {SEARCH_COUNT_CAP:,}" if found > SEARCH_COUNT_CAP else f"{found:,}"
    if parsed.only_exclusions:
        words = ", ".join(repr(" ".join(t.words)) for t in parsed.excluded)
        say(f"{many} newest posts without {words} (showing {len(hits)})")
    else:
        say(f"{many} posts match {query!r} (showing {len(hits)})")
    from rich.text import Text

    out = console()
    for hit in hits:
        e = hit.entry
        out.print(Text(f"[{e.id}] {e.title}", style="bold"))
        when = f"{e.published:%Y-%m-%d}" if e.date_known else "date unknown"
        out.print(Text(f"    {e.source_title} · {when} · {e.url}", style="dim"))
        snippet = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
        out.print(Text("    " + html.unescape(snippet)))


def _category_slug(name: str) -> str:
    """The slug of an existing category named (or slugged) `name`, or a usage error naming
    the categories there are."""
    from netplanet.errors import UsageError
    from netplanet.sources.slug import slugify

    categories = planet().store.list_categories()
    wanted = slugify(name, fallback="")
    for cat in categories:
        if cat.slug == wanted:
            return cat.slug
    known = ", ".join(c.name for c in categories[:20]) + (", …" if len(categories) > 20 else "")
    raise UsageError(
        f"no category {name!r}; "
        + (f"the categories are: {known}" if categories else "there are no categories yet")
    )
