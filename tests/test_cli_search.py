"""`netplanet search`: exclusions, counts, filters that must exist, queries without words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from builders import NOW, cli, make_entry, plan, spec
from netplanet.store import open_store


@pytest.fixture
def planet_db(database: str) -> str:
    store = open_store(database)
    try:
        s = store.add_source(spec(1, title="Overlay Blog"))
        posts = [
            ("EVPN with VXLAN", "evpn and vxlan together", "Networking"),
            ("EVPN route type 5", "evpn prefixes", "Networking"),
            ("Firewall rules", "nftables sets", "Security"),
        ]
        store.apply_update(
            plan(
                s.id,
                tuple(
                    make_entry(
                        s.id,
                        n,
                        title=t,
                        text=x,
                        categories=(c,),
                        published=NOW - timedelta(hours=n),
                    )
                    for n, (t, x, c) in enumerate(posts)
                ),
            )
        )
    finally:
        store.close()
    return database


def test_exclusion_only_query_lists_recent_posts_without_the_word(
    capsys: pytest.CaptureFixture[str], planet_db: str
) -> None:
    code, out, err = cli(capsys, "--database", planet_db, "search", "--", "-vxlan")
    assert code == 0, err
    assert "VXLAN" not in out
    assert out.index("EVPN route type 5") < out.index("Firewall rules")  # newest first
    assert "2 newest posts without 'vxlan'" in out


def test_results_are_counted(capsys: pytest.CaptureFixture[str], planet_db: str) -> None:
    code, out, _ = cli(capsys, "--database", planet_db, "search", "evpn", "-n", "1")
    assert code == 0
    assert "2 posts match 'evpn' (showing 1)" in out


@pytest.mark.parametrize("query", ["", "-", "--", '"', "( )"])
def test_query_without_words_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], planet_db: str, query: str
) -> None:
    code, out, err = cli(capsys, "--database", planet_db, "search", "--", query)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "no words to search for" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_category_is_an_error_naming_it(
    capsys: pytest.CaptureFixture[str], planet_db: str
) -> None:
    code, out, err = cli(capsys, "--database", planet_db, "search", "evpn", "--category", "nope")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "no category 'nope'" in err and "Networking" in err and "Security" in err
    code, out, _ = cli(capsys, "--database", planet_db, "search", "-c", "security", "--", "-evpn")
    assert code == 0 and "Firewall rules" in out and "EVPN" not in out


def test_unknown_source_is_an_error(capsys: pytest.CaptureFixture[str], planet_db: str) -> None:
    code, out, err = cli(capsys, "--database", planet_db, "search", "evpn", "--source", "nobody")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no source 'nobody'" in err
    code, out, _ = cli(capsys, "--database", planet_db, "search", "evpn", "-s", "overlay-blog")
    assert code == 0 and "2 posts match" in out


def test_every_search_option_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from netplanet.cli import app

    command = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    options = [p for p in command.params if p.param_type_name == "option"]
    assert {"--limit", "--category", "--source"} <= {o for p in options for o in p.opts}
    assert all(p.help for p in options if "--help" not in p.opts)
    code, out, _ = cli(capsys, "search", "--help")
    assert code == 0 and "netplanet search -- -vxlan" in " ".join(out.split())
