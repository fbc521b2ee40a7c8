"""`netplanet topics`: the taxonomy's topics with their post counts, why a post has its
topics, and re-classifying stored posts (operations/topics.py does the work).

cli/__init__.py calls `register(app)`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netplanet.cli._common import console, planet, quiet, say

topics_app = typer.Typer(
    help="Topics: list them, explain a post's, re-classify.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `topics` command group to `app`."""
    app.add_typer(topics_app, name="topics")


@topics_app.command("list")
def list_topics() -> None:
    """Every topic of the taxonomy: slug, name and how many posts are filed under it."""
    from rich.table import Table
    from rich.text import Text

    current = planet()
    taxonomy = current.taxonomy()
    counts = current.store.topic_counts()
    table = Table(title=f"{len(taxonomy.topics)} topics (taxonomy {taxonomy.version})")
    for col in ("slug", "name", "posts"):
        table.add_column(col, justify="right" if col == "posts" else "left")
    for topic in taxonomy.topics:
        table.add_row(topic.slug, Text(topic.name), f"{counts.get(topic.slug, 0):,}")
    unknown = sorted(set(counts) - set(taxonomy.slugs))
    console().print(table)
    if unknown:
        say(
            f"{sum(counts[s] for s in unknown):,} posts are filed under topics the taxonomy no "
            f"longer has ({', '.join(unknown[:10])}); `netplanet topics reclassify` refiles them"
        )


@topics_app.command("explain")
def explain_post(
    post_id: Annotated[
        int,
        # store.base.ID_MAX, written out: this module imports only typer when it loads.
        typer.Argument(metavar="POST_ID", min=1, max=2**63 - 1, help="The post's id."),
    ],
) -> None:
    """A post's topics with their scores, and the evidence for them: terms, field, weight."""
    from rich.table import Table
    from rich.text import Text

    from netplanet.operations.topics import explain

    current = planet()
    taxonomy = current.taxonomy()
    found = explain(current.store, taxonomy, post_id)
    entry, fresh = found.entry, found.classification
    out = console()
    out.print(Text(f"[{entry.id}] {entry.title}", style="bold"))
    out.print(Text(f"    {entry.source_title} · {entry.url}", style="dim"))
    stored = ", ".join(f"{slug} {score:.2f}" for slug, score in entry.topics) or "(none)"
    how = "set by an operator" if found.manual else "classified automatically"
    out.print(Text(f"topics: {stored} ({how})"))
    if not found.current:
        now = ", ".join(f"{slug} {score:.2f}" for slug, score in fresh.topics)
        hint = (
            "kept: an operator chose them"
            if found.manual
            else "`netplanet topics reclassify` stores it"
        )
        out.print(Text(f"the taxonomy now gives: {now} ({hint})"))
    table = Table(title=f"evidence (taxonomy {taxonomy.version})", title_justify="left")
    for col in ("topic", "term", "field", "weight"):
        table.add_column(col, justify="right" if col == "weight" else "left")
    for ev in fresh.evidence:
        table.add_row(ev.topic, Text(ev.term), ev.field, f"{ev.weight:.2f}")
    if not fresh.evidence:
        out.print(
            Text(f"no term of the taxonomy found: filed under the fallback, {taxonomy.fallback}")
        )
    else:
        out.print(table)


@topics_app.command("reclassify")
def reclassify_posts(
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every post, even when the stored posts were classified with this taxonomy.",
        ),
    ] = False,
) -> None:
    """Classify stored posts again with the current taxonomy (posts whose topics an operator
    set are kept). Stopped, it goes on where it stopped when run again."""
    from netplanet.operations.topics import reclassify

    current = planet()
    taxonomy = current.taxonomy()
    store = current.store
    if quiet():
        report = reclassify(store, taxonomy, everything=everything)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(
            TextColumn("re-classifying"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console(stderr=True),
        )
        with progress:
            task = progress.add_task("reclassify", total=None)

            def step(done_id: int, last_id: int) -> None:
                progress.update(task, completed=done_id, total=last_id)

            report = reclassify(store, taxonomy, everything=everything, on_batch=step)
    if report.up_to_date:
        say(
            f"the stored posts are classified with this taxonomy ({report.version}) already; "
            "--all classifies them again anyway"
        )
        return
    resumed = f", going on after post {report.resumed_after}" if report.resumed_after else ""
    labels = f", {report.relabelled:,} podcast labels corrected" if report.relabelled else ""
    say(
        f"re-classified {report.examined:,} posts with taxonomy {report.version}{resumed}: "
        f"{report.changed:,} changed{labels}"
    )
