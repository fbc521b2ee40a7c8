"""The command line: one-line errors, exit codes, sources round trip, update against loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import cli, sqlite_url
from feedserver import FeedServer, rss
from netplanet.cli import EXIT_SOME_FAILED

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>t</title></head><body>
  <outline text="Security">
    <outline type="rss" text="Sec Blog" xmlUrl="https://sec.example/feed" htmlUrl="https://sec.example/"/>
  </outline>
  <outline type="rss" text="Plain" xmlUrl="https://plain.example/rss.xml"/>
</body></opml>
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "cli.db")


def test_bad_option_is_one_line_with_exit_2(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = cli(capsys, "--database", db, "update", "--concurrency", "zero")
    assert code == 2
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_with_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # The data directory's database is made on first use, here where no directory can be.
    code, _, err = cli(capsys, "--data-dir", f"{blocker}/sub", "sources", "list")
    assert code == 3
    assert "cannot open database" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_import_list_export_round_trip(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    opml = tmp_path / "in.opml"
    opml.write_bytes(OPML)
    code, out, _ = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert code == 0 and "imported 2 sources" in out
    code, out, _ = cli(capsys, "--database", db, "sources", "import", str(opml))
    assert "imported 0 sources" in out and "2 already present" in out
    code, out, _ = cli(capsys, "--database", db, "sources", "list")
    assert "Sec Blog" in out and "new" in out
    exported = tmp_path / "out.opml"
    cli(capsys, "--database", db, "sources", "export", "-o", str(exported))
    text = exported.read_text()
    assert 'xmlUrl="https://sec.example/feed"' in text and 'text="Security"' in text


def test_bad_opml_names_the_line(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_bytes(b'<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n<outline>\n</opml>\n')
    code, _, err = cli(capsys, "--database", db, "sources", "import", str(bad))
    assert code == 1 and "line" in err and len(err.strip().splitlines()) == 1


def test_missing_opml_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = cli(capsys, "--database", db, "sources", "import", "/nonexistent/x.opml")
    assert code == 2 and "cannot read /nonexistent/x.opml" in err


def test_remove_unknown_source_says_how_to_find_ids(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, _, err = cli(capsys, "--database", db, "sources", "remove", "42")
    assert code == 1 and "sources list" in err


def test_sources_add_refuses_private_addresses(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = cli(capsys, "--database", db, "sources", "add", "http://169.254.169.254/feed")
    assert code == 1 and "refused" in err
    code, out, _ = cli(capsys, "--database", db, "sources", "list")
    assert "0 sources" in out


def test_add_discovers_feed_then_update_and_search(
    capsys: pytest.CaptureFixture[str],
    db: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    loopback.static(
        "/",
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        b"</head><body>blog</body></html>",
        content_type="text/html",
    )
    loopback.static("/feed.xml", rss([("a", "OSPF stub areas", "<p>Totally stubby areas.</p>")]))
    code, out, _ = cli(capsys, "--database", db, "sources", "add", loopback.url("/"), "-c", "Lab")
    assert code == 0
    assert f"found <link rel=alternate> at {loopback.url('/feed.xml')}" in out
    code, out, _ = cli(capsys, "--database", db, "update")
    assert code == 0 and "update summary" in out
    code, out, _ = cli(capsys, "--database", db, "entries")
    assert "OSPF stub areas" in out
    code, out, _ = cli(capsys, "--database", db, "search", "stubby")
    assert "OSPF stub areas" in out


def test_entries_and_search_say_date_unknown_for_an_undated_backlog(
    capsys: pytest.CaptureFixture[str],
    db: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    body = (
        b'<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>'
        b"<link>https://old.example/</link><description>d</description><item>"
        b"<title>OSPF stub areas</title><link>https://old.example/ospf</link>"
        b"<description>Totally stubby areas.</description></item></channel></rss>"
    )
    loopback.static("/feed.xml", body)
    assert cli(capsys, "--database", db, "sources", "add", loopback.url("/feed.xml"))[0] == 0
    assert cli(capsys, "--database", db, "update")[0] == 0
    for args in (["entries"], ["search", "stubby"]):
        code, out, _ = cli(capsys, "--database", db, *args)
        assert code == 0 and "date unknown" in out and "1970" not in out


def test_update_exit_code_says_some_sources_failed(
    capsys: pytest.CaptureFixture[str],
    db: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    loopback.static("/ok.xml", rss([("a", "t", "<p>x</p>")]))
    opml = tmp_path / "s.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        f'<outline text="ok" xmlUrl="{loopback.url("/ok.xml")}"/>'
        f'<outline text="missing" xmlUrl="{loopback.url("/missing.xml")}"/>'
        "</body></opml>"
    )
    cli(capsys, "--database", db, "sources", "import", str(opml))
    code, out, _ = cli(capsys, "--database", db, "update")
    assert code == EXIT_SOME_FAILED
    assert "top errors" in out and "404" in out


def test_feed_titles_are_shown_as_written_not_read_as_markup(
    capsys: pytest.CaptureFixture[str],
    db: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Rich markup in a title ("[/]" closes nothing) once crashed the table, the progress bar
    # and the one-line messages with a traceback.
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("COLUMNS", "300")
    title = "Routing [/] and [bold]BGP[/bold] :smile:"
    opml = tmp_path / "s.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline text="{title}" '
        f'xmlUrl="{loopback.url("/missing.xml")}"/></body></opml>'
    )
    cli(capsys, "--database", db, "sources", "import", str(opml))
    code, out, err = cli(capsys, "--database", db, "update")
    assert code == EXIT_SOME_FAILED and title in out and title in err
    code, _, err = cli(capsys, "--database", db, "-q", "update")
    assert code == EXIT_SOME_FAILED and err.startswith(f"{title}: ")
    for args in (["sources", "list"], ["sources", "health"]):
        code, out, _ = cli(capsys, "--database", db, *args)
        assert code in (0, 4) and title in out, args
    code, out, _ = cli(capsys, "--database", db, "sources", "remove", "1")
    assert code == 0 and out == f"removed source 1: {title}\n"


@pytest.mark.parametrize("ref", ["99999999999999999999999", "9223372036854775808", "²", "٣", "0"])
def test_source_reference_that_is_no_id_is_not_found(
    capsys: pytest.CaptureFixture[str], db: str, ref: str
) -> None:
    code, _, err = cli(capsys, "--database", db, "sources", "remove", ref)
    assert code == 1
    assert err.startswith("error: no source") and len(err.strip().splitlines()) == 1
