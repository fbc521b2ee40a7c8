"""The admin area (/admin/): its routes, gathered from the modules that own them.

Kept out of the package's __init__.py, which every admin module runs first: importing the
route modules from there would make each of them import itself back.

guard.py: the `admin` guard (area on, signed in, CSRF-checked), `Ctx` and page rendering;
signin.py: sign in and out; sources.py: the source list, adding, editing, deleting and polling
a source; health.py: the feed-health table; categories.py: the category list; posts.py: posts
and one post's topics (override); topics.py: the taxonomy editor; digest.py: pins and drops
of the week's digest; opml.py: OPML import and export, with the import itself run in the
background by imports.py. Sessions, CSRF and the login limiter live in web/auth.py.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.routing import Route

from netplanet.web.admin import (
    categories,
    digest,
    health,
    opml,
    posts,
    signin,
    sources,
    topics,
)


def routes() -> list[Route]:
    return [
        Route("/admin", lambda r: RedirectResponse("/admin/", 308), methods=["GET"]),
        *sources.routes(),
        *signin.routes(),
        *health.routes(),
        *categories.routes(),
        *posts.routes(),
        *topics.routes(),
        *digest.routes(),
        *opml.routes(),
    ]
