"""The admin's posts: recent posts and a search by id or title (/admin/posts), and one post's
topics (/admin/posts/<id>): their scores, the classifier's evidence, and the operator's
override (a primary and up to two secondary topics, or back to automatic).

An override marks the post `topics_manual`: edits of the post and re-classification keep it
(store/writes.py, operations/topics.py). Every change bumps the site generation, so cached
pages show it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.enrich.topics import Taxonomy
from netplanet.errors import NetplanetError
from netplanet.operations.topics import (
    automatic_topics,
    cached_taxonomy,
    explain,
    override_topics,
)
from netplanet.web.admin.guard import NO_STORE, Ctx, admin
from netplanet.web.ids import parse_id

RECENT = 50


def current_taxonomy(ctx: Ctx) -> Taxonomy:
    """The planet's taxonomy, compiled once per version of its source (a cheap check first)."""
    return cached_taxonomy(ctx.site.settings, ctx.store)


async def _posts(request: Request, ctx: Ctx) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    wanted = parse_id(query) if query.isascii() and query.isdigit() else None
    if wanted is not None and ctx.store.get_entry(wanted) is not None:
        return RedirectResponse(f"/admin/posts/{wanted}", 303, headers=NO_STORE)
    if query:
        posts = [hit.entry for hit in ctx.store.search(query, limit=RECENT)]
    else:
        posts = ctx.store.list_entries(limit=RECENT)
    return ctx.page(
        request,
        "admin/posts.html",
        page_title="Posts — admin",
        posts=posts,
        query=query,
        wide=True,
    )


async def _post(request: Request, ctx: Ctx) -> Response:
    entry_id: int = request.path_params["id"]
    notice = problem = ""
    try:
        taxonomy = current_taxonomy(ctx)
    except NetplanetError as exc:
        raise HTTPException(500, f"the taxonomy cannot be used: {exc}") from None
    store = ctx.store
    if store.get_entry(entry_id) is None:
        raise HTTPException(404)
    if request.method == "POST":
        action = ctx.field("action")
        try:
            if action == "override":
                secondary = [ctx.field("secondary1"), ctx.field("secondary2")]
                chosen = override_topics(store, taxonomy, entry_id, ctx.field("primary"), secondary)
                notice = f"Topics set: {', '.join(chosen)}. Re-classification keeps them."
            elif action == "automatic":
                chosen = automatic_topics(store, taxonomy, entry_id)
                notice = f"Back to automatic: {', '.join(chosen)}."
            else:
                problem = f"unknown action {action!r}"
        except NetplanetError as exc:
            problem = str(exc)
    found = explain(store, taxonomy, entry_id)
    names = {t.slug: t.name for t in taxonomy.topics}
    slugs = [*found.entry.topic_slugs, "", "", ""]
    return ctx.page(
        request,
        "admin/post.html",
        400 if problem else 200,
        page_title=f"{found.entry.title} — admin",
        entry=found.entry,
        explained=found,
        taxonomy=taxonomy,
        names=names,
        chosen={"primary": slugs[0], "secondary1": slugs[1], "secondary2": slugs[2]},
        notice=notice,
        problem=problem,
    )


def routes() -> list[Route]:
    return [
        Route("/admin/posts", admin(_posts), methods=["GET"]),
        Route("/admin/posts/{id:id}", admin(_post), methods=["GET", "POST"]),
    ]
