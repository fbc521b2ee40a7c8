"""make_excerpt and html_to_text: examples, then well-formedness and bounds as properties."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from netplanet.enrich.excerpt import (
    ELLIPSIS,
    PRE_MAX_CHARS,
    PRE_MAX_LINES,
    SPACE_CHARS,
    _Collector,
    _Enough,
    _excerpt_of,
    _slack,
    html_to_text,
    make_excerpt,
)
from netplanet.enrich.tree import parse_clean


def _words(n: int, start: int = 0) -> str:
    return " ".join(f"w{i}" for i in range(start, start + n))


def test_short_text_is_kept_whole_without_ellipsis() -> None:
    assert make_excerpt("<p>Hello <em>BGP</em> world.</p>") == "<p>Hello <em>BGP</em> world.</p>"


def test_long_text_without_sentences_is_cut_at_the_word_limit_with_ellipsis() -> None:
    out = make_excerpt(f"<p>{_words(200)}</p>", words=30)
    assert out == f"<p>{_words(30)}…</p>"


def test_cut_prefers_a_sentence_end_near_the_limit() -> None:
    html = "<p>" + " ".join(["One two three four five six seven eight nine ten."] * 20) + "</p>"
    out = make_excerpt(html, words=25)
    # sentence ends at 10, 20, 30 words: 20 is within the last 30% of 25, 30 is over the slack
    assert (
        html_to_text(out).split()
        == ("One two three four five six seven eight nine ten. " * 2).split()
    )
    assert not out.endswith("…</p>")


def test_abbreviations_are_not_sentence_ends() -> None:
    html = f"<p>{_words(18)} e.g. {_words(40, 100)}</p>"
    out = make_excerpt(html, words=20)
    assert out.endswith("…</p>")


def test_trailing_comma_is_dropped_before_the_ellipsis() -> None:
    html = f"<p>{_words(9)} w9, {_words(30, 10)}</p>"
    assert make_excerpt(html, words=10) == f"<p>{_words(10)}…</p>"


def test_blocks_become_paragraphs_headings_and_quotes() -> None:
    html = "<div>A.</div><h2>B</h2><blockquote>C.</blockquote>"
    assert make_excerpt(html) == "<p>A.</p><h4>B</h4><blockquote><p>C.</p></blockquote>"


def test_lists_are_kept_as_lists() -> None:
    html = (
        "<p>Changes:</p><ul><li>faster BGP</li><li>fixed <b>OSPF</b>.<ul><li>sub</li></ul>"
        '</li></ul><ol start="3"><li><p>one</p><p>two</p></li></ol><dl><dt>t</dt><dd>d</dd></dl>'
    )
    assert make_excerpt(html) == (
        "<p>Changes:</p><ul><li>faster BGP</li><li>fixed <b>OSPF</b>.<ul><li>sub</li></ul>"
        "</li></ul><ol><li><p>one</p><p>two</p></li></ol><dl><dt>t</dt><dd>d</dd></dl>"
    )


def test_loose_text_in_a_list_becomes_an_item() -> None:
    assert make_excerpt("<ul>loose<li>x</li></ul>") == "<ul><li>loose</li><li>x</li></ul>"


def test_short_code_blocks_are_kept_escaped() -> None:
    html = "<p>Config:</p><pre>router bgp 65000\n neighbor 10.0.0.1 &lt;x&gt;<br>end\n\n</pre>"
    assert make_excerpt(html) == (
        "<p>Config:</p><pre><code>router bgp 65000\n neighbor 10.0.0.1 &lt;x&gt;\nend</code></pre>"
    )


def test_long_code_blocks_are_bounded_with_a_visible_cut() -> None:
    lines = [f"interface Ethernet{i}" for i in range(40)]
    out = make_excerpt("<pre>" + "\n".join(lines) + "</pre><p>After.</p>", words=500)
    code = out.split("<code>")[1].split("</code>")[0].split("\n")
    assert code == [*lines[:PRE_MAX_LINES], "…"]
    wide = make_excerpt("<pre>" + "x" * 5000 + "</pre>")
    assert PRE_MAX_CHARS < len(html_to_text(wide)) <= PRE_MAX_CHARS + 2
    assert html_to_text(wide).endswith("…")


def test_images_and_tables_are_left_out() -> None:
    html = (
        '<p>Before <img src="https://x.example/a.png"> after.</p>'
        "<table><tr><td>cell</td></tr></table><p>End.</p>"
    )
    assert make_excerpt(html) == "<p>Before after.</p><p>End.</p>"


def test_a_cut_after_a_code_block_is_marked_below_it() -> None:
    html = f"<p>{_words(15)}</p><pre>{_words(8, 100)}</pre><p>{_words(40, 200)}</p>"
    assert make_excerpt(html, words=23).endswith("</code></pre><p>…</p>")


def test_a_sentence_end_counts_from_seven_tenths_of_the_limit() -> None:
    # 20 words: the window is words 14-20, and up to 22 past it (the slack).
    after = f"Next {_words(40, 100)}"
    at_14 = f"<p>{_words(13)} end. {after}</p>"
    assert make_excerpt(at_14, words=20) == f"<p>{_words(13)} end.</p>"
    at_13 = f"<p>{_words(12)} end. {after}</p>"
    assert make_excerpt(at_13, words=20) == f"<p>{_words(12)} end. Next {_words(6, 100)}…</p>"
    at_22 = f"<p>{_words(21)} end. {after}</p>"
    assert make_excerpt(at_22, words=20) == f"<p>{_words(21)} end.</p>"
    at_23 = f"<p>{_words(22)} end. {after}</p>"
    assert make_excerpt(at_23, words=20) == f"<p>{_words(20)}…</p>"


def test_a_sentence_end_across_paragraphs_and_a_code_block_is_found() -> None:
    html = (
        f"<p>{_words(8)}</p><pre>{_words(3, 50)}</pre><p>{_words(5, 8)} end. Next {_words(30)}</p>"
    )
    assert make_excerpt(html, words=20).endswith(f"<p>{_words(5, 8)} end.</p>")


def test_a_code_block_over_the_window_cuts_before_it() -> None:
    # 10 words, then a code block that takes the count from 10 to 25 (past 20 + 2).
    html = f"<p>{_words(10)}</p><pre>{_words(15, 100)}</pre><p>{_words(40, 200)}</p>"
    assert make_excerpt(html, words=20) == f"<p>{_words(10)}…</p>"


def test_a_first_code_block_over_the_limit_is_kept_and_marked() -> None:
    html = f"<pre>{_words(30, 100)}</pre><p>{_words(40, 200)}</p>"
    assert make_excerpt(html, words=20) == f"<pre><code>{_words(30, 100)}</code></pre><p>…</p>"


def test_a_cut_in_a_list_item_is_marked_and_closes_the_list() -> None:
    html = f"<ul><li>{_words(10)}</li><li>{_words(30, 10)}</li></ul>"
    assert (
        make_excerpt(html, words=20) == f"<ul><li>{_words(10)}</li><li>{_words(10, 10)}…</li></ul>"
    )


def test_links_and_emphasis_are_kept() -> None:
    html = '<p>Read <a href="https://x.example/?a=1&amp;b=2" class="c">the <b>RFC</b></a>.</p>'
    assert make_excerpt(html) == (
        '<p>Read <a href="https://x.example/?a=1&amp;b=2" rel="nofollow noopener noreferrer">'
        "the <b>RFC</b></a>.</p>"
    )


def test_non_http_links_are_unwrapped() -> None:
    assert make_excerpt('<p><a href="javascript:x()">click</a></p>') == "<p>click</p>"


def test_other_inline_markup_is_unwrapped() -> None:
    assert make_excerpt('<p><span class="x">a</span> <font>b</font></p>') == "<p>a b</p>"


def test_text_is_escaped() -> None:
    assert make_excerpt("<p>1 &lt; 2 &amp;&amp; x</p>") == "<p>1 &lt; 2 &amp;&amp; x</p>"


def test_cut_never_leaves_an_open_tag() -> None:
    html = f"<p><strong>{_words(50)}</strong> {_words(10, 50)}</p>"
    assert make_excerpt(html, words=20) == f"<p><strong>{_words(20)}</strong>…</p>"


def test_empty_or_imageless_input_gives_empty_excerpt() -> None:
    assert make_excerpt("") == ""
    assert make_excerpt('<p><img src="https://x.example/a.png"></p>') == ""


def test_html_to_text_separates_blocks_and_collapses_whitespace() -> None:
    html = "<h2>Title</h2><p>a\n\n b<br>c</p><ul><li>d</li><li>e</li></ul><p>f&amp;g</p>"
    assert html_to_text(html) == "Title a b c d e f&g"


def test_html_to_text_drops_scripts_and_styles() -> None:
    assert html_to_text("<p>x</p><script>var y;</script><style>p{}</style>") == "x"


def test_html_to_text_of_plain_text() -> None:
    assert html_to_text("  plain \n text ") == "plain text"


# ----------------------------------------------------------------------------- properties

_word = st.one_of(
    st.sampled_from(
        ["BGP", "route", "é", "x", "ends.", "e.g.", "why?", "wow!", "a,b", "item;", "&amp;",
         "&lt;", "&eacute;", "&#8230;", "a.b.", "IPv6", "Don’t", "(sic)", "10.0.0.1", "—"]
    ),
    st.text(alphabet="abcXYZ09.,", min_size=1, max_size=6),
)  # fmt: skip
_text = st.lists(_word, min_size=0, max_size=10).map(" ".join)


@st.composite
def _inline(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(
        st.sampled_from(["text", "text", "em", "a", "span", "br", "img"] if depth < 2 else ["text"])
    )
    if kind == "text":
        return draw(_text)
    if kind == "br":
        return "<br>"
    if kind == "img":
        return '<img src="https://x.example/i.png" alt="alt">'
    inner = " ".join(draw(st.lists(_inline(depth + 1), min_size=1, max_size=2)))
    if kind == "a":
        return f'<a href="https://x.example/{draw(st.integers(0, 9))}">{inner}</a>'
    return f"<{kind}>{inner}</{kind}>"


@st.composite
def _documents(draw: st.DrawFn) -> str:
    blocks = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["p", "p", "p", "h2", "blockquote", "ul", "pre", "div"]))
        inner = " ".join(draw(st.lists(_inline(), min_size=1, max_size=3)))
        if kind == "ul":
            blocks.append("<ul>" + "".join(f"<li>{inner}</li>" for _ in range(2)) + "</ul>")
        else:
            blocks.append(f"<{kind}>{inner}</{kind}>")
    # sometimes leave tags unclosed, as feeds do
    doc = "".join(blocks)
    return doc.replace("</p>", "") if draw(st.booleans()) else doc


_PUNCT = ".,;:!?…"
_TOP_LEVEL = frozenset({"p", "h4", "ul", "ol", "dl", "pre", "blockquote"})
_ALLOWED = _TOP_LEVEL | {"div", "li", "dt", "dd", "code", "a", "em", "strong", "b", "i"}


def _core(word: str) -> str:
    return word.strip(_PUNCT)


@settings(max_examples=150)
@given(_documents(), st.integers(1, 80))
def test_excerpt_is_well_formed_xml(html: str, words: int) -> None:
    out = make_excerpt(html, words=words)
    root = etree.fromstring(f"<div>{out}</div>")  # strict: raises on any unclosed tag or entity
    assert all(child.tag in _TOP_LEVEL for child in root)
    for el in root.iter():
        assert el.tag in _ALLOWED, el.tag
        assert set(el.attrib) <= ({"href", "rel"} if el.tag == "a" else set()), out
        if el.tag == "li":
            assert el.getparent().tag in ("ul", "ol"), out
        if el.tag in ("ul", "ol"):
            assert all(child.tag == "li" for child in el), out


@settings(max_examples=150)
@given(_documents(), st.integers(1, 80))
def test_excerpt_is_bounded(html: str, words: int) -> None:
    out = make_excerpt(html, words=words)
    out_words = html_to_text(out).split()
    if out.startswith("<pre>") and out.count("<pre>") == 1:  # a code block is never split
        assert len(html_to_text(out)) <= PRE_MAX_CHARS + 2
    else:
        assert len(out_words) <= words + max(2, words // 10)


def _ends_a_sentence(word: str) -> bool:
    return word.rstrip("\"'”’»)]").endswith((".", "!", "?", ELLIPSIS))


@settings(max_examples=200)
@given(_documents(), st.integers(1, 80))
def test_a_cut_is_always_visible(html: str, words: int) -> None:
    # Either every word is kept, or the excerpt ends with "…" or at the end of a sentence.
    out_words = html_to_text(make_excerpt(html, words=words)).split()
    all_words = html_to_text(html).split()
    if len(out_words) < len(all_words):
        assert out_words == [] or _ends_a_sentence(out_words[-1]), out_words[-5:]


@settings(max_examples=150)
@given(_documents(), st.integers(1, 80))
def test_excerpt_never_cuts_inside_a_word(html: str, words: int) -> None:
    out_words = html_to_text(make_excerpt(html, words=words)).split()
    if out_words[-1:] == ["…"]:  # the mark below a code block
        out_words.pop()
    if not out_words:
        return
    source_words = {_core(w) for w in html_to_text(html).split()}
    assert _core(out_words[-1]) in source_words


@settings(max_examples=100)
@given(_documents())
def test_excerpt_of_short_text_keeps_every_word(html: str) -> None:
    text = html_to_text(html)
    count = len(text.split())
    out = make_excerpt(html, words=max(count, 1))
    kept = [_core(w) for w in html_to_text(out).split()]
    # images aside (no words), nothing is lost and nothing is added
    assert kept == [_core(w) for w in text.split()]


def test_space_chars_are_exactly_what_regex_whitespace_means() -> None:
    # The cut strips SPACE_CHARS where the regexes say \s; both must mean the same characters.
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if re.match(r"\s", chr(c))}
    assert set(SPACE_CHARS) == spaces == {c for c in map(chr, range(0x3001)) if c.isspace()}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["word", "End.", "e.g.", " ", "\n", "\xa0", "é", ">", "…"]), max_size=60
    ),
    st.sampled_from([1, 5, 12, 75]),
)
def test_plain_text_excerpt_is_the_parsed_one(tokens: list[str], words: int) -> None:
    # Plain text skips the parse; walking the parsed tree must give the same excerpt.
    text = "".join(tokens)
    root = parse_clean(text)
    collector = _Collector(budget=words + _slack(words))
    if root is not None:
        try:
            collector.walk(root, ())
            collector.flush()
        except _Enough:
            pass
    assert make_excerpt(text, words=words) == _excerpt_of(collector.blocks, words)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("tail text<p>More.</p>", "tail text More."),
        ("<div>a<p>b</p>c</div>", "a b c"),
        ("one<ul><li>two</li></ul>three", "one two three"),
        ("<p>a <b>bold</b>word</p>", "a boldword"),  # inline markup never splits a word
    ],
)
def test_text_separates_loose_text_from_the_blocks_around_it(html: str, text: str) -> None:
    assert html_to_text(html) == text
