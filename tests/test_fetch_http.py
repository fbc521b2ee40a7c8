"""Fetcher against a loopback server: statuses, conditional GET, encodings, headers."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import platform
import socket
import sys
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TypeVar
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import compression_utils

from loopback import ETAG, FEED, LAST_MODIFIED, FakeResolver, ServerState, fetch_settings, serve
from netplanet.fetch import Fetcher, http, parse_retry_after
from netplanet.model import FetchOutcome, FetchRequest, FetchResult
from netplanet.settings import Settings

T = TypeVar("T")
NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


def run_with_server(
    body: Callable[[Fetcher, str, ServerState], Awaitable[T]],
    settings: Settings | None = None,
    **fetcher_kwargs: object,
) -> T:
    async def main() -> T:
        async with serve() as (base, state):
            fetcher = Fetcher(settings or fetch_settings(), clock=lambda: NOW, **fetcher_kwargs)  # type: ignore[arg-type]
            async with fetcher:
                return await body(fetcher, base, state)

    return asyncio.run(main())


def fetch_one(path: str, **request: str) -> FetchResult:
    async def body(fetcher: Fetcher, base: str, state: ServerState) -> FetchResult:
        return await fetcher.fetch(FetchRequest(url=base + path, **request))

    return run_with_server(body)


def test_200_returns_body_hash_and_validators() -> None:
    result = fetch_one("/feed")
    assert result.outcome is FetchOutcome.OK
    assert result.status == 200
    assert result.body == FEED
    assert result.body_hash == hashlib.sha256(FEED).hexdigest()
    assert result.etag == ETAG
    assert result.last_modified == LAST_MODIFIED
    assert result.content_type.startswith("application/rss+xml")
    assert result.bytes_received == len(FEED)
    assert result.final_url.endswith("/feed")
    assert result.permanent_url is None
    assert result.error_class == ""


def test_useful_headers_are_recorded_lower_case() -> None:
    result = fetch_one("/feed")
    assert result.headers["cache-control"] == "max-age=600"
    assert result.headers["etag"] == ETAG
    assert result.headers["last-modified"] == LAST_MODIFIED
    assert "content-type" in result.headers
    assert "x-other" not in result.headers


def test_304_with_etag_is_not_modified_without_body() -> None:
    result = fetch_one("/feed", etag=ETAG, body_hash="abc")
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.status == 304
    assert result.body is None
    assert result.etag == ETAG
    assert result.body_hash == "abc"


def test_304_with_last_modified_keeps_sent_validators() -> None:
    result = fetch_one("/feed", etag='"stale"', last_modified=LAST_MODIFIED)
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.last_modified == LAST_MODIFIED
    # The 304 carried no ETag, so the one we sent is kept.
    assert result.etag == '"stale"'


def test_conditional_headers_are_sent() -> None:
    async def body(fetcher: Fetcher, base: str, state: ServerState) -> None:
        await fetcher.fetch(FetchRequest(base + "/page", etag='"e"', last_modified=LAST_MODIFIED))
        headers = state.requests[-1].headers
        assert headers["If-None-Match"] == '"e"'
        assert headers["If-Modified-Since"] == LAST_MODIFIED

    run_with_server(body)


def test_same_body_hash_is_unchanged_without_body() -> None:
    digest = hashlib.sha256(FEED).hexdigest()
    result = fetch_one("/feed", body_hash=digest)
    assert result.outcome is FetchOutcome.UNCHANGED
    assert result.body is None
    assert result.status == 200
    assert result.body_hash == digest
    assert result.bytes_received == len(FEED)


def test_different_body_hash_is_ok() -> None:
    result = fetch_one("/feed", body_hash="0" * 64)
    assert result.outcome is FetchOutcome.OK
    assert result.body == FEED


def test_404_is_http_error_with_readable_message() -> None:
    result = fetch_one("/status/404")
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "http"
    assert result.status == 404
    assert result.error.startswith("HTTP 404 Not Found at http://127.0.0.1:")
    assert result.body is None


def test_410_is_gone() -> None:
    result = fetch_one("/status/410")
    assert result.outcome is FetchOutcome.GONE
    assert result.status == 410
    assert result.error == f"HTTP 410 Gone at {result.final_url}"


def test_status_without_a_reason_phrase_says_just_the_code() -> None:
    result = fetch_one("/status/599")
    assert result.error_class == "http"
    assert result.error == f"HTTP 599 at {result.final_url}"


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_seconds(code: int) -> None:
    result = fetch_one(f"/status/{code}?ra=120")
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "http"
    assert result.status == code
    assert result.retry_after_s == 120.0
    assert result.headers["retry-after"] == "120"


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_http_date_is_relative_to_clock(code: int) -> None:
    result = fetch_one(f"/status/{code}?ra={LAST_MODIFIED}")
    assert result.retry_after_s == 60.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("3600", 3600.0),
        (" 5 ", 5.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_compressed_responses_are_decoded(coding: str) -> None:
    result = fetch_one(f"/encoded/{coding}")
    assert result.outcome is FetchOutcome.OK
    assert result.body == FEED


def test_user_agent_accept_and_accept_encoding_are_sent() -> None:
    settings = fetch_settings()

    async def body(fetcher: Fetcher, base: str, state: ServerState) -> None:
        await fetcher.fetch(FetchRequest(base + "/feed"))
        headers = state.requests[-1].headers
        assert headers["User-Agent"] == settings.user_agent
        assert headers["User-Agent"].startswith("netplanet/")
        assert headers["Accept-Encoding"] == "gzip, deflate, br"
        assert "application/rss+xml" in headers["Accept"]
        assert "Cookie" not in headers

    run_with_server(body, settings)


def test_fetch_page_gets_html_unconditionally() -> None:
    async def body(fetcher: Fetcher, base: str, state: ServerState) -> FetchResult:
        return await fetcher.fetch_page(base + "/page")

    result = run_with_server(body)
    assert result.outcome is FetchOutcome.OK
    assert result.body is not None and b"<html>" in result.body
    assert result.content_type.startswith("text/html")


def test_connection_refused_is_connect_error() -> None:
    async def main() -> FetchResult:
        async with Fetcher(fetch_settings()) as fetcher:
            # Port 1 on loopback: nothing listens there.
            return await fetcher.fetch(FetchRequest("http://127.0.0.1:1/feed"))

    result = asyncio.run(main())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "connect"
    assert result.error == "could not connect to 127.0.0.1:1: Connection refused"
    assert result.status is None


def test_unknown_host_is_dns_error() -> None:
    async def main() -> FetchResult:
        async with Fetcher(fetch_settings(), resolver=FakeResolver({})) as fetcher:
            return await fetcher.fetch(FetchRequest("http://x.invalid/feed"))

    result = asyncio.run(main())
    assert result.error_class == "dns"
    assert result.error.startswith("DNS lookup failed for host x.invalid")


def test_fetcher_outside_context_manager_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match=r"^Fetcher used outside 'async with'$"):
        asyncio.run(Fetcher(fetch_settings()).fetch(FetchRequest("http://127.0.0.1/")))


def test_ipv6_loopback_server_is_fetched() -> None:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")

    async def main() -> FetchResult:
        async with serve("::1") as (base, _state), Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(FetchRequest(base + "/feed"))

    result = asyncio.run(main())
    assert result.outcome is FetchOutcome.OK
    assert result.final_url.startswith("http://[::1]:")


ISAL_WHEELS = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"),
    reason="isal is a dependency only where it has wheels",
)


@ISAL_WHEELS
def test_gzip_bodies_are_inflated_with_isal_where_it_is_a_dependency() -> None:
    assert http.FAST_INFLATE, "isal is installed with netplanet here; aiohttp should use it"


@pytest.fixture
def zlib_backend() -> Iterator[None]:
    """Start from the standard zlib backend and put back the one in use afterwards: the choice
    is process-wide in aiohttp."""
    saved = compression_utils.ZLibBackend._zlib_backend
    compression_utils.set_zlib_backend(zlib)
    yield
    compression_utils.set_zlib_backend(saved)


@ISAL_WHEELS
@pytest.mark.usefixtures("zlib_backend")
def test_fast_inflate_hands_isal_to_aiohttp() -> None:
    # FAST_INFLATE was decided at import; call the function again to see what it does.
    assert http._use_fast_inflate() is True
    assert compression_utils.ZLibBackend._zlib_backend is sys.modules["isal.isal_zlib"]


@pytest.mark.usefixtures("zlib_backend")
def test_without_isal_aiohttp_keeps_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "isal.isal_zlib", None)  # import fails as if not installed
    assert http._use_fast_inflate() is False
    assert compression_utils.ZLibBackend._zlib_backend is zlib


@ISAL_WHEELS
@pytest.mark.usefixtures("zlib_backend")
def test_aiohttp_without_a_zlib_backend_switch_keeps_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(aiohttp, "set_zlib_backend")  # aiohttp before 3.12
    assert http._use_fast_inflate() is False
    assert compression_utils.ZLibBackend._zlib_backend is zlib


def test_response_without_content_type_has_an_empty_one() -> None:
    result = fetch_one("/status/200")
    assert result.outcome is FetchOutcome.OK
    assert result.content_type == ""
    assert "content-type" not in result.headers
    assert result.body == b""
    assert result.request == FetchRequest(url=result.final_url)


def test_304_without_validators_keeps_both_that_were_sent() -> None:
    result = fetch_one("/status/304", etag='"e"', last_modified=LAST_MODIFIED, body_hash="h")
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert (result.etag, result.last_modified, result.body_hash) == ('"e"', LAST_MODIFIED, "h")
    assert result.request.etag == '"e"'


def test_only_the_fetchers_own_headers_are_sent() -> None:
    async def body(fetcher: Fetcher, base: str, state: ServerState) -> list[str]:
        await fetcher.fetch(FetchRequest(base + "/feed"))
        return [name.decode().lower() for name, _value in state.requests[-1].raw_headers]

    # Header names are case-insensitive; what matters is that nothing else goes out.
    assert sorted(run_with_server(body)) == ["accept", "accept-encoding", "host", "user-agent"]


def test_cookies_a_feed_sets_are_never_sent_back() -> None:
    # A host name, not an IP address: cookie jars ignore cookies set by IP-address hosts.
    names = {"feeds.example": "127.0.0.1"}

    async def body(fetcher: Fetcher, base: str, state: ServerState) -> None:
        url = f"http://feeds.example:{base.rsplit(':', 1)[1]}"
        first = await fetcher.fetch(FetchRequest(url + "/cookie"))
        assert first.outcome is FetchOutcome.OK
        await fetcher.fetch(FetchRequest(url + "/feed"))
        await fetcher.fetch(FetchRequest(url + "/cookie"))
        assert [r.path for r in state.requests] == ["/cookie", "/feed", "/cookie"]
        assert all("Cookie" not in r.headers for r in state.requests)

    run_with_server(body, resolver=FakeResolver(names))


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would resolve feed hosts itself, past the SSRF guard.
    async def main() -> tuple[FetchResult, ServerState, ServerState]:
        async with serve() as (proxy, proxy_state), serve() as (base, state):
            for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
                monkeypatch.setenv(name, proxy)
            for name in ("no_proxy", "NO_PROXY"):
                monkeypatch.delenv(name, raising=False)
            async with Fetcher(fetch_settings()) as fetcher:
                result = await fetcher.fetch(FetchRequest(base + "/feed"))
            return result, state, proxy_state

    result, state, proxy_state = asyncio.run(main())
    assert result.outcome is FetchOutcome.OK
    assert state.paths == ["/feed"]
    assert proxy_state.paths == []


def test_retry_after_date_without_an_injected_clock_uses_the_current_time() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)

    async def main() -> FetchResult:
        async with serve() as (base, _state), Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(FetchRequest(f"{base}/status/503?ra={quote(later)}"))

    result = asyncio.run(main())
    assert result.error_class == "http"
    assert result.retry_after_s is not None
    assert 3000 < result.retry_after_s <= 3600


def test_fetcher_used_after_close_is_the_same_programming_error() -> None:
    async def main() -> None:
        fetcher = Fetcher(fetch_settings())
        async with fetcher:
            pass
        with pytest.raises(RuntimeError, match=r"^Fetcher used outside 'async with'$"):
            await fetcher.fetch(FetchRequest("http://127.0.0.1:1/feed"))

    asyncio.run(main())


def test_close_is_safe_before_open_and_twice() -> None:
    async def main() -> None:
        never_opened = Fetcher(fetch_settings())
        await never_opened.close()
        fetcher = Fetcher(fetch_settings())
        async with fetcher:
            pass
        await fetcher.close()
        await fetcher.close()

    asyncio.run(main())


def test_error_result_keeps_the_request_and_the_time_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clock that advances 2.5 s per reading: the one hop takes exactly that long.
    readings = itertools.count()

    class SteppingClock:
        @staticmethod
        def monotonic() -> float:
            return 100.0 + 2.5 * next(readings)

    monkeypatch.setattr(http, "time", SteppingClock)
    req = FetchRequest("http://127.0.0.1:1/feed", etag='"e"', body_hash="h")

    async def main() -> FetchResult:
        async with Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(req)

    result = asyncio.run(main())
    assert result.error_class == "connect"
    assert result.request == req
    assert result.duration_ms == 2500
