"""Entries a poll finds unchanged are neither enriched nor rewritten (raw hashes, 0005)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builders import NOW, make_entry, plan
from feedserver import feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import (
    Enclosure,
    Entry,
    ExistingEntry,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    ParsedEntry,
    ParsedFeed,
    Source,
    SourceSpec,
)
from netplanet.store import SqlStore
from netplanet.update import decide
from netplanet.update import digest as digest_module
from netplanet.update.digest import RAW_FIELDS, digest, raw_hash
from netplanet.update.pipeline import SourceReport, UpdatePipeline

POSTS = [(f"p{n}", f"Post {n} on OSPF areas", f"<p>Area {n} is a stub.</p>") for n in range(4)]
LATER = datetime(2026, 12, 1, tzinfo=UTC)  # after every date rss() writes
KW: dict[str, Any] = {"content_type": "", "source_id": 1, "source_category": "", "now": LATER}
URL = "http://x/feed"


@pytest.fixture
def enriched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Titles of the entries enriched (inline digest only)."""
    titles: list[str] = []
    real = digest_module.draft_entry

    def counting(entry: ParsedEntry, **kw: Any) -> Any:
        titles.append(entry.title)
        return real(entry, **kw)

    monkeypatch.setattr(digest_module, "draft_entry", counting)
    yield titles


# ----------------------------------------------------------------------------- digest


def test_digest_skips_entries_whose_raw_hash_is_known(enriched: list[str]) -> None:
    first = digest(rss(POSTS), url=URL, excerpt_words=50, **KW)
    assert len(first.entries) == 4 and first.known == ()
    assert all(e.raw_hash for e in first.entries)
    hashes = frozenset(e.raw_hash for e in first.entries[:3])
    enriched.clear()
    second = digest(rss(POSTS), url=URL, excerpt_words=50, known=hashes, **KW)
    assert [e.title for e in second.entries] == ["Post 3 on OSPF areas"] == enriched
    assert set(second.known) == hashes


def test_raw_hash_covers_fields_and_what_else_enrich_reads() -> None:
    entry = ParsedEntry(guid="g", link="http://x/1", title="T", content_html="<p>a</p>")
    base = raw_hash(entry, url=URL, source_category="", excerpt_words=50)
    assert base == raw_hash(entry, url=URL, source_category="", excerpt_words=50)
    others = [
        raw_hash(
            dataclasses.replace(entry, content_html="<p>b</p>"),
            url=URL,
            source_category="",
            excerpt_words=50,
        ),
        raw_hash(
            dataclasses.replace(entry, summary_html="s"),
            url=URL,
            source_category="",
            excerpt_words=50,
        ),
        raw_hash(
            dataclasses.replace(entry, published=NOW), url=URL, source_category="", excerpt_words=50
        ),
        raw_hash(entry, url="http://y/feed", source_category="", excerpt_words=50),
        raw_hash(entry, url=URL, source_category="News", excerpt_words=50),
        raw_hash(entry, url=URL, source_category="", excerpt_words=20),
    ]
    assert base not in others and len(set(others)) == len(others)


def test_entries_dated_after_now_are_always_enriched() -> None:
    ahead = (LATER + timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = rss(POSTS[:1]).replace(b"Tue, 10 Nov 2026 08:00:00 GMT", ahead.encode())
    first = digest(body, url=URL, excerpt_words=50, **KW)
    again = digest(
        body, url=URL, excerpt_words=50, known=frozenset({first.entries[0].raw_hash}), **KW
    )
    assert len(again.entries) == 1 and again.known == ()


# ----------------------------------------------------------------------------- decide

SOURCE = Source(
    id=7, feed_url="https://a.example/feed", title="", site_url="", category="", slug="a"
)
OK = FetchResult(
    request=FetchRequest(url=SOURCE.feed_url),
    outcome=FetchOutcome.OK,
    final_url=SOURCE.feed_url,
    status=200,
    body=b"<rss/>",
)
FEED = ParsedFeed(format="rss20")


def stored(n: int, **kw: Any) -> ExistingEntry:
    e = make_entry(SOURCE.id, n)
    values: dict[str, Any] = {
        "id": 100 + n,
        "key": e.key,
        "guid": e.guid,
        "url": e.url,
        "title_date_hash": e.title_date_hash,
        "fingerprint": e.fingerprint,
        "first_seen": NOW - timedelta(days=1),
        "published": e.published,
        "raw_hash": f"r{n}",
    }
    values.update(kw)
    return ExistingEntry(**values)


def test_known_entries_are_unchanged_and_cannot_be_matched_again() -> None:
    # Entry 2 now carries entry 1's URL: without the claim it would overwrite stored entry 1.
    other = make_entry(7, 2, url=make_entry(7, 1).url, key="g:other", title_date_hash="x")
    known = [stored(1)]
    result = decide.plan_entries(SOURCE, OK, FEED, [other], known, NOW, known=known)
    assert result.new_entries == (other,) and result.changed_entries == ()
    assert result.unchanged_entries == 1 and result.rehashed_entries == ()


def test_unchanged_entry_with_a_missing_or_stale_raw_hash_is_rehashed() -> None:
    same = make_entry(7, 1, raw_hash="r-new")
    legacy = stored(1, raw_hash=None)
    result = decide.plan_entries(SOURCE, OK, FEED, [same], [legacy], NOW)
    assert result.unchanged_entries == 1 and result.rehashed_entries == ((101, "r-new"),)
    current = decide.plan_entries(
        SOURCE, OK, FEED, [dataclasses.replace(same, raw_hash="r1")], [stored(1)], NOW
    )
    assert current.unchanged_entries == 1 and current.rehashed_entries == ()


# ----------------------------------------------------------------------------- store


def test_store_keeps_raw_hashes_and_finds_entries_by_them(store: SqlStore) -> None:
    source = store.add_source(SourceSpec(feed_url="https://a.example/feed"))
    store.apply_update(
        plan(source.id, (make_entry(source.id, 1, raw_hash="r1"), make_entry(source.id, 2)))
    )
    assert store.known_raw_hashes(source.id, limit=10) == frozenset({"r1"})
    (found,) = store.existing_entries(source.id, raw_hashes=["r1"])
    assert (found.key, found.raw_hash) == ("g:post-1", "r1")
    other = store.existing_entries(source.id, keys=["g:post-2"])
    assert other[0].raw_hash is None
    store.apply_update(plan(source.id, rehashed_entries=((other[0].id, "r2"),)))
    assert store.known_raw_hashes(source.id, limit=10) == frozenset({"r1", "r2"})
    # Only the newest entries count (entry 1 is an hour newer than entry 2).
    assert store.known_raw_hashes(source.id, limit=1) == frozenset({"r1"})


# ----------------------------------------------------------------------------- pipeline


def _polls(store: SqlStore, bodies: list[bytes]) -> list[SourceReport]:
    async def main() -> list[SourceReport]:
        reports = []
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            pipeline = UpdatePipeline(store, fetcher)
            source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
            for body in bodies:
                server.static("/feed.xml", body)
                source = store.get_source(source_id)
                assert source is not None
                reports.append(await pipeline.update_source(source))
        return reports

    return asyncio.run(main())


def _rows(store: SqlStore) -> list[tuple[object, ...]]:
    """Every entry row, raw_hash last (later migrations add columns after it)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM entries ORDER BY id").mappings()
        return [(*(v for k, v in r.items() if k != "raw_hash"), r["raw_hash"]) for r in rows]


def test_a_new_post_enriches_only_itself(store: SqlStore, enriched: list[str]) -> None:
    more = [*POSTS, ("p9", "Post 9 on OSPF areas", "<p>Totally stubby.</p>")]
    first, second = _polls(store, [rss(POSTS), rss(more)])
    assert first.new == 4 and (second.new, second.changed, second.unchanged) == (1, 0, 4)
    assert enriched[4:] == ["Post 9 on OSPF areas"]
    assert store.count_entries() == 5


def test_an_edited_post_is_enriched_and_rewritten(store: SqlStore, enriched: list[str]) -> None:
    edited = [POSTS[0], (POSTS[1][0], POSTS[1][1], "<p>Area 1 is now NSSA.</p>"), *POSTS[2:]]
    _, second = _polls(store, [rss(POSTS), rss(edited)])
    assert (second.new, second.changed, second.unchanged) == (0, 1, 3)
    assert enriched[4:] == [POSTS[1][1]]
    assert any("NSSA" in e.content_html for e in store.list_entries())


def test_rows_stored_without_a_raw_hash_get_one_and_are_left_alone(
    store: SqlStore, enriched: list[str]
) -> None:
    # The first poll stores the rows; dropping the hashes makes them look pre-0005.
    def forget_hashes() -> None:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE entries SET raw_hash = NULL")

    changed_build = rss(POSTS).replace(b"<description>d</description>", b"<ttl>60</ttl>")

    async def main() -> list[SourceReport]:
        reports = []
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            pipeline = UpdatePipeline(store, fetcher)
            source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
            for n, body in enumerate([rss(POSTS), changed_build, rss(POSTS)]):
                server.static("/feed.xml", body)
                source = store.get_source(source_id)
                assert source is not None
                reports.append(await pipeline.update_source(source))
                if n == 0:
                    forget_hashes()
                    before = _rows(store)
                if n == 1:
                    # Same content: only the raw_hash column was filled in.
                    after = _rows(store)
                    assert [r[:-1] for r in after] == [r[:-1] for r in before]
                    assert all(r[-1] for r in after)
        return reports

    reports = asyncio.run(main())
    assert [(r.new, r.changed, r.unchanged) for r in reports[1:]] == [(0, 0, 4), (0, 0, 4)]
    assert len(enriched) == 8  # the legacy rows were enriched once more, then never again


def test_digest_known_is_picklable() -> None:
    import pickle

    result = digest(rss(POSTS), url=URL, excerpt_words=50, known=frozenset({"a"}), **KW)
    assert pickle.loads(pickle.dumps(result)) == result


def test_an_entry_with_every_field_set_survives_the_pools_pickle() -> None:
    # Entry pickles as its constructor's arguments: every field, in order, comes back.
    import pickle

    entry = Entry(
        source_id=7,
        key="g:x",
        guid="x",
        url="https://example.org/p",
        title_date_hash="tdh",
        title="T",
        author="A",
        published=NOW,
        updated=NOW + timedelta(hours=1),
        content_html="<p>c</p>",
        excerpt_html="<p>e</p>",
        text="c",
        categories=("Networking",),
        tags=("bgp",),
        enclosure=Enclosure("https://example.org/a.mp3", "audio/mpeg", 12),
        duration_s=60,
        sponsored=True,
        fingerprint="v1:f",
        date_from_feed=False,
        date_known=False,
        raw_hash="r",
        topics=(("routing", 0.5),),
        podcast=True,
        simhash=-5,
        story_keys=("u:1", "t:2"),
    )
    # No field left at its default, so a field pickled in another's place would show.
    assert all(getattr(entry, f.name) != f.default for f in dataclasses.fields(Entry))
    assert pickle.loads(pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)) == entry


def test_hashes_do_not_depend_on_the_clock() -> None:
    later = {**KW, "now": datetime(2026, 12, 24, tzinfo=UTC)}
    a = digest(rss(POSTS), url=URL, excerpt_words=50, **KW)
    b = digest(rss(POSTS), url=URL, excerpt_words=50, **later)
    assert [e.raw_hash for e in a.entries] == [e.raw_hash for e in b.entries]


def test_raw_hash_reads_every_field_of_a_parsed_entry() -> None:
    # A field added to ParsedEntry must be added to raw_hash (and RAW_FIELDS), or an entry
    # changed only in that field would be skipped as unchanged.
    assert set(RAW_FIELDS) == {f.name for f in dataclasses.fields(ParsedEntry)}
    base = ParsedEntry(guid="g", link="http://x/1", title="T")
    variants = {
        "guid": None,
        "link": "http://x/2",
        "title": "U",
        "content_html": "<p>c</p>",
        "summary_html": "<p>s</p>",
        "author": "A",
        "published": NOW,
        "updated": NOW,
        "categories": ("c",),
        "enclosures": (Enclosure(url="http://x/e.mp3"),),
        "duration_s": 60,
        "media_html": "<p>m</p>",
    }
    assert set(variants) == set(RAW_FIELDS)
    seen = {raw_hash(base, url=URL, source_category="", excerpt_words=50)}
    for name, value in variants.items():
        seen.add(
            raw_hash(
                dataclasses.replace(base, **{name: value}),
                url=URL,
                source_category="",
                excerpt_words=50,
            )
        )
    assert len(seen) == len(variants) + 1


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(1)
        self.calls = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


def test_first_polls_use_the_executor_and_re_polls_parse_inline(store: SqlStore) -> None:
    more = [*POSTS, ("p9", "Post 9 on OSPF areas", "<p>Totally stubby.</p>")]

    async def main() -> list[int]:
        calls = []
        with CountingExecutor() as executor:
            async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
                pipeline = UpdatePipeline(store, fetcher, executor=executor)
                source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
                for body in (rss(POSTS), rss(more)):
                    server.static("/feed.xml", body)
                    source = store.get_source(source_id)
                    assert source is not None
                    await pipeline.update_source(source)
                    calls.append(executor.calls)
        return calls

    assert asyncio.run(main()) == [1, 1]
    assert store.count_entries() == 5


def test_existing_entries_with_more_identities_than_one_statement_takes(store: SqlStore) -> None:
    source = store.add_source(SourceSpec(feed_url="https://a.example/feed"))
    store.apply_update(plan(source.id, (make_entry(source.id, 1), make_entry(source.id, 2))))
    keys = [f"g:none-{n}" for n in range(1200)] + ["g:post-2"]
    urls = [f"https://x.example/{n}" for n in range(700)] + [make_entry(source.id, 1).url]
    found = store.existing_entries(source.id, keys=keys, urls=urls)
    assert [e.key for e in found] == ["g:post-1", "g:post-2"]
