"""strip_boilerplate: one test per pattern, on snippets shaped like real feeds."""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from netplanet.enrich.boilerplate import _strip_parsed, _strip_plain, strip_boilerplate
from netplanet.enrich.empties import _CONTENTFUL, _PRUNABLE, empty_containers, may_have_empties
from netplanet.enrich.tree import is_plain_text, parse_fragment

# The definition of an empty container, in XPath: a prunable element with no text besides
# (no-break) spaces and no contentful descendant. empty_containers computes it in Python.
_EMPTY_CONTAINERS = etree.XPath(
    "descendant::*[{}][not(normalize-space(translate(string(.), '\u00a0', ' ')))]"
    "[not(descendant::*[{}])]".format(
        " or ".join(f"self::{t}" for t in _PRUNABLE),
        " or ".join(f"self::{t}" for t in _CONTENTFUL),
    )
)


def test_wordpress_appeared_first_footer_is_removed() -> None:
    html = (
        "<p>EVPN multihoming, explained.</p>"
        '<p>The post <a rel="nofollow" href="https://netblog.example/evpn/">EVPN Multihoming'
        '</a> appeared first on <a rel="nofollow" href="https://netblog.example">Net Blog</a>.</p>'
    )
    assert strip_boilerplate(html) == "<p>EVPN multihoming, explained.</p>"


def test_first_appeared_on_footer_is_removed() -> None:
    html = (
        "<p>Body.</p>"
        '<p>The post <a href="https://x.example/p">Segment Routing 101</a> first appeared on '
        '<a href="https://x.example">Packet Life</a>.</p>'
    )
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_prose_mentioning_the_post_is_kept() -> None:
    html = "<p>The post office network appeared first on my list of weird WAN designs.</p>"
    assert strip_boilerplate(html + "<p>&nbsp;</p>") == html


def test_read_more_link_is_removed() -> None:
    html = '<p>We upgraded the core. <a href="https://x.example/core">Read more »</a></p>'
    assert strip_boilerplate(html) == "<p>We upgraded the core. </p>"


@pytest.mark.parametrize("more", ["Read full topic", "Read the full article", "Read full post »"])
def test_read_full_links_are_removed(more: str) -> None:
    html = f'<p>First paragraph.</p><p><a href="https://x.example/t/1">{more}</a></p>'
    assert strip_boilerplate(html) == "<p>First paragraph.</p>"


def test_continue_reading_arrow_link_is_removed() -> None:
    html = '<p>First paragraph.</p><p><a href="https://x.example/p">Continue reading →</a></p>'
    assert strip_boilerplate(html) == "<p>First paragraph.</p>"


def test_continue_reading_title_more_link_is_removed() -> None:
    html = (
        "<p>Routing security is hard &hellip; "
        '<a href="https://x.example/rpki" class="more-link">Continue reading '
        '<span class="screen-reader-text">RPKI in practice</span></a></p>'
    )
    assert strip_boilerplate(html) == "<p>Routing security is hard … </p>"


def test_links_that_merely_contain_more_are_kept() -> None:
    html = '<p>See <a href="https://x.example/rr">more about route reflectors</a>.</p>'
    assert strip_boilerplate(html) == html


def test_plain_text_read_more_at_the_end_is_removed() -> None:
    assert strip_boilerplate("<p>Short summary. Read more »</p>") == "<p>Short summary.</p>"


# The feed cut the text mid-sentence: the marker goes, but the cut still shows.
def test_trailing_bracketed_unicode_ellipsis_becomes_an_ellipsis() -> None:
    assert strip_boilerplate("<p>BGP communities are […]</p>") == "<p>BGP communities are…</p>"


def test_trailing_bracketed_dots_become_an_ellipsis() -> None:
    assert strip_boilerplate("<p>OSPF areas are, [...]</p>") == "<p>OSPF areas are…</p>"
    assert strip_boilerplate("OSPF areas are [...]") == "OSPF areas are…"  # plain text


def test_trailing_bracketed_hellip_entity_becomes_an_ellipsis() -> None:
    assert strip_boilerplate("<p>IS-IS levels [&hellip;]</p>") == "<p>IS-IS levels…</p>"


def test_a_marker_after_a_sentence_end_just_goes() -> None:
    assert strip_boilerplate("<p>IS-IS has levels. [&hellip;]</p>") == "<p>IS-IS has levels.</p>"


@pytest.mark.parametrize(
    "more",
    ["Läs mer »", "Weiterlesen", "Lire la suite →", "Leer más", "Read more", "Czytaj dalej »"],
)
def test_read_more_links_in_other_languages_are_removed_and_the_cut_shows(more: str) -> None:
    html = f'<p>Wir gehen zum <a href="https://x.example/p#more">{more}</a></p>'
    assert strip_boilerplate(html) == "<p>Wir gehen zum…</p>"


@pytest.mark.parametrize("more", ["Läs mer »", "Lire la suite →", "Leer más…", "Weiterlesen »"])
def test_plain_text_read_more_in_other_languages_is_removed(more: str) -> None:
    assert strip_boilerplate(f"<p>Fin. {more}</p>") == "<p>Fin.</p>"


def test_a_read_more_link_followed_by_a_blogger_footer_still_shows_the_cut() -> None:
    html = (
        '<p>Text som fortsätter <a href="https://x.example/p#more">Läs mer »</a></p>'
        '<div class="blogger-post-footer">Annons: https://ads.example/t?a=1</div>'
    )
    assert strip_boilerplate(html) == "<p>Text som fortsätter…</p>"


def test_a_read_more_link_in_the_middle_marks_nothing() -> None:
    html = '<p>One <a href="https://x.example/">read more</a> two</p>'
    assert strip_boilerplate(html) == "<p>One  two</p>"


def test_bare_trailing_ellipsis_is_kept() -> None:
    assert strip_boilerplate("<p>And then&hellip;</p><p></p>") == "<p>And then…</p>"


def test_bracketed_ellipsis_inside_text_is_kept() -> None:
    html = "<p>He said “[…] never again” [...] and left.</p>"
    assert strip_boilerplate(html) == html


def test_jetpack_share_block_is_removed() -> None:
    html = (
        "<p>Body.</p>"
        '<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block '
        'sd-social sd-social-icon-text sd-sharing"><h3 class="sd-title">Share this:</h3>'
        '<div class="sd-content"><ul><li class="share-twitter"><a class="share-twitter '
        'sd-button" href="https://x.example/p/?share=twitter" target="_blank">Twitter</a></li>'
        "</ul></div></div></div>"
    )
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_share_this_label_and_share_links_are_removed() -> None:
    html = (
        "<p>Body.</p><p>Share this:</p><p>"
        '<a href="https://www.facebook.com/sharer/sharer.php?u=x.example">Facebook</a> '
        '<a href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fx.example">Twitter</a> '
        '<a href="https://www.linkedin.com/shareArticle?mini=true&url=x">LinkedIn</a></p>'
    )
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_share_link_inside_prose_leaves_the_prose() -> None:
    html = (
        '<p>Liked it? <a href="https://twitter.com/intent/tweet?text=x">Tweet it</a>. '
        "Thanks for reading.</p>"
    )
    assert strip_boilerplate(html) == "<p>Liked it? . Thanks for reading.</p>"


def test_one_by_one_tracking_image_is_removed() -> None:
    html = '<p>Body.<img src="https://t.example/open/abc.gif" width="1" height="1" alt=""></p>'
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_pixel_url_tracking_image_is_removed() -> None:
    html = '<p>Body.</p><img src="https://pixel.wp.com/b.gif?host=x.example&blog=1">'
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_stats_host_tracking_image_is_removed() -> None:
    html = '<p>Body.</p><img src="https://stats.example.org/count.png?id=7">'
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_feedsportal_image_is_removed() -> None:
    html = '<p>Body.</p><img src="http://da.feedsportal.com/r/1234/u/49/f/1/rc.img" border="0">'
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_regular_images_are_kept() -> None:
    html = '<p><img src="https://x.example/topology.png" width="640" height="480"></p>'
    assert strip_boilerplate(html) == html


def test_feedflare_block_is_removed() -> None:
    html = (
        "<p>Body.</p>"
        '<div class="feedflare"><a href="http://feeds.feedburner.com/~ff/NetBlog?a=Xy1:z">'
        '<img src="http://feeds.feedburner.com/~ff/NetBlog?d=yIl2AUoC8zA" border="0"></a> '
        '<a href="http://feeds.feedburner.com/~ff/NetBlog?a=Ab2:c">'
        '<img src="http://feeds.feedburner.com/~ff/NetBlog?i=Ab2:c" border="0"></a></div>'
    )
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_feedburner_r_tracking_image_is_removed() -> None:
    html = (
        '<p>Body.</p><img src="http://feeds.feedburner.com/~r/NetBlog/~4/aBcD123" '
        'height="1" width="1" alt="">'
    )
    assert strip_boilerplate(html) == "<p>Body.</p>"


def test_feedburner_r_link_with_words_is_unwrapped() -> None:
    html = '<p>See <a href="http://feedproxy.google.com/~r/NetBlog/~3/x/post">my post</a>.</p>'
    assert strip_boilerplate(html) == "<p>See my post.</p>"


def test_empty_paragraphs_are_removed() -> None:
    html = "<p>One.</p><p>&nbsp;</p><p><br></p><p> </p><p>Two.</p>"
    assert strip_boilerplate(html) == "<p>One.</p><p>Two.</p>"


def test_paragraph_with_only_an_image_is_kept() -> None:
    html = '<p><img src="https://x.example/a.png"></p>'
    assert strip_boilerplate(html) == html


def test_html_without_markers_is_returned_untouched() -> None:
    html = "<P>Unusual  <B>casing</B> kept\n as is</P>"
    assert strip_boilerplate(html) is html


def test_post_that_is_only_boilerplate_becomes_empty() -> None:
    # The whole fragment matching a rule used to select the parser's wrapper <div> (a crash).
    footer = (
        '<p>The post <a href="https://x.example/p">P</a> appeared first on '
        '<a href="https://x.example">X</a>.</p>'
    )
    assert strip_boilerplate(footer) == ""
    assert strip_boilerplate("<p>Share this:</p>") == ""
    assert strip_boilerplate("Share this:") == "Share this:"  # bare text: no element to drop


_SOUP = [
    "<p>", "</p>", "<div>", "</div>", "<span>", "</span>", "<a href='https://x.example/a>b'>",
    "</a>", "<em>", "</em>", "<b>", "</b>", "<i>", "</i>", "<img src='/x.png'>", "<br>", "<hr>",
    "<!-- c > d -->", " ", "\xa0", "&nbsp;", "&#160;", "\n", "\u2003", "text", "<ul>", "<li>",
    "</li>", "</ul>", "<h3>", "</h3>", "<script> </script>", "<table><tr><td>", "<wbr>", "<u>",
    "</u>", "<p class=\"a'>\">", "&amp;", "<?pi x?>", "<svg></svg>", "<code>", "</code>",
    "<section>", "</section>", "<small>", "<figure>", "</figure>", "<h2 title='>'>", "<ol>",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SOUP), min_size=1, max_size=30))
def test_empty_container_shortcut_never_misses_one(tokens: list[str]) -> None:
    # strip_boilerplate looks for empty containers only when a cheap test on the serialized
    # tree says it may find some; that test must never be wrong that way.
    root = lxml.html.fragment_fromstring("".join(tokens), create_parent="div")
    if _EMPTY_CONTAINERS(root):
        assert may_have_empties(root, lxml.html.tostring(root, encoding="unicode"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SOUP), min_size=1, max_size=40))
def test_empty_containers_are_the_xpath_definition(tokens: list[str]) -> None:
    root = parse_fragment("".join(tokens))
    assert root is not None
    assert empty_containers(root) == _EMPTY_CONTAINERS(root)


_PLAIN = [
    "word", " ", "\n", "\t", "\xa0", "\u2003", "é", "…", "[", "]", ">", '"', "Read more »",
    "continue reading", "[...]", " [ … ] ", ">>", "→", "Share this:", "like this", "The post",
    " appeared first on ", "Blog.",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PLAIN), min_size=1, max_size=20))
def test_plain_text_skips_the_parse_with_the_same_result(tokens: list[str]) -> None:
    text = "".join(tokens)
    assert is_plain_text(text)
    assert _strip_plain(text) == _strip_parsed(text, text.lower())


def test_what_the_parser_would_rewrite_is_not_plain_text() -> None:
    for text in ("a<b", "a &amp; b", "a\rb", "a\x00b", "a\x0bb", "\ufffe", "\ud800"):
        assert not is_plain_text(text)
