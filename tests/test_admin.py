"""The admin area: off without a password, sign-in, sessions, CSRF, rate limiting, every form,
SSRF refusals, and /healthz. Runs over the real app through httpx's ASGI transport (Starlette's
AdminClient warns about its httpx backend, and warnings are errors here)."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from builders import NOW, pipelines_over
from feedserver import FeedServer
from netplanet.settings import Settings
from netplanet.store import SqlStore
from netplanet.web.app import create_app
from netplanet.web.auth import PASSWORD_KEY, hash_password, verify_password

PASSWORD = "correct horse battery"
TRICKY_URLS = [
    "http://127.0.0.1/feed",
    "http://localhost/feed",
    "http://10.0.0.1/feed",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/feed",
    "http://0x7f000001/feed",
    "http://2130706433/feed",
    "http://127.1/feed",
    "file:///etc/passwd",
    "http://user@blog.example.net/feed",
    "http://user:pw@blog.example.net/feed",
    "gopher://blog.example.net/feed",
    "http://sub.localhost/feed",
]


class AdminClient:
    """A synchronous cookie-keeping client over one event loop, calling the ASGI app."""

    def __init__(self, app: Any) -> None:
        self._runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.cookies = self._client.cookies

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        kw.setdefault("follow_redirects", True)
        return self._runner.run(self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_client(store: SqlStore, clock: Clock, **settings: Any) -> AdminClient:
    values: dict[str, Any] = {"admin_session_s": 3600, "per_host_gap_s": 0.0}
    values.update(settings)
    chosen = Settings(**values)
    pipelines = pipelines_over(store, chosen)
    return AdminClient(create_app(store, chosen, pipelines=pipelines, clock=clock, nav_ttl=0.0))


@pytest.fixture
def client(store: SqlStore, clock: Clock) -> Iterator[AdminClient]:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def login(client: AdminClient, password: str = PASSWORD) -> Any:
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "password": password, "next": "/admin/health"},
        follow_redirects=False,
    )


def signed_in(client: AdminClient) -> str:
    assert login(client).status_code == 303
    return csrf_of(client.get("/admin/").text)


def test_password_hash_round_trip() -> None:
    stored = hash_password("s3cret passphrase", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$")
    assert verify_password("s3cret passphrase", stored)
    assert not verify_password("s3cret passphrasf", stored)
    assert not verify_password("x", "garbage")


def test_stored_password_hash_has_the_documented_strength() -> None:
    """The stored form (docs/design-notes.md): default cost, a 16-byte salt, a 32-byte hash."""
    scheme, n, r, p, salt, digest = hash_password("s3cret passphrase").split("$")
    assert (scheme, n, r, p) == ("scrypt", "32768", "8", "1")
    assert len(_unpadded_b64(salt)) == 16
    assert len(_unpadded_b64(digest)) == 32


def _unpadded_b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_admin_is_off_without_a_password(store: SqlStore, clock: Clock) -> None:
    with make_client(store, clock) as c:
        for path in ("/admin/", "/admin/health", "/admin/login"):
            page = c.get(path)
            assert "Admin area is off" in page.text
            assert "netplanet admin set-password" in page.text


def test_pages_redirect_to_login(client: AdminClient) -> None:
    response = client.get("/admin/health", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/health"


def test_login_sets_a_strict_httponly_cookie_and_logout_clears_it(client: AdminClient) -> None:
    response = login(client)
    assert response.status_code == 303 and response.headers["location"] == "/admin/health"
    cookie = next(v for k, v in response.headers.multi_items() if "np_admin=" in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = client.get("/admin/health")
    assert page.status_code == 200 and "Feed health" in page.text
    assert page.headers["cache-control"] == "no-store"
    out = client.post("/admin/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_behind_https_proxy_only_when_configured(
    store: SqlStore, clock: Clock
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    for trust, secure in ((False, False), (True, True)):
        with make_client(store, clock, trust_proxy_headers=trust) as c:
            page = c.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
            cookie = page.headers["set-cookie"]
            assert ("Secure" in cookie) is secure


def test_wrong_password_is_refused(client: AdminClient) -> None:
    response = login(client, "wrong password")
    assert response.status_code == 401 and "Wrong password" in response.text


def test_session_expires(client: AdminClient, clock: Clock) -> None:
    signed_in(client)
    clock.now = NOW + timedelta(seconds=3599)
    assert client.get("/admin/", follow_redirects=False).status_code == 200
    clock.now = NOW + timedelta(seconds=3600)
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_forged_cookie_and_new_password_end_the_session(
    client: AdminClient, store: SqlStore
) -> None:
    signed_in(client)
    cookie = client.cookies.get("np_admin")
    assert cookie
    client.cookies.set("np_admin", cookie[:-2] + "xx", path="/admin")
    assert client.get("/admin/", follow_redirects=False).status_code == 303
    signed_in(client)
    store.set_setting(PASSWORD_KEY, hash_password("another long password", n=2**10))
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_csrf_is_required_on_every_form(client: AdminClient, store: SqlStore) -> None:
    signed_in(client)
    store.add_category("Security")
    for path, data in (
        ("/admin/add", {"url": "https://x.example/"}),
        ("/admin/categories", {"action": "add", "name": "Routing"}),
        ("/admin/logout", {}),
    ):
        for token in (None, "forged"):
            form = dict(data) if token is None else {**data, "csrf": token}
            response = client.post(path, data=form, follow_redirects=False)
            assert response.status_code == 403, path
            assert "CSRF" in response.text
    assert [c.name for c in store.list_categories()] == ["Security"]


def test_login_form_needs_its_csrf_token(client: AdminClient) -> None:
    client.get("/admin/login")
    response = client.post("/admin/login", data={"csrf": "nope", "password": PASSWORD})
    assert response.status_code == 403


def test_login_is_rate_limited_per_client(client: AdminClient, store: SqlStore) -> None:
    for _ in range(5):
        assert login(client, "bad guess").status_code == 401
    blocked = login(client)  # even the right password, for the window
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert store.count_login_failures("127.0.0.1", NOW - timedelta(hours=1)) == 5


def test_rate_limit_window_passes(client: AdminClient, clock: Clock) -> None:
    for _ in range(5):
        login(client, "bad guess")
    clock.now = NOW + timedelta(minutes=16)
    assert login(client).status_code == 303


@pytest.mark.parametrize("url", TRICKY_URLS)
def test_admin_form_refuses_private_and_tricky_urls(
    client: AdminClient, store: SqlStore, url: str
) -> None:
    csrf = signed_in(client)
    response = client.post("/admin/add", data={"csrf": csrf, "url": url, "category": "X"})
    assert response.status_code == 200
    assert "Not added: refused" in response.text
    assert store.list_sources() == []


def test_edit_disable_enable_and_delete_a_source(client: AdminClient, store: SqlStore) -> None:
    from builders import spec

    source = store.add_source(spec(1))
    csrf = signed_in(client)
    url = f"/admin/sources/{source.id}"
    page = client.post(
        url, data={"csrf": csrf, "action": "save", "title": "New", "category": "Lab"}
    )
    assert page.status_code == 200 and "Saved." in page.text
    edited = store.get_source(source.id)
    assert edited is not None and (edited.title, edited.category) == ("New", "Lab")
    client.post(url, data={"csrf": csrf, "action": "disable"})
    assert store.get_source(source.id).enabled is False  # type: ignore[union-attr]
    client.post(url, data={"csrf": csrf, "action": "enable"})
    assert store.get_source(source.id).enabled is True  # type: ignore[union-attr]
    refused = client.post(url, data={"csrf": csrf, "action": "delete"})
    assert refused.status_code == 400 and store.get_source(source.id) is not None
    done = client.post(
        url, data={"csrf": csrf, "action": "delete", "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and store.get_source(source.id) is None


def test_category_forms(client: AdminClient, store: SqlStore) -> None:
    csrf = signed_in(client)

    def post(**data: str) -> Any:
        return client.post("/admin/categories", data={"csrf": csrf, **data})

    assert post(action="add", name="Routing").status_code == 200
    post(action="add", name="Security")
    post(action="add", name="Automation")
    assert post(action="add", name="routing").status_code == 400  # same slug
    post(action="down", slug="routing")
    post(action="up", slug="automation")
    assert [c.slug for c in store.list_categories()] == ["security", "automation", "routing"]
    assert post(action="rename", slug="routing", name="Routing & BGP").status_code == 200
    assert "routing-and-bgp" in [c.slug for c in store.list_categories()]
    post(action="delete", slug="security")
    assert [c.name for c in store.list_categories()] == ["Automation", "Routing & BGP"]


def test_opml_import_skips_refused_urls_and_export_round_trips(
    client: AdminClient, store: SqlStore
) -> None:
    csrf = signed_in(client)
    opml = (
        b'<opml version="2.0"><body><outline text="Lab">'
        b'<outline text="Good" xmlUrl="https://good.example/feed"/>'
        b'<outline text="Meta" xmlUrl="http://169.254.169.254/feed"/>'
        b"</outline></body></opml>"
    )
    page = client.post(
        "/admin/opml", data={"csrf": csrf}, files={"file": ("s.opml", opml, "text/xml")}
    )
    while 'data-import-state="running"' in page.text:  # imports run in the background
        page = client.get("/admin/opml")
    assert "Imported 1 sources" in page.text and "169.254.169.254" in page.text
    assert [s.feed_url for s in store.list_sources()] == ["https://good.example/feed"]
    export = client.get("/admin/opml/export")
    assert b"https://good.example/feed" in export.content
    assert export.headers["content-disposition"].startswith("attachment")


def test_health_page_sorts_and_filters(client: AdminClient, store: SqlStore) -> None:
    import dataclasses

    from builders import plan, spec, success

    ok = store.add_source(spec(1, title="Alpha"))
    bad = store.add_source(spec(2, title="Beta"))
    store.apply_update(dataclasses.replace(plan(ok.id), source=success(avg_response_ms=120.0)))
    failing = success(
        consecutive_failures=3,
        last_error_class="http",
        last_error="HTTP 404 Not Found at https://blog2.example.net/feed/",
        last_success_at=None,
        failing_since=NOW,
    )
    store.apply_update(dataclasses.replace(plan(bad.id), source=failing))
    signed_in(client)
    page = client.get("/admin/health?sort=title&dir=desc").text
    assert page.index("Beta") < page.index("Alpha")
    assert "HTTP 404 Not Found at https://blog2.example.net/feed/" in page
    only = client.get("/admin/health?show=failing").text
    assert "Beta" in only and "Alpha" not in only


def test_healthz_reports_the_database(
    store: SqlStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from builders import spec
    from netplanet.errors import StoreError

    store.add_source(spec(1))
    with make_client(store, clock) as c:
        response = c.get("/healthz")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["status"] == "ok" and body["database"] == "reachable"
        assert body["sources"] == 1 and body["last_update"] is None

        def down() -> None:
            raise StoreError("database unreachable: connection refused")

        monkeypatch.setattr(store, "health_counts", down)
        response = c.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"


def test_poll_now_fetches_the_feed_and_stores_its_posts(
    store: SqlStore, clock: Clock, loopback: FeedServer
) -> None:
    """The product polls inline (operations/poll.py poll_now): when the page comes back the
    feed has been fetched and its new posts are stored and shown; a failing feed is reported
    and recorded on the source."""
    from builders import spec
    from feedserver import rss

    items = [("p1", "Why EVPN type 5", "<p>First body.</p>"), ("p2", "BGP add-path", "<p>x</p>")]
    loopback.static("/feed.xml", rss(items))
    source = store.add_source(spec(1, feed_url=loopback.url("/feed.xml"), title="Loopback"))
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock, allow_private_networks=True, total_timeout=10.0) as client:
        csrf = signed_in(client)
        url = f"/admin/sources/{source.id}"
        assert loopback.hits == {} and store.count_entries() == 0
        page = client.post(url, data={"csrf": csrf, "action": "poll"})
        assert page.status_code == 200
        assert "Polled: updated, 2 new posts." in page.text
        assert loopback.hits == {"/feed.xml": 1}
        stored = store.list_entries(source_id=source.id)
        assert sorted(e.title for e in stored) == ["BGP add-path", "Why EVPN type 5"]
        polled = store.get_source(source.id)
        assert polled is not None and polled.last_status == 200
        assert polled.last_fetched_at is not None and polled.consecutive_failures == 0

        # A new post in the feed: the next "poll now" stores just that one.
        loopback.static("/feed.xml", rss([*items, ("p3", "OSPF LSAs", "<p>Third.</p>")]))
        page = client.post(url, data={"csrf": csrf, "action": "poll"})
        assert "Polled: updated, 1 new posts." in page.text
        assert loopback.hits == {"/feed.xml": 2} and store.count_entries() == 3

        loopback.routes["/feed.xml"] = lambda _req: (500, {}, b"down")
        page = client.post(url, data={"csrf": csrf, "action": "poll"})
        assert "Polled: failed" in page.text and "500" in page.text
        assert loopback.hits == {"/feed.xml": 3} and store.count_entries() == 3
        failed = store.get_source(source.id)
        assert failed is not None and failed.consecutive_failures == 1
        assert failed.last_status == 500
