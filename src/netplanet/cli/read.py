"""Reading the planet from a terminal: `netplanet entries` and `netplanet search`.

cli/__init__.py calls `register(app)`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netplanet.cli._common import console, find_source, planet, say


def register(app: typer.Typer) -> None:
    """Add `entries` and `search` to `app`."""
    app.command()(entries)
    app.command()(search)


def entries(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
) -> None:
    """List the newest posts."""
    from rich.table import Table
    from rich.text import Text

    store = planet().store
    source_id = find_source(source).id if source else None
    rows = store.list_entries(source_id=source_id, limit=limit)
    table = Table(title=f"{len(rows)} newest posts", title_justify="left")
    for col in ("id", "published", "source", "title", "url"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(  # feed data: never read as Rich markup
            str(e.id),
            e.published.strftime("%Y-%m-%d %H:%M") if e.date_known else "date unknown",
            Text(e.source_title),
            Text(e.title),
            Text(e.url),
        )
    console().print(table)


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
