"""Story signatures and the one decision about two posts (pure).

`story_signature` gives a post a 64-bit SimHash of its text's first words, and the keys
posts of one story share (`Entry.story_keys`): its canonical URL, its normalized title, the
SimHash's low 32 bits (a band: the same text, or one whose few changed bits all fall in the
other half), CVE ids, figures with units ("7.3 Tbps", "$14 billion") and distinctive
multi-word names ("Acme EdgeGuard"). The store finds candidates by those keys
(store/stories.py) and asks `relate` what a candidate is to the new post: the same post
reached through another feed, another post about the same story, or nothing.

Words every network blog uses (BGP, network, Cisco, routing, outage...) never count as
evidence: names made only of them are not keys, and title overlap ignores them.

Cost is bounded: only the first SIMHASH_WORDS words and KEY_CHARS characters are read, and
each word's hash is computed once per process (most words of a planet repeat). The words are
the classifier's (`topics.opening_words`): the update cuts a post's opening into words once
for both.

SIGNATURE_VERSION names how SimHash values and band keys are made; stored posts made another
way get theirs recomputed (migration 0012 for version 2).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from operator import itemgetter, xor
from typing import Literal

from netplanet.enrich.topics import opening_words

Relation = Literal["same_post", "same_story"]

WINDOW = timedelta(days=4)
"""Posts further apart than this are never one story."""
SAME_TITLE_WINDOW = timedelta(days=2)
"""Two sources carrying one long title this close together carry one post."""
NEAR_BITS = 3
"""SimHashes this close (Hamming distance) are the same text."""
SIGNATURE_VERSION = 2
"""1: SimHash over the first 120 casefolded whitespace-split words, two 32-bit band keys.
2: over the first 120 of the classifier's words (ASCII letters and digits, lowercased; a short
text or one in another script falls back to version 1's split), one band key."""
SIMHASH_WORDS = 120
"""Words of text hashed: copies share their start; 8-bit counters stay below 256. SimHash
over so few features moves several bits per changed word, so near-copies with edits are found
by their title key instead; the SimHash finds the same text under another title. Fewer words
cost less but take posts that open with the same long boilerplate (a show's intro, a
newsletter's masthead: 64 words were too few) for one text."""
FALLBACK_CHARS = 12 * SIMHASH_WORDS
"""Characters split when the classifier's words do not fit the text (another script)."""
ASCII_SHARE = 0.8
"""A text's opening with fewer ASCII characters than this share is in another script
(English with typographic quotes and dashes is well above it)."""
BANDS, BAND_BITS = 1, 32
"""Band keys per post. Four 16-bit bands would find every pair within 3 bits, but each key
is a row in two trees, written on the cold round for every post: one band costs a quarter of
that, and SimHash over 119 features moves several bits for one edited word anyway, so what a
band finds is mostly the same text retitled (near-copies with edits are found by their
title)."""
BAND_MASK = (1 << BAND_BITS) - 1
MIN_FEATURES = 24
"""Texts shorter than this get no band keys (short texts collide too easily)."""
KEY_CHARS = 1500
"""Characters of text searched for CVE ids and figures."""
NAME_CHARS = 800
"""Characters of text searched for names (a story names its subject early)."""
MAX_CVES = 3
"""A post naming more CVE ids than this is a round-up: only the ones in its title count."""
MAX_NAMES = 4
MAX_FIGURES = 4
TITLE_KEY_WORDS = 5
"""A title shorter than this ("Weekly links") says nothing about being the same post."""

# Words that every network-engineering post may use: never evidence of one story on their own.
GENERIC = frozenset(
    {
        "network", "networks", "networking", "bgp", "ospf", "isis", "is-is", "mpls", "evpn",
        "vxlan", "srv6", "segment", "routing", "route", "routes", "router", "routers",
        "switch", "switches", "switching", "ip", "ipv4", "ipv6", "dns", "tcp", "udp", "http",
        "https", "tls", "quic", "vpn", "firewall", "firewalls", "cloud", "data", "center",
        "datacenter", "internet", "outage", "outages", "security", "vulnerability",
        "vulnerabilities", "attack", "attacks", "ddos", "update", "updates", "release", "releases",
        "cisco", "juniper", "arista", "nokia", "huawei", "fortinet", "palo", "alto",
        "cloudflare", "akamai", "google", "amazon", "aws", "microsoft", "azure", "meta", "linux",
        "kubernetes", "automation", "ansible", "python", "api", "apis", "service", "services",
        "provider", "providers", "customer", "customers", "traffic", "peering", "transit", "edge",
        "core", "new", "how", "why", "what", "the", "part", "episode", "podcast", "week", "weekly",
        "news", "links", "today", "blog", "post", "video", "wan", "lan", "sd-wan", "sdwan", "wifi",
        "wi-fi", "5g", "lte", "telecom", "operator", "operators", "engineer", "engineering",
        "config", "configuration", "design", "lab", "labs", "tutorial", "guide", "notes", "review",
        "border", "gateway", "protocol", "reflector", "reflectors", "exchange", "ios", "xr",
        "nx-os", "junos", "eos", "sr", "open", "source", "zero", "trust", "best", "practices",
        "report"
    }
)  # fmt: skip
_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into",
        "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their", "this", "to",
        "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "you",
        "your", "not", "but", "about", "after", "before", "over", "under", "than", "then", "there",
        "these", "those", "they", "them", "can", "could", "should", "would", "may", "more", "most"
    }
)  # fmt: skip
# Capitalized words that open sentences rather than name things.
_LEADERS = frozenset(
    {
        "the", "a", "an", "in", "on", "at", "last", "this", "that", "these", "those", "today",
        "yesterday", "we", "our", "it", "if", "when", "while", "after", "before", "for",
        "from", "by", "with", "and", "but", "so", "as", "its", "their", "how", "why", "what",
        "here", "there", "new", "update"
    }
)  # fmt: skip

_WORD_RE = re.compile(r"\w+")
_CVE_RE = re.compile(r"\bCVE-(\d{4})-(\d{4,7})\b", re.IGNORECASE)
_RATE_RE = re.compile(
    r"(?<![\w.])(\d{1,4}(?:[.,]\d{1,3})?)\s?(tbps|gbps|tb/s|gb/s|mpps|bpps|[mb]rps)\b",
    re.IGNORECASE,
)
_MONEY_RE = re.compile(
    r"([$€£])\s?(\d{1,4}(?:[.,]\d{1,3})?)\s?(trillion|billion|million|bn|b|m)\b", re.IGNORECASE
)
# No leading \b: a pattern opening with a character class lets the engine skip ahead fast.
_NAME_RE = re.compile(r"[A-Z][\w\-]*[A-Za-z0-9](?:[ \t]+[A-Z][\w\-]*[A-Za-z0-9]){1,3}\b")
# Speeds every port and switch datasheet names: not evidence of anything.
_GENERIC_RATES = frozenset(
    f"{n}{u}"
    for n in ("1", "2.5", "5", "10", "25", "40", "50", "100", "200", "400", "800", "1.6", "3.2")
    for u in ("gbps", "tbps")
) | frozenset(f"{n}tbps" for n in ("6.4", "12.8", "25.6", "51.2", "102.4"))

_WORD_CACHE_MAX = 100_000
# Per word, two independent sets of 64 pseudo-random bits (bits 0 and 1 of each byte of its
# BLAKE2b-512 digest), stable across processes (a SimHash is stored), computed once per process,
# each held as an int of 64 8-bit lanes with the bit in the lane's bit 0. A plain dict of str ->
# (int, int): the collector does not track it. Eight-bit lanes, not one int of 16-bit lanes
# holding both sets: the arithmetic is on ints half as long and needs no shift (a third less
# work a SimHash, and half the memory to bring into the cache of a parse worker, whose caches
# the rest of enrich keeps cold).
_LANES: dict[str, tuple[int, int]] = {}
_LOW = bytes(b & 1 for b in range(256))  # a digest byte's bit 0 (first set)
_HIGH = bytes((b >> 1) & 1 for b in range(256))  # its bit 1 (second set)
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def simhash(words: list[str]) -> tuple[int, int]:
    """SimHash over the word bigrams of `words` (at most 256 words): (signed 64-bit value,
    number of features). Bigrams, not words: a bag of single words is ruled by the commonest
    ones, so unrelated texts would hash alike. Bigram "a b" is a's first bits XOR b's second:
    order matters ("a b" is not "b a"). Each feature's 64 bits sit in 64 8-bit lanes, so
    adding the features' integers counts all 64 bit positions at once, in C, instead of 64
    Python steps per feature."""
    words = words[:256]
    # Most words of a planet are cached already: try first, and look for the missing words (a
    # set difference, a quarter of the cost) only when one is.
    try:
        lanes = list(map(_LANES.__getitem__, words))
    except KeyError:
        _learn(words)
        lanes = list(map(_LANES.__getitem__, words))
    # At most 255 features, each a 0 or 1 in bit 0 of every lane: no carry leaves a lane,
    # and a lane is its bit position's count.
    total = sum(map(xor, map(_FIRST, lanes), map(_SECOND, lanes[1:])))
    features = max(len(words) - 1, 0)
    # Lane counts -> "1"/"0" digits (lane 63 first) -> one int: no Python loop over lanes.
    value = int(total.to_bytes(64, "big").translate(_majority(features)), 2)
    return (value - (1 << 64) if value >= 1 << 63 else value), features


def _learn(words: list[str]) -> None:
    """Cache the bits of the words not cached yet; a full cache is emptied first, so every
    word of `words` is cached on return."""
    missing = set(words).difference(_LANES)
    if len(_LANES) + len(missing) > _WORD_CACHE_MAX:
        _LANES.clear()
        missing = set(words)
    for word in missing:
        digest = hashlib.blake2b(word.encode(), digest_size=64).digest()
        _LANES[word] = (
            int.from_bytes(digest.translate(_LOW), "little"),
            int.from_bytes(digest.translate(_HIGH), "little"),
        )


@cache
def _majority(features: int) -> bytes:
    """A translate table: a lane count over half of `features` becomes "1", else "0"."""
    return bytes(ord("1") if 2 * count > features else ord("0") for count in range(256))


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def title_terms(title: str) -> frozenset[str]:
    """The title's words that can tell one story from another (not stop words, not generic)."""
    return frozenset(
        w
        for w in _WORD_RE.findall(title.casefold())
        if len(w) >= 3 and w not in _STOP and w not in GENERIC
    )


def _figures(text: str) -> list[str]:
    found: list[str] = []
    # Substring tests (on a lowered copy: a few microseconds) spare the regex scan.
    lowered = text.lower()
    rates = "bps" in lowered or "b/s" in lowered or "pps" in lowered or "rps" in lowered
    for number, unit in _RATE_RE.findall(text) if rates else ():
        unit = unit.lower().replace("/s", "ps")
        figure = f"{number.replace(',', '.')}{unit}"
        if figure not in _GENERIC_RATES:
            found.append(figure)
    money = "$" in text or "€" in text or "£" in text
    for currency, number, scale in _MONEY_RE.findall(text) if money else ():
        scale = {"bn": "billion", "b": "billion", "m": "million"}.get(scale.lower(), scale.lower())
        found.append(f"{currency}{number.replace(',', '.')}{scale}")
    return list(dict.fromkeys(found))[:MAX_FIGURES]


def _names(title: str, text: str) -> list[str]:
    """Distinctive multi-word proper names, those in the title first, then the most repeated."""
    counts: dict[str, int] = {}
    for weight, source in ((100, title), (1, text)):
        for match in _NAME_RE.findall(source):
            words = match.split()
            while words and words[0].casefold() in _LEADERS:
                words = words[1:]
            if len(words) < 2:
                continue
            folded = [w.casefold() for w in words]
            if all(w in GENERIC or w in _STOP for w in folded):
                continue
            name = " ".join(folded)
            counts[name] = counts.get(name, 0) + weight
    ranked = sorted(counts, key=lambda n: (-counts[n], n))
    return ranked[:MAX_NAMES]


def _is_home(url: str) -> bool:
    """`https://host` or `https://host/`: a site, not a post (no path, query or fragment)."""
    parts = url.split("/", 3)
    return len(parts) < 4 or not parts[3]


def text_simhash(text: str, words: list[str] | None = None) -> tuple[int | None, list[str]]:
    """(SimHash or None for a text without words, band keys) of a post's text; `words` are
    `opening_words(text)` when the caller has them already."""
    # The text alone (the title has its own key): a copy whose start is the same hashes the
    # same however it was retitled.
    if words is None:
        words = opening_words(text)
    head = text[:FALLBACK_CHARS]
    if len(words) <= MIN_FEATURES or (
        not head.isascii() and len(head.encode("ascii", "ignore")) < ASCII_SHARE * len(head)
    ):
        # A short text, or one in another script, whose letters the classifier's words leave
        # out (what is left would be its numbers and Latin names): split it as it is written.
        words = head.casefold().split()
    value, features = simhash(words[:SIMHASH_WORDS])
    if not features:
        return None, []
    if features < MIN_FEATURES:
        return value, []
    unsigned = value & 0xFFFF_FFFF_FFFF_FFFF
    return value, [
        f"b{band}:{(unsigned >> (BAND_BITS * band)) & BAND_MASK:08x}" for band in range(BANDS)
    ]


def story_signature(
    *, title: str, text: str, url: str = "", words: list[str] | None = None
) -> tuple[int | None, tuple[str, ...]]:
    """(SimHash, story keys) of a post. `url` is its canonical link, or empty when the post
    has no link of its own (a site's home page is never a post's identity); `words` are
    `opening_words(text)` when the caller has them already (the classifier's)."""
    value, bands = text_simhash(text, words)
    keys: list[str] = []
    if url and not _is_home(url):
        keys.append("u:" + _digest(url))
    title_words = _WORD_RE.findall(title.casefold())
    if len(title_words) >= TITLE_KEY_WORDS:
        keys.append("t:" + _digest(" ".join(title_words)))
    keys.extend(bands)
    head = f"{title} {text[:KEY_CHARS]}"
    # Substring tests first: each regex below costs ~0.1 ms on a text that has no match.
    cves = []
    if "cve-" in head or "CVE-" in head:
        cves = list(dict.fromkeys(f"cve-{y}-{n}" for y, n in _CVE_RE.findall(head)))
    if len(cves) > MAX_CVES:  # a round-up: it is about the ones its title names, if any
        cves = list(dict.fromkeys(f"cve-{y}-{n}" for y, n in _CVE_RE.findall(title)))
    keys.extend("c:" + c for c in cves[:MAX_CVES])
    keys.extend("n:" + f for f in _figures(head))
    keys.extend("p:" + n for n in _names(title, text[:NAME_CHARS]))
    return value, tuple(dict.fromkeys(k[:120] for k in keys))


@dataclass(frozen=True, slots=True)
class StoryPost:
    """What `relate` needs to know of a post."""

    source_id: int
    title: str
    published: datetime
    simhash: int | None
    keys: frozenset[str]


def relate(new: StoryPost, other: StoryPost) -> Relation | None:
    """What `other` is to `new`: another feed's copy of the same post, another post about the
    same story, or nothing. Symmetric. Two posts of one source are never related (a blog's
    posts are never copies of each other, and its follow-ups are its own)."""
    if new.source_id == other.source_id:
        return None
    shared = new.keys & other.keys
    apart = abs(new.published - other.published)
    if any(k.startswith("u:") for k in shared):
        return "same_post"
    near = (
        new.simhash is not None
        and other.simhash is not None
        and any(k[0] == "b" for k in shared)
        and hamming(new.simhash, other.simhash) <= NEAR_BITS
    )
    if near:
        # Unless the titles have nothing in common: two shows of one producer can open with
        # the same sponsor read.
        one, two = title_terms(new.title), title_terms(other.title)
        if one & two or not (one and two):
            return "same_post"
    if apart <= SAME_TITLE_WINDOW and any(k.startswith("t:") for k in shared):
        return "same_post"
    if apart > WINDOW:
        return None
    if any(k.startswith("c:") for k in shared):
        return "same_story"
    distinctive = [k for k in shared if k[:2] in ("n:", "p:")]
    if not distinctive:
        return None
    overlap = len(title_terms(new.title) & title_terms(other.title))
    figures = sum(k.startswith("n:") for k in distinctive)
    if overlap >= 1 and (len(distinctive) >= 2 or figures >= 1):
        return "same_story"
    return None
