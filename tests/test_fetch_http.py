"""Fetcher against a loopback server: statuses, conditional GET, encodings, headers."""

from __future__ import annotations

import asyncio
import hashlib
import platform
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from loopback import ETAG, FEED, LAST_MODIFIED, FakeResolver, ServerState, fetch_settings, serve
from netplanet.fetch import Fetcher, parse_retry_after
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
    with pytest.raises(RuntimeError):
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


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"),
    reason="isal is a dependency only where it has wheels",
)
def test_gzip_bodies_are_inflated_with_isal_where_it_is_a_dependency() -> None:
    from netplanet.fetch import http

    assert http.FAST_INFLATE, "isal is installed with netplanet here; aiohttp should use it"


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
