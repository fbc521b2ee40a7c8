"""CSRF and method checks driven by the app's route table, so a route added later is covered
when it is added: every route that accepts an unsafe method (the admin area's forms; the public
site has none) refuses a request without the session's own CSRF token (none, a forged one, the
token of another signed-in session, or the right one in the query string) and changes nothing;
a GET never changes anything, not even with the token in the query string; and an unsafe
method that a route does not accept is 405. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.routing import BaseRoute, Mount, Route

from builders import make_entry, plan, spec, sqlite_url
from netplanet.operations import sources as operations_sources
from netplanet.operations.topics import TEXT_KEY as TOPICS_TEXT_KEY
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.update import discovery
from netplanet.web.admin.imports import STATUS_KEY
from netplanet.web.app import create_app
from netplanet.web.auth import GENERATION_KEY, PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, Clock, csrf_of, make_client, signed_in

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Routes known to change state; the enumeration must find at least these.
KNOWN_UNSAFE = {
    "/admin/login",
    "/admin/logout",
    "/admin/add",
    "/admin/sources/{id:id}",
    "/admin/categories",
    "/admin/opml",
    "/admin/posts/{id:id}",
    "/admin/topics",
}
OPML = (
    b'<opml version="2.0"><body><outline text="Lab">'
    b'<outline text="Imported" xmlUrl="https://imported.example/feed"/>'
    b"</outline></body></opml>"
)

SMALL_TAXONOMY = (Path(__file__).parent / "data" / "topics_small.toml").read_text()


@dataclass(frozen=True)
class Action:
    """A form that changes the store when its token is valid."""

    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] | None = None


# One representative state-changing form per known route (the generic check posts an empty
# form to any other route: it must be refused before its handler runs).
ACTIONS: dict[str, Action] = {
    "/admin/logout": Action(),
    "/admin/add": Action({"url": "https://added.example/", "category": "Lab"}),
    "/admin/sources/{id:id}": Action({"action": "delete", "confirm": "yes"}),
    "/admin/categories": Action({"action": "add", "name": "Routing"}),
    "/admin/opml": Action(files={"file": ("s.opml", OPML, "text/x-opml")}),
    "/admin/topics": Action({"action": "save", "taxonomy": SMALL_TAXONOMY}),
}


def all_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every (full path, route) of a route table, mounts included."""
    for route in routes:
        if isinstance(route, Mount):
            yield from all_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def methods_of(route: Route) -> set[str]:
    return set(route.methods or {"GET", "HEAD"})


def unsafe_routes(app: Any) -> dict[str, Route]:
    return {
        path: route for path, route in all_routes(app.routes) if methods_of(route) & set(UNSAFE)
    }


def state(store: SqlStore) -> tuple[Any, ...]:
    """Everything an admin form can change (sources, categories, sessions, imports, password)."""
    return (
        [(s.id, s.feed_url, s.title, s.category, s.enabled) for s in store.list_sources()],
        [(c.slug, c.name, c.position) for c in store.list_categories()],
        store.count_entries(),
        store.get_setting(GENERATION_KEY),
        store.get_setting(STATUS_KEY),
        store.get_setting(PASSWORD_KEY),
        store.get_setting(TOPICS_TEXT_KEY),
    )


def _app(client: AdminClient) -> Any:
    return client._client._transport.app  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """/admin/add resolves and fetches the URL: stand in a discovery that always finds a feed,
    so a form that passed the CSRF check would really add a source."""

    async def resolves(url: str, allow_private: bool) -> None:
        return None

    async def discover(fetcher: Any, url: str) -> Any:
        feed = SimpleNamespace(title="Added", link=url)
        return SimpleNamespace(feed_url=url + "feed", feed=feed, how="test")

    monkeypatch.setattr(operations_sources, "check_url_resolves_public", resolves)
    monkeypatch.setattr(discovery, "discover_feed", discover)


@dataclass
class Admin:
    store: SqlStore
    clock: Clock
    me: AdminClient
    csrf: str
    other_csrf: str
    source_id: int

    def url(self, path: str) -> str:
        return fill(path, self.source_id)


def fill(path: str, source_id: int) -> str:
    values = {
        "{id:id}": str(source_id),
        "{page:id}": "1",
        "{slug}": "networking",
        "{year:num}": "2026",
        "{month:num}": "11",
        "{name}": "site.css",
        "{week}": "2026-w44",
    }
    for key, value in values.items():
        path = path.replace(key, value)
    assert "{" not in path, f"add a value for the parameter of {path}"
    return path


@pytest.fixture
def admin(store: SqlStore, clock: Clock) -> Iterator[Admin]:
    """A signed-in admin, and another signed-in session (another browser) with its own token."""
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    source = store.add_source(spec(1, category="Networking"))
    store.apply_update(plan(source.id, (make_entry(source.id, 1, categories=("Networking",)),)))
    store.add_category("Security")
    with make_client(store, clock) as me, make_client(store, clock) as other:
        csrf = signed_in(me)
        other_csrf = signed_in(other)
        assert other_csrf != csrf
        yield Admin(store, clock, me, csrf, other_csrf, source.id)


def _post(admin: Admin, path: str, token: str | None, **kw: Any) -> Any:
    action = ACTIONS.get(path, Action())
    data = dict(action.data)
    if token is not None:
        data["csrf"] = token
    return admin.me.post(
        admin.url(path) + kw.pop("query", ""),
        data=data,
        files=action.files,
        follow_redirects=False,
        **kw,
    )


def _wait_for_import(store: SqlStore) -> None:
    for _ in range(100):
        status = store.get_setting(STATUS_KEY) or ""
        if '"state": "running"' not in status:
            return
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


# --------------------------------------------------------------------------- the route table


def test_the_enumeration_finds_every_known_state_changing_route(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path / "routes.db"))
    try:
        found = unsafe_routes(create_app(store, Settings()))
    finally:
        store.close()
    assert set(found) >= KNOWN_UNSAFE, sorted(found)
    assert set(ACTIONS) <= set(found)
    # The public site is read-only: a new public route that changes state needs a CSRF story
    # (and an entry in ACTIONS).
    outside = [p for p in found if not p.startswith("/admin/")]
    assert outside == [], outside


def test_mounted_routes_are_enumerated_too() -> None:
    async def handler(request: Any) -> Any:
        raise AssertionError

    inner = Route("/do", handler, methods=["POST"])
    table: list[BaseRoute] = [Mount("/admin/tools", routes=[inner]), Route("/x", handler)]
    assert dict(all_routes(table)) == {"/admin/tools/do": inner, "/x": table[1]}


# --------------------------------------------------------------------------- CSRF


TOKENS: dict[str, Callable[[Admin], str | None]] = {
    "no token": lambda a: None,
    "empty token": lambda a: "",
    "forged token": lambda a: secrets.token_urlsafe(24),
    "another session's token": lambda a: a.other_csrf,
    "token with a changed character": lambda a: a.csrf[:-1] + ("A" if a.csrf[-1] != "A" else "B"),
    "token's prefix": lambda a: a.csrf[:-1],
}


def test_every_admin_form_refuses_a_request_without_its_sessions_token(admin: Admin) -> None:
    before = state(admin.store)
    checked = set()
    for kind, token_of in TOKENS.items():
        for path in sorted(unsafe_routes(_app(admin.me))):
            if path == "/admin/login":
                continue  # signed out: its own double-submit token (below)
            reply = _post(admin, path, token_of(admin))
            assert reply.status_code == 403, (path, kind, reply.status_code)
            assert "CSRF check failed" in reply.text, (path, kind)
            assert state(admin.store) == before, (path, kind)
            checked.add(path)
    assert set(ACTIONS) <= checked
    # Still signed in: the refusals ended nothing.
    assert admin.me.get("/admin/", follow_redirects=False).status_code == 200


def test_the_token_in_the_query_string_does_not_count(admin: Admin) -> None:
    before = state(admin.store)
    for path in ACTIONS:
        reply = _post(admin, path, None, query=f"?csrf={admin.csrf}")
        assert reply.status_code == 403, path
    assert state(admin.store) == before


def test_every_representative_form_works_with_the_sessions_own_token(
    admin: Admin, store: SqlStore
) -> None:
    """The control: each refused form above would have changed the store."""
    for path in sorted(ACTIONS, key=lambda p: p == "/admin/logout"):  # sign out last
        before = state(store)
        reply = _post(admin, path, admin.csrf)
        assert reply.status_code in (200, 303), (path, reply.status_code, reply.text[:300])
        _wait_for_import(store)
        assert state(store) != before, path
    sources = [s.feed_url for s in store.list_sources()]
    assert sources == ["https://added.example/feed", "https://imported.example/feed"]
    assert "routing" in [c.slug for c in store.list_categories()]
    assert admin.me.get("/admin/", follow_redirects=False).status_code == 303  # signed out


def test_sign_in_refuses_a_form_without_its_own_token(store: SqlStore, clock: Clock) -> None:
    """The sign-in form's double-submit token: the field must match this browser's cookie."""
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    for kind in ("no token", "forged", "another form's", "a session's"):
        with make_client(store, clock) as me, make_client(store, clock) as other:
            csrf_of(me.get("/admin/login").text)  # the login cookie is set
            tokens = {
                "no token": None,
                "forged": secrets.token_urlsafe(24),
                "another form's": csrf_of(other.get("/admin/login").text),
                "a session's": signed_in(other),
            }
            token = tokens[kind]
            data = {"password": PASSWORD} | ({"csrf": token} if token is not None else {})
            before = state(store)
            reply = me.post("/admin/login", data=data, follow_redirects=False)
            assert reply.status_code == 403, kind
            assert "np_admin" not in reply.headers.get("set-cookie", ""), kind
            assert state(store) == before, kind
            assert store.count_login_failures("127.0.0.1", clock.now.replace(year=2000)) == 0
            assert me.get("/admin/", follow_redirects=False).status_code == 303, kind


def test_sign_in_needs_the_cookie_as_well_as_the_field(store: SqlStore, clock: Clock) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock) as me:
        token = csrf_of(me.get("/admin/login").text)
        me.cookies.clear()
        reply = me.post("/admin/login", data={"csrf": token, "password": PASSWORD})
        assert reply.status_code == 403
        assert me.get("/admin/", follow_redirects=False).status_code == 303


# --------------------------------------------------------------------------- methods


def test_get_never_changes_anything(admin: Admin) -> None:
    """Not even with the form's fields and the session's valid token in the query string."""
    before = state(admin.store)
    for path, route in all_routes(_app(admin.me).routes):
        if not path.startswith("/admin"):
            continue
        action = ACTIONS.get(path, Action())
        query = urlencode({**action.data, "csrf": admin.csrf})
        for method in ("GET", "HEAD"):
            reply = admin.me.request(method, f"{admin.url(path)}?{query}", follow_redirects=False)
            expected = {200, 308} if method in methods_of(route) else {405}
            assert reply.status_code in expected, (method, path, reply.status_code)
            assert state(admin.store) == before, (method, path)
    assert admin.me.get("/admin/", follow_redirects=False).status_code == 200


def test_unsafe_methods_a_route_does_not_accept_are_405(admin: Admin) -> None:
    before = state(admin.store)
    checked = 0
    for path, route in all_routes(_app(admin.me).routes):
        for method in UNSAFE:
            if method in methods_of(route):
                continue
            reply = admin.me.request(
                method,
                admin.url(path),
                data={"csrf": admin.csrf, "action": "delete", "confirm": "yes"},
                follow_redirects=False,
            )
            assert reply.status_code == 405, (method, path, reply.status_code)
            checked += 1
    assert state(admin.store) == before
    # every public page and feed, the read-only admin pages, and PUT/PATCH/DELETE on forms
    assert checked >= 4 * 20
