"""A loopback feed farm: N deterministic feeds, each on its own loopback address, with rounds.

    .venv/bin/python benchmarks/farm.py --feeds 1000 [--port 8080] [--latency 20,200]
        [--fraction 0.1] [--control-port 0] [--ready-file PATH] [--max-seconds 7200]
        [--one-host] [--post-bytes 1024,8192]

Feed i is served at http://127.0.X.Y:PORT/<path> with X = 1 + i // 250 and Y = 1 + i % 250:
Linux routes all of 127.0.0.0/8 to the loopback interface, so every feed has a host of its own
and netplanet's per-host limit (fetch_per_host, 2 by default) applies per feed, as it would on
the internet; nothing is sent off the machine. (Distinct ports on 127.0.0.1 would not do:
the per-host limit is keyed by host name, not port.)

`--one-host` is the other shape of farm (docs/benchmarks.md, "Two farms"): every feed on
127.0.0.1:PORT, feed i under the path /<i>/<path>, so a client can reuse its connections and
its per-host limits apply to the whole farm (lift them to compare). The documents are the same.

The documents are built from templates modelled on real publishers, chosen by i % 10:
WordPress RSS 2.0 with content:encoded (5 in 10), Hugo Atom (2), Jekyll Atom (1), a podcast RSS
with enclosures and itunes tags (1) and JSON Feed 1.1 (1). Each holds the newest 20 posts of
its feed, 1-8 KB of HTML each (`--post-bytes LO,HI` changes the range: a lighter farm), all
derived from (feed, post number) with a fixed seed.

Every response carries a strong ETag and Last-Modified; If-None-Match / If-Modified-Since get
304; gzip is sent when accepted. Each request waits a uniform random latency (default 20-200
ms) before answering, 304s included. All bodies of the current round (plain and gzip) are built
before the round is announced, so serving costs the farm almost no CPU.

Rounds: in round r >= 1, each feed gains one post with probability `fraction`, decided by a
hash of (feed, round), so every client sees the same documents in the same round. The control
server on 127.0.0.1:CONTROL (printed as JSON on stdout, or written to --ready-file) answers:
  POST /round/<r>   build and switch to round r (returns when ready); ?validators=0 makes
                    the farm ignore If-None-Match / If-Modified-Since (always a full 200)
  GET  /stats       requests served by status since the last POST /round
  GET  /farm.opml   every feed as an OPML outline     GET /urls.txt   one feed URL a line
The farm exits by itself after --max-seconds, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import html
import json
import random
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _text import TextPool, build_pool, title_for

ENTRIES_PER_FEED = 20
POST_BYTES = (1024, 8192)
"""The default range of a post's HTML size (publisher-like posts)."""
ONE_HOST = "127.0.0.1"
EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
KINDS = ("wordpress",) * 5 + ("hugo",) * 2 + ("jekyll", "podcast", "jsonfeed")
PATHS = {
    "wordpress": "/feed/",
    "hugo": "/index.xml",
    "jekyll": "/feed.xml",
    "podcast": "/podcast.rss",
    "jsonfeed": "/feed.json",
}
CTYPES = {
    "wordpress": "application/rss+xml; charset=UTF-8",
    "hugo": "application/xml",
    "jekyll": "application/atom+xml",
    "podcast": "application/rss+xml",
    "jsonfeed": "application/feed+json",
}


def host_of(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def kind_of(i: int) -> str:
    return KINDS[i % len(KINDS)]


def feed_url(i: int, port: int, one_host: bool = False) -> str:
    if one_host:
        return f"http://{ONE_HOST}:{port}/{i}{PATHS[kind_of(i)]}"
    return f"http://{host_of(i)}:{port}{PATHS[kind_of(i)]}"


def farm_opml(feeds: int, port: int, one_host: bool = False) -> str:
    """The OPML subscription list of a farm of `feeds` feeds on `port` (every benchmark that
    imports the farm into netplanet reads this one list)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<opml version="2.0"><head><title>farm</title></head><body>\n'
        + "".join(
            f'<outline type="rss" text="Feed {i}" title="Feed {i}" '
            f'xmlUrl="{feed_url(i, port, one_host)}" htmlUrl="http://{host_of(i)}/"/>\n'
            for i in range(feeds)
        )
        + "</body></opml>\n"
    )


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def gains_post(i: int, r: int, fraction: float) -> bool:
    return _h("gain", i, r) / 2**64 < fraction


def post_count(i: int, r: int, fraction: float) -> int:
    return ENTRIES_PER_FEED + sum(gains_post(i, j, fraction) for j in range(1, r + 1))


@dataclass(frozen=True, slots=True)
class Post:
    number: int
    title: str
    link: str
    guid: str
    published: datetime
    html: str
    summary: str
    tags: tuple[str, ...]


def _post(pool: TextPool, i: int, k: int, site: str, weight: tuple[int, int] = POST_BYTES) -> Post:
    rng = random.Random(_h("post", i, k))
    interval = timedelta(hours=12 + _h("interval", i) % (24 * 6))
    published = EPOCH + interval * k + timedelta(minutes=rng.randint(0, 59))
    title = title_for(rng)
    slug = "-".join(w.lower() for w in title.replace(":", "").split()[:6])
    link = f"{site}{published:%Y/%m/%d}/{slug}/"
    target = rng.randint(*weight)
    parts: list[str] = []
    size = 0
    while size < target:
        p = pool.html[rng.randrange(len(pool.html))]
        parts.append(p)
        size += len(p)
    if rng.random() < 0.5:
        parts.insert(1, f'<p><img src="{site}wp-content/uploads/fig{k}.png" alt="figure"></p>')
    summary = pool.plain[rng.randrange(len(pool.plain))][:300]
    tags = tuple(rng.sample(("bgp", "evpn", "automation", "security", "ipv6", "cloud"), 2))
    return Post(k, title, link, f"{site}?p={10000 + k}", published, "".join(parts), summary, tags)


def _rfc822(d: datetime) -> str:
    return format_datetime(d, usegmt=True)


def render(
    pool: TextPool, i: int, count: int, weight: tuple[int, int] = POST_BYTES
) -> tuple[bytes, datetime]:
    """Feed i's document when it has `count` posts (the newest 20 shown), each post's HTML
    at least a size drawn from `weight` (bytes, a uniform range) long."""
    kind = kind_of(i)
    site = f"http://{host_of(i)}/"
    title = f"Feed {i} — {('Packet', 'Fabric', 'Route', 'Edge')[i % 4]} notes"
    newest_first = range(count - 1, count - 1 - ENTRIES_PER_FEED, -1)
    posts = [_post(pool, i, k, site, weight) for k in newest_first]
    newest = posts[0].published
    esc = html.escape
    if kind == "jsonfeed":
        doc = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "home_page_url": site,
            "feed_url": f"{site}feed.json",
            "items": [
                {
                    "id": p.guid,
                    "url": p.link,
                    "title": p.title,
                    "content_html": p.html,
                    "summary": p.summary,
                    "date_published": p.published.isoformat(),
                    "tags": list(p.tags),
                    "authors": [{"name": f"Author {i % 50}"}],
                }
                for p in posts
            ],
        }
        return json.dumps(doc, ensure_ascii=False).encode(), newest
    if kind in ("hugo", "jekyll"):
        items = []
        for p in posts:
            cats = "".join(f'<category term="{t}"/>' for t in p.tags)
            body = (
                f'<content type="html">{esc(p.html)}</content>'
                if kind == "hugo"
                else f'<content type="html" xml:base="{p.link}"><![CDATA[{p.html}]]></content>'
                f'<summary type="html">{esc(p.summary)}</summary>'
            )
            items.append(
                f'<entry><title type="html">{esc(p.title)}</title>'
                f'<link href="{p.link}" rel="alternate" type="text/html"/>'
                f"<id>{p.link}</id><published>{p.published.isoformat()}</published>"
                f"<updated>{p.published.isoformat()}</updated>"
                f"<author><name>Author {i % 50}</name></author>{cats}{body}</entry>"
            )
        gen = (
            "<generator>Hugo</generator>"
            if kind == "hugo"
            else '<generator uri="https://jekyllrb.com/" version="4.3.2">Jekyll</generator>'
        )
        doc_s = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom">{gen}'
            f'<title>{esc(title)}</title><link href="{site}" rel="alternate"/>'
            f'<link href="{site}{PATHS[kind][1:]}" rel="self"/><id>{site}</id>'
            f"<updated>{newest.isoformat()}</updated>{''.join(items)}</feed>"
        )
        return doc_s.encode(), newest
    items = []
    for p in posts:
        cats = "".join(f"<category><![CDATA[{t}]]></category>" for t in p.tags)
        if kind == "podcast":
            extra = (
                f'<enclosure url="{site}media/episode-{p.number}.mp3" length="'
                f'{30_000_000 + p.number}" type="audio/mpeg"/>'
                f"<itunes:duration>{40 + p.number % 30}:00</itunes:duration>"
                f"<itunes:episode>{p.number}</itunes:episode>"
                f"<itunes:explicit>false</itunes:explicit>"
                f"<description>{esc(p.html)}</description>"
            )
        else:
            extra = (
                f"<description><![CDATA[{p.summary} […]]]></description>"
                f"<content:encoded><![CDATA[{p.html}]]></content:encoded>"
                f"<slash:comments>{p.number % 7}</slash:comments>"
            )
        items.append(
            f"<item><title>{esc(p.title)}</title><link>{p.link}</link>"
            f"<dc:creator><![CDATA[Author {i % 50}]]></dc:creator>"
            f"<pubDate>{_rfc822(p.published)}</pubDate>{cats}"
            f'<guid isPermaLink="false">{p.guid}</guid>{extra}</item>'
        )
    ns = (
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
    )
    gen = "<generator>https://wordpress.org/?v=6.4.2</generator>" if kind == "wordpress" else ""
    doc_s = (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {ns}><channel>'
        f"<title>{esc(title)}</title><link>{site}</link>"
        f'<atom:link href="{site}{PATHS[kind][1:]}" rel="self" type="application/rss+xml"/>'
        f"<description>Notes from the field</description>"
        f"<lastBuildDate>{_rfc822(newest)}</lastBuildDate><language>en-US</language>{gen}"
        f"{''.join(items)}</channel></rss>"
    )
    return doc_s.encode(), newest


@dataclass(frozen=True, slots=True)
class Doc:
    body: bytes
    gz: bytes
    etag: str
    modified: datetime
    ctype: str


class Farm:
    def __init__(
        self,
        feeds: int,
        port: int,
        latency: tuple[float, float],
        fraction: float,
        seed: int,
        one_host: bool = False,
        post_bytes: tuple[int, int] = POST_BYTES,
    ) -> None:
        self.feeds = feeds
        self.port = port
        self.one_host = one_host
        self.post_bytes = post_bytes
        self.latency = latency
        self.fraction = fraction
        self.rng = random.Random(seed)
        self.pool = build_pool(random.Random(seed))
        self.round = -1
        self.validators = True
        self.docs: dict[int, Doc] = {}
        self._cache: dict[tuple[int, int], Doc] = {}
        self.stats: Counter[str] = Counter()
        self.by_host = {host_of(i): i for i in range(feeds)}

    def set_round(self, r: int) -> dict[str, int]:
        built = 0
        docs: dict[int, Doc] = {}
        for i in range(self.feeds):
            count = post_count(i, r, self.fraction)
            doc = self._cache.get((i, count))
            if doc is None:
                body, modified = render(self.pool, i, count, self.post_bytes)
                doc = Doc(
                    body,
                    gzip.compress(body, 6, mtime=0),
                    f'"{i:x}-{count:x}-{hashlib.sha1(body).hexdigest()[:10]}"',
                    modified,
                    CTYPES[kind_of(i)],
                )
                self._cache[(i, count)] = doc
                built += 1
            docs[i] = doc
        self.docs = docs
        self.round = r
        self.stats = Counter()
        return {"round": r, "built": built, "bytes": sum(len(d.body) for d in docs.values())}

    def _feed_of(self, request: web.Request) -> tuple[int | None, str]:
        """(feed number, path within the feed's site) of a request."""
        if not self.one_host:
            return self.by_host.get(request.host.rsplit(":", 1)[0]), request.path
        first, _, rest = request.path[1:].partition("/")
        return (int(first) if first.isdigit() else None), "/" + rest

    async def handle(self, request: web.Request) -> web.StreamResponse:
        i, path = self._feed_of(request)
        await asyncio.sleep(self.rng.uniform(*self.latency) / 1000)
        if i is None or i not in self.docs or path != PATHS[kind_of(i)]:
            self.stats["404"] += 1
            raise web.HTTPNotFound()
        doc = self.docs[i]
        headers = {
            "ETag": doc.etag,
            "Last-Modified": format_datetime(doc.modified, usegmt=True),
            "Cache-Control": "max-age=0",
        }
        if self.validators and _not_modified(request, doc):
            self.stats["304"] += 1
            return web.Response(status=304, headers=headers)
        self.stats["200"] += 1
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            self.stats["gzip"] += 1
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
            return _raw(doc.gz, doc.ctype, headers)
        return _raw(doc.body, doc.ctype, headers)

    def opml(self) -> str:
        return farm_opml(self.feeds, self.port, self.one_host)


def _raw(body: bytes, ctype: str, headers: dict[str, str]) -> web.Response:
    resp = web.Response(body=body, headers=headers)
    resp.headers["Content-Type"] = ctype
    return resp


def _not_modified(request: web.Request, doc: Doc) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return doc.etag in tags or "*" in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return doc.modified.replace(microsecond=0) <= since
    return False


async def serve(args: argparse.Namespace) -> None:
    lo, hi = (float(x) for x in args.latency.split(","))
    small, large = (int(x) for x in args.post_bytes.split(","))
    farm = Farm(
        args.feeds, args.port, (lo, hi), args.fraction, args.seed, args.one_host, (small, large)
    )

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", farm.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    hosts = [ONE_HOST] if args.one_host else [host_of(i) for i in range(args.feeds)]
    for host in hosts:
        await web.TCPSite(runner, host, args.port, backlog=256).start()

    async def set_round(request: web.Request) -> web.Response:
        r = int(request.match_info["r"])
        farm.validators = request.query.get("validators", "1") != "0"
        info = await asyncio.get_running_loop().run_in_executor(None, farm.set_round, r)
        return web.json_response(info)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(dict(farm.stats))

    async def opml(request: web.Request) -> web.Response:
        return web.Response(text=farm.opml(), content_type="text/x-opml")

    async def urls(request: web.Request) -> web.Response:
        lines = (f"{feed_url(i, args.port, args.one_host)}\n" for i in range(farm.feeds))
        return web.Response(text="".join(lines))

    control = web.Application()
    control.router.add_post("/round/{r:\\d+}", set_round)
    control.router.add_get("/stats", stats)
    control.router.add_get("/farm.opml", opml)
    control.router.add_get("/urls.txt", urls)
    crunner = web.AppRunner(control, access_log=None, handle_signals=False)
    await crunner.setup()
    csite = web.TCPSite(crunner, "127.0.0.1", args.control_port)
    await csite.start()
    server = csite._server
    assert server is not None and server.sockets
    cport = server.sockets[0].getsockname()[1]
    ready = json.dumps({"control": f"http://127.0.0.1:{cport}", "feeds": args.feeds})
    if args.ready_file:
        await asyncio.to_thread(Path(args.ready_file).write_text, ready)
    print(ready, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.max_seconds)
    except TimeoutError:
        print("farm: --max-seconds reached, stopping", file=sys.stderr)
    await crunner.cleanup()
    await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--latency", default="20,200", help="uniform latency range in ms: LO,HI")
    ap.add_argument("--fraction", type=float, default=0.1, help="feeds gaining a post per round")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--ready-file")
    ap.add_argument("--max-seconds", type=float, default=7200)
    ap.add_argument(
        "--one-host", action="store_true", help=f"every feed on {ONE_HOST}, under /<i>/<path>"
    )
    ap.add_argument(
        "--post-bytes",
        default=",".join(map(str, POST_BYTES)),
        help="uniform range of a post's HTML size in bytes: LO,HI",
    )
    args = ap.parse_args()
    if args.feeds > 250 * 250:
        ap.error("at most 62,500 feeds (127.0.1.1 .. 127.0.250.250)")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
