"""Signing in to the admin area (/admin/login) and out (/admin/logout).

The sign-in form carries its own CSRF token in a cookie; attempts are counted by the login
limiter and the password checked off the event loop (web/auth.py). Signing out ends every
session at once.
"""

from __future__ import annotations

import asyncio
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.web import auth as auth_module
from netplanet.web.admin.guard import NO_STORE, Ctx, admin, auth_of, render
from netplanet.web.auth import LOGIN_COOKIE, SESSION_COOKIE
from netplanet.web.site import _site


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


def routes() -> list[Route]:
    return [
        Route("/admin/login", login, methods=["GET", "POST"]),
        Route("/admin/logout", admin(_logout), methods=["POST"]),
    ]
