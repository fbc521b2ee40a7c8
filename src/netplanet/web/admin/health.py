"""The admin's feed-health table (/admin/health): every source's status, sortable, with a
"failing only" filter. The rows come from netplanet.publish.health.
"""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from netplanet.publish.health import SORT_KEYS, health_row, health_rows
from netplanet.web.admin.guard import Ctx, admin


async def _health(request: Request, ctx: Ctx) -> Response:
    params = request.query_params
    sort = params.get("sort", "status")
    sort = sort if sort in SORT_KEYS else "status"
    descending = params.get("dir") == "desc"
    failing = params.get("show") == "failing"
    sources = ctx.store.list_sources()
    now = ctx.site.now()
    slow = ctx.site.settings.slow_response_ms
    rows = health_rows(sources, now, slow, sort=sort, descending=descending, problems_only=failing)
    counts = Counter(health_row(s, now, slow).status.value for s in sources)
    return ctx.page(
        request,
        "admin/health.html",
        page_title="Feed health — admin",
        wide=True,
        rows=rows,
        total=len(sources),
        counts=sorted(counts.items()),
        sort=sort,
        descending=descending,
        failing=failing,
    )


def routes() -> list[Route]:
    return [Route("/admin/health", admin(_health), methods=["GET"])]
