"""OPML import and export (netplanet.sources.opml)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from netplanet.errors import OpmlError
from netplanet.model import SourceSpec
from netplanet.sources.bounds import MAX_CATEGORY_CHARS, MAX_TITLE_CHARS
from netplanet.sources.opml import TooManyOutlinesError, parse_opml, read_opml, to_opml

DATA = Path(__file__).parent / "data" / "opml"


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --------------------------------------------------------------------------- reading


def test_nested_outlines_become_categories() -> None:
    expected = json.loads(_read("nested.expected.json"))
    assert [asdict(spec) for spec in parse_opml(_read("nested.opml"))] == expected


def test_title_attribute_wins_over_text_and_whitespace_is_collapsed() -> None:
    specs = parse_opml(
        b'<opml><body><outline text="Text\n  name" xmlUrl="https://a.example/f"/>'
        b'<outline text="text" title="  Title  " xmlUrl="https://b.example/f"/></body></opml>'
    )
    assert [s.title for s in specs] == ["Text name", "Title"]


def test_category_attribute_used_when_outside_any_folder() -> None:
    specs = parse_opml(
        b'<opml><body><outline category="/Routing/BGP,/Other" xmlUrl="https://a.example/f"/>'
        b"</body></opml>"
    )
    assert specs[0].category == "Routing"


def test_folder_wins_over_category_attribute() -> None:
    specs = parse_opml(
        b'<opml><body><outline text="Folder"><outline category="/Attr" xmlUrl="https://a.example/f"/>'
        b"</outline></body></opml>"
    )
    assert specs[0].category == "Folder"


def test_bad_xml_error_names_the_line_and_column() -> None:
    with pytest.raises(OpmlError) as info:
        parse_opml(_read("mismatched.opml"))
    message = str(info.value)
    assert message.startswith("OPML is not well-formed XML: mismatched tag")
    assert re.search(r"at line 7, column \d+$", message)
    assert "\n" not in message


def test_empty_document_is_an_error() -> None:
    with pytest.raises(OpmlError, match="empty"):
        parse_opml(b"  \n")


def test_non_opml_root_is_rejected_naming_the_root() -> None:
    with pytest.raises(OpmlError, match=r"^not an OPML document: root element is <rss>$"):
        parse_opml(_read("not_opml.xml"))


def test_opml_without_body_is_rejected() -> None:
    with pytest.raises(OpmlError, match="has no <body>"):
        parse_opml(b"<opml version='2.0'><head/></opml>")


def test_outlines_without_xmlurl_and_children_are_skipped() -> None:
    specs = parse_opml(_read("missing_xmlurl.opml"))
    assert [s.feed_url for s in specs] == [
        "https://nameless.example/feed",
        "https://untitled.example/feed",
    ]


def test_nameless_folder_adds_no_category() -> None:
    specs = parse_opml(_read("missing_xmlurl.opml"))
    assert specs[0].category == ""


def test_source_without_title_keeps_empty_title() -> None:
    specs = parse_opml(_read("missing_xmlurl.opml"))
    assert specs[1] == SourceSpec(feed_url="https://untitled.example/feed", category="Folder")


def test_non_http_outline_is_skipped_with_its_line_and_reason_the_rest_kept() -> None:
    read = read_opml(_read("bad_scheme.opml"))
    assert read.specs == [SourceSpec("https://ok.example/feed", "ok")]
    [skip] = read.skipped
    assert (skip.line, skip.url) == (6, "file:///etc/passwd")
    assert "scheme 'file'" in skip.reason and "http" in skip.reason
    assert str(skip).startswith("line 6: file:///etc/passwd: ")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https:///feed", "no host"),
        ("gopher://blog.example/feed", "scheme 'gopher'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("blog.example/feed", "no scheme"),
        ("https://blog.example/" + "a" * 5000, "characters long"),
    ],
)
def test_bad_feed_urls_are_skipped_with_a_reason(url: str, why: str) -> None:
    data = (
        f'<opml><body><outline xmlUrl="{url}"/>'
        '<outline text="good" xmlUrl="https://good.example/f"/></body></opml>'
    ).encode()
    read = read_opml(data)
    assert [s.feed_url for s in read.specs] == ["https://good.example/f"]
    assert len(read.skipped) == 1 and why in read.skipped[0].reason
    assert len(str(read.skipped[0])) < 400  # a long URL is shortened in the line


def test_giant_titles_and_folder_names_are_bounded() -> None:
    giant = "word " * 400_000  # 2,000,000 characters
    data = (
        f'<opml><body><outline text="{giant}"><outline text="{giant}" '
        'xmlUrl="https://a.example/f"/></outline></body></opml>'
    ).encode()
    [spec] = parse_opml(data)
    assert len(spec.title) <= MAX_TITLE_CHARS and spec.title.endswith("…")
    assert len(spec.category) <= MAX_CATEGORY_CHARS and spec.category.endswith("…")
    assert spec.title.startswith("word word")


@pytest.mark.parametrize("site", ["https://a.example/" + "x" * 5000, "http://[oops/"])
def test_unusable_site_url_is_dropped(site: str) -> None:
    data = f'<opml><body><outline xmlUrl="https://a.example/f" htmlUrl="{site}"/></body></opml>'
    assert parse_opml(data.encode())[0].site_url == ""


def test_malformed_feed_url_is_skipped() -> None:
    read = read_opml(b'<opml><body><outline xmlUrl="http://[oops/feed"/></body></opml>')
    assert read.specs == [] and "not a URL" in read.skipped[0].reason


def test_more_feed_outlines_than_the_limit_refuses_the_whole_file() -> None:
    outlines = "".join(f'<outline xmlUrl="https://b{i}.example/f"/>' for i in range(4))
    data = f"<opml><body><outline text='F'>{outlines}</outline></body></opml>".encode()
    assert len(read_opml(data, max_outlines=4).specs) == 4
    with pytest.raises(TooManyOutlinesError) as info:
        read_opml(data, max_outlines=3)
    assert (info.value.count, info.value.limit) == (4, 3)
    assert "4 feed outlines" in str(info.value) and "limit of 3" in str(info.value)


def test_duplicates_in_the_file_are_counted() -> None:
    read = read_opml(_read("duplicates.opml"))
    assert read.duplicates == len(re.findall(rb"xmlUrl=", _read("duplicates.opml"))) - 2


def test_non_http_site_url_is_dropped() -> None:
    specs = parse_opml(_read("nested.opml"))
    assert specs[-1].site_url == ""


@pytest.mark.parametrize(
    ("html_url", "kept"),
    [
        ("https://ok.example/", "https://ok.example/"),
        ("  https://ok.example/  ", "https://ok.example/"),
        ("javascript:alert(1)", ""),
        (" JaVaScRiPt:alert(1)", ""),
        ("java&#9;script:alert(1)", ""),
        ("data:text/html,x", ""),
        ("https:no-host", ""),
        ("http:///path", ""),
        ("http://a b.example/", ""),
        ("//ok.example/", ""),  # nothing to resolve it against
    ],
)
def test_site_url_is_kept_only_when_http(html_url: str, kept: str) -> None:
    data = f'<opml><body><outline xmlUrl="https://a.example/f" htmlUrl="{html_url}"/></body></opml>'
    assert parse_opml(data.encode())[0].site_url == kept


def test_duplicate_feeds_keep_the_first() -> None:
    specs = parse_opml(_read("duplicates.opml"))
    assert [(s.title, s.category) for s in specs] == [
        ("Original", "First"),
        ("Different path", "Second"),
    ]


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(OpmlError, match="entities"):
        parse_opml(_read("entities.opml"))


def test_external_entities_are_never_fetched_or_read() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd">'
        b'<opml><body><outline text="x" xmlUrl="https://x.example/f"/></body></opml>'
    )
    assert parse_opml(data) == [SourceSpec("https://x.example/f", "x")]


def test_utf16_document_with_bom_is_read() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><opml><body><outline text="Ünïcødé" xmlUrl="https://u.example/f"/></body></opml>'
    assert parse_opml(text.encode("utf-16"))[0].title == "Ünïcødé"


# --------------------------------------------------------------------------- writing


def test_export_escapes_markup_and_quotes() -> None:
    spec = SourceSpec(
        feed_url="https://a.example/feed?x=1&y=2",
        title="Tom & Jerry <script> \"quoted\" 'single'",
        site_url="https://a.example/?a=1&b=2",
        category="R&D <lab>",
    )
    data = to_opml([spec])
    assert b"<script>" not in data
    assert b"&amp;y=2" in data
    root = etree.fromstring(data)
    outline = root.find("body/outline/outline")
    assert outline is not None
    assert outline.get("title") == spec.title
    assert outline.get("xmlUrl") == spec.feed_url


def test_export_groups_sources_by_category_in_first_seen_order() -> None:
    specs = [
        SourceSpec("https://a.example/f", "A", category="Two"),
        SourceSpec("https://b.example/f", "B", category="One"),
        SourceSpec("https://c.example/f", "C", category="Two"),
    ]
    body = etree.fromstring(to_opml(specs)).find("body")
    assert body is not None
    assert [(o.get("text"), [c.get("text") for c in o]) for o in body] == [
        ("Two", ["A", "C"]),
        ("One", ["B"]),
    ]


def test_export_is_opml_2_with_title_and_optional_date() -> None:
    root = etree.fromstring(to_opml([], title="My planet", now=datetime(2024, 5, 6, tzinfo=UTC)))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "My planet"
    assert root.findtext("head/dateCreated") == "Mon, 06 May 2024 00:00:00 GMT"


def test_export_without_now_has_no_date() -> None:
    assert b"dateCreated" not in to_opml([])


def test_export_drops_characters_xml_cannot_carry() -> None:
    data = to_opml([SourceSpec("https://a.example/f", "bell\x07 here")])
    assert parse_opml(data)[0].title == "bell here"


# --------------------------------------------------------------------------- round trip

_text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc"),
        include_characters="&<>\"'/ ",
        exclude_characters="\ufffe\uffff",
    ),
    max_size=30,
).map(lambda s: " ".join(s.split()))  # parse_opml collapses whitespace: generate collapsed text
_path = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), max_size=10)
_url = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}.example/{path}{query}",
    st.sampled_from(["http", "https"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    _path,
    st.sampled_from(["", "?a=1&b=2", "?q=%22x%22", "#frag"]),
)
_spec = st.builds(
    SourceSpec,
    feed_url=_url,
    title=_text,
    site_url=st.one_of(st.just(""), _url),
    category=st.one_of(st.just(""), st.sampled_from(["Networking", "Cloud & DC"]), _text),
)


def _grouped(specs: list[SourceSpec]) -> list[SourceSpec]:
    """What to_opml does to order: stable grouping by category, first-seen category first."""
    order: dict[str, int] = {}
    for spec in specs:
        order.setdefault(spec.category, len(order))
    return sorted(specs, key=lambda spec: order[spec.category])


@settings(max_examples=200, deadline=None)
@given(st.lists(_spec, max_size=12, unique_by=lambda spec: spec.feed_url.lower()))
def test_round_trip_preserves_every_spec(specs: list[SourceSpec]) -> None:
    assert parse_opml(to_opml(specs)) == _grouped(specs)


def test_round_trip_example_with_unicode_and_quotes() -> None:
    spec = SourceSpec("https://x.example/f", 'Žluťoučký kůň "&" <b>', "https://x.example/", "Ça")
    assert parse_opml(to_opml([spec, replace(spec, feed_url="https://y.example/f")])) == [
        spec,
        replace(spec, feed_url="https://y.example/f"),
    ]
