"""The admin's weekly digest (/admin/digest/): the week in progress, story by story, where an
operator pins a story (it leads its topic, marked "Picked", always shown whatever the cap) or
drops it (left out), and undoes either. The choices are kept in the database
(`digest_picks`) and go into the week's list when it is frozen; a finished week no longer
changes. Every change bumps the site generation, so cached pages show it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from netplanet.errors import NetplanetError
from netplanet.operations.weekly import pick
from netplanet.publish.weekly import Week, candidates, dropped
from netplanet.web.admin.guard import Ctx, admin
from netplanet.web.ids import parse_id

_ACTIONS = {
    "pin": ("pin", "Pinned"),
    "drop": ("drop", "Dropped"),
    "unpin": (None, "Unpinned"),
    "restore": (None, "Restored"),
}


async def _digest(request: Request, ctx: Ctx) -> Response:
    notice = problem = ""
    now = ctx.site.now()
    if request.method == "POST":
        action = ctx.field("action")
        entry_id = parse_id(ctx.field("entry"))
        try:
            if action not in _ACTIONS:
                problem = f"unknown action {action!r}; use pin, unpin, drop or restore"
            elif entry_id is None:
                problem = "no post was named; use the buttons beside each post"
            else:
                choice, done = _ACTIONS[action]
                pick(ctx.store, now, entry_id, choice)
                ctx.store.bump_generation()
                notice = f"{done} post {entry_id}."
        except NetplanetError as exc:
            problem = str(exc)
    week = Week.of(now)
    data = ctx.store.week_data(week.label, week.start, week.end)
    names = {t.slug: t.name for t in ctx.site.topics}
    return ctx.page(
        request,
        "admin/digest.html",
        400 if problem else 200,
        page_title="Weekly digest — admin",
        week=week,
        lines=candidates(data),
        dropped=dropped(data),
        names=names,
        cap=ctx.site.settings.digest_items_per_topic,
        notice=notice,
        problem=problem,
        wide=True,
    )


def routes() -> list[Route]:
    return [Route("/admin/digest/", admin(_digest), methods=["GET", "POST"])]
