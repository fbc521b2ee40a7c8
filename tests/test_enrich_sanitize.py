"""sanitize_html: known XSS vectors never survive, and one small test per allow-list rule."""

from __future__ import annotations

import base64
import re

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplanet.enrich.sanitize import _base_matters, _cleaner, _relative_policy, sanitize_html

BASE = "https://blog.example.net/2024/05/post/"

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<body onload=alert(1)>",
    '<div onmouseover="alert(1)">hover</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<img src="javascript:alert(1)">',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width: expression(alert(1))">x</p>',
    "<style>body{background:url('javascript:alert(1)')}</style>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><input type="submit"></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<video><source onerror="alert(1)"></video>',
    '<details open ontoggle="alert(1)">x</details>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<p><style><img src=x onerror=alert(1)></style></p>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    '<a href="x" onclick="alert(1)" target="_blank">x</a>',
    "<img src=`x`onerror=alert(1)>",
    '<img """><script>alert(1)</script>">',
    "<<script>alert(1);//<</script>",
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<a href="java\x00script:alert(1)">x</a>',
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    '<img src="x:alert(1)" onerror="eval(src)">',
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    '<q cite=" JaVaScRiPt:alert(1)">q</q>',
    '<del cite="java&#x09;script:alert(1)">d</del>',
    '<ins cite="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">i</ins>',
    '<q/cite="vbscript:msgbox(1)">q</q>',
    '<blockquote CITE = "file:///etc/passwd">q</blockquote>',
]

_EVENT_ATTR_RE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_BAD_SCHEME_RE = re.compile(r"^\s*(?:javascript|vbscript|data:text|file)", re.IGNORECASE)
_FORBIDDEN_TAGS = {
    "script", "style", "iframe", "object", "embed", "form", "base", "meta", "link", "svg",
    "math", "input", "button", "textarea", "frame", "frameset", "applet",
}  # fmt: skip


def _tree(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html or "<span></span>", create_parent="div")


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_neutralized(vector: str) -> None:
    out = sanitize_html(vector, base_url=BASE)
    assert "<script" not in out.lower()
    assert not _EVENT_ATTR_RE.search(out)
    for el in _tree(out).iter():
        assert el.tag not in _FORBIDDEN_TAGS
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert name.lower() not in {"style", "srcdoc", "formaction", "xlink:href"}
            assert not _BAD_SCHEME_RE.match(value), (name, value)


def test_at_least_forty_vectors() -> None:
    assert len(XSS_VECTORS) >= 40


# ----------------------------------------------------------------------------- one rule each


def test_text_structure_is_kept() -> None:
    html = (
        "<p>a <em>b</em> <strong>c</strong> <code>d</code></p><blockquote>q</blockquote>"
        "<ul><li>x</li></ul><ol><li>y</li></ol><pre><code>z</code></pre><hr>"
    )
    assert sanitize_html(html, base_url=BASE) == html


def test_h1_becomes_h2() -> None:
    assert sanitize_html("<h1>Title</h1>", base_url=BASE) == "<h2>Title</h2>"


def test_h2_to_h6_are_kept() -> None:
    html = "".join(f"<h{n}>t</h{n}>" for n in range(2, 7))
    assert sanitize_html(html, base_url=BASE) == html


def test_unknown_tags_are_unwrapped_keeping_text() -> None:
    assert sanitize_html("<font color=red><blink>hi</blink></font>", base_url=BASE) == "hi"


def test_script_content_is_dropped_not_unwrapped() -> None:
    assert sanitize_html("<p>a</p><script>var x = 1;</script>", base_url=BASE) == "<p>a</p>"


def test_relative_link_is_made_absolute() -> None:
    out = sanitize_html('<a href="../other/">o</a>', base_url=BASE)
    assert 'href="https://blog.example.net/2024/05/other/"' in out


def test_root_relative_link_is_made_absolute() -> None:
    out = sanitize_html('<a href="/about">o</a>', base_url=BASE)
    assert 'href="https://blog.example.net/about"' in out


def test_protocol_relative_link_takes_base_scheme() -> None:
    out = sanitize_html('<a href="//cdn.example.org/x">o</a>', base_url=BASE)
    assert 'href="https://cdn.example.org/x"' in out


def test_relative_img_src_is_made_absolute() -> None:
    out = sanitize_html('<img src="fig1.png" alt="Fig 1">', base_url=BASE)
    assert out == '<img src="https://blog.example.net/2024/05/post/fig1.png" alt="Fig 1">'


def test_relative_urls_are_dropped_without_usable_base() -> None:
    out = sanitize_html('<a href="/about">o</a>', base_url="not a url")
    assert "href" not in out
    assert ">o</a>" in out


def test_links_get_nofollow_noopener_noreferrer() -> None:
    out = sanitize_html('<a href="https://x.example/" rel="author">x</a>', base_url=BASE)
    assert out == '<a href="https://x.example/" rel="nofollow noopener noreferrer">x</a>'


def test_target_is_not_kept() -> None:
    out = sanitize_html('<a href="https://x.example/" target="_blank">x</a>', base_url=BASE)
    assert "target" not in out


def test_mailto_links_are_kept() -> None:
    out = sanitize_html('<a href="mailto:me@example.net">mail</a>', base_url=BASE)
    assert 'href="mailto:me@example.net"' in out


def test_img_keeps_src_alt_width_height_only() -> None:
    html = '<img src="https://x.example/a.png" alt="A" width="10" height="20" class="c" id="i">'
    out = sanitize_html(html, base_url=BASE)
    assert out == '<img src="https://x.example/a.png" alt="A" width="10" height="20">'


def test_img_without_allowed_src_is_removed() -> None:
    assert sanitize_html('<p>a<img src="javascript:x" alt="y">b</p>', base_url=BASE) == "<p>ab</p>"


def _data_png(size: int) -> str:
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\0" * (size - 4)).decode()


def test_small_data_image_is_kept() -> None:
    src = _data_png(200)
    assert sanitize_html(f'<img src="{src}">', base_url=BASE) == f'<img src="{src}">'


def test_big_data_image_is_dropped() -> None:
    assert sanitize_html(f'<img src="{_data_png(5000)}">', base_url=BASE) == ""


def test_data_image_limit_is_on_decoded_bytes_exactly() -> None:
    # 4 base64 characters carry 3 bytes: 5,462 characters are 4,096 bytes (rounded down), the
    # most allowed; 5,463 are 4,097.
    at_limit = "data:image/png;base64," + "A" * 5462
    over = "data:image/png;base64," + "A" * 5463
    assert sanitize_html(f'<img src="{at_limit}">', base_url=BASE) == f'<img src="{at_limit}">'
    assert sanitize_html(f'<img src="{over}">', base_url=BASE) == ""


def test_data_url_is_kept_only_as_an_image_source() -> None:
    # A data: value anywhere else goes, even a small image in an image's own alt or title.
    html = f'<img alt="{_data_png(20)}" title="{_data_png(20)}" src="https://x.example/a.png">'
    assert sanitize_html(html, base_url=BASE) == '<img src="https://x.example/a.png">'


def test_svg_data_image_is_dropped() -> None:
    src = "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()
    assert sanitize_html(f'<img src="{src}">', base_url=BASE) == ""


def test_data_url_on_link_is_dropped() -> None:
    out = sanitize_html(f'<a href="{_data_png(100)}">x</a>', base_url=BASE)
    assert "data:" not in out


def test_figure_and_figcaption_are_kept() -> None:
    html = '<figure><img src="https://x.example/a.png"><figcaption>Cap</figcaption></figure>'
    assert sanitize_html(html, base_url=BASE) == html


def test_table_basics_are_kept() -> None:
    html = (
        "<table><thead><tr><th>h</th></tr></thead>"
        '<tbody><tr><td colspan="2">d</td></tr></tbody></table>'
    )
    assert sanitize_html(html, base_url=BASE) == html


def test_sup_and_sub_are_kept() -> None:
    assert (
        sanitize_html("x<sup>2</sup>H<sub>2</sub>O", base_url=BASE) == "x<sup>2</sup>H<sub>2</sub>O"
    )


def test_class_and_style_attributes_are_removed() -> None:
    assert sanitize_html('<p class="x" style="color:red">a</p>', base_url=BASE) == "<p>a</p>"


def test_comments_are_removed() -> None:
    assert sanitize_html("a<!-- secret -->b", base_url=BASE) == "ab"


def test_empty_input_gives_empty_output() -> None:
    assert sanitize_html("  \n ", base_url=BASE) == ""


def test_lone_surrogates_are_dropped() -> None:
    # json.loads turns a "\ud800" escape into a lone surrogate, which nh3 cannot take.
    assert sanitize_html("<p>a \ud800b\udfff</p>", base_url=BASE) == "<p>a b</p>"


_URL_SOUP = [
    "<a href='https://a.example/x'>", "<a href=\"http://b.example\">", "<a HREF = https://c/>",
    "<a href='/rel'>", "<a href=rel>", "<a href>", "<a href=''>", "<img src='//cdn/x.png'>",
    "<img src=\"https://i.example/p.png\">", "<img src=' https://sp/x'>", "<a href='#top'>",
    "<a href='&#104;ttps://e/'>", "<a title='x'href='/y'>", "<a/href='/z'>", "</a>", "text",
    " href=/w ", "<blockquote cite='/q'>", "<a href='?q=1'>", "<img srcset='/a 2x'>", "<p>",
    "<a href='mailto:me@x'>", "<a href='javascript:x'>", "<a data-href='/d'>", "<a src=/s>",
    "<q cite='https://q.example/'>", "<q cite=javascript:x>", "<del cite='//d.example/'>",
]  # fmt: skip


@given(st.lists(st.sampled_from(_URL_SOUP), min_size=1, max_size=12))
def test_documents_whose_base_does_not_matter_clean_the_same_with_any_base(
    tokens: list[str],
) -> None:
    html = "".join(tokens)
    if not _base_matters(html.lower()):
        for filtered in (False, True):
            base = _cleaner(BASE, filtered=filtered).clean(html)
            assert _cleaner("", filtered=filtered).clean(html) == base


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<blockquote cite="https://src.example/a">q</blockquote>',
            '<blockquote cite="https://src.example/a">q</blockquote>',
        ),
        ('<q cite="/talk">q</q>', '<q cite="https://blog.example.net/talk">q</q>'),
        ('<del cite="//cdn.example/x">d</del>', '<del cite="https://cdn.example/x">d</del>'),
        ('<ins cite="  https://x.example/ ">i</ins>', '<ins cite="https://x.example/">i</ins>'),
        ('<q cite="javascript:alert(1)">q</q>', "<q>q</q>"),
        ('<q cite="mailto:a@x.example">q</q>', "<q>q</q>"),
        ('<q cite="data:image/png;base64,AAAA">q</q>', "<q>q</q>"),
    ],
)
def test_cite_keeps_only_http_urls_resolved_against_the_base(html: str, expected: str) -> None:
    assert sanitize_html(html, base_url=BASE) == expected


def test_relative_cite_without_a_base_is_dropped() -> None:
    assert sanitize_html('<q cite="/talk">q</q>', base_url="") == "<q>q</q>"


def test_the_word_cite_in_prose_changes_nothing() -> None:
    html = "<p>We cite RFC 4271; excited = yes. <cite>RFC 4271</cite></p>"
    assert sanitize_html(html, base_url=BASE) == html


@pytest.mark.parametrize(
    ("html", "matters"),
    [
        ('<a href="https://x.example/">a</a> <img src="http://x.example/i.png">', False),
        ("<q cite='https://x.example/'>q</q> and a word: srcset", True),  # "src" + "set"
        ('<a href="https://x.example/">a</a><a href="/rel">b</a>', True),
        ('<img src="i.png">', True),
        ("plain text", False),
    ],
)
def test_the_base_matters_only_when_a_url_may_be_relative(html: str, matters: bool) -> None:
    assert _base_matters(html.lower()) is matters


def test_a_word_at_the_very_start_does_not_hide_the_urls_after_it() -> None:
    html = 'src: <img src="/a.png">'
    assert sanitize_html(html, base_url=BASE) == 'src: <img src="https://blog.example.net/a.png">'
    assert _base_matters(html)


def test_documents_with_only_absolute_urls_share_one_cleaner() -> None:
    html = '<p><a href="https://x.example/">a</a></p>'
    _cleaner.cache_clear()
    for base in ("https://a.example/", "https://b.example/", "https://c.example/"):
        assert sanitize_html(html, base_url=base) == (
            '<p><a href="https://x.example/" rel="nofollow noopener noreferrer">a</a></p>'
        )
    assert _cleaner.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("base", "policy"),
    [
        ("https://blog.example.net/p/", ("rewrite_with_base", "https://blog.example.net/p/")),
        (" http://x.example ", ("rewrite_with_base", "http://x.example")),
        ("https://[::1/broken", "deny"),  # urlsplit refuses it
        ("ftp://files.example/", "deny"),
        ("/relative/only", "deny"),
        ("", "deny"),
    ],
)
def test_relative_urls_resolve_only_against_an_http_base(base: str, policy: object) -> None:
    assert _relative_policy(base) == policy
