"""parse_feed on small hand-written fixtures: tests/data/feeds/x.xml beside x.expected.json.

An expected file lists only the fields its behaviour is about; `entries` is compared entry by
entry, and `_url` / `_content_type` give the arguments to parse_feed.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from netplanet.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def check_fixture(name: str) -> None:
    path = FEEDS / name
    expected_path = path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")
    expected = json.loads(expected_path.read_text())
    feed = parse_feed(
        path.read_bytes(),
        url=expected.pop("_url", ""),
        content_type=expected.pop("_content_type", ""),
    )
    actual = _jsonable(dataclasses.asdict(feed))
    expected_entries = expected.pop("entries", None)
    for key, value in expected.items():
        assert actual[key] == value, f"feed.{key}"
    if expected_entries is not None:
        assert len(actual["entries"]) == len(expected_entries), "entry count"
        for i, (got, want) in enumerate(zip(actual["entries"], expected_entries, strict=True)):
            for key, value in want.items():
                assert got[key] == value, f"entries[{i}].{key}"


# --------------------------------------------------------------------------- formats


def test_rss20_item_fields_content_summary_author_categories() -> None:
    check_fixture("rss20-full-item.xml")


def test_rss10_rdf_items_beside_channel() -> None:
    check_fixture("rss10-rdf-items-beside-channel.rdf")


def test_rss091_with_netscape_doctype_and_html_entities() -> None:
    check_fixture("rss091-netscape-doctype-html-entities.xml")


def test_atom03_escaped_content_and_issued_date() -> None:
    check_fixture("atom03-escaped-content.xml")


def test_atom_xhtml_content_is_unwrapped_from_its_div() -> None:
    check_fixture("atom10-xhtml-content.xml")


def test_json_feed_11_authors_tags_attachments_and_content_text() -> None:
    check_fixture("jsonfeed11-authors-tags-attachments.json")


def test_json_feed_10_author_object() -> None:
    check_fixture("jsonfeed10-author-object.json")


def test_unnamespaced_atom_feed_is_read_as_atom() -> None:
    check_fixture("atom-unnamespaced-feed.xml")


# --------------------------------------------------------------------------- links and fields


def test_xml_base_resolves_relative_links() -> None:
    check_fixture("atom10-xml-base-relative-links.xml")


def test_relative_links_resolve_against_feed_url_and_guid_permalink() -> None:
    check_fixture("rss20-relative-links-no-base.xml")


def test_feedburner_origlink_preferred_over_proxy_link() -> None:
    check_fixture("feedburner-origlink.xml")


def test_itunes_duration_forms_and_enclosures() -> None:
    check_fixture("podcast-itunes-duration-enclosures.xml")


def test_duplicate_guids_keep_first_and_warn() -> None:
    check_fixture("rss20-duplicate-guids.xml")


def test_declared_iso8859_1_is_decoded_without_warnings() -> None:
    check_fixture("iso8859-1-declared.xml")


# --------------------------------------------------------------------------- breakages


@pytest.mark.parametrize(
    "name",
    [
        "broken-leading-blank-line.xml",
        "broken-junk-before-declaration.xml",
        "broken-utf8-bom.xml",
        "broken-undeclared-latin1.xml",
        "broken-declared-utf8-but-latin1.xml",
        "broken-unknown-encoding-name.xml",
        "broken-control-characters.xml",
        "broken-unescaped-entities.xml",
        "broken-truncated-mid-item.xml",
    ],
)
def test_broken_xml_is_repaired(name: str) -> None:
    check_fixture(name)


def test_repairs_are_reported_as_warnings() -> None:
    feed = parse_feed((FEEDS / "broken-control-characters.xml").read_bytes())
    assert "3 control characters removed" in feed.warnings
    assert any(w.startswith("malformed XML repaired (") for w in feed.warnings)


def test_truncated_feed_warns_that_content_may_be_missing() -> None:
    feed = parse_feed((FEEDS / "broken-truncated-mid-item.xml").read_bytes())
    assert any("content may be missing" in w for w in feed.warnings)


def test_title_is_plain_text() -> None:
    feed = parse_feed((FEEDS / "rss20-full-item.xml").read_bytes())
    assert feed.entries[0].title == "Why BGP route reflectors still matter"


def test_every_date_is_aware_utc() -> None:
    for path in FEEDS.iterdir():
        if path.name.endswith((".expected.json", ".html")):
            continue
        for entry in parse_feed(path.read_bytes()).entries:
            for value in (entry.published, entry.updated):
                assert value is None or value.utcoffset() is not None, path.name
