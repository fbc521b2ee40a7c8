"""Bad configuration through the real command line: every setting, config file, database URL
and option value that is out of range or malformed is one line on stderr and exit 2, never a
traceback, a hang or "this is a bug". A database that is really unreachable stays exit 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from netplanet.cli import main
from netplanet.model import SourceSpec
from netplanet.store import open_store
from netplanet.store.migrate import HEAD_REVISION

# (case id, environment, arguments, a word the message must contain). Each runs
# `netplanet ARGS sources list` (or the command in ARGS) with NETPLANET_DATA_DIR in tmp.
LIST = ["sources", "list"]
BAD: list[tuple[str, dict[str, str], list[str], str]] = [
    ("port-too-high", {"NETPLANET_PORT": "70000"}, LIST, "NETPLANET_PORT"),
    ("port-zero", {"NETPLANET_PORT": "0"}, LIST, "1 to 65535"),
    ("port-not-ascii", {"NETPLANET_PORT": "٨٠٨٠"}, LIST, "NETPLANET_PORT"),
    ("port-float", {"NETPLANET_PORT": "80.5"}, LIST, "NETPLANET_PORT"),
    ("read-timeout-nan", {"NETPLANET_READ_TIMEOUT": "nan"}, LIST, "NETPLANET_READ_TIMEOUT"),
    ("read-timeout-inf", {"NETPLANET_READ_TIMEOUT": "inf"}, LIST, "NETPLANET_READ_TIMEOUT"),
    ("read-timeout-zero", {"NETPLANET_READ_TIMEOUT": "0"}, LIST, "NETPLANET_READ_TIMEOUT"),
    ("connect-timeout-huge", {"NETPLANET_CONNECT_TIMEOUT": "1e300"}, LIST, "CONNECT_TIMEOUT"),
    ("total-timeout-negative", {"NETPLANET_TOTAL_TIMEOUT": "-5"}, LIST, "TOTAL_TIMEOUT"),
    ("parse-workers-many", {"NETPLANET_PARSE_WORKERS": "10000"}, LIST, "PARSE_WORKERS"),
    ("parse-workers-negative", {"NETPLANET_PARSE_WORKERS": "-2"}, LIST, "PARSE_WORKERS"),
    ("concurrency-zero", {"NETPLANET_FETCH_CONCURRENCY": "0"}, LIST, "FETCH_CONCURRENCY"),
    ("per-host-huge", {"NETPLANET_FETCH_PER_HOST": "99999999999999999999999"}, LIST, "PER_HOST"),
    ("excerpt-zero", {"NETPLANET_EXCERPT_WORDS": "0"}, LIST, "EXCERPT_WORDS"),
    ("body-tiny", {"NETPLANET_MAX_BODY_BYTES": "1"}, LIST, "MAX_BODY_BYTES"),
    ("redirects-many", {"NETPLANET_MAX_REDIRECTS": "1000"}, LIST, "MAX_REDIRECTS"),
    ("jitter-nan", {"NETPLANET_JITTER": "nan"}, LIST, "NETPLANET_JITTER"),
    ("min-interval-inf", {"NETPLANET_MIN_INTERVAL_S": "inf"}, LIST, "MIN_INTERVAL_S"),
    ("dead-after-huge", {"NETPLANET_DEAD_AFTER_S": "1e20"}, LIST, "DEAD_AFTER_S"),
    ("gap-nan", {"NETPLANET_PER_HOST_GAP_S": "nan"}, LIST, "PER_HOST_GAP_S"),
    ("session-huge", {"NETPLANET_ADMIN_SESSION_S": "99999999999999"}, LIST, "ADMIN_SESSION_S"),
    ("host-space", {"NETPLANET_HOST": "bad host"}, LIST, "NETPLANET_HOST"),
    ("host-empty", {"NETPLANET_HOST": ""}, LIST, "NETPLANET_HOST"),
    ("site-url-scheme", {"NETPLANET_SITE_URL": "ftp://planet.example/"}, LIST, "SITE_URL"),
    ("site-url-relative", {"NETPLANET_SITE_URL": "planet.example"}, LIST, "SITE_URL"),
    ("secret-short", {"NETPLANET_SECRET_KEY": "abc"}, LIST, "SECRET_KEY"),
    ("bool-garbage", {"NETPLANET_TRUST_PROXY_HEADERS": "perhaps"}, LIST, "TRUST_PROXY"),
    # Database URLs: malformed, unsupported drivers, invalid hosts and ports.
    ("db-bracket", {"NETPLANET_DATABASE_URL": "postgresql://postgres@[::1/x"}, LIST, "URL"),
    ("db-asyncpg", {"NETPLANET_DATABASE_URL": "postgresql+asyncpg://p@h/d"}, LIST, "sqlite:///"),
    ("db-psycopg2", {"NETPLANET_DATABASE_URL": "postgresql+psycopg2://p@h/d"}, LIST, "supported"),
    ("db-mysql", {"NETPLANET_DATABASE_URL": "mysql://u@h/d"}, LIST, "postgresql://"),
    ("db-no-scheme", {"NETPLANET_DATABASE_URL": "planet.db"}, LIST, "DATABASE_URL"),
    ("db-bad-host", {"NETPLANET_DATABASE_URL": "postgresql://p@bad_host!/d"}, LIST, "host"),
    ("db-host-space", {"NETPLANET_DATABASE_URL": "postgresql://p@a b/d"}, LIST, "host"),
    ("db-port", {"NETPLANET_DATABASE_URL": "postgresql://p@127.0.0.1:99999/d"}, LIST, "port"),
    ("db-port-text", {"NETPLANET_DATABASE_URL": "postgresql://p@h:x/d"}, LIST, "URL"),
    ("db-sqlite-host", {"NETPLANET_DATABASE_URL": "sqlite://host/x.db"}, LIST, "sqlite"),
    ("db-flag", {}, ["--database", "mysql://u@h/d", *LIST], "--database"),
    ("db-copy-from", {}, ["db", "copy", "--from", "mysql://u@h/d", "--to", "sqlite://"], "mysql"),
    # Option values get the same ranges as the settings.
    ("run-port", {}, ["run", "--port", "70000"], "--port"),
    ("run-port-zero", {}, ["run", "--port", "0"], "--port"),
    ("serve-port", {}, ["serve", "--port", "70000"], "--port"),
    ("serve-port-zero", {}, ["serve", "--port", "0"], "--port"),
    ("run-host", {}, ["run", "--no-web", "--host", "bad host"], "--host"),
    ("serve-host", {}, ["serve", "--host", "bad\thost"], "--host"),
    ("update-concurrency", {}, ["update", "--concurrency", "0"], "--concurrency"),
    ("update-concurrency-huge", {}, ["update", "-j", "100000"], "--concurrency"),
    ("run-interval", {}, ["run", "--interval", "99999999999999999999"], "--interval"),
    ("worker-lease", {}, ["worker", "--lease", "99999999999999999999"], "--lease"),
    ("worker-idle-nan", {}, ["worker", "--idle", "nan"], "--idle"),
    ("worker-idle-inf", {}, ["worker", "--idle", "inf"], "--idle"),
    ("worker-batch", {}, ["worker", "--batch", "0"], "--batch"),
    ("entries-limit", {}, ["entries", "--limit", "0"], "--limit"),
]


def run_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    args: list[str],
) -> tuple[int, str]:
    monkeypatch.setenv("NETPLANET_DATA_DIR", str(tmp_path / "data"))
    if args[0] in ("run", "worker", "serve"):
        # Should a bad value ever slip through, the command finds one source it may not
        # fetch (a loopback address, refused by the SSRF guard) instead of importing the
        # bundled public ones and going out to the internet.
        store = open_store(f"sqlite:///{tmp_path / 'data' / 'netplanet.db'}")
        store.add_source(SourceSpec(feed_url="http://127.0.0.1:9/feed"))
        store.close()
    for name in ("NETPLANET_DATABASE_URL", "NETPLANET_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    _, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), err


def assert_one_line_error(code: int, err: str, word: str, expected: int = 2) -> None:
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:"), err
    assert "Traceback" not in err and "this is a bug" not in err, err
    assert word in lines[0], err


@pytest.mark.parametrize(("env", "args", "word"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_setting_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    args: list[str],
    word: str,
) -> None:
    code, err = run_cli(capsys, monkeypatch, tmp_path, env, args)
    assert_one_line_error(code, err, word)


# Config files: (case id, file contents, a word the message must contain).
BAD_FILES: list[tuple[str, bytes, str]] = [
    ("port-range", b"port = 70000\n", "port"),
    ("port-float", b"port = 80.5\n", "port"),
    ("port-string", b'port = "80"\n', "port"),
    ("timeout-nan", b"read_timeout = nan\n", "read_timeout"),
    ("timeout-inf", b"total_timeout = inf\n", "total_timeout"),
    ("workers-bool", b"parse_workers = true\n", "parse_workers"),
    ("host-list", b'host = ["a", "b"]\n', "host"),
    ("table", b"[server]\nport = 80\n", "server"),
    ("data-dir-nul", b'data_dir = "/tmp/a\\u0000b"\n', "data_dir"),
    ("title-control", b'site_title = "a\\u0007b"\n', "site_title"),
    ("title-long", b'site_title = "' + b"x" * 1000 + b'"\n', "site_title"),
    ("db-url-number", b"database_url = 5\n", "database_url"),
    ("db-url-mysql", b'database_url = "mysql://u@h/d"\n', "database_url"),
    ("huge", b"# padding\n" * 200_000, "MiB"),
]


@pytest.mark.parametrize(
    ("content", "word"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_config_file_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: bytes,
    word: str,
) -> None:
    config = tmp_path / "netplanet.toml"
    config.write_bytes(content)
    code, err = run_cli(capsys, monkeypatch, tmp_path, {}, ["--config", str(config), *LIST])
    assert_one_line_error(code, err, word)
    assert str(config) in err


def _run_subprocess(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETPLANET_DATA_DIR": str(tmp_path / "data")}
    env.pop("NETPLANET_DATABASE_URL", None)
    env.pop("NETPLANET_CONFIG", None)
    code = "import sys; from netplanet.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        path = tmp_path / "fifo.toml"
        os.mkfifo(path)  # nobody writes to it: reading it would wait for ever
    elif special == "directory":
        path = tmp_path
    else:
        path = Path(special)
        if not path.exists():
            pytest.skip(f"{special} does not exist here")
    done = _run_subprocess(tmp_path, "--config", str(path), "config", "show")
    assert_one_line_error(done.returncode, done.stderr, str(path))


def test_database_with_a_newer_schema_says_to_upgrade(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    open_store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    code, err = run_cli(capsys, monkeypatch, tmp_path, {}, ["--database", url, *LIST])
    assert_one_line_error(code, err, "newer than this netplanet")
    assert "9999" in err and HEAD_REVISION in err and "upgrade netplanet" in err
    # `db migrate` cannot help either, and says the same.
    code, err = run_cli(capsys, monkeypatch, tmp_path, {}, ["--database", url, "db", "migrate"])
    assert_one_line_error(code, err, "newer than this netplanet")


def test_database_of_another_application_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
    engine.dispose()
    code, err = run_cli(capsys, monkeypatch, tmp_path, {}, ["--database", url, *LIST])
    assert_one_line_error(code, err, "ae1027a6acf")


def test_unreachable_postgres_server_stays_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Nothing listens on port 1 of the loopback address: a well-formed URL, a refused
    # connection. That is "unreachable" (exit 3), which a supervisor may retry.
    url = "postgresql://postgres@127.0.0.1:1/test"
    code, err = run_cli(capsys, monkeypatch, tmp_path, {}, ["--database", url, *LIST])
    assert_one_line_error(code, err, "cannot open database", expected=3)


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"NETPLANET_PORT": "65535", "NETPLANET_PARSE_WORKERS": "-1"}, ["config", "show"]),
        ({"NETPLANET_PORT": "1", "NETPLANET_PARSE_WORKERS": "64"}, ["config", "show"]),
        ({"NETPLANET_READ_TIMEOUT": "0.5", "NETPLANET_JITTER": "0"}, ["config", "show"]),
        ({"NETPLANET_HOST": "::", "NETPLANET_SITE_URL": "https://planet.example/"}, LIST),
        ({"NETPLANET_HOST": "0.0.0.0", "NETPLANET_DATABASE_URL": "sqlite://"}, LIST),
        ({"NETPLANET_HOST": "planet-web_1.internal"}, ["config", "show"]),
    ],
)
def test_edge_values_within_range_are_accepted(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    args: list[str],
) -> None:
    code, err = run_cli(capsys, monkeypatch, tmp_path, env, args)
    assert code == 0, err
