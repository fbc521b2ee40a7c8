"""Fetcher redirects (permanent vs temporary, loops, long chains) and the guard on every hop."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest

from certs import Certs, make_certs
from loopback import FEED, FakeResolver, ServerState, fetch_settings, only_127_0_0_1, serve
from netplanet.fetch import Fetcher
from netplanet.model import FetchOutcome, FetchRequest, FetchResult


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def fetch_path(path: str, settings: Any = None, **fetcher_kwargs: Any) -> FetchResult:
    async def main() -> FetchResult:
        async with serve() as (base, _state):
            fetcher = Fetcher(settings or fetch_settings(), **fetcher_kwargs)
            async with fetcher:
                return await fetcher.fetch(FetchRequest(base + path))

    return asyncio.run(main())


@pytest.mark.parametrize("codes", ["301", "308", "301,308", "308,301,301"])
def test_permanent_redirect_chain_sets_permanent_url(codes: str) -> None:
    result = fetch_path(f"/chain?codes={codes}")
    assert result.outcome is FetchOutcome.OK
    assert result.body == FEED
    assert result.final_url.endswith("/chain?codes=")
    assert result.permanent_url == result.final_url


@pytest.mark.parametrize("codes", ["302", "303", "307", "301,302", "302,301", "308,307,308"])
def test_temporary_hop_leaves_permanent_url_unset(codes: str) -> None:
    result = fetch_path(f"/chain?codes={codes}")
    assert result.outcome is FetchOutcome.OK
    assert result.final_url.endswith("/chain?codes=")
    assert result.permanent_url is None


def test_permanent_redirect_to_an_error_does_not_set_permanent_url() -> None:
    result = fetch_path("/to?code=301&url=/status/404")
    assert result.error_class == "http"
    assert result.permanent_url is None
    assert result.final_url.endswith("/status/404")


def test_five_redirects_are_followed() -> None:
    result = fetch_path("/many/5")
    assert result.outcome is FetchOutcome.OK
    assert result.final_url.endswith("/many/0")


def test_chain_of_six_redirects_is_an_error() -> None:
    result = fetch_path("/many/6")
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "redirects"
    assert result.error.startswith("too many redirects (more than 5): ")
    assert result.error.count(" -> ") == 6


def test_redirect_loop_is_reported_with_its_path() -> None:
    async def main() -> tuple[FetchResult, str, ServerState]:
        async with serve() as (base, state), Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(FetchRequest(base + "/loop/a")), base, state

    result, base, state = asyncio.run(main())
    assert result.error_class == "redirects"
    assert result.error == f"redirect loop: {base}/loop/a -> {base}/loop/b -> {base}/loop/a"
    assert state.paths == ["/loop/a", "/loop/b"]


def test_redirect_without_location_is_a_protocol_error() -> None:
    result = fetch_path("/status/301")
    assert result.error_class == "protocol"
    assert "without a Location" in result.error


def test_redirect_to_non_http_scheme_is_blocked() -> None:
    result = fetch_path("/to?url=file:///etc/passwd")
    assert result.error_class == "blocked"
    assert "'file'" in result.error


# ---------------------------------------------------------------- the guard through the fetcher


def test_loopback_is_refused_unless_private_networks_are_allowed() -> None:
    async def main() -> tuple[FetchResult, ServerState]:
        settings = fetch_settings(allow_private_networks=False)
        async with serve() as (base, state), Fetcher(settings) as fetcher:
            return await fetcher.fetch(FetchRequest(base + "/feed")), state

    result, state = asyncio.run(main())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "blocked"
    assert "127.0.0.1 (loopback)" in result.error
    assert "allow_private_networks" in result.error
    assert state.paths == []  # refused before connecting


def test_hostname_resolving_to_loopback_is_refused_at_connect_time() -> None:
    resolver = FakeResolver({"feeds.example": "127.0.0.1"})

    async def main() -> tuple[FetchResult, ServerState]:
        async with serve() as (base, state):
            port = base.rsplit(":", 1)[1]
            settings = fetch_settings(allow_private_networks=False)
            async with Fetcher(settings, resolver=resolver) as fetcher:
                url = f"http://feeds.example:{port}/feed"
                return await fetcher.fetch(FetchRequest(url)), state

    result, state = asyncio.run(main())
    assert result.error_class == "blocked"
    assert result.error == (
        "refused to connect to 127.0.0.1 (loopback) for host feeds.example; "
        "set allow_private_networks to allow it"
    )
    assert resolver.asked == ["feeds.example"]
    assert state.paths == []


# In the tests below the policy treats 127.0.0.1 as public, standing in for an allowed host,
# while every other rule of the real guard applies.
GUARDED: dict[str, Any] = {
    "settings": fetch_settings(allow_private_networks=False),
    "policy": only_127_0_0_1,
}


def test_allowed_host_serves_under_the_test_policy() -> None:
    assert fetch_path("/feed", **GUARDED).outcome is FetchOutcome.OK


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.1/feed", "10.0.0.1 (private network)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (cloud metadata service)"),
        ("http://[::1]/", "::1 (loopback)"),
        ("http://2130706433/", "obfuscated spelling of 127.0.0.1"),
        ("http://localhost/", "localhost (local name)"),
    ],
)
def test_redirect_to_a_private_literal_address_is_refused(target: str, reason: str) -> None:
    result = fetch_path(f"/to?url={target}", **GUARDED)
    assert result.error_class == "blocked"
    assert reason in result.error
    assert result.status == 302


def test_redirect_to_other_loopback_address_is_refused_not_attempted() -> None:
    # 127.0.0.2 is loopback: without the guard this would be a "connect" error.
    result = fetch_path("/to?url=http://127.0.0.2:9/feed", **GUARDED)
    assert result.error_class == "blocked"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private network"),
        ("169.254.169.254", "cloud metadata service"),
        ("100.100.100.200", "cloud metadata service"),
        ("fd00:ec2::254", "cloud metadata service"),
        ("::ffff:192.168.0.1", "IPv4-mapped address of 192.168.0.1, private network"),
    ],
)
def test_redirect_to_a_name_resolving_private_is_refused(address: str, reason: str) -> None:
    resolver = FakeResolver({"internal.example": address})
    result = fetch_path("/to?url=http://internal.example/", resolver=resolver, **GUARDED)
    assert result.error_class == "blocked"
    assert result.error == (
        f"refused to connect to {address} ({reason}) for host internal.example; "
        "set allow_private_networks to allow it"
    )


def test_redirect_to_a_name_resolving_to_the_allowed_host_is_followed() -> None:
    async def main() -> FetchResult:
        async with serve() as (base, _state):
            port = base.rsplit(":", 1)[1]
            resolver = FakeResolver({"public.example": "127.0.0.1"})
            async with Fetcher(resolver=resolver, **GUARDED) as fetcher:
                target = f"http://public.example:{port}/feed"
                return await fetcher.fetch(FetchRequest(f"{base}/to?code=301&url={target}"))

    result = asyncio.run(main())
    assert result.outcome is FetchOutcome.OK
    assert result.permanent_url is not None
    assert result.permanent_url.startswith("http://public.example:")


def test_permanent_redirect_to_gone_does_not_set_permanent_url() -> None:
    result = fetch_path("/to?code=308&url=/status/410")
    assert result.outcome is FetchOutcome.GONE
    assert result.permanent_url is None


def test_permanent_redirect_to_not_modified_sets_permanent_url() -> None:
    async def main() -> FetchResult:
        async with serve() as (base, _state), Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(FetchRequest(base + "/chain?codes=301", etag='"v1"'))

    result = asyncio.run(main())
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.permanent_url == result.final_url


# ---------------------------------------------------------------- Location forms and limits


def test_scheme_relative_location_is_resolved_against_the_current_url() -> None:
    async def main() -> tuple[FetchResult, str]:
        async with serve() as (base, _state), Fetcher(fetch_settings()) as fetcher:
            target = "//" + base.removeprefix("http://") + "/feed"
            return await fetcher.fetch(FetchRequest(f"{base}/to?url={quote(target)}")), base

    result, base = asyncio.run(main())
    assert result.outcome is FetchOutcome.OK
    assert result.final_url == f"{base}/feed"


def test_fragment_of_a_location_is_dropped() -> None:
    result = fetch_path("/to?code=301&url=" + quote("/feed#top"))
    assert result.outcome is FetchOutcome.OK
    assert result.final_url.endswith("/feed")
    assert result.permanent_url == result.final_url


@pytest.mark.parametrize("location", ["http://[::1", "http://feeds.example:99999/"])
def test_redirect_to_an_invalid_url_is_a_protocol_error(location: str) -> None:
    result = fetch_path("/to?code=308&url=" + quote(location))
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "protocol"
    assert result.status == 308
    assert result.error.startswith(f"HTTP 308 redirect to an invalid URL {location!r} at ")


def test_redirect_to_itself_is_a_loop() -> None:
    async def main() -> tuple[FetchResult, str]:
        async with serve() as (base, _state), Fetcher(fetch_settings()) as fetcher:
            return await fetcher.fetch(FetchRequest(base + "/self")), base

    result, base = asyncio.run(main())
    assert result.error_class == "redirects"
    assert result.status == 307
    assert result.error == f"redirect loop: {base}/self -> {base}/self"


@pytest.mark.parametrize(("limit", "hops"), [(0, 1), (2, 3), (7, 8)])
def test_max_redirects_setting_is_the_limit(limit: int, hops: int) -> None:
    settings = fetch_settings(max_redirects=limit)
    assert fetch_path(f"/many/{hops - 1}", settings).outcome is FetchOutcome.OK
    result = fetch_path(f"/many/{hops}", settings)
    assert result.error_class == "redirects"
    assert result.status == 301
    assert result.error.startswith(f"too many redirects (more than {limit}): ")
    assert result.error.count(" -> ") == hops
    # The whole chain, from the URL asked for to the hop past the limit.
    base = result.final_url.rsplit("/many/", 1)[0]
    chain = " -> ".join(f"{base}/many/{n}" for n in range(hops, -1, -1))
    assert result.error == f"too many redirects (more than {limit}): {chain}"


def test_redirect_statuses_other_than_the_five_are_not_followed() -> None:
    # 300 Multiple Choices and 305 Use Proxy carry a Location but are not redirects to follow.
    for code in (300, 305):
        result = fetch_path(f"/to?code={code}&url=/feed")
        assert result.error_class == "http"
        assert result.status == code
        assert result.final_url.endswith(f"/to?code={code}&url=/feed")


def test_total_timeout_counts_every_hop() -> None:
    # Each response takes ~0.15 s, far under the 1.2 s total, but twelve of them do not fit
    # (and two fit with room to spare on a loaded machine).
    settings = fetch_settings(total_timeout=1.2, max_redirects=20)
    result = fetch_path("/slowhop/11", settings)
    assert result.error_class == "timeout"
    assert result.error.startswith("timed out after 1.2 s (total limit) waiting for the response")
    assert fetch_path("/slowhop/1", settings).outcome is FetchOutcome.OK


# ---------------------------------------------------------------- between http and https


def test_http_to_https_redirect_is_followed_and_can_move_the_feed(certs: Certs) -> None:
    async def main() -> FetchResult:
        async with (
            serve(tls=certs.server_context(certs.good)) as (secure, _s),
            serve() as (plain, _p),
            Fetcher(fetch_settings(), tls=certs.client_context()) as fetcher,
        ):
            target = quote(f"{secure}/feed")
            return await fetcher.fetch(FetchRequest(f"{plain}/to?code=301&url={target}"))

    result = asyncio.run(main())
    assert result.outcome is FetchOutcome.OK
    assert result.final_url.startswith("https://127.0.0.1:")
    assert result.permanent_url == result.final_url


def test_https_to_http_downgrade_is_followed_under_the_guard(certs: Certs) -> None:
    # docs/design-notes.md, "Fetching": a downgrade is followed like any hop and every hop
    # still passes the guard; the fetcher reports where a permanent one leads, and the pipeline
    # keeps the https URL (test_pipeline.py).
    async def main() -> tuple[FetchResult, FetchResult]:
        async with (
            serve(tls=certs.server_context(certs.good)) as (secure, _s),
            serve() as (plain, _p),
            Fetcher(fetch_settings(), tls=certs.client_context()) as fetcher,
        ):
            moved = await fetcher.fetch(
                FetchRequest(f"{secure}/to?code=308&url={quote(plain + '/feed')}")
            )
            guarded = Fetcher(
                fetch_settings(allow_private_networks=False),
                tls=certs.client_context(),
                policy=only_127_0_0_1,
            )
            async with guarded:
                blocked = await guarded.fetch(
                    FetchRequest(f"{secure}/to?url={quote('http://10.0.0.1/feed')}")
                )
            return moved, blocked

    moved, blocked = asyncio.run(main())
    assert moved.outcome is FetchOutcome.OK
    assert moved.permanent_url is not None and moved.permanent_url.startswith("http://127.0.0.1:")
    assert blocked.error_class == "blocked"
    assert "10.0.0.1 (private network)" in blocked.error
