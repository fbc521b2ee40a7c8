"""The admin's OPML pages: import (/admin/opml) and export (/admin/opml/export).

An OPML import goes through `operations.imports` (the limits, skipped outlines with their
reasons, the guard's static checks, the bulk insert; see there) in a background thread
(web/admin/imports.py), and this page shows its progress and then its report. The export is
the one `netplanet sources export` writes (`operations.imports.export_sources`).
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import NetplanetError
from netplanet.operations.imports import (
    check_opml_size,
    export_sources,
    max_opml_bytes,
    read_opml_bytes,
)
from netplanet.web.admin.guard import Ctx, admin
from netplanet.web.admin.imports import load_status, start_import


async def _opml(request: Request, ctx: Ctx) -> Response:
    problem = ""
    if request.method == "POST":
        try:
            await _start_import(ctx)
        except NetplanetError as exc:
            problem = f"Not imported: {exc}"
        else:
            return RedirectResponse("/admin/opml", 303)
    status = load_status(ctx.site)
    running = status is not None and status.running(ctx.site.now())
    return ctx.page(
        request,
        "admin/opml.html",
        400 if problem else 200,
        page_title="Import and export — admin",
        problem=problem,
        last_import=status,
        running=running,
        max_outlines=ctx.site.settings.opml_max_outlines,
    )


async def _start_import(ctx: Ctx) -> None:
    """Check the upload (off the event loop: a big file takes a moment to parse) and start
    importing it in the background; raises NetplanetError for a file that is refused."""
    settings = ctx.site.settings
    upload = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(upload, UploadFile):
        raise NetplanetError("choose an OPML file to import")
    limit = max_opml_bytes(settings)
    data = await upload.read(limit + 1)
    name = _file_name(upload.filename)
    if not data:
        raise NetplanetError(f"{name} is empty; choose an OPML file to import")
    check_opml_size(name, max(upload.size or 0, len(data)), settings)
    read = await asyncio.to_thread(read_opml_bytes, data, settings, name=name)
    thread = start_import(ctx.site, read, name)
    # A small import is over in a moment: wait briefly, so the page shows its result at once.
    for _ in range(10):
        if not thread.is_alive():
            break
        await asyncio.sleep(0.1)


def _file_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "the file"
    return name if len(name) <= 80 else name[:80] + "…"


async def _export(request: Request, ctx: Ctx) -> Response:
    return Response(
        export_sources(ctx.store).opml,
        media_type="text/x-opml; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="netplanet-sources.opml"',
            "Cache-Control": "no-store",
        },
    )


def routes() -> list[Route]:
    return [
        Route("/admin/opml", admin(_opml), methods=["GET", "POST"]),
        Route("/admin/opml/export", admin(_export), methods=["GET"]),
    ]
