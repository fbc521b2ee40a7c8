"""What a backup must never do: leave a partial file under its name when killed, or let a
damaged, truncated, foreign or too-new file touch the database it would be restored into."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import cli, make_entry, plan, spec
from netplanet.errors import UsageError
from netplanet.store import open_store
from netplanet.store.backup import read_backup, write_backup
from netplanet.store.restore import restore_backup


def small_planet(url: str, *, padding: int = 0) -> None:
    store = open_store(url)
    try:
        source = store.add_source(spec(1, title="Routing Notes", category="Networking"))
        store.apply_update(plan(source.id, tuple(make_entry(source.id, n) for n in range(6))))
        store.set_setting("admin_password", "scrypt$hash")
        if padding:  # a planet big enough that a backup takes a moment
            store.set_setting("padding", os.urandom(padding // 2).hex())
    finally:
        store.close()


def fingerprint(path: Path) -> str | None:
    """The target's bytes (None when it does not exist): "untouched" means equal."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    url = f"sqlite:///{folder / 'planet.db'}"
    small_planet(url)
    store = open_store(url)
    try:
        return write_backup(store, folder / "good.tar.gz").path
    finally:
        store.close()


def repack(source: Path, dest: Path, **changes: object) -> Path:
    """`source` with its manifest's fields changed, written as a well-formed archive."""
    with tarfile.open(source, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        database = tar.extractfile("netplanet.db").read()  # type: ignore[union-attr]
    body = json.dumps({**manifest, **changes}).encode()
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in (("manifest.json", body), ("netplanet.db", database)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def foreign_tar(dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    return dest


def make_bad(kind: str, good: Path, folder: Path) -> tuple[Path, str]:
    """A bad backup file of `kind` and the words its error must contain."""
    data = good.read_bytes()
    bad = folder / f"{kind}.tar.gz"
    if kind == "missing":
        return bad, "does not exist"
    if kind == "text":
        bad.write_text("# netplanet.toml\nsite_url = 'x'\n")
        return bad, "not a netplanet backup"
    if kind == "foreign-tar":
        return foreign_tar(bad), "not a netplanet backup"
    if kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
        return bad, "truncated or damaged"
    if kind == "corrupted":
        middle = len(data) // 2
        bad.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
        return bad, "damaged"
    if kind == "checksum":
        return repack(good, bad, database_sha256="0" * 64), "checksum mismatch"
    if kind == "newer-schema":
        return repack(good, bad, schema="9999"), "newer than this netplanet supports"
    if kind == "newer-format":
        return repack(good, bad, format_version=99), "newer than this netplanet reads"
    raise AssertionError(kind)


BAD = [
    "missing",
    "text",
    "foreign-tar",
    "truncated",
    "corrupted",
    "checksum",
    "newer-schema",
    "newer-format",
]


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_backup_is_refused_in_one_line_and_the_target_is_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, good_backup: Path, kind: str
) -> None:
    bad, words = make_bad(kind, good_backup, tmp_path)
    # A planet that --force would replace, and a database that does not exist yet.
    planet = tmp_path / "planet.db"
    small_planet(f"sqlite:///{planet}")
    before = fingerprint(planet)
    fresh = tmp_path / "fresh.db"
    for target, extra in ((planet, ["--force"]), (fresh, [])):
        code, out, err = cli(
            capsys, "db", "restore", str(bad), "--to", f"sqlite:///{target}", *extra
        )
        assert code == 2, (out, err)
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert words in err, err
    assert fingerprint(planet) == before
    assert not fresh.exists()


def test_a_non_empty_target_is_refused_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, good_backup: Path
) -> None:
    planet = tmp_path / "planet.db"
    small_planet(f"sqlite:///{planet}")
    before = fingerprint(planet)
    code, _, err = cli(capsys, "db", "restore", str(good_backup), "--to", f"sqlite:///{planet}")
    assert code == 2 and err.count("\n") == 1 and "--force" in err, err
    assert fingerprint(planet) == before


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_truncation_or_flipped_byte_is_refused_or_changes_nothing(
    good_backup: Path, data: st.DataObject
) -> None:
    """A file cut anywhere is refused; a byte flipped anywhere is refused, unless it lands
    where nothing is checked because nothing is read (the gzip header's time stamp), and then
    the restore is exactly the original."""
    original = good_backup.read_bytes()
    where = data.draw(st.integers(0, len(original) - 1))
    truncate = data.draw(st.booleans())
    if truncate:
        damaged = original[:where]
    else:
        damaged = original[:where] + bytes([original[where] ^ 0xFF]) + original[where + 1 :]
    with tempfile.TemporaryDirectory() as scratch:
        bad = Path(scratch) / "bad.tar.gz"
        bad.write_bytes(damaged)
        target = Path(scratch) / "target.db"
        try:
            restore_backup(bad, f"sqlite:///{target}")
        except UsageError as exc:
            assert "\n" not in str(exc)
            assert not target.exists()
            return
        assert not truncate, "a truncated file was restored"
        assert read_backup(bad) == read_backup(good_backup)


def test_kill_9_during_a_backup_leaves_the_previous_backup_intact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'planet.db'}"
    small_planet(url, padding=8 << 20)
    folder = tmp_path / "backups"
    folder.mkdir()
    final = folder / "nightly.tar.gz"
    store = open_store(url)
    try:
        write_backup(store, final)
    finally:
        store.close()
    previous = final.read_bytes()
    env = {**os.environ, "NETPLANET_DATABASE_URL": url}
    env.pop("NETPLANET_CONFIG", None)
    kept = 0
    for delay in (0.0, 0.1):
        proc = subprocess.Popen(
            [sys.executable, "-m", "netplanet", "-q", "db", "backup", "--to", str(final)],
            env=env,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not any(folder.glob(f".netplanet-backup-work.{proc.pid}.*")):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the backup never started"
            time.sleep(0.002)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()
        # Never a partial file under the final name: the old backup, or (killed after the
        # rename) a complete new one.
        assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [final.name]
        now = final.read_bytes()
        if now == previous:
            kept += 1
        read_backup(final)
    assert kept >= 1, "every kill came too late to test anything"
    # The next backup in that directory removes the work the killed ones left.
    store = open_store(url)
    try:
        write_backup(store, final)
    finally:
        store.close()
    assert [p.name for p in folder.iterdir()] == [final.name]
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM entries")).scalar() == 6


def test_gzip_check_catches_a_damaged_trailer(tmp_path: Path, good_backup: Path) -> None:
    """The last bytes (gzip's CRC and length) are read and checked, not skipped."""
    data = bytearray(good_backup.read_bytes())
    data[-5] ^= 0xFF
    bad = tmp_path / "trailer.tar.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="damaged"):
        read_backup(bad)
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(bytes(data))


def test_backup_refuses_bad_destinations_and_missing_databases_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'planet.db'}"
    small_planet(url)
    cases = [
        (url, tmp_path / "no" / "such" / "dir" / "b.tar.gz", "does not exist; create it first"),
        (url, tmp_path, "is a directory; name the backup file"),
        (f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "b.tar.gz", "does not exist"),
    ]
    for database, dest, words in cases:
        code, _, err = cli(capsys, "--database", database, "db", "backup", "--to", str(dest))
        assert code == 2, err
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "b.tar.gz").exists()
    assert not (tmp_path / "missing.db").exists()
