"""Hardened XML parsing: bytes -> lxml root element, repairing what real feeds get wrong.

Owns every call into libxml2. The parser never resolves entities (no XXE, no billion laughs: an
entity reference stays an unexpanded node), never loads a DTD and never touches the network.

Repairs, cheapest first, each one recorded as a warning:
1. BOM / whitespace / junk before the XML declaration is cut off (free: a slice).
2. If the strict parse fails: decode by BOM, declared encoding, HTTP charset, UTF-8, and finally
   read undecodable bytes as windows-1252 (undeclared latin-1); drop the XML declaration and any
   DOCTYPE; remove control characters; turn HTML entities into character references and escape
   bare ampersands. Then parse strictly again.
3. If that still fails, libxml2's recover mode on the repaired text (content may be lost; the
   caller may compare with the feedparser fallback).
"""

from __future__ import annotations

import codecs
import html.entities
import re
import threading
from dataclasses import dataclass

from lxml import etree

from netplanet.errors import ParseError
from netplanet.parse import lift
from netplanet.parse import salvage as _salvage
from netplanet.untrusted import valid_text

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECL_ENCODING = re.compile(
    rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
_DECL = re.compile(r"^\s*<\?xml[^>]*>")
# Letter classes rather than re.I: a literal "<!" prefix lets the regex skip ahead quickly.
_DOCTYPE = re.compile(r"<![Dd][Oo][Cc][Tt][Yy][Pp][Ee][^\[>]*(\[.*?\]\s*)?>", re.S)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())
# A bare "&" or a reference; the lookahead passes over the predefined entities and character
# references that are certainly valid (most of them) without calling back into Python.
_AMP = re.compile(
    rb"&(?!(?:amp|lt|gt|quot|apos|#(?:3[2-9]|[4-9][0-9]|[1-9][0-9]{2,3}|[1-4][0-9]{4})"
    rb"|#[xX](?:[2-9a-fA-F][0-9a-fA-F]|[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-cA-C][0-9a-fA-F]{3}));)"
    rb"(#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,7};|[A-Za-z][A-Za-z0-9]{0,31};)?"
)
_FIRST_MARKUP = re.compile(rb"<[?!A-Za-z]")
_XML_PREDEFINED = frozenset((b"amp;", b"lt;", b"gt;", b"quot;", b"apos;"))
_CP1252_UNDEFINED = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))
# Python text codecs a document may name that are transformations, not character sets: they
# would read backslash escapes or host-name syntax into the text.
_NOT_CHARSETS = frozenset(("unicode-escape", "raw-unicode-escape", "punycode", "idna"))
_ERROR_POSITION = re.compile(r",? line \d+, column \d+$")


@dataclass(frozen=True, slots=True)
class XmlDocument:
    root: etree._Element
    recovered: bool
    """True when libxml2's recover mode was needed: some content may have been dropped."""
    lifted: tuple[str, ...] = ()
    """CDATA sections lifted out before parsing (`lift.py`); text read from `root` needs them."""
    repaired: bytes = b""
    """The repaired bytes recover mode read (set only when `recovered`), for a second reading."""


class XmlSyntaxError(ParseError):
    """The bytes are not XML even after every repair; the message names line and column."""


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    # Called by the codec for each undecodable run of a mostly-UTF-8 document: a stray latin-1
    # byte (0xA9 ©) in an otherwise UTF-8 feed is the most common encoding bug there is.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    text = "".join(chr(b) if b in _CP1252_UNDEFINED else bytes((b,)).decode("cp1252") for b in bad)
    return text, exc.end


codecs.register_error("netplanet-cp1252", _cp1252_fallback)

_local = threading.local()


def _parser(recover: bool) -> etree.XMLParser:
    # One parser per thread and mode: creating one costs more than parsing a small feed, and
    # lxml parsers must not be used by two threads at once.
    key = "recover" if recover else "strict"
    parser: etree.XMLParser | None = getattr(_local, key, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            huge_tree=False,
            remove_pis=True,
            # collect_ids=False made libxml2 2.14 (lxml 6.2) load the external subset named
            # by a DOCTYPE: local files were read, and a DTD on the network failed the strict
            # parse, sending every RSS 0.91 feed through repair (4x the CPU, a false warning).
            collect_ids=True,
            recover=recover,
        )
        setattr(_local, key, parser)
    return parser


def describe(exc: etree.XMLSyntaxError) -> str:
    """One line: libxml2's message and where, "… at line L column C"."""
    msg = _ERROR_POSITION.sub("", (exc.msg or "not well-formed").splitlines()[0]).strip()
    line, column = exc.position if exc.position else (exc.lineno or 0, 0)
    return f"{msg} at line {line} column {column}"


def trim_leading(body: bytes, warnings: list[str]) -> bytes:
    """Cut off BOM, whitespace or junk before the first markup (strict parsers reject them)."""
    if body[:1] == b"<" or body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:1] == b"\x00":
        return body  # already clean, or UTF-16/32 (left to libxml2's detection)
    start = body.find(b"<?xml", 0, 65536)
    if start < 0:
        m = _FIRST_MARKUP.search(body, 0, 65536)
        if m is None:
            return body
        start = m.start()
    junk = body[:start]
    if junk.startswith(codecs.BOM_UTF8):
        junk = junk[3:]
    if junk.strip():
        warnings.append(f"{len(junk)} bytes of junk before the XML removed")
    elif junk and body.startswith(b"<?xml", start):
        warnings.append("whitespace before the XML declaration removed")
    return body[start:]


def parse_xml(data: bytes, charset: str, warnings: list[str]) -> XmlDocument:
    """Parse (already trimmed) bytes; raise XmlSyntaxError when nothing can be recovered."""
    document = _parse_lifted(data)
    if document is not None:
        return document
    try:
        # Not well-formed (or nothing was lifted): libxml2's message names line and column
        # of the bytes as they came.
        root = etree.fromstring(data, _parser(False))
        return XmlDocument(root, recovered=False)
    except etree.XMLSyntaxError as exc:
        first_error = describe(exc)
    repaired = repair(data, charset, warnings)
    document = _parse_lifted(repaired)
    if document is not None:
        warnings.append(f"malformed XML repaired ({first_error})")
        return document
    try:
        root = etree.fromstring(repaired, _parser(False))
        warnings.append(f"malformed XML repaired ({first_error})")
        return XmlDocument(root, recovered=False)
    except etree.XMLSyntaxError:
        pass
    try:
        recovered = etree.fromstring(repaired, _parser(True))
    except etree.XMLSyntaxError:
        recovered = None
    if recovered is None:
        raise XmlSyntaxError(f"not well-formed XML: {first_error}")
    warnings.append(f"malformed XML recovered, content may be missing ({first_error})")
    return XmlDocument(recovered, recovered=True, repaired=repaired)


def salvage(document: XmlDocument) -> etree._Element | None:
    """A recovered document read again entry by entry (`salvage.py`); None if that finds none."""
    if not document.recovered:
        return None
    return _salvage.salvage(document.repaired, _parser(False), _parser(True))


def _parse_lifted(data: bytes) -> XmlDocument | None:
    """A strict parse with large CDATA sections lifted out; None if none was or it failed.

    Lifting leaves well-formedness as it was, so a failure here means the plain parse fails too.
    """
    lifted_data, lifted = lift.lift(data)
    if not lifted:
        return None
    try:
        root = etree.fromstring(lifted_data, _parser(False))
    except etree.XMLSyntaxError:
        return None
    return XmlDocument(root, recovered=False, lifted=tuple(lifted))


def repair(data: bytes, charset: str, warnings: list[str]) -> bytes:
    """Re-encode as UTF-8 without declaration or DOCTYPE, control characters and bad entities."""
    text = decode(data, charset, warnings)
    text = _DECL.sub("", text, count=1)
    text, n = _DOCTYPE.subn("", text)
    if n and b"<!ENTITY" in data[:65536]:
        warnings.append("DOCTYPE with entity declarations removed (entities are never expanded)")
    # The rest works on the UTF-8 bytes: bytes.translate is ~50x faster than a regex over str.
    encoded = text.encode("utf-8")
    out = encoded.translate(None, _CONTROL_BYTES)
    n = len(encoded) - len(out)
    if b"\xef\xbf" in out:  # U+FFC0..U+FFFF, among them the noncharacters U+FFFE, U+FFFF
        for noncharacter in _NONCHARACTERS:
            n += out.count(noncharacter)
            out = out.replace(noncharacter, b"")
    if n:
        warnings.append(f"{n} control characters removed")
    fixed = 0

    def fix_entity(m: re.Match[bytes]) -> bytes:
        nonlocal fixed
        ref = m.group(1)
        if ref is None:  # a bare "&"
            fixed += 1
            return b"&amp;"
        if ref[:1] == b"#":
            code = int(ref[2:-1], 16) if ref[1:2] in b"xX" else int(ref[1:-1])
            if code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD:
                return m.group(0)
            if 0x10000 <= code <= 0x10FFFF:
                return m.group(0)
            fixed += 1
            return b""
        if ref in _XML_PREDEFINED:
            return m.group(0)
        fixed += 1
        chars = html.entities.html5.get(ref.decode("ascii"))
        if chars is None:  # unknown name: keep it visible as text
            return b"&amp;" + ref
        return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")

    out = _AMP.sub(fix_entity, out)
    if fixed:
        warnings.append(f"{fixed} undefined entities or bare ampersands escaped")
    return out


def decode(data: bytes, charset: str, warnings: list[str]) -> str:
    """Bytes -> str by BOM, XML declaration, HTTP charset, UTF-8, then windows-1252 per byte.

    Always valid Unicode: some codecs a feed may name (UTF-7, unicode_escape, UTF-16 with
    "replace" aside) decode to lone surrogates, which become U+FFFD here.
    """
    return valid_text(_decode(data, charset, warnings))


def _decode(data: bytes, charset: str, warnings: list[str]) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            errors = "netplanet-cp1252" if encoding == "utf-8-sig" else "replace"
            return data.decode(encoding, errors=errors)
    if data[:4] == b"<\x00?\x00":
        return data.decode("utf-16-le", errors="replace")
    if data[:4] == b"\x00<\x00?":
        return data.decode("utf-16-be", errors="replace")
    m = _DECL_ENCODING.match(data)
    declared = m.group(1).decode("ascii").lower() if m else ""
    for encoding in dict.fromkeys((declared, charset.lower(), "utf-8")):
        if not encoding:
            continue
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            warnings.append(f"unknown encoding {encoding!r} ignored")
            continue
        if codec.startswith(("utf-16", "utf-32")):
            continue  # declared UTF-16 without a BOM or NULs is a lie: the bytes are 8-bit
        if codec in _NOT_CHARSETS:
            warnings.append(f"{encoding!r} is not a character encoding; ignored")
            continue
        try:
            return data.decode(codec)
        except (ValueError, LookupError):
            # UnicodeDecodeError mostly; some codecs raise a bare UnicodeError, and codecs
            # that are not text encodings at all (uu, base64, rot13) a LookupError.
            warnings.append(f"document is not valid {encoding}")
    warnings.append("undecodable bytes read as windows-1252 (undeclared latin-1)")
    return data.decode("utf-8", errors="netplanet-cp1252")
