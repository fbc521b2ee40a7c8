"""Seeded, deterministic mutation of feed documents and of the responses that carry them.

Used by test_fuzz_update.py. A mutant is a seed feed with a few random edits: bytes flipped,
cut or repeated, hostile tokens inserted (character references to surrogates, CESU-8 bytes,
NULs, stray tags, entity declarations), the encoding declaration changed, or, for JSON
Feeds, values replaced by hostile strings or values of the wrong type. The response around
it may carry a misleading Content-Type or header bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

TOKENS: tuple[bytes, ...] = (
    b"&#xD800;", b"&#xdfff;", b"&#55296;", b"&#0;", b"&#1;", b"&amp;#xD800;", b"&#x110000;",
    b"\\ud800", b"\\udc00\\ud800", b"\\u0000", b"\\ud83d\\ude00", b"\xed\xa0\x80",
    b"\xed\xbf\xbf", b"\xff", b"\xc3", b"\xe2\x80", b"\x00", b"\x0b", b"\x1f", b"+2AA-",
    b"<![CDATA[", b"]]>", b"<item>", b"</item>", b"<entry>", b"</entry>", b"<height>",
    b"</height>", b"<width>", b"</image>", b"<image>", b"<b>", b"</b>", b"&", b"&nbsp;",
    b"&e;", b"<!DOCTYPE rss [<!ENTITY e 'x'>]>", b"\xef\xbb\xbf", b"\xff\xfe", b"<", b">",
    b'"', b"'", b"{", b"}", b"[", b"]", b",", b":", b"null", b"99999999999999999999999",
    b"-1", b"1e999", b"NaN", b"Mon, 31 Feb 99999 25:61:61 +9999", b"0000-00-00T00:00:00Z",
    b"<guid>", b"</guid>", b"<link>javascript:alert(1)</link>", b' xml:base="http://[::1"',
    b' href="http://[bad"', b"<title>", b"</title>", b"<pubDate>", b"</pubDate>",
    b"<enclosure url='' length='-5'/>", b"<itunes:duration>99:99:99:99</itunes:duration>",
    b"<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>",
    b"<content type='base64'>////</content>", b"<?xml-stylesheet href='x'?>", b"<!--",
    b"-->", b"\r", b"\r\n\r\n", b"\t" * 50, b"x" * 300,
)  # fmt: skip

ENCODINGS: tuple[bytes, ...] = (
    b"utf-7", b"unicode_escape", b"raw_unicode_escape", b"utf-16", b"utf-32", b"bogus",
    b"iso-8859-1", b"cp1252", b"shift_jis", b"punycode", b"idna", b"utf-8-sig", b"hz",
    b"cp037", b"uu", b"base64", b"rot13", b"utf-16-be", b"mbcs",
)  # fmt: skip

CONTENT_TYPES: tuple[bytes, ...] = (
    b"text/html", b"application/json", b"text/plain", b"application/rss+xml; charset=utf-7",
    b"text/xml; charset=unicode_escape", b"application/xml; charset=\xff\xfe",
    b"application/atom+xml; charset=idna", b"application/feed+json; charset=utf-16",
    b"", b"application/octet-stream",
)  # fmt: skip

HOSTILE_HEADERS: tuple[bytes, ...] = (
    b'ETag: "\xed\xa0\x80\xff"', b"ETag: W/", b"Last-Modified: \xff\xfe",
    b"Last-Modified: Mon, 99 Foo 99999 99:99:99 GMT", b"Cache-Control: max-age=99999999999999999",
    b"Cache-Control: max-age=-5, no-cache", b"Expires: 0", b"Expires: \xc3\x28",
    b"Age: 99999999999999999999", b"Age: -1", b"Retry-After: 99999999999",
    b"Date: \xed\xa0\x80",
)  # fmt: skip

DEEP = "\ue000deep\ue000"
HOSTILE_STRINGS: tuple[str, ...] = (
    "\ud800", "a\udc00b", "\ud83d", "\x00", "x\x00y", "\x1b[31m", "[/]",
    "<script>alert(1)</script>", "javascript:alert(1)", "http://[::1", "//evil.example/x",
    " ", "", "\u202e", "\ufffe", "9" * 40, "\U0001f600", "&#xD800;", "<![CDATA[", "a" * 5000,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Response:
    """What the loopback server sends for one URL: raw status line and headers, and body."""

    status: bytes
    headers: tuple[bytes, ...]
    body: bytes

    def raw(self) -> bytes:
        lines = [self.status, *self.headers, b"Content-Length: %d" % len(self.body)]
        return b"\r\n".join([*lines, b"Connection: close", b"", b""]) + self.body


def mutate_bytes(rnd: random.Random, data: bytes) -> bytes:
    """One random byte-level edit."""
    pos = rnd.randrange(len(data) + 1)
    op = rnd.randrange(8)
    if op == 0:  # insert a hostile token
        return data[:pos] + rnd.choice(TOKENS) + data[pos:]
    if op == 1:  # overwrite a few bytes with a token
        return data[:pos] + rnd.choice(TOKENS) + data[pos + rnd.randrange(1, 8) :]
    if op == 2:  # flip bits
        out = bytearray(data)
        for _ in range(rnd.randrange(1, 6)):
            if out:
                out[rnd.randrange(len(out))] ^= 1 << rnd.randrange(8)
        return bytes(out)
    if op == 3:  # delete a chunk
        return data[:pos] + data[pos + rnd.randrange(1, 200) :]
    if op == 4:  # repeat a chunk (often a whole item)
        chunk = data[pos : pos + rnd.randrange(1, 2000)]
        return data[:pos] + chunk * rnd.randrange(2, 4) + data[pos:]
    if op == 5:  # truncate
        return data[: max(1, pos)]
    if op == 6:  # declare another encoding
        decl = b'<?xml version="1.0" encoding="' + rnd.choice(ENCODINGS) + b'"?>'
        start = data.find(b"?>") + 2 if data.lstrip().startswith(b"<?xml") else 0
        return decl + data[start:]
    # splice in a piece of the document itself somewhere else
    other = rnd.randrange(len(data) + 1)
    return data[:pos] + data[other : other + rnd.randrange(1, 300)] + data[pos:]


def _hostile_value(rnd: random.Random) -> Any:
    kind = rnd.randrange(7)
    if kind == 0:
        return rnd.choice(HOSTILE_STRINGS)
    if kind == 1:
        return rnd.choice((None, True, 0, -1, 2**70, 1.5, float("inf")))
    if kind == 2:
        return [rnd.choice(HOSTILE_STRINGS), {"name": rnd.choice(HOSTILE_STRINGS)}]
    if kind == 3:
        return {"url": rnd.choice(HOSTILE_STRINGS), "name": rnd.choice(HOSTILE_STRINGS)}
    if kind == 4:
        return DEEP  # replaced by a deeply nested array once dumped (see mutate_json)
    return "".join(rnd.choice(HOSTILE_STRINGS) for _ in range(rnd.randrange(1, 5)))


def _walk(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path]
    if len(path) > 12:
        return paths
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _walk(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:20]):
            paths += _walk(child, (*path, i))
    return paths


def mutate_json(rnd: random.Random, data: bytes) -> bytes | None:
    """Replace a few values of a JSON document by hostile ones; None if it is not JSON."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    for _ in range(rnd.randrange(1, 5)):
        paths = [p for p in _walk(doc) if p]
        if not paths:
            break
        path = rnd.choice(paths)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = _hostile_value(rnd)
    text = json.dumps(doc, ensure_ascii=rnd.random() < 0.5, allow_nan=True)
    depth = rnd.randrange(10, 5000)
    text = text.replace(f'"{DEEP}"', "[" * depth + "1" + "]" * depth)
    # Without ensure_ascii, lone surrogates are written as CESU-8 bytes, as a broken encoder would.
    return text.encode("utf-8", "surrogatepass")


def mutant(rnd: random.Random, seed: bytes, content_type: bytes, *, max_bytes: int) -> Response:
    """A mutated response carrying a mutated copy of `seed`."""
    body = seed
    if len(body) > max_bytes:  # a window keeps the run fast; the cut is one more mutation
        start = rnd.choice((0, 0, rnd.randrange(len(body) - max_bytes)))
        body = body[start : start + max_bytes]
    if body.lstrip()[:1] in (b"{", b"[") and rnd.random() < 0.6:
        body = mutate_json(rnd, body) or body
    for _ in range(rnd.choice((0, 1, 1, 2, 3, 5))):
        body = mutate_bytes(rnd, body)
    headers = [
        b"Content-Type: " + (rnd.choice(CONTENT_TYPES) if rnd.random() < 0.15 else content_type)
    ]
    if rnd.random() < 0.2:
        headers += rnd.sample(HOSTILE_HEADERS, rnd.randrange(1, 4))
    status = b"HTTP/1.1 200 OK"
    roll = rnd.random()
    if roll < 0.03:
        status = rnd.choice(
            (b"HTTP/1.1 500 \xff\xfe", b"HTTP/1.1 429 Slow down", b"HTTP/1.1 410 Gone")
        )
    elif roll < 0.05:
        headers.append(b"Content-Encoding: gzip")  # a body that is not gzip
    return Response(status, tuple(headers), body)
