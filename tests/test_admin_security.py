"""Sign-in hardening: the login limiter is one atomic step per attempt (a burst evaluates at most
the limit), counts per address and for the account, and trusts proxy headers only from trusted
peers; logout and a new password end every session; HEAD never signs anyone in."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from builders import NOW
from netplanet.settings import Settings
from netplanet.store import SqlStore
from netplanet.web import auth as auth_module
from netplanet.web.app import create_app
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, Clock, csrf_of, login, make_client, signed_in

BURST = 200


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(store: SqlStore, clock: Clock) -> Iterator[AdminClient]:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock) as c:
        yield c


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the app actually checks (scrypt runs)."""
    seen: list[str] = []
    real = auth_module.verify_password

    def counting(password: str, stored: str) -> bool:
        seen.append(password)
        return real(password, stored)

    monkeypatch.setattr(auth_module, "verify_password", counting)
    return seen


def _burst(app: Any, count: int, *, peer: str = "127.0.0.1", headers: Any = None) -> list[int]:
    """`count` concurrent wrong-password sign-ins sharing one login form; their statuses."""

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = csrf_of((await c.get("/admin/login")).text)

            async def one(i: int) -> int:
                reply = await c.post(
                    "/admin/login",
                    data={"csrf": token, "password": f"wrong guess {i}"},
                    headers=headers(i) if headers else None,
                )
                return reply.status_code

            return list(await asyncio.gather(*(one(i) for i in range(count))))

    return asyncio.run(go())


# --------------------------------------------------------------------------- rate limit


def test_a_concurrent_burst_evaluates_at_most_the_limit(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(), clock=clock)
    statuses = _burst(app, BURST)
    assert len(evaluations) <= 5
    assert statuses.count(401) == len(evaluations)
    assert statuses.count(429) == BURST - len(evaluations)


def test_claims_are_atomic_across_threads(store: SqlStore) -> None:
    """The store step alone, from many threads (as from many processes): at most the limit."""
    granted: list[bool] = []
    start = threading.Barrier(20)

    def claim() -> None:
        start.wait()
        for _ in range(5):
            granted.append(
                store.claim_login_attempt(
                    "198.51.100.7", NOW, NOW - timedelta(minutes=15), per_client=5, total=50
                )
                is not None
            )

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 5 and len(granted) == 100


def test_rotating_x_forwarded_for_does_not_bypass_the_limit(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(), clock=clock)
    statuses = _burst(app, 30, headers=lambda i: {"X-Forwarded-For": f"198.51.100.{i}"})
    assert len(evaluations) <= 5 and statuses.count(429) >= 25


def test_uvicorn_does_not_trust_forwarded_for_from_loopback(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    """The server as `netplanet run` starts it: a local client rotating X-Forwarded-For is
    still one client (uvicorn's own proxy handling would believe it from 127.0.0.1)."""
    from browser_support import LiveServer

    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with (
        LiveServer(create_app(store, Settings(), clock=clock)) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        token = csrf_of(c.get("/admin/login").text)
        statuses = [
            c.post(
                "/admin/login",
                data={"csrf": token, "password": "wrong"},
                headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Forwarded-Proto": "https"},
            ).status_code
            for i in range(8)
        ]
    assert statuses == [401] * 5 + [429] * 3
    assert set(_clients(store)) == {"127.0.0.1"}


def test_a_trusted_proxy_gives_the_right_most_untrusted_hop(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(trust_proxy_headers=True), clock=clock)
    # The client controls everything left of what our proxy appended.
    statuses = _burst(app, 30, headers=lambda i: {"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.50"})
    assert len(evaluations) <= 5 and statuses.count(429) >= 25
    clients = {row for row in _clients(store)}
    assert clients == {"203.0.113.50"}


def test_an_untrusted_peer_cannot_claim_another_address(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(trust_proxy_headers=True), clock=clock)
    _burst(app, 8, peer="192.0.2.44", headers=lambda i: {"X-Forwarded-For": f"198.51.100.{i}"})
    assert set(_clients(store)) == {"192.0.2.44"}


def test_failures_count_for_the_account_across_addresses(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(login_account_max_failures=12), clock=clock)
    for n in range(6):  # 6 addresses x 4 guesses, each under the per-address limit of 5
        _burst(app, 4, peer=f"198.51.100.{n}")
    assert len(evaluations) == 12


def test_ipv6_clients_are_limited_per_64(
    store: SqlStore, clock: Clock, evaluations: list[str]
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(), clock=clock)
    for n in range(10):
        _burst(app, 1, peer=f"2001:db8:1:2::{n + 1:x}")
    assert len(evaluations) == 5


def test_a_success_clears_only_its_own_address(store: SqlStore, clock: Clock) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    app = create_app(store, Settings(), clock=clock)
    _burst(app, 5, peer="198.51.100.1")
    with AdminClient(app) as c:
        assert signed_in(c)  # from 127.0.0.1
    assert _burst(app, 1, peer="198.51.100.1") == [429]


def _clients(store: SqlStore) -> list[str]:
    from sqlalchemy import select

    from netplanet.store.schema import login_failures

    with store.engine.connect() as conn:
        return list(conn.execute(select(login_failures.c.client)).scalars())


# --------------------------------------------------------------------------- sessions


def test_logout_ends_every_session(client: AdminClient, store: SqlStore, clock: Clock) -> None:
    csrf = signed_in(client)
    stolen = client.cookies.get("np_admin")
    assert stolen
    out = client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    with make_client(store, clock) as other:
        other.cookies.set("np_admin", stolen, path="/admin")
        assert other.get("/admin/", follow_redirects=False).status_code == 303


def test_logout_elsewhere_ends_this_session(
    client: AdminClient, store: SqlStore, clock: Clock
) -> None:
    signed_in(client)
    with make_client(store, clock) as laptop:
        csrf = signed_in(laptop)
        laptop.post("/admin/logout", data={"csrf": csrf})
    assert client.get("/admin/", follow_redirects=False).status_code == 303
    assert signed_in(client)  # signing in again works


def test_set_password_ends_every_session(
    client: AdminClient,
    store: SqlStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_cli import cli

    signed_in(client)
    stored = store.get_setting(PASSWORD_KEY)
    generation = store.get_setting(auth_module.GENERATION_KEY)
    # The same password again: the hash changes (new salt) and so does the generation.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = cli(capsys, "--database", store.url, "admin", "set-password", "--stdin")
    assert code == 0, err
    assert store.get_setting(PASSWORD_KEY) != stored
    assert store.get_setting(auth_module.GENERATION_KEY) != generation
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_a_cookie_from_before_a_generation_change_is_refused(
    client: AdminClient, store: SqlStore
) -> None:
    signed_in(client)
    auth_module.end_all_sessions(store)
    assert client.get("/admin/", follow_redirects=False).status_code == 303


# --------------------------------------------------------------------------- HEAD


def test_head_on_login_never_signs_in(client: AdminClient, evaluations: list[str]) -> None:
    token = csrf_of(client.get("/admin/login").text)
    reply = client.request(
        "HEAD",
        "/admin/login",
        data={"csrf": token, "password": PASSWORD},
        follow_redirects=False,
    )
    assert reply.status_code == 200
    assert "np_admin" not in reply.headers.get("set-cookie", "")
    assert evaluations == []
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_login_page_and_wrong_password_still_work(client: AdminClient) -> None:
    assert login(client, "nope nope").status_code == 401
    assert login(client).status_code == 303


# --------------------------------------------------------------------------- signing and keys


def _tampered(cookie: str, **changes: Any) -> str:
    """The cookie with its payload changed and its old signature kept."""
    import base64
    import json

    payload, _, signature = cookie.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{raw}.{signature}"


def test_a_cookie_whose_payload_changed_is_refused(client: AdminClient) -> None:
    """The signature covers the payload: a later expiry or another CSRF token is not accepted
    under the old signature."""
    signed_in(client)
    cookie = client.cookies.get("np_admin")
    assert cookie
    for changes in ({"exp": 4102444800.0}, {"csrf": "chosen by the attacker"}):
        client.cookies.set("np_admin", _tampered(cookie, **changes), path="/admin")
        assert client.get("/admin/", follow_redirects=False).status_code == 303, changes
    client.cookies.set("np_admin", cookie, path="/admin")
    assert client.get("/admin/", follow_redirects=False).status_code == 200


def test_a_configured_secret_key_signs_the_sessions(store: SqlStore, clock: Clock) -> None:
    """With `secret_key` set, nothing is generated or stored, and only servers that share that
    key accept each other's cookies."""
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock, secret_key="a shared secret of some length") as first:
        signed_in(first)
        cookie = first.cookies.get("np_admin")
    assert cookie and store.get_setting(auth_module.SECRET_KEY) is None
    for secret, status in (("a shared secret of some length", 200), ("another secret", 303)):
        with make_client(store, clock, secret_key=secret) as other:
            other.cookies.set("np_admin", cookie, path="/admin")
            assert other.get("/admin/", follow_redirects=False).status_code == status, secret
    with make_client(store, clock) as generated:  # no secret_key: the stored, generated one
        generated.cookies.set("np_admin", cookie, path="/admin")
        assert generated.get("/admin/", follow_redirects=False).status_code == 303
    assert store.get_setting(auth_module.SECRET_KEY)


def test_a_changed_password_alone_ends_the_session(client: AdminClient, store: SqlStore) -> None:
    """The cookie's password tag, not only the generation: a hash written without a new
    generation (another tool, a restored backup) still ends the sessions."""
    signed_in(client)
    generation = store.get_setting(auth_module.GENERATION_KEY)
    store.set_setting(PASSWORD_KEY, hash_password("another long password", n=2**10))
    assert store.get_setting(auth_module.GENERATION_KEY) == generation
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_sign_out_deletes_the_cookie_with_its_own_attributes(store: SqlStore, clock: Clock) -> None:
    """A browser only deletes a cookie set with the same path; over HTTPS it stays Secure."""
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    for https in (False, True):
        with make_client(store, clock) as c:
            if https:
                c._client.base_url = httpx.URL("https://testserver")
            token = csrf_of(c.get("/admin/login").text)
            signed = c.post(
                "/admin/login", data={"csrf": token, "password": PASSWORD}, follow_redirects=False
            )
            for reply, name in ((signed, "np_login"), (None, "np_admin")):
                if reply is None:
                    csrf = csrf_of(c.get("/admin/").text)
                    reply = c.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
                deleted = next(
                    v for k, v in reply.headers.multi_items() if v.startswith(f"{name}=")
                )
                attributes = [a.strip() for a in deleted.split(";")]
                assert attributes[0] in (f"{name}=", f'{name}=""'), deleted
                assert "Max-Age=0" in attributes and "Path=/admin" in attributes, deleted
                assert "HttpOnly" in attributes and "SameSite=strict" in attributes, deleted
                assert ("Secure" in attributes) is https, deleted


def test_the_session_cookie_lasts_the_session_and_stays_in_the_admin_area(
    store: SqlStore, clock: Clock
) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock, admin_session_s=1234) as c:
        form = c.get("/admin/login")
        signed = c.post(
            "/admin/login",
            data={"csrf": csrf_of(form.text), "password": PASSWORD},
            follow_redirects=False,
        )
    for reply, name in ((form, "np_login"), (signed, "np_admin")):
        cookie = next(v for _, v in reply.headers.multi_items() if v.startswith(f"{name}="))
        attributes = [a.strip() for a in cookie.split(";")]
        assert "Max-Age=1234" in attributes and "Path=/admin" in attributes, cookie


def test_old_failures_are_dropped_after_two_windows(store: SqlStore) -> None:
    settings = Settings(login_window_s=600)
    auth = auth_module.Auth(store, settings)
    window = timedelta(seconds=600)
    for age in (2.5, 1.5, 0.5):
        at = NOW - age * window
        assert store.claim_login_attempt("198.51.100.9", at, at, per_client=99, total=99)
    auth.failed(NOW)
    assert store.count_login_failures("198.51.100.9", NOW - 10 * window) == 2
    assert store.count_login_failures("198.51.100.9", NOW - 2 * window) == 2


# --------------------------------------------------------------------------- password hashes


def test_password_hashes_at_the_default_cost_verify() -> None:
    """The default scrypt cost needs more than hashlib's default memory limit."""
    stored = hash_password(PASSWORD)
    assert stored.startswith(f"scrypt${auth_module.SCRYPT_N}$8$1$")
    assert auth_module.verify_password(PASSWORD, stored)
    assert not auth_module.verify_password(PASSWORD + "x", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "bcrypt$1024$8$1$c2FsdA$aGFzaA",
        "",
        "scrypt$1024$8$1$c2FsdA",
        "scrypt$x$8$1$c2FsdA$aGFzaA",
        "scrypt$1023$8$1$c2FsdA$aGFzaA",
    ],
)
def test_other_or_malformed_hashes_never_verify(stored: str) -> None:
    assert not auth_module.verify_password(PASSWORD, stored)


def test_a_hash_in_another_scheme_with_the_same_digest_does_not_verify() -> None:
    stored = hash_password(PASSWORD, n=2**10)
    assert not auth_module.verify_password(PASSWORD, "other" + stored.removeprefix("scrypt"))


@pytest.mark.parametrize("size", range(0, 40))
def test_base64_round_trips_every_length(size: int) -> None:
    data = bytes(range(256))[:size] or b""
    text = auth_module._b64(data)
    assert "=" not in text
    assert auth_module._unb64(text) == data
