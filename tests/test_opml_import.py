"""OPML imports through the one shared path (netplanet.operations.imports): the CLI and the
admin, the limits, skipped outlines with their reasons, bounded titles, the bulk insert, and
the site answering while an admin import runs."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from builders import NOW, spec, sqlite_url
from netplanet.errors import ConfigError
from netplanet.model import SourceSpec
from netplanet.operations.imports import MAX_NEW_CATEGORIES, import_specs
from netplanet.settings import load_settings
from netplanet.sources.bounds import MAX_CATEGORY_CHARS, MAX_TITLE_CHARS
from netplanet.store import SqlStore
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, Clock, csrf_of, make_client, signed_in
from test_cli import cli

GIANT = "routing " * 250_000  # 2,000,000 characters


def make_opml(n: int, *, folders: int = 20, extra: str = "") -> bytes:
    """N feed outlines in `folders` folders, like a feed reader's export, plus `extra` XML."""
    per = -(-n // folders)
    parts = ['<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n', extra]
    for f in range(folders):
        members = range(f * per, min(n, (f + 1) * per))
        if not members:
            break
        parts.append(f'<outline text="Folder {f}">\n')
        parts.extend(
            f'<outline text="Blog {i}" xmlUrl="https://b{i}.example.net/feed"/>\n' for i in members
        )
        parts.append("</outline>\n")
    parts.append("</body></opml>\n")
    return "".join(parts).encode()


BAD_OUTLINES = (
    '<outline text="Gopher" xmlUrl="gopher://old.example.net/feed"/>\n'
    '<outline text="Local" xmlUrl="file:///etc/passwd"/>\n'
    '<outline text="Meta" xmlUrl="http://169.254.169.254/latest/"/>\n'
)


# --------------------------------------------------------------------------- store: bulk insert


def test_add_sources_skips_known_and_repeated_urls_and_reports_progress(store: SqlStore) -> None:
    store.add_source(spec(1))
    specs = [spec(n) for n in range(1, 1201)] + [spec(5)]
    seen: list[int] = []
    assert store.add_sources(specs, progress=seen.append) == 1199
    assert seen == [500, 1000, 1201]
    assert len(store.list_sources()) == 1200


def test_add_sources_gives_equal_titles_distinct_slugs_and_one_category(store: SqlStore) -> None:
    specs = [
        SourceSpec(f"https://b{i}.example.net/feed", "Same Title", category="Lab")
        for i in range(1100)
    ]
    assert store.add_sources(specs) == 1100
    slugs = [s.slug for s in store.list_sources()]
    assert len(set(slugs)) == 1100 and "same-title" in slugs and "same-title-1100" in slugs
    assert [c.slug for c in store.list_categories()] == ["lab"]


def test_add_sources_survives_a_slug_taken_meanwhile(store: SqlStore) -> None:
    # Between two chunks another writer adds a source whose slug the next chunk also wants:
    # the chunk is retried with the slugs read again, and nothing is lost.
    specs = [SourceSpec(f"https://b{i}.example.net/feed", "Blog") for i in range(700)]

    def meanwhile(done: int) -> None:
        if done == 500:
            store.add_source(SourceSpec("https://other.example.net/feed", "Blog"))

    assert store.add_sources(specs, progress=meanwhile) == 700
    assert len({s.slug for s in store.list_sources()}) == 701


def test_titles_and_categories_are_bounded_on_every_store_path(store: SqlStore) -> None:
    one = store.add_source(SourceSpec("https://a.example/f", GIANT, category=GIANT))
    store.add_sources([SourceSpec("https://b.example/f", GIANT, category=GIANT + "x")])
    edited = store.edit_source(one.id, title=GIANT + "y", category=GIANT + "z")
    for source in [*store.list_sources(), edited]:
        assert 0 < len(source.title) <= MAX_TITLE_CHARS and source.title.endswith("…")
        assert 0 < len(source.category) <= MAX_CATEGORY_CHARS
    assert all(len(c.name) <= MAX_CATEGORY_CHARS for c in store.list_categories())


def test_a_giant_feed_title_is_bounded_when_the_source_learns_it() -> None:
    from netplanet.update import decide
    from test_decide import FEED, OK, SOURCE

    plan = decide.plan_entries(SOURCE, OK, replace(FEED, title=GIANT), [], [], NOW)
    assert plan.source.title is not None and len(plan.source.title) <= MAX_TITLE_CHARS


def test_one_import_creates_a_bounded_number_of_categories(store: SqlStore) -> None:
    count = MAX_NEW_CATEGORIES + 20
    specs = [
        SourceSpec(f"https://b{i}.example.net/feed", f"Blog {i}", category=f"Topic {i}")
        for i in range(count)
    ]
    report = import_specs(store, specs, allow_private=False)
    assert report.added == count
    assert len(store.list_categories()) == MAX_NEW_CATEGORIES
    assert sum(1 for s in store.list_sources() if not s.category) == 20
    assert len(report.notes) == 1 and f"at most {MAX_NEW_CATEGORIES}" in report.notes[0]


def test_recent_sources_are_the_latest_posters_by_title(store: SqlStore) -> None:
    from datetime import timedelta

    from builders import make_entry, plan

    ids = [store.add_source(spec(n, title=t)).id for n, t in enumerate("CBAD", start=1)]
    for age, source_id in enumerate(ids):  # C posted last, then B, A, D
        entry = make_entry(source_id, age, published=NOW - timedelta(days=age))
        store.apply_update(plan(source_id, (entry,)))
    store.add_source(spec(9, title="Silent"))
    assert [s.title for s in store.recent_sources(3)] == ["A", "B", "C"]
    assert [s.title for s in store.recent_sources(10, scan=2)] == ["B", "C"]


def test_opml_max_outlines_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="NETPLANET_OPML_MAX_OUTLINES"):
        load_settings(env={"NETPLANET_OPML_MAX_OUTLINES": "0"})


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def db(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "cli.db")


def _stored(db: str) -> list[Any]:
    from netplanet.store import open_store

    s = open_store(db)
    try:
        return s.list_sources()
    finally:
        s.close()


def test_cli_imports_twenty_thousand_outlines(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPLANET_OPML_MAX_OUTLINES", "20000")
    opml = tmp_path / "big.opml"
    opml.write_bytes(make_opml(20_000))
    code, out, _ = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 0 and "imported 20,000 sources (0 already present)" in out
    stored = _stored(db)
    assert len(stored) == 20_000 and len({s.slug for s in stored}) == 20_000


def test_cli_refuses_a_file_over_the_outline_limit_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPLANET_OPML_MAX_OUTLINES", "50")
    opml = tmp_path / "big.opml"
    opml.write_bytes(make_opml(51))
    code, out, err = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "51 feed outlines" in err and "limit of 50" in err and "opml_max_outlines" in err
    assert _stored(db) == []


def test_cli_refuses_an_oversized_file_before_reading_it(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPLANET_OPML_MAX_OUTLINES", "10")  # the floor: 5 MB
    opml = tmp_path / "padded.opml"
    opml.write_bytes(make_opml(3).replace(b"<head/>", b"<head/>" + b" " * (6 << 20)))
    code, _, err = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 2 and "over the 5.0 MB" in err and len(err.strip().splitlines()) == 1
    assert _stored(db) == []


def test_cli_skips_unusable_outlines_with_a_line_each(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    opml = tmp_path / "mixed.opml"
    opml.write_bytes(make_opml(3, folders=1, extra=BAD_OUTLINES))
    code, out, err = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 0 and "imported 3 sources (0 already present, 3 skipped)" in out
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("skipped: line ") for line in lines)
    assert "gopher://old.example.net/feed: scheme 'gopher'" in lines[0]
    assert "file:///etc/passwd: scheme 'file'" in lines[1]
    assert "169.254.169.254" in lines[2] and "cloud metadata" in lines[2]
    assert sorted(s.title for s in _stored(db)) == ["Blog 0", "Blog 1", "Blog 2"]


def test_cli_bounds_a_giant_opml_title(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    opml = tmp_path / "giant.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline text="{GIANT}" xmlUrl="https://a.example/f"/>'
        "</body></opml>"
    )
    code, _, _ = cli(capsys, "--database", db, "sources", "import", str(opml))
    [source] = _stored(db)
    assert code == 0 and len(source.title) <= MAX_TITLE_CHARS


# --------------------------------------------------------------------------- admin


@pytest.fixture
def admin(store: SqlStore) -> Iterator[AdminClient]:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, Clock(), opml_max_outlines=20_000) as c:
        yield c


def _upload(client: AdminClient, data: bytes, name: str = "list.opml") -> Any:
    csrf = csrf_of(client.get("/admin/opml").text)
    return client.post(
        "/admin/opml", data={"csrf": csrf}, files={"file": (name, data, "text/x-opml")}
    )


def _finished(client: AdminClient, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = client.get("/admin/opml").text
        if 'data-import-state="running"' not in page:
            return page
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)


def test_admin_imports_twenty_thousand_outlines(admin: AdminClient, store: SqlStore) -> None:
    signed_in(admin)
    response = _upload(admin, make_opml(20_000))
    assert response.status_code == 200
    page = _finished(admin)
    assert "Imported 20,000 sources (0 already present)" in page
    assert len(store.list_sources()) == 20_000


def test_admin_import_runs_while_the_site_keeps_answering(
    admin: AdminClient, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(admin)
    release, entered = threading.Event(), threading.Event()
    bulk = store.add_sources

    def held(specs: Any, **kw: Any) -> int:
        entered.set()
        assert release.wait(30)
        return bulk(specs, **kw)

    monkeypatch.setattr(store, "add_sources", held)
    started = time.monotonic()
    answer = _upload(admin, make_opml(1_000))
    # The upload answered while the import is held mid-way, and so do other pages.
    assert answer.status_code == 200 and entered.is_set()
    assert 'data-import-state="running"' in answer.text and "of 1,000 sources" in answer.text
    assert admin.get("/healthz").status_code == 200
    assert admin.get("/").status_code == 200
    again = _upload(admin, make_opml(5))
    assert again.status_code == 400 and "an import of list.opml is running" in again.text
    assert time.monotonic() - started < 25  # nothing waited for the held import
    release.set()
    assert "Imported 1,000 sources" in _finished(admin)
    assert len(store.list_sources()) == 1_000


def test_admin_refuses_a_file_over_the_outline_limit(store: SqlStore) -> None:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, Clock(), opml_max_outlines=10) as client:
        signed_in(client)
        page = _upload(client, make_opml(11))
        assert page.status_code == 400
        assert "11 feed outlines" in page.text and "limit of 10" in page.text
        assert "opml_max_outlines" in page.text
    assert store.list_sources() == []


def test_admin_lists_skipped_outlines_with_reasons(admin: AdminClient, store: SqlStore) -> None:
    signed_in(admin)
    _upload(admin, make_opml(2, folders=1, extra=BAD_OUTLINES))
    page = _finished(admin)
    assert "Imported 2 sources (0 already present, 3 skipped)" in page
    items = re.findall(r"<li>(line \d+: [^<]*)</li>", page)
    assert len(items) == 3
    assert "scheme &#39;gopher&#39;" in items[0] and "cloud metadata" in items[2]
    assert len(store.list_sources()) == 2


def test_admin_caps_the_skipped_lines_it_shows(admin: AdminClient, store: SqlStore) -> None:
    signed_in(admin)
    bad = "".join(f'<outline xmlUrl="gopher://h{i}.example/f"/>' for i in range(250))
    _upload(admin, make_opml(1, folders=1, extra=bad))
    page = _finished(admin)
    assert "250 skipped" in page and "… and 150 more" in page
    assert len(re.findall(r"<li>line \d+:", page)) == 100


def test_admin_edit_bounds_a_giant_title(admin: AdminClient, store: SqlStore) -> None:
    source = store.add_source(spec(1))
    csrf = signed_in(admin)
    admin.post(
        f"/admin/sources/{source.id}",
        data={"csrf": csrf, "action": "save", "title": GIANT[:100_000], "category": "Lab"},
    )
    edited = store.get_source(source.id)
    assert edited is not None and len(edited.title) <= MAX_TITLE_CHARS


def test_an_import_left_running_by_a_stopped_server_counts_as_interrupted(
    store: SqlStore,
) -> None:
    import json
    from datetime import timedelta

    from netplanet.web.admin.imports import STALE_AFTER_S, STATUS_KEY

    left = {"state": "running", "file": "old.opml", "started": NOW.isoformat()}
    store.set_setting(STATUS_KEY, json.dumps(left | {"updated": NOW.isoformat(), "total": 9}))
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    clock = Clock()
    with make_client(store, clock) as client:
        signed_in(client)
        assert "an import of old.opml is running" in _upload(client, make_opml(2)).text
        clock.now = NOW + timedelta(seconds=STALE_AFTER_S + 1)
        assert "Import of old.opml interrupted" in client.get("/admin/opml").text
        _upload(client, make_opml(2))
        assert "Imported 2 sources" in _finished(client)
    assert len(store.list_sources()) == 2
