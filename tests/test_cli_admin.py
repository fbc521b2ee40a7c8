"""`netplanet sources add` refusals (SSRF table), `sources health` and `admin set-password`."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from builders import NOW, plan, spec, sqlite_url, success
from netplanet.store import open_store
from netplanet.web.auth import PASSWORD_KEY, verify_password
from test_admin import TRICKY_URLS
from test_cli import cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "cli.db")


@pytest.mark.parametrize("url", TRICKY_URLS)
def test_sources_add_refuses_tricky_urls(
    capsys: pytest.CaptureFixture[str], db: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", raising=False)
    code, _, err = cli(capsys, "--database", db, "sources", "add", url)
    assert code == 1 and "refused" in err
    assert len(err.strip().splitlines()) == 1
    store = open_store(db)
    try:
        assert store.list_sources() == []
    finally:
        store.close()


def test_sources_health_exit_code_and_table(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # no folding inside the table cells
    store = open_store(db)
    ok = store.add_source(spec(1, title="Healthy Blog"))
    store.apply_update(plan(ok.id))
    code, out, _ = cli(capsys, "--database", db, "sources", "health")
    assert code == 0 and "Healthy Blog" in out and "ok" in out
    bad = store.add_source(spec(2, title="Broken Blog"))
    failing = success(
        consecutive_failures=2,
        last_error_class="dns",
        last_error="DNS lookup failed for host blog2.example.net",
        last_success_at=None,
        failing_since=NOW,
    )
    store.apply_update(dataclasses.replace(plan(bad.id), source=failing))
    store.close()
    code, out, _ = cli(capsys, "--database", db, "sources", "health", "--failing")
    assert code == 4 and "Broken Blog" in out and "Healthy Blog" not in out
    code, _, err = cli(capsys, "--database", db, "-q", "sources", "health")
    assert code == 4 and "DNS lookup failed" in err
    code, _, err = cli(capsys, "--database", db, "sources", "health", "--sort", "bogus")
    assert code == 2 and "--sort must be one of" in err


def test_set_password_from_stdin(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = cli(capsys, "--database", db, "admin", "set-password", "--stdin")
    assert code == 2 and "at least 10 characters" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    code, out, _ = cli(capsys, "--database", db, "admin", "set-password", "--stdin")
    assert code == 0 and "admin password set" in out
    store = open_store(db)
    try:
        stored = store.get_setting(PASSWORD_KEY)
    finally:
        store.close()
    assert stored is not None and stored.startswith("scrypt$")
    assert verify_password("a long enough passphrase", stored)


def test_sources_import_skips_urls_the_guard_refuses(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", raising=False)
    opml = tmp_path / "s.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="ok" xmlUrl="https://good.example/feed"/>'
        '<outline text="meta" xmlUrl="http://169.254.169.254/feed"/>'
        '<outline text="creds" xmlUrl="http://user@good.example/other"/>'
        "</body></opml>"
    )
    code, out, err = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 0 and "imported 1 sources" in out
    assert "169.254.169.254" in err and "credentials" in err
    store = open_store(db)
    try:
        assert [s.feed_url for s in store.list_sources()] == ["https://good.example/feed"]
    finally:
        store.close()
