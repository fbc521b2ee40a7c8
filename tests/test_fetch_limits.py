"""Fetcher limits: timeouts, body size (after decompression), memory, concurrency."""

from __future__ import annotations

import asyncio
import itertools
import time
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import TCPConnector
from aiohttp.abc import ResolveResult

from loopback import (
    BOMB_SIZE,
    FakeResolver,
    ServerState,
    fetch_settings,
    gzip_bomb,
    serve,
)
from netplanet.fetch import Fetcher, http
from netplanet.fetch.http import _HostLimiter
from netplanet.model import FetchOutcome, FetchRequest, FetchResult


def fetch_path(path: str, **settings: Any) -> tuple[FetchResult, float]:
    async def main() -> tuple[FetchResult, float]:
        async with serve() as (base, _state), Fetcher(fetch_settings(**settings)) as fetcher:
            started = time.monotonic()
            result = await fetcher.fetch(FetchRequest(base + path))
            return result, time.monotonic() - started

    return asyncio.run(main())


def test_stall_mid_body_is_a_read_timeout() -> None:
    result, elapsed = fetch_path("/stall", read_timeout=0.3)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "timeout"
    assert result.error.startswith("timed out after 0.3 s reading the body at ")
    assert result.status == 200
    assert result.bytes_received == 50
    assert result.body is None
    assert elapsed < 3


def test_server_that_never_answers_is_a_read_timeout() -> None:
    result, _elapsed = fetch_path("/slow-headers", read_timeout=0.3)
    assert result.error_class == "timeout"
    assert result.error.startswith("timed out after 0.3 s waiting for the response at ")
    assert result.status is None


def test_total_timeout_cuts_a_body_that_keeps_trickling() -> None:
    # The endless body never stalls, so only the total limit (or the size cap) can stop it.
    result, elapsed = fetch_path("/endless", total_timeout=0.3, max_body_bytes=10**12)
    assert result.error_class == "timeout"
    assert result.error.startswith("timed out after 0.3 s (total limit) reading the body at ")
    assert elapsed < 3


def test_declared_oversized_body_is_refused_unread() -> None:
    result, _elapsed = fetch_path("/big?size=200000", max_body_bytes=100_000)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "too_large"
    assert result.error == (
        f"response body is larger than the 100000 bytes limit at {result.final_url}"
    )
    assert result.bytes_received == 0


def test_body_at_the_limit_is_accepted() -> None:
    result, _elapsed = fetch_path("/big?size=65536", max_body_bytes=65536)
    assert result.outcome is FetchOutcome.OK
    assert result.body is not None and len(result.body) == 65536


def test_endless_body_is_cut_at_the_size_limit() -> None:
    result, elapsed = fetch_path("/endless", max_body_bytes=1024 * 1024)
    assert result.error_class == "too_large"
    assert result.error.startswith("response body is larger than the 1 MB limit")
    assert 1024 * 1024 < result.bytes_received < 2 * 1024 * 1024
    assert elapsed < 5


def test_gzip_bomb_is_cut_after_decompression_with_bounded_memory() -> None:
    bomb = gzip_bomb()  # built before measuring; ~1 MB on the wire, 1 GiB decoded
    assert len(bomb) < BOMB_SIZE // 500
    limit = 4 * 1024 * 1024

    async def main() -> FetchResult:
        async with serve() as (base, _state), Fetcher(fetch_settings(max_body_bytes=limit)) as f:
            return await f.fetch(FetchRequest(base + "/bomb"))

    tracemalloc.start()
    try:
        result = asyncio.run(main())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.outcome is FetchOutcome.ERROR
    assert result.error_class == "too_large"
    assert limit < result.bytes_received < 2 * limit
    # Peak Python allocations during the fetch (server included) stay a few times the cap,
    # two orders of magnitude under the bomb's decoded size.
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("per_host", [1, 2])
def test_per_host_limit_is_respected(per_host: int) -> None:
    async def main() -> ServerState:
        settings = fetch_settings(fetch_per_host=per_host, fetch_concurrency=20)
        async with serve() as (base, state), Fetcher(settings) as fetcher:
            results = await asyncio.gather(
                *(fetcher.fetch(FetchRequest(f"{base}/slow?{i}")) for i in range(6))
            )
            assert all(r.outcome is FetchOutcome.OK for r in results)
            return state

    state = asyncio.run(main())
    assert len(state.paths) == 6
    assert state.max_active == per_host


def test_requests_to_one_host_start_at_least_the_gap_apart() -> None:
    gap = 0.2

    async def main() -> float:
        settings = fetch_settings(fetch_per_host=4, per_host_gap_s=gap)
        async with serve() as (base, _state), Fetcher(settings) as fetcher:
            t0 = time.monotonic()
            results = await asyncio.gather(
                *(fetcher.fetch(FetchRequest(f"{base}/feed?{i}")) for i in range(4))
            )
            assert all(r.outcome is FetchOutcome.OK for r in results)
            return time.monotonic() - t0

    elapsed = asyncio.run(main())
    # Four requests one gap apart: the last starts 3 gaps after the first.
    assert elapsed >= 3 * gap - 0.02


def test_per_host_limit_is_per_host() -> None:
    # One request at a time per host must not mean one at a time overall.
    names = {f"h{i}.example": "127.0.0.1" for i in range(3)}

    async def main() -> ServerState:
        settings = fetch_settings(fetch_per_host=1, fetch_concurrency=10)
        async with (
            serve() as (base, state),
            Fetcher(settings, resolver=FakeResolver(names)) as fetcher,
        ):
            port = base.rsplit(":", 1)[1]
            results = await asyncio.gather(
                *(fetcher.fetch(FetchRequest(f"http://{name}:{port}/slow")) for name in names)
            )
            assert all(r.outcome is FetchOutcome.OK for r in results)
            return state

    state = asyncio.run(main())
    assert state.max_active == 3


def test_global_limit_is_respected_across_hosts() -> None:
    names = {f"h{i}.example": "127.0.0.1" for i in range(6)}

    async def main() -> ServerState:
        settings = fetch_settings(fetch_per_host=5, fetch_concurrency=3)
        async with (
            serve() as (base, state),
            Fetcher(settings, resolver=FakeResolver(names)) as fetcher,
        ):
            port = base.rsplit(":", 1)[1]
            results = await asyncio.gather(
                *(fetcher.fetch(FetchRequest(f"http://{name}:{port}/slow")) for name in names)
            )
            assert all(r.outcome is FetchOutcome.OK for r in results)
            return state

    state = asyncio.run(main())
    assert len(state.paths) == 6
    assert state.max_active == 3


def test_duration_is_recorded() -> None:
    result, _elapsed = fetch_path("/slow")
    assert result.outcome is FetchOutcome.OK
    assert 100 <= result.duration_ms < 5000


def test_duration_counts_every_redirect_hop() -> None:
    # Three responses of ~0.15 s each (two redirects, then the feed).
    result, elapsed = fetch_path("/slowhop/2")
    assert result.outcome is FetchOutcome.OK
    assert 400 <= result.duration_ms <= elapsed * 1000 + 1


def test_duration_is_the_network_time_of_every_hop_in_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a clock where each reading is 0.5 s after the one before, every hop (read before and
    # after) takes 0.5 s: three hops are 1500 ms exactly, whatever the machine's real speed.
    readings = itertools.count(step=0.5)
    monkeypatch.setattr(http, "time", SimpleNamespace(monotonic=lambda: next(readings)))
    result, _elapsed = fetch_path("/many/2")
    assert result.outcome is FetchOutcome.OK
    assert result.duration_ms == 1500


def test_body_in_many_chunks_is_returned_whole() -> None:
    size = 300_000  # several reads of the 64 KB chunk size
    result, _elapsed = fetch_path(f"/big?size={size}")
    assert result.outcome is FetchOutcome.OK
    assert result.body == b"x" * size
    assert result.bytes_received == size


def test_compressed_body_larger_than_the_limit_on_the_wire_but_not_decoded_is_accepted() -> None:
    # The limit is on the decoded body: a Content-Length over it only refuses a body unread
    # when that length is the decoded size (no Content-Encoding).
    result, _elapsed = fetch_path("/incompressible?size=2000", max_body_bytes=2010)
    assert result.outcome is FetchOutcome.OK
    assert result.body is not None and len(result.body) == 2000


class HangingResolver(FakeResolver):
    """A DNS server that never answers."""

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_connect_timeout_covers_a_dns_lookup_that_never_ends() -> None:
    async def main() -> FetchResult:
        settings = fetch_settings(connect_timeout=0.2, total_timeout=30)
        async with Fetcher(settings, resolver=HangingResolver({})) as fetcher:
            return await fetcher.fetch(FetchRequest("http://feeds.example/feed"))

    result = asyncio.run(main())
    assert result.error_class == "timeout"
    assert result.error == "timed out after 0.2 s connecting to feeds.example"


def test_a_fetch_queued_behind_the_concurrency_limit_spends_none_of_its_timeouts() -> None:
    # With one fetch at a time, the second waits for the first (held 1 s by the server) before
    # it starts: waiting must not count against its 0.3 s connect limit.
    names = {"a.example": "127.0.0.1", "b.example": "127.0.0.1"}

    async def main() -> list[FetchResult]:
        settings = fetch_settings(fetch_concurrency=1, connect_timeout=0.3)
        async with (
            serve() as (base, state),
            Fetcher(settings, resolver=FakeResolver(names)) as fetcher,
        ):
            port = base.rsplit(":", 1)[1]
            first = asyncio.create_task(
                fetcher.fetch(FetchRequest(f"http://a.example:{port}/delay?s=1"))
            )
            await state.arrived.wait()
            second = await fetcher.fetch(FetchRequest(f"http://b.example:{port}/feed"))
            return [await first, second]

    results = asyncio.run(main())
    assert [r.outcome for r in results] == [FetchOutcome.OK, FetchOutcome.OK]


@pytest.mark.parametrize("concurrency", [0, 1, 7])
def test_connection_pool_is_bounded_like_the_fetches(concurrency: int) -> None:
    # A second bound behind the fetcher's own limit; per-host limits are the fetcher's alone
    # (aiohttp reads a false limit_per_host, 0 or None, as "none").
    async def main() -> tuple[int, int | None]:
        async with Fetcher(fetch_settings(fetch_concurrency=concurrency)) as fetcher:
            assert fetcher._session is not None
            connector = fetcher._session.connector
            assert isinstance(connector, TCPConnector)
            return connector.limit, connector.limit_per_host

    limit, per_host = asyncio.run(main())
    assert limit == max(1, concurrency)
    assert not per_host


def test_host_limiter_keeps_working_past_its_housekeeping_threshold() -> None:
    # Beyond 4096 hosts with a pending start time, past ones are dropped; it must go on.
    async def main() -> None:
        limiter = _HostLimiter(1, gap_s=60.0)
        for i in range(4100):
            async with limiter.hold(f"h{i}.example"):
                pass
        held = asyncio.create_task(limiter.hold("h0.example").__aenter__())
        await asyncio.sleep(0.05)
        # h0's next start is a minute away: it waits for it rather than starting now.
        assert not held.done()
        held.cancel()

    asyncio.run(main())
