"""media:description (Media RSS) is carried from the parser into the entry and its excerpt.

YouTube's channel feeds (and other video feeds) give an entry no content and no summary: its
only text is media:description, inside media:group. Fixtures are hand-written, shaped like them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from netplanet.enrich import enrich_entry
from netplanet.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2024, 6, 2, tzinfo=UTC)


def _parse(name: str) -> list:  # type: ignore[type-arg]
    feed = parse_feed((FEEDS / name).read_bytes(), content_type="", url=f"https://x.example/{name}")
    return list(feed.entries)


def test_atom_media_group_description_is_carried_as_html() -> None:
    first, second, third = _parse("atom-media-group-description.xml")
    assert first.content_html == "" and first.summary_html == ""
    assert first.media_html == (
        "<p>We walk through route types 1 to 5 &amp; what each one carries.</p>"
        "<p>Lab files: https://lab.example.net/evpn<br>Chapters<br>00:00 Intro</p>"
    )
    assert second.media_html == ""  # the entry has text of its own: not even looked for
    assert third.media_html == ""


def test_rss_media_description_direct_html_and_inside_media_content() -> None:
    first, second = _parse("rss-media-description.xml")
    assert first.media_html == "<p>Segment routing <b>basics</b>.</p>"
    assert second.media_html == "<p>Plain text &lt;not a tag&gt; about BFD timers.</p>"


def test_a_video_entry_gets_its_excerpt_and_text_from_the_media_description() -> None:
    entries = [
        enrich_entry(e, source_id=1, source_category="", base_url="https://x.example/", now=NOW)
        for e in _parse("atom-media-group-description.xml")
    ]
    assert entries[0].excerpt_html.startswith("<p>We walk through route types 1 to 5 &amp; what")
    assert "route types" in entries[0].text
    assert entries[1].excerpt_html == "<p>The summary wins over the media description.</p>"
    assert entries[2].excerpt_html == ""
