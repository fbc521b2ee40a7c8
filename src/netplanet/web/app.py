"""The web application's assembly: `create_app`, /healthz and the error pages.

`create_app(store, settings, pipelines=..., clock=...)` builds a Starlette app over any store
that satisfies `PlanetStore` (store/base.py); nothing here knows which database is behind it.
`pipelines` (Planet.pipeline) is what the admin's "poll now" polls with. It builds the
`Site` (web/site.py) every handler shares and mounts the routes of web/public.py,
web/outputs.py and the admin area (web/admin/). Every request first passes web/edge.py
(trusted proxies, the Host check that fixes the base URL, security headers).
`UVICORN_OPTIONS` are the options of every uvicorn that serves the app.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from netplanet.publish.topics import TopicInfo
from netplanet.settings import Settings
from netplanet.store.base import PlanetStore
from netplanet.update.factory import PipelineFactory
from netplanet.web.edge import Edge
from netplanet.web.site import Clock, Site, _site, _utcnow

log = logging.getLogger(__name__)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    try:
        body = _site(request).render(
            request, "error.html", page_title=title, status=status, message=message
        )
    except Exception:  # the error page must not fail too (e.g. database down)
        log.exception("rendering the %s page failed", status)
        body = f"<!doctype html><title>{status}</title><h1>{title}</h1><p>{message}</p>"
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})


def not_found(request: Request, exc: Exception) -> Response:
    moved = _slash_redirect(request)
    if moved is not None:
        return moved
    return _error_page(
        request, 404, "Page not found", "There is nothing at this address, or not any more."
    )


def _slash_redirect(request: Request) -> Response | None:
    """/about -> /about/ (and back) when only the other spelling is a route. The Location is
    relative: Starlette's own slash redirect builds it from the Host header."""
    path = request.url.path
    if path == "/" or request.method not in ("GET", "HEAD"):
        return None
    routes = request.app.router.routes
    if any(route.matches(request.scope)[0] is not Match.NONE for route in routes):
        return None  # a handler's own 404 (unknown slug, id, ...)
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": other}
    if not any(route.matches(scope)[0] is Match.FULL for route in routes):
        return None
    query = request.url.query
    location = quote(other, safe="/:@!$&'()*+,;=-._~") + (f"?{query}" if query else "")
    return RedirectResponse(location, 308, headers={"Cache-Control": "public, max-age=3600"})


def server_error(request: Request, exc: Exception) -> Response:
    return _error_page(
        request, 500, "Something went wrong", "The planet hit an error; please try again soon."
    )


def create_app(
    store: PlanetStore,
    settings: Settings,
    *,
    pipelines: PipelineFactory | None = None,
    clock: Clock = _utcnow,
    page_size: int = 30,
    nav_ttl: float = 5.0,
    topics: Sequence[TopicInfo] | None = None,
    static: bool = False,
) -> Starlette:
    """The public website over `store`. `clock` gives "now" for relative dates and caching;
    `pipelines` builds the admin's "poll now" pipeline (None: polling is not offered);
    `topics` are the planet's topics in display order (the classifier's taxonomy; None: the
    default topics); `static` renders pages for the static export (Site.static)."""
    from netplanet.web import digest, outputs, public
    from netplanet.web.admin import area as admin_area
    from netplanet.web.auth import Auth

    site = Site(
        store,
        settings,
        pipelines=pipelines,
        clock=clock,
        page_size=page_size,
        nav_ttl=nav_ttl,
        topics=topics,
        static=static,
    )
    routes = [
        *public.routes(),
        *outputs.routes(),
        *digest.routes(),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        *admin_area.routes(),
        Route("/static/{name}", site.assets.response, name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Edge, origin=site.origin, settings=settings)],
        exception_handlers={404: not_found, 500: server_error},
    )
    app.router.redirect_slashes = False  # not_found redirects, with a relative Location
    app.state.site = site
    app.state.auth = Auth(store, settings)
    return app


# Every uvicorn that serves the app: the app itself decides which proxy headers to believe
# (web/edge.py); uvicorn's own handling would trust X-Forwarded-For from 127.0.0.1 and take
# its client-controlled first hop.
UVICORN_OPTIONS: Final[dict[str, Any]] = {"proxy_headers": False, "server_header": False}


def healthz(request: Request) -> Response:
    """For load balancers and monitoring: 200 with a small JSON, 503 when the DB is down.

    "status" is "degraded" (still 200) when every enabled source failed at its last poll: the
    site serves its pages, so a load balancer should keep routing to it, while monitoring that
    reads the body learns that nothing updates (offline, DNS down, egress blocked).
    "indexing" is how many stored posts search does not find yet (the background indexer's
    queue, store/indexing.py): 0 when caught up. One small aggregate query either way
    (store/health.py)."""
    from netplanet.errors import StoreError

    no_store = {"Cache-Control": "no-store"}
    try:
        counts = _site(request).store.health_counts()
    except StoreError as exc:
        down = {"status": "error", "database": "unreachable", "error": str(exc)}
        return JSONResponse(down, status_code=503, headers=no_store)
    last = counts.last_poll_at.isoformat() if counts.last_poll_at else None
    body: dict[str, object] = {
        "status": "degraded" if counts.degraded else "ok",
        "database": "reachable",
        "sources": counts.sources,
        "enabled": counts.enabled,
        "polled": counts.polled,
        "failing": counts.failing,
        "last_update": last,
        # Posts stored but not yet searchable (store/indexing.py): 0 when search is caught up.
        "indexing": counts.indexing,
    }
    return JSONResponse(body, headers=no_store)
