"""Admin pages for the category list (add, rename, reorder, delete) and OPML import/export.

Routes are wrapped by web/admin.py's `admin` guard (signed in, CSRF-checked). OPML imports
run every URL through the guard's static checks (`check_url`: scheme, credentials, literal
private addresses in any spelling, local names) and skip refused ones, saying why; host names
are not resolved one by one here (an import may hold hundreds), the fetcher's guarded
resolver checks them at every connection instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import BlockedAddressError, NetplanetError
from netplanet.fetch.guard import check_url
from netplanet.model import SourceSpec
from netplanet.sources.opml import parse_opml, to_opml

if TYPE_CHECKING:
    from netplanet.web.admin import Ctx, Handler

MAX_OPML_BYTES = 5 * 1024 * 1024


async def _categories(request: Request, ctx: Ctx) -> Response:
    notice = problem = ""
    if request.method == "POST":
        action, slug, name = ctx.field("action"), ctx.field("slug"), ctx.field("name")
        store = ctx.store
        try:
            if action == "add":
                store.add_category(name)
                notice = f"Added category {name}."
            elif action == "rename":
                store.rename_category(slug, name)
                notice = f"Renamed to {name}."
            elif action in ("up", "down"):
                store.move_category(slug, -1 if action == "up" else 1)
                return RedirectResponse("/admin/categories", 303)
            elif action == "delete":
                store.delete_category(slug)
                notice = "Category deleted; its posts stay on the river and source pages."
            else:
                problem = f"unknown action {action!r}"
        except NetplanetError as exc:
            problem = str(exc)
    return ctx.page(
        request,
        "admin/categories.html",
        400 if problem else 200,
        page_title="Categories — admin",
        categories=ctx.site.categories(fresh=True),
        notice=notice,
        problem=problem,
    )


async def _opml(request: Request, ctx: Ctx) -> Response:
    notice = problem = ""
    refused: list[tuple[str, str]] = []
    if request.method == "POST":
        upload = ctx.form.get("file") if ctx.form is not None else None
        data = b""
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_OPML_BYTES + 1)
        if not data:
            problem = "Choose an OPML file to import."
        elif len(data) > MAX_OPML_BYTES:
            problem = "That file is over 5 MB; an OPML list of sources is much smaller."
        else:
            try:
                added, skipped, refused = import_specs(ctx, parse_opml(data))
                notice = f"Imported {added} sources ({skipped} already present)."
            except NetplanetError as exc:
                problem = f"Not imported: {exc}"
    return ctx.page(
        request,
        "admin/opml.html",
        400 if problem else 200,
        page_title="Import and export — admin",
        notice=notice,
        problem=problem,
        refused=refused,
    )


def import_specs(ctx: Ctx, specs: list[SourceSpec]) -> tuple[int, int, list[tuple[str, str]]]:
    store = ctx.store
    allow = ctx.site.settings.allow_private_networks
    known = {s.feed_url for s in store.list_sources()}
    added = skipped = 0
    refused: list[tuple[str, str]] = []
    for spec in specs:
        if spec.feed_url in known:
            skipped += 1
            continue
        try:
            check_url(spec.feed_url, allow_private=allow)
        except BlockedAddressError as exc:
            refused.append((spec.feed_url, str(exc)))
            continue
        store.add_source(spec)
        known.add(spec.feed_url)
        added += 1
    if added:
        store.bump_generation()
    return added, skipped, refused


async def _export(request: Request, ctx: Ctx) -> Response:
    specs = [
        SourceSpec(feed_url=s.feed_url, title=s.title, site_url=s.site_url, category=s.category)
        for s in ctx.store.list_sources()
    ]
    return Response(
        to_opml(specs),
        media_type="text/x-opml; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="netplanet-sources.opml"',
            "Cache-Control": "no-store",
        },
    )


def routes(admin: Callable[[Handler], Callable[[Request], Awaitable[Response]]]) -> list[Route]:
    return [
        Route("/admin/categories", admin(_categories), methods=["GET", "POST"]),
        Route("/admin/opml", admin(_opml), methods=["GET", "POST"]),
        Route("/admin/opml/export", admin(_export), methods=["GET"]),
    ]
