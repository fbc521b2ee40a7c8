"""Reading the planet from a terminal: `netplanet entries` and `netplanet search`.

cli.py calls `register(app)`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netplanet.cli_common import console, find_source, planet, say


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
    query: Annotated[str, typer.Argument(help='Words, "phrases", prefix*, OR, -exclude.')],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
) -> None:
    """Full-text search over titles, text and source names."""
    import html

    hits = planet().store.search(query, limit=limit, category=category)
    if not hits:
        say(f"no posts match {query!r}")
        return
    from rich.text import Text

    out = console()
    for hit in hits:
        e = hit.entry
        out.print(Text(f"[{e.id}] {e.title}", style="bold"))
        when = f"{e.published:%Y-%m-%d}" if e.date_known else "date unknown"
        out.print(Text(f"    {e.source_title} · {when} · {e.url}", style="dim"))
        snippet = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
        out.print(Text("    " + html.unescape(snippet)))
