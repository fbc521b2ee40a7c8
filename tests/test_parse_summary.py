"""JSON Feed: a summary equal to the content's plain text is dropped, however long the content.

jsonfeed._same_text only converts a prefix of a long content when the prefix already shows the
texts differ; these cases sit on both sides of that shortcut.
"""

from __future__ import annotations

import json

import pytest

from netplanet.parse import parse_feed

TEASER = "A short teaser &amp; more"


def _summary_html(content: str, summary: str = TEASER) -> str:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [{"id": "1", "content_html": content, "summary": summary}],
    }
    return parse_feed(json.dumps(doc).encode()).entries[0].summary_html


@pytest.mark.parametrize(
    "content",
    [
        "<p>A short teaser &amp; more</p>",
        "<div class='" + "x" * 5000 + "'>A short teaser &amp; more</div>",
        "<p>A short teaser &amp; more</p>" + "<br/>\n" * 2000,
        "<!-- " + "c" * 3000 + " -->A short <b>teaser</b> &amp;\n\n more" + "<span></span>" * 500,
    ],
)
def test_summary_equal_to_long_content_is_dropped(content: str) -> None:
    assert _summary_html(content) == ""


@pytest.mark.parametrize(
    "content",
    [
        "<p>A short teaser &amp; more, and the rest of the post.</p>" + "<p>more text</p>" * 500,
        "<p>" + "word " * 3000 + "</p>",
        "<p>A short teaser &amp; more</p>" + "<br/>" * 2000 + "x",
        "&CounterClockwiseContourIntegral;" * 200,
    ],
)
def test_summary_different_from_long_content_is_kept(content: str) -> None:
    assert _summary_html(content) == "<p>A short teaser &amp;amp; more</p>"
