"""Every feed in the shared corpus (../shared/corpus/feeds) parses, with the MANIFEST's entry count.

The corpus lives beside the repository, not in it; a fresh clone has none and these tests skip
(except under CI, where that fails: conftest `corpus_dir`).
MANIFEST.tsv columns used: `file`, `format` ("... (not a feed)" marks a non-feed), `entries`
(compared only when it is a plain number; "10 (regex)" is an estimate for a broken file).
"""

from __future__ import annotations

import csv
import re

import pytest

from builders import CORPUS
from netplanet.errors import ParseError
from netplanet.parse import parse_feed

MANIFEST = CORPUS / "MANIFEST.tsv"
_DROPPED = re.compile(r"^(\d+) entries with duplicate GUIDs dropped")

pytestmark = pytest.mark.corpus


def _manifest() -> dict[str, dict[str, str]]:
    if not MANIFEST.is_file():
        return {}
    with MANIFEST.open(newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


ROWS = _manifest()
FILES = (
    sorted(p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv") if CORPUS.is_dir() else []
)


def _is_not_a_feed(row: dict[str, str]) -> bool:
    return "not a feed" in row.get("format", "").lower() or row.get("note", "").startswith(
        "NOT A FEED"
    )


# Without a corpus the one "(none)" case skips (fails under CI: conftest `corpus_dir`).
@pytest.mark.parametrize("name", FILES or ["(none)"])
def test_corpus_file_parses_with_manifest_entry_count(name: str) -> None:
    row = ROWS.get(name)
    assert row is not None, f"{name} is not listed in MANIFEST.tsv"
    body = (CORPUS / name).read_bytes()
    if _is_not_a_feed(row):
        with pytest.raises(ParseError):
            parse_feed(body)
        return
    feed = parse_feed(body)
    count = row.get("entries", "").strip()
    if count.isdigit():
        # Entries sharing a GUID are dropped on purpose (and counted in a warning).
        dropped = sum(int(m.group(1)) for w in feed.warnings if (m := _DROPPED.match(w)))
        assert len(feed.entries) + dropped == int(count), feed.warnings
