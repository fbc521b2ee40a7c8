"""`netplanet db backup` / `db restore`: a snapshot taken while an update round writes restores
into SQLite and PostgreSQL with every post, source, category and setting, and search finds
every post; PostgreSQL backs up too; and a backup of the previous schema migrates forward."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from builders import cli, spec, sqlite_url
from conftest import postgres_schema
from feedserver import FeedServer, rss
from netplanet.store import SqlStore, open_store
from netplanet.store.backup import read_backup, write_backup
from netplanet.store.copy import _TABLES, table_digest
from netplanet.store.migrate import _config, head_revision
from netplanet.store.schema import app_settings

FEEDS = 20
POSTS = 15


def token(feed: int, n: int) -> str:
    """A word only one post has, so a search for it must find that post."""
    return f"zq{feed}x{n}w"


def feed_body(feed: int) -> bytes:
    words = ["routing", "peering", "latency", "optics", "telemetry", "fabric", "carrier"]
    items = [
        (
            f"f{feed}-p{n}",
            f"{words[(feed + n) % 7].title()} notes {feed}.{n} {token(feed, n)}",
            f"<p>{' '.join(words[(feed * n + k) % 7] for k in range(12))} {token(feed, n)} "
            f"entry {n} of feed {feed} with its own words {feed * 1000 + n}</p>",
        )
        for n in range(POSTS)
    ]
    return rss(items, title=f"Feed {feed}")


def serve_feeds(loopback: FeedServer, *, delay: float) -> None:
    for feed in range(FEEDS):
        body = feed_body(feed)

        def handler(_req: Any, body: bytes = body) -> tuple[int, dict[str, str], bytes]:
            time.sleep(delay)  # the round takes a while: backups run while it writes
            return 200, {"Content-Type": "application/rss+xml"}, body

        loopback.routes[f"/f{feed}.xml"] = handler


def import_sources(capsys: pytest.CaptureFixture[str], url: str, loopback: FeedServer) -> None:
    """Two categories of loopback feeds (private addresses allowed, as `env` does)."""
    outlines = [
        f'<outline text="Feed {feed}" xmlUrl="{loopback.url(f"/f{feed}.xml")}"/>'
        for feed in range(FEEDS)
    ]
    half = FEEDS // 2
    opml = Path(url.removeprefix("sqlite:///")).parent / "planet.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        f'<outline text="Vendors">{"".join(outlines[:half])}</outline>'
        f'<outline text="Operators">{"".join(outlines[half:])}</outline>'
        "</body></opml>"
    )
    os.environ["NETPLANET_ALLOW_PRIVATE_NETWORKS"] = "1"
    try:
        code, out, err = cli(capsys, "--database", url, "sources", "import", str(opml))
    finally:
        del os.environ["NETPLANET_ALLOW_PRIVATE_NETWORKS"]
    assert code == 0 and f"{FEEDS} " in out, err + out


SETTINGS = {
    "admin_password": "scrypt$16384$8$1$c2FsdA$aGFzaA",
    "session_secret": "a-secret-of-the-planet",
    "site_base_url": "https://planet.example.org/",
    "feed_id_authority": "planet.example.org,2026",
}


def digests(store: SqlStore) -> dict[str, tuple[int, str]]:
    with store.engine.connect() as conn:
        return {
            table.name: table_digest(conn, table, order)
            for table, order in (*_TABLES, (app_settings, ("key",)))
        }


def posts(store: SqlStore) -> dict[int, tuple[Any, ...]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, source_id, title, url, text FROM entries")).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def check_restored(restored: SqlStore, origin: SqlStore, expected_posts: int) -> None:
    """Every post (as the origin has it), source, category and setting; search finds every
    post by its own word; PostgreSQL's sequences continue after the restored ids."""
    got = posts(restored)
    assert len(got) == expected_posts > 0
    want = posts(origin)
    assert all(want[i] == row for i, row in got.items())
    assert {s.feed_url for s in restored.list_sources()} == {
        s.feed_url for s in origin.list_sources()
    }
    with restored.engine.connect() as a, origin.engine.connect() as b:
        cats = "SELECT slug, name FROM categories ORDER BY slug"
        assert a.execute(sa.text(cats)).all() == b.execute(sa.text(cats)).all()
        assert len(a.execute(sa.text(cats)).all()) == 2
        settings = dict(a.execute(sa.text("SELECT key, value FROM app_settings")).all())
    assert SETTINGS.items() <= settings.items()
    for entry_id, (source_id, title, *_) in got.items():
        word = title.split()[-1]
        hits = restored.search(word, limit=5, source_id=source_id)
        assert [h.entry.id for h in hits] == [entry_id], word
    top = max(s.id for s in restored.list_sources())
    assert restored.add_source(spec(900)).id == top + 1


def netplanet(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "netplanet", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def planet_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "planet" / "netplanet.db")


@pytest.mark.postgres
def test_backup_during_an_update_round_restores_into_sqlite_and_postgres(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    planet_url: str,
    loopback: FeedServer,
    postgres_url: str,
) -> None:
    serve_feeds(loopback, delay=0.08)
    import_sources(capsys, planet_url, loopback)
    origin = open_store(planet_url)
    for key, value in SETTINGS.items():
        origin.set_setting(key, value)
    env = {
        **os.environ,
        "NETPLANET_DATABASE_URL": planet_url,
        "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1",
        "NETPLANET_PER_HOST_GAP_S": "0",
    }
    env.pop("NETPLANET_CONFIG", None)
    round_ = netplanet("-q", "update", "--concurrency", "2", env=env)
    during: list[tuple[Path, int]] = []
    try:
        deadline = time.monotonic() + 60
        while round_.poll() is None and time.monotonic() < deadline:
            if origin.count_entries() == 0:
                time.sleep(0.02)
                continue
            path = tmp_path / f"during-{len(during)}.tar.gz"
            code, _, err = cli(capsys, "--database", planet_url, "db", "backup", "--to", str(path))
            assert code == 0, err
            if round_.poll() is None:  # the round was still writing when the backup ended
                during.append((path, read_backup(path).rows["entries"]))
    finally:
        out_, stderr = round_.communicate(timeout=60)
    assert round_.returncode == 0, stderr
    total = origin.count_entries()
    assert total == FEEDS * POSTS, out_[-3000:]
    # At least one snapshot caught the round half-way: some posts stored, others not yet.
    assert any(0 < n < total for _, n in during), during
    middle, n_middle = next((p, n) for p, n in during if 0 < n < total)

    sqlite_target = f"sqlite:///{tmp_path / 'restored.db'}"
    for target in (sqlite_target, postgres_url):
        code, out, err = cli(capsys, "db", "restore", str(middle), "--to", target)
        assert code == 0, err
        assert f"restored {n_middle} posts, {FEEDS} sources, 2 categories" in out
        restored = open_store(target)
        try:
            check_restored(restored, origin, n_middle)
        finally:
            restored.close()

    # A backup of the finished round restores every table exactly (over the first, --force).
    final = tmp_path / "final.tar.gz"
    assert cli(capsys, "--database", planet_url, "db", "backup", "--to", str(final))[0] == 0
    code, _, err = cli(capsys, "db", "restore", str(final), "--to", postgres_url)
    assert code == 2 and "--force" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "db", "restore", str(final), "--to", postgres_url, "--force")
    assert code == 0, err
    restored = open_store(postgres_url)
    try:
        assert digests(restored) == digests(origin)
    finally:
        restored.close()
        origin.close()


@pytest.mark.postgres
def test_a_postgres_planet_backs_up_and_restores_into_sqlite_and_postgres(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
    postgres_admin: sa.Engine,
) -> None:
    from test_db_copy import build_planet

    build_planet(postgres_url)
    origin = open_store(postgres_url)
    for key, value in SETTINGS.items():
        origin.set_setting(key, value)
    path = tmp_path / "pg.tar.gz"
    code, out, err = cli(capsys, "--database", postgres_url, "db", "backup", "--to", str(path))
    assert code == 0, err
    assert read_backup(path).origin == "postgresql"
    lite = f"sqlite:///{tmp_path / 'from-pg.db'}"
    with postgres_schema(postgres_admin) as other:
        for target in (lite, other):
            code, out, err = cli(capsys, "db", "restore", str(path), "--to", target)
            assert code == 0, err
            assert "from postgresql, schema" in out
            restored = open_store(target)
            try:
                assert digests(restored) == digests(origin)
                for query in ("bgp", "evpn OR ospf", "reflect*"):
                    assert {h.entry.id for h in restored.search(query, limit=100)} == {
                        h.entry.id for h in origin.search(query, limit=100)
                    }
            finally:
                restored.close()
    origin.close()


def previous_revision() -> str:
    """The revision before the head, whatever the head is."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    head = head_revision()
    assert head is not None
    down = script.get_revision(head).down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
def old_planet(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A SQLite planet at the previous schema revision, with posts, built with SQL every
    revision since 0001 accepts (the migrations fill in the rest)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = previous_revision()
    engine = sa.create_engine(url)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, old)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sources (id, feed_url, title, slug, created_at) VALUES "
                "(1, 'https://a.example/feed', 'Old Blog', 'old-blog', '2026-01-01 00:00:00')"
            )
        )
        for n in range(5):
            conn.execute(
                sa.text(
                    "INSERT INTO entries (id, source_id, key, url, title_date_hash, title, "
                    "published, first_seen, text, fingerprint) VALUES (:id, 1, :key, :url, "
                    ":hash, :title, '2026-01-0' || :day || ' 00:00:00', "
                    "'2026-01-0' || :day || ' 00:00:00', :text, 'v1:x')"
                ),
                {
                    "id": n + 1,
                    "key": f"g:{n}",
                    "url": f"https://a.example/{n}",
                    "hash": f"h{n}",
                    "title": f"Old post {token(0, n)}",
                    "day": n + 1,
                    "text": f"from the previous schema {token(0, n)}",
                },
            )
    engine.dispose()
    yield url, old


def test_a_backup_of_the_previous_schema_restores_and_migrates(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old_planet: tuple[str, str],
    database: str,
) -> None:
    url, old = old_planet
    # Backed up as the previous netplanet left it: the backup never migrates its source.
    store = open_store(url, auto_migrate=False)
    try:
        made = write_backup(store, tmp_path / "old.tar.gz")
    finally:
        store.close()
    assert made.manifest.schema == old
    code, out, err = cli(capsys, "db", "restore", str(made.path), "--to", database)
    assert code == 0, err
    assert f"schema {old}, migrated to {head_revision()}" in out
    assert "restored 5 posts, 1 sources" in out
    restored = open_store(database, auto_migrate=False)
    try:
        with restored.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version == head_revision()
        for n in range(5):
            hits = restored.search(token(0, n), limit=5)
            assert [h.entry.id for h in hits] == [n + 1]
    finally:
        restored.close()
