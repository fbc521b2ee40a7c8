"""Keep-alive: the Fetcher reuses a host's connection across polls, bounds its idle pool, and
survives a server that closes a kept connection.

The server here is a few lines of HTTP/1.1 over asyncio streams rather than aiohttp.web, so a
test can count TCP connections and drop one at the exact moment a request arrives on it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from loopback import FakeResolver, fetch_settings
from netplanet.fetch.http import Fetcher, _BoundedPool
from netplanet.model import FetchOutcome, FetchRequest, FetchResult, SourceSpec
from netplanet.settings import Settings
from netplanet.store import SqlStore
from netplanet.update.pipeline import UpdatePipeline

BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"r1"'

Drop = Callable[[int, int], bool]
"""(connection number, request number on that connection), both from 0 -> close unanswered."""


@dataclass
class RawServer:
    port: int = 0
    drop: Drop = lambda conn, req: False
    connections: int = 0
    open: int = 0
    requests: list[tuple[int, str]] = field(default_factory=list)
    """(connection number, path) of every request answered."""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = self.connections
        self.connections += 1
        self.open += 1
        try:
            for req in range(1000):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                if self.drop(conn, req):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                pairs = (h.partition(":") for h in lines[1:])
                headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
                self.requests.append((conn, path))
                if headers.get("if-none-match") == ETAG:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {ETAG}\r\n\r\n".encode())
                else:
                    writer.write(
                        f"HTTP/1.1 200 OK\r\nETag: {ETAG}\r\nContent-Type: application/rss+xml"
                        f"\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
                        + BODY
                    )
                await writer.drain()
        finally:
            self.open -= 1
            writer.close()


@asynccontextmanager
async def raw_server(drop: Drop | None = None) -> AsyncIterator[RawServer]:
    state = RawServer()
    if drop is not None:
        state.drop = drop
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def settings(**overrides: object) -> Settings:
    return fetch_settings(**overrides)


async def poll(fetcher: Fetcher, url: str, etag: str | None = None) -> FetchResult:
    return await fetcher.fetch(FetchRequest(url=url, etag=etag))


def test_two_feeds_on_one_host_polled_twice_use_one_connection() -> None:
    async def main() -> tuple[list[FetchOutcome], int]:
        async with raw_server() as server, Fetcher(settings(fetch_per_host=1)) as fetcher:
            a, b = server.url("/a.xml"), server.url("/b.xml")
            outcomes = [r.outcome for r in await asyncio.gather(poll(fetcher, a), poll(fetcher, b))]
            again = await asyncio.gather(poll(fetcher, a, ETAG), poll(fetcher, b, ETAG))
            outcomes += [r.outcome for r in again]
            return outcomes, server.connections

    outcomes, connections = asyncio.run(main())
    assert outcomes == [FetchOutcome.OK] * 2 + [FetchOutcome.NOT_MODIFIED] * 2
    assert connections == 1


def test_rounds_of_one_pipeline_reuse_the_connection(store: SqlStore) -> None:
    # `netplanet run` keeps one Fetcher (and pipeline) for its life: the second round of
    # polls goes over the connection the first round opened.
    async def main() -> tuple[list[str], int, int]:
        async with raw_server() as server, Fetcher(settings(fetch_per_host=1)) as fetcher:
            pipeline = UpdatePipeline(store, fetcher)
            for path in ("/a.xml", "/b.xml"):
                store.add_source(SourceSpec(feed_url=server.url(path), category="Networking"))
            outcomes = []
            for _ in range(2):
                reports = await pipeline.update_many(store.list_sources())
                outcomes += [str(r.outcome) for r in reports]
            return outcomes, server.connections, len(server.requests)

    outcomes, connections, requests = asyncio.run(main())
    assert outcomes == ["updated", "updated", "not_modified", "not_modified"]
    assert requests == 4
    assert connections == 1


def test_a_connection_the_server_dropped_on_the_next_request_is_retried_once() -> None:
    # The server's keep-alive timeout races the next poll: it closes the kept connection just
    # as the request arrives. The poll is sent again on a new connection, not lost.
    async def main() -> tuple[FetchResult, FetchResult, RawServer]:
        async with raw_server(drop=lambda conn, req: conn == 0 and req == 1) as server:
            async with Fetcher(settings()) as fetcher:
                first = await poll(fetcher, server.url("/a.xml"))
                second = await poll(fetcher, server.url("/a.xml"), ETAG)
            return first, second, server

    first, second, server = asyncio.run(main())
    assert first.outcome is FetchOutcome.OK
    assert first.body_hash == hashlib.sha256(BODY).hexdigest()
    assert second.outcome is FetchOutcome.NOT_MODIFIED, second.error
    assert server.connections == 2
    assert server.requests == [(0, "/a.xml"), (1, "/a.xml")]


def test_a_server_that_drops_every_request_fails_the_poll_after_one_retry() -> None:
    async def main() -> tuple[FetchResult, int]:
        async with raw_server(drop=lambda conn, req: True) as server:
            async with Fetcher(settings()) as fetcher:
                result = await poll(fetcher, server.url("/a.xml"))
            return result, server.connections

    result, connections = asyncio.run(main())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error
    assert connections == 2


def test_a_connection_closed_by_the_server_while_idle_is_replaced() -> None:
    async def main() -> tuple[list[FetchOutcome], int]:
        # Every connection answers one request, then the server closes it.
        async with raw_server(drop=lambda conn, req: req >= 1) as server:
            async with Fetcher(settings()) as fetcher:
                outcomes = []
                for _ in range(3):
                    outcomes.append((await poll(fetcher, server.url("/a.xml"), ETAG)).outcome)
                    await asyncio.sleep(0.05)
            return outcomes, server.connections

    outcomes, connections = asyncio.run(main())
    assert outcomes == [FetchOutcome.NOT_MODIFIED] * 3
    assert connections == 3


def test_idle_connections_are_capped_over_all_hosts_oldest_closed_first() -> None:
    names = {f"h{i}.example": "127.0.0.1" for i in range(4)}

    async def main() -> tuple[int, int, int, int]:
        async with raw_server() as server:
            fetcher = Fetcher(settings(), resolver=FakeResolver(names), max_idle=2)
            async with fetcher:
                for i in range(4):
                    await poll(fetcher, server.url("/a.xml", f"h{i}.example"), ETAG)
                await asyncio.sleep(0.05)  # the server notices the closed ones
                still_open = server.open
                assert fetcher._session is not None
                pool = fetcher._session.connector
                assert isinstance(pool, _BoundedPool)
                idle = pool.idle
                # h3 was used last: kept. h0 was the oldest: closed, so a new connection.
                await poll(fetcher, server.url("/a.xml", "h3.example"), ETAG)
                kept = server.connections
                await poll(fetcher, server.url("/a.xml", "h0.example"), ETAG)
                return still_open, idle, kept, server.connections

    still_open, idle, kept, total = asyncio.run(main())
    assert (still_open, idle) == (2, 2)
    assert kept == 4
    assert total == 5


def test_idle_connections_are_closed_after_the_keepalive_time() -> None:
    async def main() -> tuple[int, int]:
        async with raw_server() as server, Fetcher(settings(), keepalive_s=0.1) as fetcher:
            await poll(fetcher, server.url("/a.xml"), ETAG)
            for _ in range(100):  # aiohttp's clean-up timer, then the server seeing the close
                if not server.open:
                    break
                await asyncio.sleep(0.05)
            open_after = server.open
            await poll(fetcher, server.url("/a.xml"), ETAG)
            return open_after, server.connections

    open_after, connections = asyncio.run(main())
    assert open_after == 0
    assert connections == 2
