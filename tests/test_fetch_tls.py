"""HTTPS and dropped connections through the real Fetcher: what the operator is told, and as what.

The certificates are made at test time by tests/certs.py (a private CA, an expired leaf, a
self-signed one...). The raw server below speaks just enough HTTP/1.1 (over TLS or not) to
misbehave in ways aiohttp's server will not: cut a body short, drop or reset the connection.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from certs import Certs, make_certs
from loopback import FEED, FakeResolver, fetch_settings, serve
from netplanet.fetch import Fetcher
from netplanet.model import FetchOutcome, FetchRequest, FetchResult

NAMES = {"feeds.example": "127.0.0.1", "other.example": "127.0.0.1"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def fetch_tls(
    server_cert: ssl.SSLContext,
    *,
    host: str = "127.0.0.1",
    trust: ssl.SSLContext | None = None,
) -> FetchResult:
    """GET /feed from the loopback app over HTTPS, as `host`, trusting `trust` (default: the
    system's certificate authorities)."""

    async def main() -> FetchResult:
        async with serve(tls=server_cert) as (base, _state):
            port = base.rsplit(":", 1)[1]
            fetcher = Fetcher(fetch_settings(), resolver=FakeResolver(NAMES), tls=trust)
            async with fetcher:
                return await fetcher.fetch(FetchRequest(f"https://{host}:{port}/feed"))

    return asyncio.run(main())


def assert_one_clean_line(result: FetchResult) -> None:
    assert result.outcome is FetchOutcome.ERROR
    assert "\n" not in result.error
    assert "_ssl.c" not in result.error and "[SSL" not in result.error
    assert "Traceback" not in result.error


@pytest.mark.parametrize("host", ["127.0.0.1", "feeds.example"])
def test_certificate_from_a_trusted_authority_serves_the_feed(certs: Certs, host: str) -> None:
    result = fetch_tls(certs.server_context(certs.good), host=host, trust=certs.client_context())
    assert result.outcome is FetchOutcome.OK
    assert result.body == FEED
    assert result.final_url.startswith(f"https://{host}:")


def test_self_signed_certificate_is_not_trusted(certs: Certs) -> None:
    # No `trust`: the system's authorities, as in production.
    result = fetch_tls(certs.server_context(certs.self_signed, certs.self_signed_key))
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.status is None
    assert result.error == (
        "TLS certificate of 127.0.0.1 is not trusted (self-signed certificate); "
        "the site must serve one signed by a public certificate authority"
    )


def test_certificate_from_an_unknown_authority_is_not_trusted(certs: Certs) -> None:
    result = fetch_tls(certs.server_context(certs.good), host="feeds.example")
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error == (
        "TLS certificate of feeds.example is not trusted (unable to get local issuer "
        "certificate); the site must serve one signed by a public certificate authority"
    )


def test_expired_certificate_says_so(certs: Certs) -> None:
    result = fetch_tls(certs.server_context(certs.expired), trust=certs.client_context())
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error == "TLS certificate of 127.0.0.1 has expired; the site must renew it"


def test_certificate_not_valid_yet_points_at_the_clock(certs: Certs) -> None:
    result = fetch_tls(certs.server_context(certs.not_yet_valid), trust=certs.client_context())
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error == (
        "TLS certificate of 127.0.0.1 is not valid yet; check this machine's clock"
    )


def test_certificate_for_another_host_name_says_so(certs: Certs) -> None:
    result = fetch_tls(
        certs.server_context(certs.good), host="other.example", trust=certs.client_context()
    )
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error == (
        "TLS certificate of other.example is for another host (Hostname mismatch, certificate "
        "is not valid for 'other.example'); check the host name in the feed URL"
    )


def test_certificate_without_the_ip_address_says_so(certs: Certs) -> None:
    result = fetch_tls(certs.server_context(certs.name_only), trust=certs.client_context())
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error.startswith("TLS certificate of 127.0.0.1 is for another host (IP ")
    assert result.error.endswith("); check the host name in the feed URL")


# ------------------------------------------------------------------ a server that misbehaves

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
LENGTH_BODY = HEAD + b"Content-Length: 1000\r\n\r\n<rss>"
CHUNKED_BODY = HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n<rss>\r\n"
Behaviour = Callable[[asyncio.StreamWriter], None]


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (linger on, timeout 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _send_then(data: bytes, end: Behaviour) -> Behaviour:
    def act(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        end(writer)

    return act


def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()


@asynccontextmanager
async def raw_server(
    act: Behaviour, tls: ssl.SSLContext | None, *, read_request: bool = True
) -> AsyncIterator[str]:
    """Reads one request's head (unless told not to), then lets `act` answer it; yields the
    base URL."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if read_request:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
        act(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


def fetch_raw(act: Behaviour, certs: Certs, over_tls: bool) -> tuple[FetchResult, str]:
    async def main() -> tuple[FetchResult, str]:
        tls = certs.server_context(certs.good) if over_tls else None
        async with raw_server(act, tls) as base:
            trust = certs.client_context()
            async with Fetcher(fetch_settings(), tls=trust) as fetcher:
                return await fetcher.fetch(FetchRequest(base + "/feed")), base

    return asyncio.run(main())


OVER = pytest.mark.parametrize("over_tls", [False, True], ids=["http", "https"])


@OVER
def test_connection_closed_before_the_response(certs: Certs, over_tls: bool) -> None:
    result, base = fetch_raw(_close, certs, over_tls)
    assert_one_clean_line(result)
    assert result.error_class == "connect"
    assert (
        result.error == f"127.0.0.1 closed the connection waiting for the response at {base}/feed"
    )
    assert result.status is None


@OVER
@pytest.mark.parametrize("head", [LENGTH_BODY, CHUNKED_BODY], ids=["length", "chunked"])
def test_body_cut_short_is_a_dropped_connection(certs: Certs, over_tls: bool, head: bytes) -> None:
    result, base = fetch_raw(_send_then(head, _close), certs, over_tls)
    assert_one_clean_line(result)
    assert result.error_class == "connect"
    assert result.status == 200
    assert result.body is None
    assert result.error == (
        f"127.0.0.1 dropped the connection after 5 bytes of the body at {base}/feed: "
        "the body is incomplete"
    )


@OVER
def test_reset_mid_body_is_a_dropped_connection(certs: Certs, over_tls: bool) -> None:
    result, base = fetch_raw(_send_then(LENGTH_BODY, _reset), certs, over_tls)
    assert_one_clean_line(result)
    assert result.error_class == "connect"
    assert result.error.startswith("127.0.0.1 dropped the connection after ")
    assert result.error.endswith(f" of the body at {base}/feed: the body is incomplete")


@OVER
def test_reset_before_the_response(certs: Certs, over_tls: bool) -> None:
    result, base = fetch_raw(_reset, certs, over_tls)
    assert_one_clean_line(result)
    assert result.error_class == "connect"
    assert result.error == f"127.0.0.1 reset the connection waiting for the response at {base}/feed"


def test_corrupt_chunked_body_stays_a_protocol_error(certs: Certs) -> None:
    # Unlike a body cut short, a body that is not valid chunked encoding is the server's bug.
    result, base = fetch_raw(_send_then(CHUNKED_BODY + b"zz\r\n", _close), certs, False)
    assert_one_clean_line(result)
    assert result.error_class == "protocol"
    assert result.error.startswith(f"invalid HTTP response at {base}/feed: ")


def test_plain_http_on_an_https_url_is_a_tls_handshake_error(certs: Certs) -> None:
    answer = _send_then(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", _close)

    async def main() -> tuple[FetchResult, str]:
        # An HTTP server answers the TLS ClientHello as if it were a request.
        async with raw_server(answer, None, read_request=False) as base:
            url = base.replace("http://", "https://") + "/feed"
            async with Fetcher(fetch_settings(), tls=certs.client_context()) as fetcher:
                return await fetcher.fetch(FetchRequest(url)), url

    result, _url = asyncio.run(main())
    assert_one_clean_line(result)
    assert result.error_class == "tls"
    assert result.error == "TLS handshake with 127.0.0.1 failed: wrong version number"
