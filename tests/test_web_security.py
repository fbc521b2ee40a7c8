"""What a request can and cannot change for other clients: the Host header (allowed hosts, the
base URL fixed once), proxy headers (trusted peers only, right-most untrusted hop), the security
headers on every response, and slash redirects that stay on the site."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from lxml import etree

from builders import NOW, make_entry, plan, spec
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.store.admin import BASE_URL_KEY, ID_AUTHORITY_KEY
from netplanet.web.app import create_app
from netplanet.web.origin import store_base_url

FEEDS = [
    "/feed.xml",
    "/atom.xml",
    "/feed.json",
    "/category/networking/feed.xml",
    "/source/example-blog-1/atom.xml",
]
ATOM = "{http://www.w3.org/2005/Atom}"


class Web:
    """Synchronous requests to one app, each with its own Host, peer address and scheme."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._runner = asyncio.Runner()

    def close(self) -> None:
        self._runner.close()

    def get(
        self,
        path: str,
        host: str = "planet.example",
        *,
        peer: str = "127.0.0.1",
        scheme: str = "http",
        headers: dict[str, str] | None = None,
        method: str = "GET",
        server: str = "planet.invalid",
    ) -> httpx.Response:
        """`server` is the address the connection arrives on (ASGI's scope["server"])."""

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url=f"{scheme}://{server}"
            ) as client:
                return await client.request(method, path, headers={"Host": host, **(headers or {})})

        return self._runner.run(go())


@pytest.fixture
def db(tmp_path: Any) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'planet.db'}")
    source = store.add_source(spec(1, category="Networking"))
    entries = tuple(make_entry(source.id, n, categories=("Networking",)) for n in range(1, 6))
    store.apply_update(plan(source.id, entries))
    yield store
    store.close()


def web(store: SqlStore, **settings: Any) -> Web:
    return Web(create_app(store, Settings(**settings), clock=lambda: NOW, nav_ttl=0.0))


@pytest.fixture
def site(db: SqlStore) -> Iterator[Web]:
    """A planet whose operator set site_url."""
    w = web(db, site_url="http://planet.example")
    yield w
    w.close()


@pytest.fixture
def bare(db: SqlStore) -> Iterator[Web]:
    """A planet as installed: no site_url, nothing stored."""
    w = web(db)
    yield w
    w.close()


def atom_ids(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [e.findtext(f"{ATOM}id") or "" for e in root.iter(f"{ATOM}entry")]


# --------------------------------------------------------------------------- Host


@pytest.mark.parametrize("configured", [True, False])
def test_a_foreign_host_never_reaches_the_feeds_others_get(db: SqlStore, configured: bool) -> None:
    w = web(db, site_url="http://planet.example") if configured else web(db)
    host = "planet.example" if configured else "localhost:8080"
    try:
        # The stranger comes first, before any reader: nothing may be fixed by that.
        for path in [*FEEDS, "/", "/about/", "/search?q=bgp"]:
            poisoned = w.get(path, "attacker.example")
            assert poisoned.status_code == 400, path
            assert "attacker.example" not in poisoned.headers.get("location", "")
        for path in FEEDS:
            reply = w.get(path, host)
            assert reply.status_code == 200, path
            assert "attacker.example" not in reply.text, path
            assert f"http://{host}/" in reply.text, path
        assert db.get_setting(BASE_URL_KEY) == ("http://planet.example" if configured else None)
    finally:
        w.close()


def test_a_public_name_is_answered_only_once_the_operator_names_it(db: SqlStore, bare: Web) -> None:
    assert bare.get("/atom.xml", "planet.example").status_code == 400
    assert db.get_setting(BASE_URL_KEY) is None
    store_base_url(db, "http://planet.example")  # what `netplanet init --site-url` does
    for _ in range(2):  # a server started after init, and after a restart
        w = web(db)
        try:
            first = w.get("/atom.xml", "planet.example")
            assert first.status_code == 200 and "http://planet.example/" in first.text
            assert w.get("/atom.xml", "other.example").status_code == 400
            assert w.get("/atom.xml", "localhost").content == first.content
        finally:
            w.close()


def test_entry_ids_survive_moving_from_an_ip_to_a_domain(db: SqlStore) -> None:
    by_ip = web(db)
    try:  # a reader on the LAN, typing the server's address
        before = by_ip.get("/atom.xml", "203.0.113.7:8080", server="203.0.113.7:8080")
        assert by_ip.get("/atom.xml", "203.0.113.8:8080").status_code == 400  # not our address
    finally:
        by_ip.close()
    assert before.status_code == 200
    assert "http://203.0.113.7:8080/" in before.text
    moved = web(db, site_url="https://planet.example.org/")
    try:
        after = moved.get("/atom.xml", "planet.example.org")
    finally:
        moved.close()
    assert after.status_code == 200
    assert atom_ids(after.content) == atom_ids(before.content)
    assert atom_ids(before.content)[0].startswith("tag:203.0.113.7,2024:entry/example-blog-1/")
    assert "https://planet.example.org/" in after.text and "203.0.113.7" not in after.text.replace(
        "tag:203.0.113.7", ""
    )


def test_site_url_is_always_used_and_other_hosts_are_refused(db: SqlStore) -> None:
    w = web(db, site_url="https://planet.example.org")
    try:
        assert w.get("/feed.json", "attacker.example").status_code == 400
        local = w.get("/feed.json", "127.0.0.1:8080")
        assert local.status_code == 200
        assert local.json()["feed_url"] == "https://planet.example.org/feed.json"
        assert w.get("/", "PLANET.example.org.").status_code == 200
    finally:
        w.close()


def test_without_a_base_local_names_get_their_own_links_and_one_authority(bare: Web) -> None:
    local = bare.get("/feed.json", "localhost:8080")
    assert local.status_code == 200
    assert local.json()["feed_url"] == "http://localhost:8080/feed.json"
    for host in ("127.0.0.1", "[::1]:8080"):
        reply = bare.get("/feed.json", host)
        assert reply.status_code == 200, host
        assert reply.json()["feed_url"] == f"http://{host}/feed.json"
        # The ids' authority is the first one answered, the same for every name since.
        assert reply.json()["items"][0]["id"].startswith("tag:localhost,2024:")


def test_allowed_hosts_are_served_with_their_own_links(db: SqlStore) -> None:
    w = web(db, allowed_hosts="www.planet.example, 192.0.2.10")
    try:
        assert w.get("/feed.json", "attacker.example").status_code == 400
        assert w.get("/feed.json", "planet.example").status_code == 400
        www = w.get("/feed.json", "www.planet.example")
        assert www.json()["home_page_url"] == "http://www.planet.example/"
        other = w.get("/feed.json", "192.0.2.10:8080")
        assert other.status_code == 200
        assert other.json()["home_page_url"] == "http://192.0.2.10:8080/"
        assert db.get_setting(BASE_URL_KEY) is None
    finally:
        w.close()


@pytest.mark.parametrize(
    "host", ["evil.example/x", "a b", "evil.example@planet.example", "[zz::1]", "x:99999x", ""]
)
def test_malformed_host_headers_are_refused(bare: Web, host: str) -> None:
    assert bare.get("/atom.xml", host).status_code == 400
    assert "http://localhost/" in bare.get("/atom.xml", "localhost").text


def test_healthz_answers_whatever_the_host(db: SqlStore, bare: Web) -> None:
    assert bare.get("/healthz").status_code == 200
    assert bare.get("/healthz", "10.1.2.3:8080").status_code == 200  # a load balancer's probe
    assert db.get_setting(BASE_URL_KEY) is None and db.get_setting(ID_AUTHORITY_KEY) is None


def test_slash_redirects_stay_on_the_site(site: Web) -> None:
    site.get("/")
    reply = site.get("/about?x=1", "localhost")
    assert reply.status_code in (301, 307, 308)
    assert reply.headers["location"] == "/about/?x=1"
    assert site.get("/source/nope").headers["location"] == "/source/nope/"
    assert site.get("/source/nope/").status_code == 404  # the handler's own 404: no redirect
    assert site.get("/nowhere").status_code == 404


def test_cached_output_does_not_mix_bases(bare: Web) -> None:
    local = bare.get("/atom.xml", "localhost:8080")
    assert "http://localhost:8080/" in local.text
    other = bare.get("/atom.xml", "127.0.0.1:8080")
    assert "http://localhost:8080/" not in other.text and "http://127.0.0.1:8080/" in other.text
    assert other.headers["etag"] != local.headers["etag"]


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "path", ["/", "/about/", "/atom.xml", "/admin/login", "/nope", "/healthz", "/opml.xml"]
)
def test_every_response_carries_the_security_headers(site: Web, path: str) -> None:
    reply = site.get(path)
    csp = reply.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["default-src"] == "'none'"
    assert "'unsafe-inline'" not in csp and "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'"
    assert directives["style-src"] == "'self'"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert "strict-transport-security" not in reply.headers


def test_refused_hosts_get_the_headers_too(site: Web) -> None:
    site.get("/")
    reply = site.get("/", "attacker.example")
    assert reply.status_code == 400 and reply.headers["x-frame-options"] == "DENY"


def test_hsts_only_over_https(db: SqlStore) -> None:
    w = web(db, site_url="https://planet.example")
    try:
        assert "max-age=" in w.get("/", scheme="https").headers["strict-transport-security"]
        assert "strict-transport-security" not in w.get("/").headers
    finally:
        w.close()


def test_pages_have_no_inline_script_or_style(site: Web) -> None:
    for path in ("/", "/about/", "/sources/", "/search?q=bgp", "/admin/login", "/nope"):
        html = site.get(path).text
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", html, re.I), path


# --------------------------------------------------------------------------- proxies


def test_forwarded_headers_are_ignored_without_trust_proxy_headers(site: Web) -> None:
    reply = site.get(
        "/feed.json", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"}
    )
    assert "strict-transport-security" not in reply.headers
    assert reply.json()["home_page_url"] == "http://planet.example/"


def test_trusted_proxy_scheme_is_the_right_most_value(db: SqlStore) -> None:
    w = web(db, trust_proxy_headers=True, site_url="http://planet.example")
    try:
        spoofed = w.get("/", headers={"X-Forwarded-Proto": "https, http"})
        assert "strict-transport-security" not in spoofed.headers
        real = w.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in real.headers
        untrusted = w.get("/", peer="203.0.113.9", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in untrusted.headers
    finally:
        w.close()


# --------------------------------------------------------------------------- the command line


def test_init_stores_the_site_url_and_config_show_reports_it(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_cli import cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, _ = cli(capsys, "--database", url, "config", "show")
    assert code == 0 and "site_base_url = (none" in out
    assert not (tmp_path / "cli.db").exists()  # showing the configuration creates nothing
    code, out, err = cli(
        capsys, "--database", url, "init", "--no-defaults", "--site-url", "https://planet.example/"
    )
    assert code == 0, err
    assert "https://planet.example" in out
    code, out, _ = cli(capsys, "--database", url, "config", "show")
    assert "site_base_url = 'https://planet.example'" in out
    assert "feed_id_authority = 'planet.example,2024'" in out
    store = open_store(url)
    try:
        w = web(store)
        assert w.get("/feed.json", "attacker.example").status_code == 400
        assert w.get("/feed.json").json()["home_page_url"] == "https://planet.example/"
        w.close()
    finally:
        store.close()
    code, _, err = cli(capsys, "--database", url, "init", "--site-url", "ftp://x/")
    assert code == 2 and "site_url" in err


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("allowed_hosts", "planet.example, evil/x"),
        ("trusted_proxies", "10.0.0.0/8, not-a-network"),
        ("site_url", "planet.example"),
        ("site_url", "javascript:alert(1)"),
        ("site_url", "https://planet.example:99999/"),
    ],
)
def test_bad_host_settings_are_config_errors(key: str, value: str) -> None:
    from netplanet.errors import ConfigError
    from netplanet.settings import load_settings

    with pytest.raises(ConfigError, match=f"NETPLANET_{key.upper()}"):
        load_settings(env={f"NETPLANET_{key.upper()}": value})


def test_host_lists_may_be_toml_arrays(tmp_path: Any) -> None:
    from netplanet.settings import load_settings, split_list

    config = tmp_path / "planet.toml"
    config.write_text(
        'allowed_hosts = ["www.planet.example", "planet.example"]\n'
        'trusted_proxies = ["10.0.0.0/8", "fd00::/8"]\n'
    )
    settings = load_settings(config, env={})
    assert split_list(settings.allowed_hosts) == ["www.planet.example", "planet.example"]
    assert split_list(settings.trusted_proxies) == ["10.0.0.0/8", "fd00::/8"]


def test_host_names_are_normalized(db: SqlStore) -> None:
    w = web(db, allowed_hosts="planet.example")
    try:
        reply = w.get("/feed.json", "Planet.EXAMPLE.:80")
        assert reply.json()["home_page_url"] == "http://planet.example/"
        assert w.get("/feed.json", "planet.example:8080").status_code == 200  # same name
    finally:
        w.close()


# --------------------------------------------------------------------------- request bodies


def _post(app: Any, path: str, content: Any, headers: dict[str, str] | None = None) -> int:
    async def go() -> int:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            reply = await c.post(path, content=content, headers=headers)
            return reply.status_code

    return asyncio.run(go())


def test_a_declared_oversized_body_is_refused_before_it_is_read(db: SqlStore) -> None:
    app = create_app(db, Settings())
    consumed: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            consumed.append(1)
            yield b"x" * 65536

    headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(4 << 20)}
    assert _post(app, "/admin/login", body(), headers) == 413
    assert len(consumed) <= 1


def test_a_streamed_body_is_stopped_once_it_passes_the_limit(db: SqlStore) -> None:
    """No Content-Length (chunked): the form parser would spool it all to disk."""
    from netplanet.web.auth import PASSWORD_KEY, hash_password

    db.set_setting(PASSWORD_KEY, hash_password("a long enough password", n=2**10))
    app = create_app(db, Settings())
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n'
        for _ in range(256):  # 16 MiB in all, were it read to the end
            sent.append(1)
            yield b"x" * 65536

    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    assert _post(app, "/admin/login", body(), headers) == 413
    assert len(sent) < 8


def test_only_the_opml_upload_may_be_large(db: SqlStore) -> None:
    app = create_app(db, Settings())
    big = b"x" * (1 << 20)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _post(app, "/admin/login", big, headers) == 413
    # Not refused for its size (it is answered as any unauthenticated upload would be).
    assert _post(app, "/admin/opml", big, headers) != 413
