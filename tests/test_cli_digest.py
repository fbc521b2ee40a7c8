"""`netplanet digest`: the last finished week by default, any week by --week (either case),
Markdown that renders as its text (titles escaped), plain text and HTML, one topic with
--topic, and one-line errors for bad weeks, weeks to come and unknown topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from builders import cli, make_entry, plan, spec, sqlite_url
from netplanet.publish.weekly import Week
from netplanet.publish.weeks import last_finished
from netplanet.store import open_store

WEEK = Week(2026, 43)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "cli.db")
    store = open_store(url)
    try:
        src = store.add_source(spec(1, title="Blog *One*"))
        start = WEEK.start
        posts = [
            (1, "BGP_tricks: *really* [fast] <convergence>", start, "routing"),
            (2, "Zero trust, again", start + timedelta(hours=2), "security"),
            (3, "Last week's post", last_finished(datetime.now(UTC)).start, "wan"),
        ]
        entries = tuple(
            make_entry(src.id, n, title=title, published=when + timedelta(hours=3),
                       topics=((topic, 0.9),))
            for n, title, when, topic in posts
        )  # fmt: skip
        store.apply_update(plan(src.id, entries))
        store.set_setting("site_base_url", "https://planet.example")
    finally:
        store.close()
    return url


def test_markdown_is_the_default_and_renders_as_its_text(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = cli(capsys, "--database", db, "digest", "--week", "2026-W43")
    assert code == 0, err
    assert out.startswith("# netplanet weekly digest: 2026-W43\n")
    assert "## Routing" in out and "## Security" in out
    html = MarkdownIt("commonmark").render(out)
    assert "BGP_tricks: *really* [fast]" in html and "<em>" not in html
    assert '<a href="https://blog.example.net/posts/1/">' in html
    assert html.count("<li>") == 2 and html.count("<h2>") == 2
    assert err == ""  # the planet's URL is known: no note


def test_text_html_and_one_topic(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, text, _ = cli(capsys, "--database", db, "digest", "-w", "2026-w43", "--format", "text")
    assert code == 0
    assert "ROUTING\n=======" in text and "  https://blog.example.net/posts/2/" in text
    code, html, _ = cli(capsys, "--database", db, "digest", "-w", "2026-w43", "-f", "html")
    assert code == 0 and html.startswith("<h1>netplanet weekly digest: 2026-W43</h1>")
    assert "<convergence>" not in html  # markup in a title never reaches the HTML
    code, one, _ = cli(capsys, "--database", db, "digest", "-w", "2026-W43", "--topic", "security")
    assert code == 0 and "## Security" in one and "Routing" not in one


def test_the_default_is_the_last_finished_week(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = cli(capsys, "--database", db, "digest")
    assert code == 0, err
    assert last_finished(datetime.now(UTC)).label in out.splitlines()[0]
    assert "Last week's post" in out and "## WAN" in out


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (("--week", "2026-W99"), 2, "2026 has weeks 01 to 53"),
        (("--week", "last"), 2, "give an ISO week like 2026-W48"),
        (("--week", "2999-W01"), 1, "does not exist yet"),
        (("--week", "1999-W01"), 1, "the planet has no posts that old"),
        (("--topic", "bgp"), 2, "unknown topic 'bgp'"),
        (("--format", "pdf"), 2, "pdf"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], db: str, args: tuple[str, ...], status: int, says: str
) -> None:
    code, out, err = cli(capsys, "--database", db, "digest", *args)
    assert code == status and says in err and out == ""
    if status == 1 or "week" in args[0]:
        assert len(err.strip().splitlines()) == 1, err
