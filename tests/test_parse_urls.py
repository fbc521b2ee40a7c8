"""parse.common.absolutize: a relative link resolved exactly as urljoin resolves it.

absolutize answers root-relative links ("/2024/05/post") itself, without urljoin; these tests
hold its answer to urljoin's for the links it takes and the ones it must leave to urljoin.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplanet.parse.common import absolutize

BASES = [
    "https://example.org",
    "https://example.org/blog/feed.xml",
    "HTTP://Example.org:8080/a/?q=1#f",
    "https://user:pw@example.org/a;p?q",
    "http://[::1]/feed",
    "feed://example.org/rss",
    "https:///path-only",
    "/relative/base",
]


def _urljoin(base: str, link: str) -> str:
    try:
        return urljoin(base, link.strip())
    except ValueError:
        return link.strip()


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(
    "link",
    ["/", "/a/b", "/a/b/", "/a//b", "/a/./b", "/a/../b", "/.well-known/x", "/a;p", "/a;",
     "/a?q=1", "/a?", "/a#", "/a?#f", "/a#f", "/a\tb", "/a\nb", "/a b", "/caf\u00e9", "//host/x"],
)  # fmt: skip
def test_root_relative_links_resolve_as_urljoin_does(base: str, link: str) -> None:
    assert absolutize(link, base) == _urljoin(base, link)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(BASES),
    st.lists(st.sampled_from([*"/ab.;?#%:@ \t\n\r\u00e9\\", "..", "//"])).map("".join),
)
def test_any_link_resolves_as_urljoin_does(base: str, tail: str) -> None:
    link = "/" + tail
    if link.strip():
        assert absolutize(link, base) == _urljoin(base, link)
