"""The admin area (/admin/): sign-in, sources (add; edit the feed URL, title and category; use
the suggested feed URL; enable/disable, delete, poll now) and the feed-health table. Categories
and OPML live in web/admin_extra.py; sessions, CSRF and the login limiter in web/auth.py.

Every page is plain HTML forms (no JavaScript), never cached, and rendered in the site's
layout. With no admin password set, every admin URL explains how to turn the area on.
Every URL an admin adds passes the SSRF guard before anything is stored: the pre-save check
(`check_url_resolves_public`), then discovery through the guarded fetcher. A changed feed URL
passes the same pre-save check (source_edit.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import NetplanetError
from netplanet.fetch.guard import check_url_resolves_public
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.publish.health import SORT_KEYS, health_row, health_rows, suggested_feed_url
from netplanet.schedule import Policy
from netplanet.source_edit import edit_source
from netplanet.store.base import PlanetStore
from netplanet.update.discovery import discover_feed
from netplanet.update.pipeline import UpdatePipeline
from netplanet.web import auth as auth_module
from netplanet.web.site import Site, _site
from netplanet.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Auth, Session
from netplanet.web.ids import parse_id

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
Handler = Callable[[Request, "Ctx"], Awaitable[Response]]


class Ctx:
    """What a signed-in admin handler gets: the site, the session and the checked form."""

    def __init__(self, site: Site, auth: Auth, session: Session, form: FormData | None) -> None:
        self.site = site
        self.auth = auth
        self.session = session
        self.form = form

    @property
    def store(self) -> PlanetStore:
        return self.site.store

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        return render(request, template, status, logged_in=True, csrf=self.session.csrf, **ctx)


def auth_of(request: Request) -> Auth:
    auth = request.app.state.auth
    assert isinstance(auth, Auth)
    return auth


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
    site = _site(request)
    ctx.setdefault("logged_in", False)
    ctx.setdefault("csrf", "")
    ctx.setdefault("notice", "")
    ctx.setdefault("problem", "")
    ctx.setdefault("wide", False)
    ctx.setdefault("page_title", "Admin")
    body = site.render(request, template, **ctx)
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def admin(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: admin area on, signed in, and (for POST) a valid CSRF token."""

    async def guarded(request: Request) -> Response:
        site, auth = _site(request), auth_of(request)
        if auth.password_hash() is None:
            return render(request, "admin/off.html", 200, page_title="Admin area is off")
        session = auth.session(request, site.now())
        if session is None:
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/admin/login?next={target}", 303, headers=NO_STORE)
        form = None
        if request.method == "POST":
            form = await request.form()
            if not auth.token_ok(session.csrf, form.get("csrf")):
                await form.close()
                return render(
                    request,
                    "admin/layout.html",
                    403,
                    logged_in=True,
                    csrf=session.csrf,
                    problem="This form has expired or did not come from this site "
                    "(CSRF check failed); reload the page and try again.",
                )
        try:
            return await handler(request, Ctx(site, auth, session, form))
        finally:
            if form is not None:
                await form.close()  # uploaded files are spooled to temporary files

    return guarded


# --------------------------------------------------------------------------- sign in / out


async def login(request: Request) -> Response:
    site, auth = _site(request), auth_of(request)
    stored = auth.password_hash()
    if stored is None:
        return render(request, "admin/off.html", 200, page_title="Admin area is off")
    next_url = request.query_params.get("next", "/admin/")
    if request.method != "POST":  # GET and HEAD: the form; a HEAD never reads a body
        token = secrets.token_urlsafe(24)
        response = render(request, "admin/login.html", csrf=token, next=_local(next_url))
        auth.set_cookie(response, request, LOGIN_COOKIE, token)
        return response
    form = await request.form()
    next_url = _local(str(form.get("next") or "/admin/"))
    token = request.cookies.get(LOGIN_COOKIE, "")
    now = site.now()
    client = auth.client(request)

    def again(status: int, problem: str) -> Response:
        return render(
            request, "admin/login.html", status, csrf=token, next=next_url, problem=problem
        )

    if not auth.token_ok(token, form.get("csrf")):
        return again(403, "The sign-in form expired (CSRF check failed); reload and try again.")
    # Recording the attempt and checking the limit are one step (see Auth.claim_attempt), so
    # concurrent attempts cannot all pass the check before any is counted.
    if not await asyncio.to_thread(auth.claim_attempt, client, now):
        minutes = -(-auth.settings.login_window_s // 60)
        return again(429, f"Too many failed sign-ins; wait up to {minutes} minutes.")
    password = form.get("password")
    # scrypt takes ~0.1 s of CPU: keep it off the event loop.
    ok = isinstance(password, str) and await asyncio.to_thread(
        auth_module.verify_password, password, stored
    )
    if not ok:
        auth.failed(now)
        return again(401, "Wrong password.")
    auth.succeeded(client, now)
    response = RedirectResponse(next_url, 303, headers=NO_STORE)
    auth.set_cookie(response, request, SESSION_COOKIE, auth.new_session_cookie(now))
    auth.clear_cookie(response, request, LOGIN_COOKIE)
    return response


def _local(url: str) -> str:
    """Only redirect within the admin area after signing in (no open redirect)."""
    return url if url.startswith("/admin/") and not url.startswith("//") else "/admin/"


async def _logout(request: Request, ctx: Ctx) -> Response:
    # Signing out ends every session (a copied cookie included), not just this browser's.
    ctx.auth.end_all_sessions()
    response = RedirectResponse("/admin/login", 303, headers=NO_STORE)
    ctx.auth.clear_cookie(response, request, SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- sources


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
    settings = ctx.site.settings
    try:
        # The pre-save guard (scheme, credentials, literal and resolved addresses), then
        # discovery through the guarded fetcher, which checks every hop again.
        await check_url_resolves_public(url, settings.allow_private_networks)
        async with Fetcher(settings) as fetcher:
            found = await discover_feed(fetcher, url)
        spec = SourceSpec(found.feed_url, found.feed.title, found.feed.link, category)
        source = ctx.store.add_source(spec)
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
        title = category = None
        if action == "save":
            url = ctx.field("url") or None
            title, category = ctx.field("title"), ctx.field("category")
        else:  # the one-click fix: the feed discovery named in the source's last error
            source = store.get_source(source_id)
            url = suggested_feed_url(source) if source is not None else ""
            if not url:
                raise NetplanetError("there is no suggested feed URL for this source any more")
        done = await edit_source(
            store,
            source_id,
            allow_private=allow_private,
            url=url,
            title=title,
            category=category,
        )
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
        return await poll_now(ctx.site, source_id), source_id
    raise NetplanetError(f"unknown action {action!r}")


async def poll_now(site: Site, source_id: int) -> str:
    """Run the pipeline for one source inline, within the fetch time limit plus a margin."""
    source = site.store.get_source(source_id)
    if source is None:
        raise NetplanetError(f"no source with id {source_id}")
    settings = site.settings
    async with Fetcher(settings) as fetcher:
        pipeline = UpdatePipeline(
            site.store,
            fetcher,
            excerpt_words=settings.excerpt_words,
            policy=Policy.from_settings(settings),
        )
        try:
            async with asyncio.timeout(settings.total_timeout + 10):
                report = await pipeline.update_source(source)
        except TimeoutError:
            raise NetplanetError(
                f"polling took longer than {settings.total_timeout + 10:g} s; "
                "the scheduler will try again"
            ) from None
    if report.outcome in ("failed", "gone"):
        return f"Polled: {report.outcome} — {report.error}"
    return f"Polled: {report.outcome.replace('_', ' ')}, {report.new} new posts."


# --------------------------------------------------------------------------- health


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
    from netplanet.web import admin_extra

    return [
        Route("/admin", lambda r: RedirectResponse("/admin/", 308), methods=["GET"]),
        Route("/admin/", admin(_sources), methods=["GET"]),
        Route("/admin/login", login, methods=["GET", "POST"]),
        Route("/admin/logout", admin(_logout), methods=["POST"]),
        Route("/admin/add", admin(_add), methods=["POST"]),
        Route("/admin/sources/{id:id}", admin(_source), methods=["GET", "POST"]),
        Route("/admin/health", admin(_health), methods=["GET"]),
        *admin_extra.routes(admin),
    ]
