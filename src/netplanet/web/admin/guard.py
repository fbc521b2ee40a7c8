"""The admin guard and what every admin page shares.

`admin(handler)` wraps a handler: the admin area is on (with no admin password set, every
admin URL explains how to turn it on), the request is signed in (else a redirect to the
sign-in page) and, for a POST, carries a valid CSRF token (web/auth.py). The handler then gets
a `Ctx`: the site, the session and the checked form. `render` draws a page in the site's
layout, never cached (`NO_STORE`). Every admin page is plain HTML forms (no JavaScript).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from netplanet.store.base import PlanetStore
from netplanet.web.auth import Auth, Session
from netplanet.web.site import Site, _site

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
