"""canonical_url: one rule per test, then idempotence and robustness as properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from netplanet.enrich.canonical import canonical_url


def test_scheme_and_host_are_lowercased() -> None:
    assert canonical_url("HTTPS://Blog.Example.NET/Path") == "https://blog.example.net/Path"


def test_idn_host_is_punycoded() -> None:
    assert canonical_url("https://bücher.example/") == "https://xn--bcher-kva.example/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://x.example:80/a", "http://x.example/a"),
        ("https://x.example:443/a", "https://x.example/a"),
        ("https://x.example:8443/a", "https://x.example:8443/a"),
        ("http://x.example:443/a", "http://x.example:443/a"),
    ],
)
def test_default_ports_are_dropped(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_fragment_is_removed() -> None:
    assert canonical_url("https://x.example/p#comments") == "https://x.example/p"


def test_hashbang_fragment_is_kept() -> None:
    assert canonical_url("https://x.example/#!/post/1") == "https://x.example/#!/post/1"


def test_tracking_parameters_are_removed_keeping_order() -> None:
    url = (
        "https://x.example/p?utm_source=rss&b=2&fbclid=F&a=1&gclid=G&ref=hn&mc_cid=1"
        "&_hsenc=x&igshid=y&utm_campaign=z&z=26"
    )
    assert canonical_url(url) == "https://x.example/p?b=2&a=1&z=26"


def test_other_parameters_keep_their_exact_spelling() -> None:
    url = "https://x.example/search?q=a+b&tag=%C3%A9&flag"
    assert canonical_url(url) == url


def test_medium_rss_source_is_removed_but_other_sources_are_kept() -> None:
    assert (
        canonical_url("https://medium.com/@a/p-1?source=rss----9-2") == "https://medium.com/@a/p-1"
    )
    assert canonical_url("https://x.example/d?source=github") == "https://x.example/d?source=github"


def test_empty_path_becomes_slash() -> None:
    assert canonical_url("https://x.example") == "https://x.example/"
    assert canonical_url("https://x.example?utm_source=x") == "https://x.example/"


def test_relative_url_is_resolved_against_base() -> None:
    assert canonical_url("../b?utm_medium=feed", base="https://x.example/a/c/") == (
        "https://x.example/a/b"
    )


def test_protocol_relative_url_takes_the_base_scheme() -> None:
    assert canonical_url("//cdn.example/x", base="https://x.example/") == "https://cdn.example/x"


@pytest.mark.parametrize(
    "junk", ["", "   ", "not a url", "http://[::1", "http://x:port/", "mailto:a@b"]
)
def test_junk_comes_back_stripped(junk: str) -> None:
    assert canonical_url(f"  {junk} ") == junk.strip()


# ----------------------------------------------------------------------------- properties

_label = st.from_regex(r"[a-zA-Z0-9ÄÖÜäöüß-]{1,12}", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_params = st.lists(
    st.tuples(
        st.sampled_from(
            ["utm_source", "UTM_Medium", "fbclid", "ref", "q", "page", "a", "", "x%20y"]
        ),
        st.text(alphabet="abc123%=+&é ", max_size=6),
    ),
    max_size=5,
)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "HtTpS", "ftp", ""]))
    host = draw(_host)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0443", ":x"]))
    path = draw(st.text(alphabet="abc/.%-_~é ", max_size=12))
    query = "&".join(f"{k}={v}" for k, v in draw(_params))
    fragment = draw(st.sampled_from(["", "#top", "#!/r", "#"]))
    prefix = f"{scheme}://" if scheme else draw(st.sampled_from(["//", "", "/"]))
    return (
        f"{prefix}{host}{port}{'/' if path else ''}{path}{'?' + query if query else ''}{fragment}"
    )


@given(_urls())
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(_urls(), st.sampled_from(["", "https://base.example/a/b/", "http://Base.example"]))
def test_canonical_url_with_base_is_idempotent(url: str, base: str) -> None:
    once = canonical_url(url, base=base)
    assert canonical_url(once, base=base) == once


@given(st.text(max_size=60))
def test_canonical_url_never_raises_and_is_idempotent_on_any_text(text: str) -> None:
    once = canonical_url(text)
    assert canonical_url(once) == once


@given(_urls())
def test_canonical_url_drops_tracking_parameters(url: str) -> None:
    assume(":x" not in url)  # a non-numeric port is junk, returned untouched
    out = canonical_url(url)
    if out.lower().startswith(("http://", "https://")):
        query = out.partition("?")[2].partition("#")[0]
        names = {part.partition("=")[0].lower() for part in query.split("&")}
        assert not {"utm_source", "utm_medium", "fbclid", "ref"} & names


def test_blank_query_parts_are_dropped() -> None:
    # Found by hypothesis: a kept " " part made "…/? " whose strip() was not idempotent.
    url = canonical_url("http://0?utm_source=& #top")
    assert url == "http://0/"
    assert canonical_url(url) == url
