"""Proxy headers with trust off and on: which client address the login limiter counts and which
scheme links, cookies and HSTS use. Off (the default), X-Forwarded-For, X-Forwarded-Proto and
Forwarded are ignored whoever sends them; on, they are believed only from a peer in
`trusted_proxies`, the client is the right-most hop that is not a trusted proxy, and the scheme
is the right-most X-Forwarded-Proto value (docs/security.md, web/edge.py)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from builders import NOW, make_entry, plan, spec, sqlite_url
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.web.app import create_app
from netplanet.web.auth import PASSWORD_KEY, Auth, hash_password, rate_key
from netplanet.web.edge import Proxies
from test_admin import PASSWORD, csrf_of

SPOOF = {
    "X-Forwarded-For": "198.51.100.77",
    "X-Forwarded-Proto": "https",
    "Forwarded": "for=198.51.100.78;proto=https;host=attacker.example",
    "X-Real-IP": "198.51.100.79",
}
PROXY_NETS = "10.0.0.0/8, 2001:db8:ff::/48"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(sqlite_url(tmp_path / "proxies.db"))
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    source = store.add_source(spec(1))
    store.apply_update(plan(source.id, (make_entry(source.id, 1),)))
    yield store
    store.close()


def _request(
    app: Any,
    method: str,
    path: str,
    *,
    peer: str,
    headers: dict[str, str] | None = None,
    login: bool = False,
) -> httpx.Response:
    """One request from `peer` (the socket's address) with Host localhost; with `login`, a
    wrong-password sign-in (the form fetched first, without the extra headers)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            if not login:
                return await c.request(method, path, headers=headers)
            token = csrf_of((await c.get("/admin/login")).text)
            return await c.post(
                "/admin/login", data={"csrf": token, "password": "wrong"}, headers=headers
            )

    return asyncio.run(go())


def limiter_key(db: SqlStore, settings: Settings, peer: str, headers: dict[str, str]) -> str:
    """The address the login limiter counted for one failed sign-in."""
    from sqlalchemy import delete, select

    from netplanet.store.schema import login_failures

    app = create_app(db, settings, clock=lambda: NOW)
    reply = _request(app, "POST", "/admin/login", peer=peer, headers=headers, login=True)
    assert reply.status_code == 401, reply.text[:200]
    with db.engine.begin() as conn:
        clients = list(conn.execute(select(login_failures.c.client)).scalars())
        conn.execute(delete(login_failures))
    assert len(clients) == 1
    return clients[0]


def page(db: SqlStore, settings: Settings, peer: str, headers: dict[str, str]) -> httpx.Response:
    """The JSON feed of a planet without site_url (its links follow the request's scheme)."""
    app = create_app(db, settings, clock=lambda: NOW, nav_ttl=0.0)
    reply = _request(app, "GET", "/feed.json", peer=peer, headers=headers)
    assert reply.status_code == 200
    return reply


def login_cookie(db: SqlStore, settings: Settings, peer: str, headers: dict[str, str]) -> str:
    app = create_app(db, settings, clock=lambda: NOW)
    return _request(app, "GET", "/admin/login", peer=peer, headers=headers).headers["set-cookie"]


# --------------------------------------------------------------------------- trust off


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.0.0.2", "198.51.100.5"])
def test_without_trust_every_forwarding_header_is_ignored(db: SqlStore, peer: str) -> None:
    settings = Settings(trusted_proxies=PROXY_NETS)  # a list alone turns nothing on
    assert limiter_key(db, settings, peer, SPOOF) == peer
    reply = page(db, settings, peer, SPOOF)
    assert reply.json()["feed_url"] == "http://localhost/feed.json"
    assert "strict-transport-security" not in reply.headers
    assert "Secure" not in login_cookie(db, settings, peer, SPOOF)


# --------------------------------------------------------------------------- trust on


def test_a_trusted_proxy_is_believed(db: SqlStore) -> None:
    settings = Settings(trust_proxy_headers=True, trusted_proxies=PROXY_NETS)
    chain = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9, 10.9.9.9", "X-Forwarded-Proto": "https"}
    # 10.9.9.9 is a proxy of ours too; 203.0.113.9 is the client; 192.0.2.1 it made up.
    assert limiter_key(db, settings, "10.0.0.2", chain) == "203.0.113.9"
    reply = page(db, settings, "10.0.0.2", chain)
    assert reply.json()["feed_url"] == "https://localhost/feed.json"
    assert "max-age=" in reply.headers["strict-transport-security"]
    assert "Secure" in login_cookie(db, settings, "10.0.0.2", chain)
    v6 = {"X-Forwarded-For": "2001:db8:1:2::5"}
    assert limiter_key(db, settings, "2001:db8:ff::1", v6) == "2001:db8:1:2::/64"


@pytest.mark.parametrize("peer", ["198.51.100.5", "127.0.0.1", "11.0.0.1", "2001:db8:fe::1"])
def test_a_peer_outside_trusted_proxies_is_not_believed(db: SqlStore, peer: str) -> None:
    """Loopback included, once the operator names other proxies."""
    settings = Settings(trust_proxy_headers=True, trusted_proxies=PROXY_NETS)
    chain = {"X-Forwarded-For": "203.0.113.9, 10.0.0.3", "X-Forwarded-Proto": "https"}
    assert limiter_key(db, settings, peer, chain) == rate_key(peer)
    reply = page(db, settings, peer, chain)
    assert reply.json()["feed_url"] == "http://localhost/feed.json"
    assert "strict-transport-security" not in reply.headers


def test_forwarded_is_never_believed(db: SqlStore) -> None:
    """Only X-Forwarded-For / -Proto are read, even from a trusted proxy."""
    settings = Settings(trust_proxy_headers=True)
    only = {k: v for k, v in SPOOF.items() if not k.startswith("X-Forwarded")}
    assert limiter_key(db, settings, "127.0.0.1", only) == "127.0.0.1"
    assert page(db, settings, "127.0.0.1", only).json()["feed_url"].startswith("http://localhost")


# --------------------------------------------------------------------------- Proxies itself


def _scope(peer: str | None, headers: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "http",
        "client": (peer, 40000) if peer is not None else None,
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers],
    }


def _apply(peer: str | None, headers: list[tuple[str, str]], **settings: Any) -> tuple[Any, str]:
    proxies = Proxies(Settings(trust_proxy_headers=True, **settings))
    scope = proxies.apply(_scope(peer, headers))
    client = scope["client"][0] if scope["client"] else None
    return client, scope["scheme"]


XFF = "X-Forwarded-For"


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("127.0.0.1", [(XFF, "203.0.113.9")], "203.0.113.9"),
        ("127.0.0.1", [(XFF, "192.0.2.1, 203.0.113.9")], "203.0.113.9"),
        # two header lines are one list, the later line right of the earlier
        ("127.0.0.1", [(XFF, "192.0.2.1"), (XFF, "203.0.113.9")], "203.0.113.9"),
        # empty items are skipped
        ("127.0.0.1", [(XFF, " , 203.0.113.9 ,,")], "203.0.113.9"),
        # trusted hops are walked through; all trusted: the left-most
        ("127.0.0.1", [(XFF, "203.0.113.9, 127.0.0.5")], "203.0.113.9"),
        ("127.0.0.1", [(XFF, "127.0.0.7, 127.0.0.5")], "127.0.0.7"),
        # ports and brackets, IPv4-mapped IPv6
        ("127.0.0.1", [(XFF, "203.0.113.9:5555")], "203.0.113.9"),
        ("127.0.0.1", [(XFF, "[2001:db8::9]:443")], "2001:db8::9"),
        ("127.0.0.1", [(XFF, "2001:db8::9")], "2001:db8::9"),
        ("127.0.0.1", [(XFF, "::ffff:203.0.113.9")], "203.0.113.9"),
        ("::1", [(XFF, "203.0.113.9")], "203.0.113.9"),
        ("::ffff:127.0.0.1", [(XFF, "203.0.113.9")], "203.0.113.9"),
        # garbage stops the walk: nothing left of it is believed
        ("127.0.0.1", [(XFF, "203.0.113.9, unknown")], "127.0.0.1"),
        ("127.0.0.1", [(XFF, "203.0.113.9, [garbage")], "127.0.0.1"),
        ("127.0.0.1", [(XFF, "198.51.100.1, 127.0.0.9, nope")], "127.0.0.1"),
        # no header: the peer
        ("127.0.0.1", [], "127.0.0.1"),
        # an untrusted peer: nothing is believed
        ("203.0.113.50", [(XFF, "198.51.100.1")], "203.0.113.50"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    peer: str, headers: list[tuple[str, str]], client: str
) -> None:
    assert _apply(peer, headers)[0] == client


@pytest.mark.parametrize(
    ("values", "scheme"),
    [
        (["https"], "https"),
        (["HTTPS"], "https"),
        ([" https "], "https"),
        (["https, http"], "http"),
        (["http, https"], "https"),
        (["https, "], "https"),
        (["http", "https"], "https"),  # the later header line is the right-most
        (["https", ""], "https"),
        (["ftp"], "http"),
        (["https, wss"], "http"),
        ([], "http"),
    ],
)
def test_the_scheme_is_the_right_most_forwarded_proto(values: list[str], scheme: str) -> None:
    headers = [("X-Forwarded-Proto", v) for v in values]
    assert _apply("127.0.0.1", headers)[1] == scheme


@pytest.mark.parametrize(
    ("values", "scheme"), [([], "https"), (["http"], "http"), (["x"], "https")]
)
def test_over_https_the_proxy_decides_too(values: list[str], scheme: str) -> None:
    """A connection that arrived over TLS (the proxy re-encrypts) keeps https unless the proxy
    says the client came over plain http."""
    proxies = Proxies(Settings(trust_proxy_headers=True))
    headers = [("X-Forwarded-Proto", v) for v in values]
    scope = {**_scope("127.0.0.1", headers), "scheme": "https"}
    assert proxies.apply(scope)["scheme"] == scheme


def test_nothing_is_rewritten_without_trust_or_without_a_peer() -> None:
    headers = [(XFF, "203.0.113.9"), ("X-Forwarded-Proto", "https")]
    scope = _scope("127.0.0.1", headers)
    assert Proxies(Settings()).apply(scope) is scope
    untrusted = _scope("203.0.113.50", headers)
    assert Proxies(Settings(trust_proxy_headers=True)).apply(untrusted) is untrusted
    anonymous = _scope(None, headers)
    assert Proxies(Settings(trust_proxy_headers=True)).apply(anonymous) is anonymous


def test_trusted_networks() -> None:
    proxies = Proxies(Settings(trust_proxy_headers=True, trusted_proxies="10.1.2.3/8 ::1"))
    assert proxies.networks == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    ]
    assert proxies.client("10.200.0.1", ["198.51.100.1"]) == "198.51.100.1"
    assert proxies.client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"
    assert not proxies.trusted(None)
    assert Proxies(Settings(trust_proxy_headers=True, trusted_proxies="")).networks == []


# --------------------------------------------------------------------------- the limiter's key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("::1", "::/64"),
        ("testclient", "testclient"),
    ],
)
def test_rate_key(address: str, key: str) -> None:
    assert rate_key(address) == key


def test_a_request_without_a_client_address_is_one_client() -> None:
    from starlette.requests import Request

    assert Auth.client(Request({"type": "http", "client": None, "headers": []})) == "unknown"
    assert Auth.client(Request(_scope("2001:db8::1", []))) == "2001:db8::/64"
