"""`netplanet entries --json`, `netplanet topics list|explain|reclassify`, and a bad
`topics_file` as a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from builders import NOW, cli, make_entry, plan, spec, sqlite_url
from netplanet.enrich.topics import load_taxonomy
from netplanet.store import open_store
from netplanet.store.schema import entries

SMALL = Path(__file__).parent / "data" / "topics_small.toml"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NETPLANET_TOPICS_FILE", str(SMALL))
    url = sqlite_url(tmp_path / "cli.db")
    store = open_store(url)
    try:
        one, two = (
            store.add_source(spec(1, title="Blog One")),
            store.add_source(spec(2, title="Blog Two")),
        )
        store.apply_update(
            plan(
                one.id,
                (
                    make_entry(one.id, 1, title="BGP at home", guid="bgp"),
                    make_entry(one.id, 2, title="Wi-Fi at home", guid="wifi", sponsored=True),
                ),
            )
        )
        # Blog Two carries a copy of "BGP at home" and a post of its own about the same story.
        store.apply_update(
            plan(
                two.id,
                (
                    make_entry(two.id, 3, title="BGP at home", guid="copy"),
                    make_entry(two.id, 4, title="Episode 4: BGP at home", guid="more"),
                ),
            )
        )
        ids = {e.guid: e.id for e in store.list_entries(limit=10)}
        with store.engine.begin() as conn:
            cluster = ids["bgp"]
            for guid, copy_of in (("bgp", None), ("copy", ids["bgp"]), ("more", None)):
                conn.execute(
                    sa.update(entries)
                    .where(entries.c.id == ids[guid])
                    .values(cluster_id=cluster, duplicate_of=copy_of)
                )
    finally:
        store.close()
    return url


def _ids(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return {str(e.guid): e.id for e in store.list_entries(limit=10)}
    finally:
        store.close()


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_reclassify_then_entries_as_json(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # the table's cells on one line each
    code, out, _ = cli(capsys, "--database", db, "topics", "reclassify")
    assert code == 0 and "re-classified 4 posts" in out and "4 changed" in out
    code, out, _ = cli(capsys, "--database", db, "topics", "reclassify")
    assert code == 0 and "already" in out
    code, out, _ = cli(capsys, "--database", db, "topics", "reclassify", "--all")
    assert code == 0 and "re-classified 4 posts" in out and "0 changed" in out

    ids = _ids(db)
    code, out, err = cli(capsys, "--database", db, "entries", "--json")
    assert code == 0 and err == ""
    rows = _json_lines(out)
    assert [r["id"] for r in rows] == [ids["bgp"], ids["wifi"], ids["more"]]  # newest first
    bgp = rows[0]
    assert set(bgp) >= {
        "id", "guid", "url", "title", "source", "published", "topics", "topic_scores",
        "podcast", "sponsored", "cluster", "also_covered_by", "also_on",
    }  # fmt: skip
    assert bgp["guid"] == "bgp" and bgp["source"] == "Blog One"
    assert bgp["published"] == (NOW.replace(hour=11)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert bgp["topics"] == ["routing"] and len(bgp["topic_scores"]) == 1  # type: ignore[arg-type]
    assert 0 < bgp["topic_scores"][0] <= 1  # type: ignore[index,operator]
    assert bgp["cluster"] == ids["bgp"]
    assert bgp["also_on"] == ["Blog Two"]  # the copy is not listed, its source is named
    assert bgp["also_covered_by"] == [ids["more"]]
    wifi = rows[1]
    assert wifi["topics"] == ["wireless"] and wifi["sponsored"] is True
    assert wifi["cluster"] is None and wifi["also_covered_by"] == [] and wifi["also_on"] == []
    assert rows[2]["podcast"] is True

    code, out, _ = cli(capsys, "--database", db, "entries", "--json", "--all")
    assert ids["copy"] in [r["id"] for r in _json_lines(out)]
    code, out, _ = cli(capsys, "--database", db, "entries", "--json", "--topic", "wireless")
    assert [r["id"] for r in _json_lines(out)] == [ids["wifi"]]
    code, out, _ = cli(
        capsys, "--database", db, "entries", "--json", "--source", "2", "--limit", "1", "--all"
    )
    assert [r["id"] for r in _json_lines(out)] == [ids["copy"]]
    code, out, _ = cli(capsys, "--database", db, "entries")
    assert code == 0 and "routing" in out and "also on Blog Two" in out


def test_an_unknown_topic_is_a_usage_error(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = cli(capsys, "--database", db, "entries", "--topic", "cooking")
    assert code == 2 and out == ""
    assert "no topic 'cooking'" in err and "routing" in err and len(err.splitlines()) == 1


def test_topics_list_and_explain(capsys: pytest.CaptureFixture[str], db: str) -> None:
    cli(capsys, "--database", db, "topics", "reclassify")
    code, out, _ = cli(capsys, "--database", db, "topics", "list")
    assert code == 0
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 3}
    assert " 3 " in lines["routing"] and " 1 " in lines["wireless"] and " 0 " in lines["other"]
    ids = _ids(db)
    code, out, _ = cli(capsys, "--database", db, "topics", "explain", str(ids["wifi"]))
    assert code == 0
    assert "topics: wireless" in out and "classified automatically" in out
    assert "wi-fi" in out and "title" in out
    code, _, err = cli(capsys, "--database", db, "topics", "explain", "999")
    assert code == 1
    assert "no post 999" in err and len(err.splitlines()) == 1


def test_explain_says_when_an_operator_chose(capsys: pytest.CaptureFixture[str], db: str) -> None:
    ids = _ids(db)
    store = open_store(db)
    try:
        from netplanet.operations.topics import override_topics

        override_topics(store, load_taxonomy(SMALL), ids["wifi"], "other", [])
    finally:
        store.close()
    code, out, _ = cli(capsys, "--database", db, "topics", "explain", str(ids["wifi"]))
    assert code == 0 and "topics: other 1.00 (set by an operator)" in out
    assert "the taxonomy now gives: wireless" in out and "kept" in out


def test_a_bad_topics_file_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is [not toml\n")
    monkeypatch.setenv("NETPLANET_TOPICS_FILE", str(bad))
    for args in (["topics", "list"], ["topics", "reclassify"], ["entries", "--topic", "x"]):
        code, _, err = cli(capsys, "--database", db, *args)
        assert code == 2 and str(bad) in err and len(err.strip().splitlines()) == 1
