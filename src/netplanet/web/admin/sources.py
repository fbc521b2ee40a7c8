"""The admin's sources: the list (/admin/), adding one, and one source's page (edit the feed
URL, title and category; use the suggested feed URL; enable/disable, delete, poll now).

Adding, editing and the one-click fix are the operations the command line shares
(operations/sources.py): every URL an admin adds passes the SSRF guard before anything is
stored (the pre-save check, then discovery through the guarded fetcher), and a changed feed URL
passes the same pre-save check.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import NetplanetError
from netplanet.operations.poll import poll_now
from netplanet.operations.sources import add_source, edit_source, use_suggested_feed_url
from netplanet.publish.health import health_row, suggested_feed_url
from netplanet.web.admin.guard import NO_STORE, Ctx, admin
from netplanet.web.ids import parse_id


async def _sources(request: Request, ctx: Ctx, **extra: Any) -> Response:
    added = parse_id(request.query_params.get("added"))
    notice = ""
    if added is not None and (source := ctx.store.get_source(added)) is not None:
        notice = f"Added {source.display_title} <{source.feed_url}>."
    extra.setdefault("notice", notice)
    extra.setdefault("form_url", "")
    extra.setdefault("form_category", "")
    return ctx.page(
        request,
        "admin/sources.html",
        page_title="Sources — admin",
        sources=ctx.store.list_sources(),
        categories=ctx.store.list_categories(),
        **extra,
    )


async def _add(request: Request, ctx: Ctx) -> Response:
    url, category = ctx.field("url"), ctx.field("category")
    try:
        source = (await add_source(ctx.store, ctx.site.settings, url, category=category)).source
    except NetplanetError as exc:
        return await _sources(
            request, ctx, problem=f"Not added: {exc}", form_url=url, form_category=category
        )
    ctx.store.bump_generation()
    return RedirectResponse(f"/admin/?added={source.id}", 303, headers=NO_STORE)


async def _source(request: Request, ctx: Ctx) -> Response:
    source_id: int = request.path_params["id"]
    source = ctx.store.get_source(source_id)
    if source is None:
        raise HTTPException(404)
    notice = problem = ""
    if request.method == "POST":
        action = ctx.field("action")
        try:
            notice, source_id = await _act(ctx, action, source_id)
        except NetplanetError as exc:
            problem = str(exc)
        if action == "delete" and not problem:
            return RedirectResponse("/admin/", 303, headers=NO_STORE)
        source = ctx.store.get_source(source_id) or source
    row = health_row(source, ctx.site.now(), ctx.site.settings.slow_response_ms)
    return ctx.page(
        request,
        "admin/source.html",
        400 if problem else 200,
        page_title=f"{source.display_title} — admin",
        source=source,
        row=row,
        posts=ctx.store.count_entries(source_id=source.id),
        categories=ctx.store.list_categories(),
        suggested=suggested_feed_url(source),
        form_url=ctx.field("url") if problem and ctx.field("action") == "save" else "",
        notice=notice,
        problem=problem,
    )


async def _act(ctx: Ctx, action: str, source_id: int) -> tuple[str, int]:
    store = ctx.store
    allow_private = ctx.site.settings.allow_private_networks
    if action in ("save", "suggested"):
        if action == "save":
            done = await edit_source(
                store,
                source_id,
                allow_private=allow_private,
                url=ctx.field("url") or None,
                title=ctx.field("title"),
                category=ctx.field("category"),
            )
        else:  # the one-click fix: the feed discovery named in the source's last error
            done = await use_suggested_feed_url(store, source_id, allow_private=allow_private)
        store.bump_generation()
        if any(line.startswith("feed URL") for line in done.changes):
            return (
                f"Feed URL changed to {done.source.feed_url}; its posts stay, and it is "
                "polled at the next round (or use Poll now).",
                source_id,
            )
        return "Saved.", source_id
    if action in ("enable", "disable"):
        store.edit_source(source_id, enabled=action == "enable")
        store.bump_generation()
        return f"Source {action}d.", source_id
    if action == "delete":
        if ctx.field("confirm") != "yes":
            raise NetplanetError("tick the box to confirm deleting the source and its posts")
        store.remove_source(source_id)
        return "Deleted.", source_id
    if action == "poll":
        site = ctx.site
        return await poll_now(store, site.settings, site.pipelines, source_id), source_id
    raise NetplanetError(f"unknown action {action!r}")


def routes() -> list[Route]:
    return [
        Route("/admin/", admin(_sources), methods=["GET"]),
        Route("/admin/add", admin(_add), methods=["POST"]),
        Route("/admin/sources/{id:id}", admin(_source), methods=["GET", "POST"]),
    ]
