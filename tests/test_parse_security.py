"""parse_feed is safe on hostile documents: no XXE, no entity expansion bombs, no file reads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from netplanet.errors import ParseError
from netplanet.parse import parse_feed, xml

BILLION_LAUGHS_DTD = (
    '<!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _rss(dtd: str, title: str, tail: str = "</channel></rss>") -> bytes:
    return (
        f'<?xml version="1.0"?>{dtd}<rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title><description>{title}</description><guid>g</guid></item>"
        f"{tail}"
    ).encode()


def _parse_or_error(body: bytes) -> str:
    """Everything the parse produced (or its error message), as text to search."""
    try:
        return repr(parse_feed(body))
    except ParseError as exc:
        return str(exc)


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-ROUTER-PASSWORD")
    dtd = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    assert "TOP-SECRET" not in _parse_or_error(_rss(dtd, "a &xxe; b"))


def test_external_entity_in_a_broken_document_is_never_resolved(tmp_path: Path) -> None:
    # The syntax error sends the document through repair and the feedparser fallback too.
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-ROUTER-PASSWORD")
    dtd = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    body = _rss(dtd, "a &xxe; b", tail="<item><title>broken</item></channel></rss>")
    assert "TOP-SECRET" not in _parse_or_error(body)


def test_etc_passwd_entity_is_never_resolved() -> None:
    dtd = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    assert "root:" not in _parse_or_error(_rss(dtd, "&xxe;"))


def test_parameter_entity_is_never_loaded(tmp_path: Path) -> None:
    external = tmp_path / "evil.dtd"
    external.write_text('<!ENTITY leaked "LEAKED-FROM-DTD">')
    dtd = f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "{external.as_uri()}"> %ext;]>'
    assert "LEAKED-FROM-DTD" not in _parse_or_error(_rss(dtd, "&leaked;"))


def test_billion_laughs_neither_expands_nor_hangs() -> None:
    start = time.perf_counter()
    out = _parse_or_error(_rss(BILLION_LAUGHS_DTD, "&lol9;"))
    assert time.perf_counter() - start < 2
    assert "lollollollol" not in out
    assert len(out) < 20_000


def test_billion_laughs_in_a_broken_document_is_not_expanded_by_the_fallback() -> None:
    body = _rss(BILLION_LAUGHS_DTD, "&lol9;", tail="<item><title>x</item></channel></rss>")
    start = time.perf_counter()
    out = _parse_or_error(body)
    assert time.perf_counter() - start < 2
    assert "lollollollol" not in out


def test_quadratic_blowup_neither_expands_nor_hangs() -> None:
    dtd = f'<!DOCTYPE rss [<!ENTITY a "{"a" * 50_000}">]>'
    body = _rss(dtd, "&a;" * 20_000)  # 1 GB of text if expanded
    start = time.perf_counter()
    out = _parse_or_error(body)
    assert time.perf_counter() - start < 5
    assert len(out) < 2_000_000


def test_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(bytes) opens its argument as a file name when it can; parse_feed must not.
    feed_file = tmp_path / "feed.xml"
    feed_file.write_text(_rss("", "FROM-THE-FILE").decode())
    with pytest.raises(ParseError):
        parse_feed(str(feed_file).encode())


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    # lxml 6.2 with libxml2 2.14 loads a document's external subset when collect_ids=False.
    external = tmp_path / "feed.dtd"
    external.write_text('<!ENTITY leaked "LEAKED-FROM-DTD">')
    body = _rss(f'<!DOCTYPE rss SYSTEM "{external.as_uri()}">', "a")
    document = xml.parse_xml(xml.trim_leading(body, []), "", [])
    assert document.root.getroottree().docinfo.externalDTD is None


def test_external_dtd_on_the_network_is_neither_fetched_nor_a_repair() -> None:
    # RSS 0.91 feeds name Netscape's DTD: an ordinary feed, parsed as it is (no network).
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    feed = parse_feed(_rss(doctype, "a"))
    assert feed.title == "a"
    assert feed.warnings == ()
