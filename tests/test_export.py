"""The static export (export/) over the demo planet: every page and feed there, every internal
link finds its file (under a sub-path, and from the file system: all links are relative), the
feeds parse, and a second export writes only what changed, removes what is gone and equals a
fresh export; an interrupted export leaves the previous one intact.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from browser_support import populate_demo_store
from builders import cli, make_entry, plan
from export_support import broken_links, export_files
from netplanet.export import export_site
from netplanet.export.files import JOURNAL, MANIFEST, ExportDir
from netplanet.export.links import Links
from netplanet.export.pages import file_of
from netplanet.export.run import ExportResult
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store

BASE = "https://example.org/planet"
PAGE_SIZE = 10
SETTINGS = Settings(site_title="netplanet demo")
NOT_CONTENT = {MANIFEST, ".netplanet-export.lock"}


@dataclass
class Demo:
    db: Path
    out: Path
    now: datetime
    first: ExportResult


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = Path(tmp_path_factory.mktemp("export"))
    now = datetime.now(UTC).replace(microsecond=0)
    store, summary = populate_demo_store(folder / "demo.db", now=now)
    assert summary.new > 40
    try:
        first = _export(store, folder / "out", now)
    finally:
        store.close()
    yield Demo(folder / "demo.db", folder / "out", now, first)


def _export(store: SqlStore, out: Path, now: datetime, **kw: Any) -> ExportResult:
    return export_site(
        store, SETTINGS, out, base_url=BASE + "/", page_size=PAGE_SIZE, clock=lambda: now, **kw
    )


@pytest.fixture
def copy(demo: Demo, tmp_path: Path) -> Iterator[tuple[SqlStore, Path]]:
    """A store and an export of this test's own, copied from the module's."""
    shutil.copy(demo.db, tmp_path / "demo.db")
    shutil.copytree(demo.out, tmp_path / "out")
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        yield store, tmp_path / "out"
    finally:
        store.close()


def snapshot(root: Path) -> dict[str, bytes]:
    """The export's files and their bytes (not the manifest, lock or staging folder)."""
    return {
        f: (root / f).read_bytes()
        for f in export_files(root)
        if f not in NOT_CONTENT and not f.startswith(".netplanet-staging/")
    }


# --------------------------------------------------------------------------- what is there


def test_demo_export_has_every_kind_of_page(demo: Demo) -> None:
    files = export_files(demo.out)
    store = open_store(f"sqlite:///{demo.db}")
    try:
        ids = [e.id for e in store.list_entries(limit=10_000)]
        slugs = [s.slug for s in store.list_sources()]
    finally:
        store.close()
    expected = {
        "index.html",
        "page/1/index.html",
        "sources/index.html",
        "about/index.html",
        "search/index.html",
        "search/index.js",
        "feed.xml",
        "atom.xml",
        "feed.json",
        "opml.xml",
        "digest/index.html",
        "digest/feed.xml",
        "digest/atom.xml",
        "digest/feed.json",
        "category/networking/index.html",
        "category/networking/feed.xml",
        "topic/routing/index.html",
        "topic/routing/page/1/index.html",
        "topic/routing/atom.xml",
        *(f"post/{i}/index.html" for i in ids),
        *(f"source/{s}/index.html" for s in slugs),
        *(f"source/{s}/feed.json" for s in slugs),
    }
    assert expected <= files, sorted(expected - files)
    assert any(f.startswith("static/site.") and f.endswith(".css") for f in files)
    assert any(f.startswith("static/search.") and f.endswith(".js") for f in files)
    assert any(f.startswith("archive/") for f in files)
    assert any(f.startswith("digest/20") and f.endswith("/index.html") for f in files)
    assert any(f.startswith("search/20") for f in files)
    assert demo.first.missing == []
    assert len(files) - len(NOT_CONTENT) == demo.first.files


def test_every_internal_link_of_the_export_finds_its_file(demo: Demo) -> None:
    assert broken_links(demo.out) == []
    home = (demo.out / "index.html").read_text()
    assert 'href="post/' in home or 'href="../' not in home  # relative from the root
    deep = (demo.out / "topic/routing/page/1/index.html").read_text()
    assert 'href="../../../../post/' in deep
    assert 'href="/' not in deep and 'src="/' not in deep and 'action="/' not in deep


def test_cursor_pages_are_exported_as_numbered_more_pages(demo: Demo) -> None:
    """A list that the server pages with ?before= cursors (the demo's month archives hold
    more than a page) has its older pages at <front>more/N/, linked both ways."""
    files = export_files(demo.out)
    more = sorted(f for f in files if "/more/" in f)
    assert more, "the demo has lists longer than a page"
    first = more[0]
    front = first.split("more/")[0] + "index.html"
    up = "../" * first.count("/")
    assert f'rel="prev" href="{up}{front}"' in (demo.out / first).read_text()  # newer: the front
    older = "../" * front.count("/") + first
    assert f'rel="next" href="{older}"' in (demo.out / front).read_text()


def test_pages_are_the_sites_own_with_dates_instead_of_ages(demo: Demo) -> None:
    post = (demo.out / "index.html").read_text()
    assert 'class="post-title"' in post and "Skip to content" in post
    assert " ago<" not in post and "just now" not in post
    assert f'<link rel="canonical" href="{BASE}/">' in post
    page = (demo.out / "page/1/index.html").read_text()
    assert f'<link rel="canonical" href="{BASE}/page/1/">' in page
    assert "Page 1<" in page and "Page 1 of" not in page
    assert "label-filters" not in page  # no filtered copies of lists in an export


def test_search_page_loads_the_index_and_reads_without_javascript(demo: Demo) -> None:
    page = (demo.out / "search/index.html").read_text()
    assert '<script src="../search/index.js" data-search-index>' in page
    assert "<noscript>" in page
    assert "Leave out" not in page  # the label toggles are not exported: no empty fieldset
    index = (demo.out / "search/index.js").read_text()
    data = json.loads(index.removeprefix("window.npSearchIndex=").rstrip().rstrip(";"))
    assert data["shards"] and all((demo.out / "search" / s).is_file() for s in data["shards"])
    assert "routing" in data["topics"]
    rows = [
        json.loads(
            (demo.out / "search" / s)
            .read_text()
            .removeprefix("(window.npSearchRows=window.npSearchRows||[]).push(")
            .rstrip()
            .removesuffix(");")
        )
        for s in data["shards"]
    ]
    titles = {r[1] for part in rows for r in part}
    assert "BGP Add-Path in practice: what changes on the wire" in titles


# --------------------------------------------------------------------------- links

_SEGMENTS = st.lists(st.from_regex(r"[a-z0-9][a-z0-9-]{0,7}", fullmatch=True), max_size=5)


@given(here=_SEGMENTS, there=_SEGMENTS, fragment=st.sampled_from(["", "#main"]))
def test_a_rewritten_link_leads_from_any_page_to_its_file(
    here: list[str], there: list[str], fragment: str
) -> None:
    page = file_of("/" + "".join(f"{s}/" for s in here))
    served = "/" + "".join(f"{s}/" for s in there)
    target = file_of(served)
    out = Links(BASE, {target}, {}).html(page, f'<p><a class="x" href="{served}{fragment}">go</a>')
    href = out.split('href="', 1)[1].split('"', 1)[0]
    assert href.endswith(fragment) and not href.startswith("/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(page), href.split("#")[0])) == (
        target
    )
    # A page the export does not have: the anchor becomes text, the words stay.
    gone = Links(BASE, set(), {}).html(page, f'<p><a class="x" href="{served}">go</a>')
    assert gone == '<p><span class="x">go</span>'


# --------------------------------------------------------------------------- feeds


def _feed_files(root: Path) -> list[str]:
    return sorted(
        f for f in export_files(root) if f.endswith(("feed.xml", "atom.xml", "feed.json"))
    )


def test_output_feeds_parse_and_link_into_the_export(demo: Demo) -> None:
    files = export_files(demo.out)
    feeds = _feed_files(demo.out)
    assert len(feeds) > 30
    for name in feeds:
        if name.endswith(".json"):  # feedparser 6.0 reads no JSON Feed: its own checks
            data = json.loads((demo.out / name).read_bytes())
            assert data["version"] == "https://jsonfeed.org/version/1.1", name
            assert data["title"] and data["feed_url"] == f"{BASE}/{name}", name
            assert all(item["id"] and item["url"] for item in data["items"]), name
            continue
        parsed = feedparser.parse((demo.out / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert parsed.feed.get("title"), name
        for entry in parsed.entries:
            link = entry.get("link", "")
            assert link, name
            if link.startswith(BASE + "/"):  # the planet's own pages: the digest's weeks
                rest = link[len(BASE) + 1 :]
                assert rest in files or rest + "index.html" in files, (name, link)
    river = feedparser.parse((demo.out / "feed.xml").read_bytes())
    assert len(river.entries) > 20
    assert river.feed.link == BASE + "/"
    digest = feedparser.parse((demo.out / "digest/atom.xml").read_bytes())
    assert all(e.link.startswith(BASE + "/digest/20") for e in digest.entries)


# --------------------------------------------------------------------------- incremental


def test_a_second_export_writes_nothing(copy: tuple[SqlStore, Path], demo: Demo) -> None:
    store, out = copy
    before = snapshot(out)
    again = _export(store, out, demo.now)
    assert again.written == [] and again.removed == []
    assert again.rendered < demo.first.rendered // 2  # keyed pages are not even rendered
    assert snapshot(out) == before


def _add_post(store: SqlStore, now: datetime) -> int:
    source = next(s for s in store.list_sources() if s.slug == "route-reflections")
    entry = make_entry(
        source.id,
        9001,
        published=now - timedelta(minutes=5),
        title="Brand new post on BGP flowspec",
        url="https://route-reflections.example.net/flowspec/",
        topics=(("routing", 0.9),),
    )
    [result] = store.apply_updates([plan(source.id, new=(entry,))])
    assert not isinstance(result, Exception)
    [new] = store.list_entries(source_id=source.id, limit=1)
    assert new.title == "Brand new post on BGP flowspec"
    return new.id


def test_a_new_post_touches_only_the_files_that_show_it(
    copy: tuple[SqlStore, Path], demo: Demo, tmp_path: Path
) -> None:
    store, out = copy
    before = snapshot(out)
    new_id = _add_post(store, demo.now)
    result = _export(store, out, demo.now)
    written = set(result.written)
    assert f"post/{new_id}/index.html" in written
    assert {"index.html", "feed.xml", f"search/{demo.now:%Y-%m}.js"} <= written
    assert "search/index.js" not in written  # the same shards and sources: only one shard
    assert "source/route-reflections/index.html" in written
    assert "topic/routing/index.html" in written
    # Sealed pages and other posts' pages are not touched.
    assert not [f for f in written if "/page/" in f or f.startswith("page/")]
    assert not [f for f in written if f.startswith("post/") and f != f"post/{new_id}/index.html"]
    assert len(written) < 40
    after = snapshot(out)
    assert {f for f in after if after[f] != before.get(f)} == written
    # ... and the result is exactly a fresh export of the same planet.
    assert snapshot(_export_fresh(store, tmp_path, demo.now)) == after
    assert broken_links(out) == []


def _export_fresh(store: SqlStore, tmp_path: Path, now: datetime) -> Path:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    _export(store, fresh, now)
    return fresh


def test_a_removed_sources_files_are_deleted(
    copy: tuple[SqlStore, Path], demo: Demo, tmp_path: Path
) -> None:
    store, out = copy
    source = next(s for s in store.list_sources() if s.slug == "telemetry-lab")
    ids = [e.id for e in store.list_entries(source_id=source.id, limit=100)]
    assert ids
    store.remove_source(source.id)
    result = _export(store, out, demo.now)
    for i in ids:
        assert f"post/{i}/index.html" in result.removed
        assert not (out / f"post/{i}").exists()  # the emptied folder too
    assert not (out / "source/telemetry-lab").exists()
    assert broken_links(out) == []
    assert snapshot(_export_fresh(store, tmp_path, demo.now)) == snapshot(out)


def test_an_export_interrupted_while_rendering_leaves_the_previous_one_intact(
    copy: tuple[SqlStore, Path], demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = copy
    before = snapshot(out)
    _add_post(store, demo.now)
    real_put = ExportDir.put
    calls = 0

    def crashing_put(self: ExportDir, rel: str, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise KeyboardInterrupt  # Ctrl-C, or the process killed
        real_put(self, rel, data)

    monkeypatch.setattr(ExportDir, "put", crashing_put)
    with pytest.raises(KeyboardInterrupt):
        _export(store, out, demo.now)
    assert snapshot(out) == before
    monkeypatch.undo()
    result = _export(store, out, demo.now)
    assert 0 < len(result.written) < 40
    assert broken_links(out) == []


def test_an_export_interrupted_while_committing_is_finished_from_its_journal(
    copy: tuple[SqlStore, Path], demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import netplanet.export.files as files_module

    store, out = copy
    _add_post(store, demo.now)
    real_replace = files_module.os.replace
    calls = 0

    def crashing_replace(src: Any, dst: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:  # after the journal and two files
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(files_module.os, "replace", crashing_replace)
    with pytest.raises(OSError, match="power cut"):
        _export(store, out, demo.now)
    monkeypatch.undo()
    assert (out / JOURNAL).exists()
    with ExportDir(out):  # opening an export finishes the interrupted commit
        pass
    assert not (out / JOURNAL).exists()
    assert snapshot(out) == snapshot(_export_fresh(store, tmp_path, demo.now))
    assert _export(store, out, demo.now).written == []


def test_a_stopped_export_commits_nothing(copy: tuple[SqlStore, Path], demo: Demo) -> None:
    from netplanet.export.run import ExportStopped

    store, out = copy
    before = snapshot(out)
    _add_post(store, demo.now)
    with pytest.raises(ExportStopped):
        _export(store, out, demo.now, stop=lambda: True)
    assert snapshot(out) == before


# --------------------------------------------------------------------------- the command


def test_export_command_prints_one_summary_line(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{demo.db}"
    out = tmp_path / "site"
    code, stdout, _ = cli(capsys, "--database", db, "export", "--out", str(out))
    assert code == 0
    assert stdout.startswith("wrote ") and ", unchanged 0, removed 0 files in " in stdout
    assert broken_links(out) == []
    # No --base-url and no site_url: the feeds point at the files themselves.
    assert out.resolve().as_uri() in (out / "feed.xml").read_text()
    code, stdout, _ = cli(capsys, "--database", db, "export", "--out", str(out))
    assert code == 0 and stdout.startswith("wrote 0, unchanged ")


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda p: p.write_text("x") and p, [], "is a file, not a directory"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("x"))[0] or p, [], "other files"),
        (lambda p: p, ["--base-url", "ftp://example.org/"], "not an absolute http(s) URL"),
        (lambda p: p, ["--base-url", "https://example.org/?x=1"], "not an absolute http(s)"),
    ],
)
def test_export_command_errors_are_one_line(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Any],
    args: list[str],
    message: str,
) -> None:
    target = tmp_path / "target"
    make(target)
    db = f"sqlite:///{demo.db}"
    code, _, stderr = cli(capsys, "--database", db, "export", "--out", str(target), *args)
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- both databases


def test_export_on_each_database(store: SqlStore, tmp_path: Path) -> None:
    """The catalog and search reads the export adds, on SQLite and PostgreSQL alike."""
    from builders import spec

    store.add_sources([spec(1, category="Networking"), spec(2, category="Security")])
    sources = store.list_sources()
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    plans = [
        plan(
            s.id,
            new=tuple(
                make_entry(
                    s.id,
                    100 * s.id + n,
                    published=now - timedelta(days=n),
                    url=f"https://{s.slug}.example.net/{n}/",
                    title=f"Post {n} of {s.slug} on EVPN",
                    topics=(("datacenter", 0.8),),
                )
                for n in range(25)
            ),
        )
        for s in sources
    ]
    store.apply_updates(plans)
    store.seal_pages(now - timedelta(days=2))
    out = tmp_path / "out"
    first = export_site(store, SETTINGS, out, base_url=BASE, page_size=5, clock=lambda: now)
    assert first.missing == [] and first.files > 100
    assert broken_links(out) == []
    catalog = store.catalog()
    assert len(catalog.entries) == 50 and len(catalog.sources) == 2
    assert any(p[0] == "t:datacenter" and p[1] for e in catalog.entries for p in e.places)
    rows = store.search_rows(now - timedelta(days=40), now + timedelta(days=1))
    assert len(rows) == 50 and rows[0].published <= rows[-1].published
    assert rows[0].topics == ("datacenter",)
    again = export_site(store, SETTINGS, out, base_url=BASE, page_size=5, clock=lambda: now)
    assert again.written == []
    # A new post: the incremental export is exactly a fresh one (sources here have sealed
    # numbered pages, which must not change, nor go stale).
    fresh_post = make_entry(
        sources[0].id, 999, published=now - timedelta(hours=1), title="Late news on EVPN"
    )
    store.apply_updates([plan(sources[0].id, new=(fresh_post,))])
    after = export_site(store, SETTINGS, out, base_url=BASE, page_size=5, clock=lambda: now)
    assert not [f for f in after.written if "/page/" in f or f.startswith("page/")]
    fresh = tmp_path / "fresh"
    export_site(store, SETTINGS, fresh, base_url=BASE, page_size=5, clock=lambda: now)
    assert snapshot(out) == snapshot(fresh)
