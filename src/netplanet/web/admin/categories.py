"""The admin's category list (/admin/categories): add, rename, reorder, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import NetplanetError
from netplanet.web.admin.guard import Ctx, admin


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


def routes() -> list[Route]:
    return [Route("/admin/categories", admin(_categories), methods=["GET", "POST"])]
