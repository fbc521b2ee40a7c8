"""Topic classification: a post's title, tags, text and source -> up to three topic slugs.

Owns the taxonomy (the bundled `netplanet/data/topics.toml` or an operator's copy, named by the
`topics_file` setting), its validation, and `classify`. Pure: the only I/O is reading the
taxonomy file in `load_taxonomy`; no clock, no store.

How a post is scored (explainable by construction: every point comes from a listed term):
- Title, tags, text and source are lowercased and cut into words of letters and digits, so
  "SD-WAN", "sd wan" and "SD/WAN" are the same two words. A term is a phrase of such words;
  its last word also matches with a plural ending ("firewall" finds "firewalls").
- At each word the longest listed phrase wins ("bgp evpn" is one match, not "bgp" too).
- A term's weight (terms 1, strong 2, weak 0.5) is multiplied by where it was found: title 3,
  a tag 2, the text 1 with diminishing returns (1 + ln count) scaled down for longer texts
  (one passing mention in a long post decides little), the source's name and category 0.5
  (a weak prior: it decides only posts that say little themselves).
- Weak terms only add to a topic that some term or strong term found.
- The best topic is primary when its raw score reaches MIN_RAW, else the fallback topic with
  FALLBACK_SCORE; others follow when they reach SECONDARY_SHARE of the primary's raw score.
  Scores are 1 - exp(-raw / SCORE_SCALE): in (0, 1), growing with the evidence.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from itertools import compress, count, islice
from pathlib import Path
from typing import Any, Final, NoReturn

from netplanet.errors import ConfigError

__all__ = [
    "Classification",
    "Evidence",
    "Taxonomy",
    "Topic",
    "classify",
    "default_taxonomy_path",
    "load_taxonomy",
    "opening_words",
    "parse_taxonomy",
]

ALGORITHM: Final = "1"
"""Part of every Taxonomy.version: bump it when scoring changes so stored posts re-classify."""
DEFAULT_TOPICS_RESOURCE: Final = "data/topics.toml"

TEXT_WORDS: Final = 200
"""Words of the text read: the opening says what a post is about, and the work stays bounded."""
TEXT_CHARS: Final = TEXT_WORDS * 7
"""Characters of the text read at most: 200 words of prose (English averages under 6
characters a word with its space)."""
SHORT_CHARS: Final = 500
"""Characters read of the title, of each tag and of the source (feeds can send anything)."""
MAX_TAGS: Final = 32
"""Tags read per post: the first ones."""
LENGTH_REFERENCE: Final = 100
"""Texts longer than this many words count each text match by sqrt(reference / words)."""

TERM_WEIGHTS: Final = {"strong": 2.0, "terms": 1.0, "weak": 0.5}
FIELD_WEIGHTS: Final = {"title": 3.0, "tags": 2.0, "text": 1.0, "source": 0.5}

MIN_RAW: Final = 1.0
"""Raw score a topic needs to be given: one term in the title, a tag, or a few in the text."""
SECONDARY_SHARE: Final = 0.35
"""A topic is listed after the primary when its raw score is at least this share of it."""
MAX_TOPICS: Final = 3
SCORE_SCALE: Final = 8.0
FALLBACK_SCORE: Final = 0.05
MAX_EVIDENCE: Final = 10
"""Evidence records kept per post (the strongest): enough to explain, cheap to build."""

GENERIC_WORDS: Final = frozenset(
    (
        *("network", "networks", "networking", "router", "routers", "internet", "packet"),
        *("packets", "traffic", "data", "ip", "device", "devices", "server", "servers"),
        *("system", "systems", "technology", "tech", "it", "blog", "post", "news"),
    )
)
"""Single words too common in every kind of post to decide a topic: refused as terms (a phrase
holding them, such as "network automation", is fine)."""

# Lowercases ASCII letters and turns every byte but a-z and 0-9 into a space: with
# str.encode(errors="replace") (non-ASCII becomes "?"), one C pass replaces a regex four
# times slower. Letters outside ASCII therefore separate words, in terms and posts alike.
_WORD_BYTES: Final = bytes(
    b if (0x30 <= b <= 0x39 or 0x61 <= b <= 0x7A) else b + 0x20 if 0x41 <= b <= 0x5A else 0x20
    for b in range(256)
)
_SLUG_RE: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TOPIC_HEADER_RE: Final = re.compile(r"^\s*\[\[\s*topic\s*\]\]", re.M)
_TOPIC_KEYS: Final = frozenset({"slug", "name", "description", *TERM_WEIGHTS})
_TOP_KEYS: Final = frozenset({"fallback", "topic"})
_DIMINISHED: Final = (0.0, *(1.0 + math.log(n) for n in range(1, TEXT_WORDS + 1)))
"""1 + ln(n): what n matches of one term in the title or the text count for."""


def _words(text: str, limit: int = -1) -> list[str]:
    """The words of `text`: lowercase runs of ASCII letters and digits (the first `limit`)."""
    words = (
        text.encode("ascii", "replace").translate(_WORD_BYTES).decode("ascii").split(None, limit)
    )
    return words[:limit] if limit >= 0 else words


def opening_words(text: str) -> list[str]:
    """The words of a post's text the classifier reads (the first TEXT_WORDS of at most
    TEXT_CHARS characters): cut once by the update, they serve story signatures too."""
    return _words(text[:TEXT_CHARS], TEXT_WORDS)


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    name: str
    description: str
    terms: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()

    def weighted_terms(self) -> Iterable[tuple[str, float]]:
        """Every term with its weight, strong first."""
        for kind in ("strong", "terms", "weak"):
            for term in getattr(self, kind):
                yield term, TERM_WEIGHTS[kind]


# A phrase (tuple of words) -> who listed it: (topic index, weight, ref), where ref // 4 is the
# (topic, term) pair's place in Taxonomy._terms, and ref + field rank (0-3) keys its evidence.
_Owners = tuple[tuple[int, float, int], ...]
# Phrases of two words or more, by their second word: (the words after it, owners), longest first.
_Longer = dict[str, tuple[tuple[tuple[str, ...], _Owners], ...]]
# First word -> (owners of that word alone or None, its longer phrases). Common words that only
# start phrases ("a" of "a record", "as" of "as path") cost one dict lookup more, no tuples.
_Index = dict[str, tuple[_Owners | None, _Longer]]


def _plurals(word: str) -> tuple[str, ...]:
    if word.isdigit() or word.endswith("s") or len(word) < 2:
        return ()
    if word.endswith(("x", "z", "ch", "sh")):
        return (word + "es",)
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return (word[:-1] + "ies", word + "s")
    return (word + "s",)


def _build_index(topics: Sequence[Topic]) -> tuple[_Index, tuple[tuple[int, str], ...]]:
    """The phrase index, and every (topic index, term as written) in the order refs use."""
    owners: dict[tuple[str, ...], list[tuple[int, float, int]]] = {}
    terms: list[tuple[int, str]] = []
    for i, topic in enumerate(topics):
        for term, weight in topic.weighted_terms():
            words = tuple(_words(term))
            owners.setdefault(words, []).append((i, weight, 4 * len(terms)))
            terms.append((i, term))
    # Plural forms count for the topics of the singular, but a topic that lists the plural
    # itself keeps its own weight for it.
    for words, listed in list(owners.items()):
        for plural in _plurals(words[-1]):
            variant = owners.setdefault((*words[:-1], plural), [])
            present = {topic for topic, _, _ in variant}
            variant.extend(owner for owner in listed if owner[0] not in present)
    singles: dict[str, _Owners] = {}
    longer: dict[str, dict[str, list[tuple[tuple[str, ...], _Owners]]]] = {}
    for words, listed in owners.items():
        if len(words) == 1:
            singles[words[0]] = tuple(listed)
        else:
            by_second = longer.setdefault(words[0], {})
            by_second.setdefault(words[1], []).append((words[2:], tuple(listed)))
    index = {
        first: (
            singles.get(first),
            {
                second: tuple(sorted(entries, key=lambda e: (-len(e[0]), e[0])))
                for second, entries in longer.get(first, {}).items()
            },
        )
        for first in singles.keys() | longer.keys()
    }
    return index, tuple(terms)


def _taxonomy_version(topics: Sequence[Topic], fallback: str) -> str:
    # Only what changes a classification: names and descriptions are for display.
    content = {
        "algorithm": ALGORITHM,
        "fallback": fallback,
        "topics": [
            [t.slug, sorted({(" ".join(_words(term)), w) for term, w in t.weighted_terms()})]
            for t in topics
        ],
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Topics in display order, the fallback slug, and a version that changes with any change
    to what classifies (leave `version` empty to have it computed)."""

    topics: tuple[Topic, ...]
    fallback: str = "industry"
    version: str = ""
    _index: _Index = field(init=False, repr=False, compare=False, hash=False)
    _terms: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False, hash=False)
    _by_slug: dict[str, Topic] = field(init=False, repr=False, compare=False, hash=False)
    # Matches of short fields that recur from post to post (a feed's source line, its tags).
    _short: dict[str, list[tuple[_Owners, int]]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_slug = {t.slug: t for t in self.topics}
        if len(by_slug) != len(self.topics):
            raise ValueError("Taxonomy: duplicate topic slug")
        if self.fallback not in by_slug:
            raise ValueError(f"Taxonomy: fallback {self.fallback!r} is not a topic")
        object.__setattr__(self, "_by_slug", by_slug)
        index, terms = _build_index(self.topics)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_terms", terms)
        object.__setattr__(self, "_short", {})
        if not self.version:
            object.__setattr__(self, "version", _taxonomy_version(self.topics, self.fallback))

    def get(self, slug: str) -> Topic | None:
        return self._by_slug.get(slug)

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(t.slug for t in self.topics)


# ---------------------------------------------------------------- loading and validation


def default_taxonomy_path() -> Path:
    """The bundled taxonomy file inside the installed package."""
    return Path(str(files("netplanet").joinpath(DEFAULT_TOPICS_RESOURCE)))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; None means the bundled default.

    Raises ConfigError (one line naming the file) when it cannot be read or is not valid.
    """
    target = Path(path) if path is not None else default_taxonomy_path()
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"{target}: cannot read the topics file ({reason}); "
            "fix the path in the topics_file setting or remove it to use the bundled one"
        ) from None
    return parse_taxonomy(text, origin=str(target))


class _Reporter:
    """Builds one-line errors that name the file, the line when known, and the topic."""

    def __init__(self, text: str, origin: str) -> None:
        self.text = text
        self.origin = origin
        self.topic_lines = [
            text.count("\n", 0, m.start()) + 1 for m in _TOPIC_HEADER_RE.finditer(text)
        ]

    def line_of(self, needle: str, start_line: int) -> int | None:
        for number, line in enumerate(self.text.splitlines()[start_line - 1 :], start_line):
            if needle in line:
                return number
        return None

    def fail(self, problem: str, *, topic: int | None = None, term: str | None = None) -> NoReturn:
        where = self.origin
        if topic is not None:
            line = self.topic_lines[topic] if topic < len(self.topic_lines) else None
            if line is not None and term is not None:
                line = self.line_of(json.dumps(term), line) or line
            if line is not None:
                where += f" line {line}"
            where += f" (topic #{topic + 1})"
        raise ConfigError(f"{where}: {problem}")


def parse_taxonomy(text: str, *, origin: str = "<text>") -> Taxonomy:
    """Validate a taxonomy document (TOML, the format documented in topics.toml)."""
    report = _Reporter(text, origin)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{origin}: not valid TOML: {exc}; fix the syntax there (see the comments at the "
            "top of the bundled topics.toml)"
        ) from None
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        report.fail(
            f"unknown key {unknown[0]!r}; the file holds 'fallback' and [[topic]] tables only"
        )
    raw_topics = doc.get("topic", [])
    if not isinstance(raw_topics, list) or not raw_topics:
        report.fail("no [[topic]] tables; add at least one topic")
    topics = [_parse_topic(report, i, raw) for i, raw in enumerate(raw_topics)]
    seen: set[str] = set()
    for i, topic in enumerate(topics):
        if topic.slug in seen:
            report.fail(f"duplicate slug {topic.slug!r}; give each topic its own slug", topic=i)
        seen.add(topic.slug)
    fallback = doc.get("fallback", "industry")
    if not isinstance(fallback, str) or fallback not in seen:
        report.fail(
            f"fallback {fallback!r} is not the slug of a topic; set fallback to one of: "
            + ", ".join(t.slug for t in topics)
        )
    return Taxonomy(topics=tuple(topics), fallback=fallback)


def _parse_topic(report: _Reporter, i: int, raw: Any) -> Topic:
    if not isinstance(raw, Mapping):
        report.fail("a topic must be a [[topic]] table", topic=i)
    unknown = sorted(set(raw) - _TOPIC_KEYS)
    if unknown:
        report.fail(
            f"unknown key {unknown[0]!r}; a topic has slug, name, description, "
            "terms, strong and weak",
            topic=i,
        )
    strings: dict[str, str] = {}
    for key in ("slug", "name", "description"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            report.fail(f"{key} must be a string", topic=i)
        strings[key] = value.strip()
    slug = strings["slug"]
    if not slug:
        report.fail("missing slug; add slug = \"...\" (lowercase a-z, 0-9 and '-')", topic=i)
    label = f"topic {slug!r}"
    if not _SLUG_RE.fullmatch(slug):
        report.fail(
            f"{label}: slug {slug!r} may hold only lowercase a-z, 0-9 and single '-' "
            "between them; rename it",
            topic=i,
        )
    if not strings["name"]:
        report.fail(f'{label}: missing name; add name = "..." (shown on the site)', topic=i)
    lists: dict[str, tuple[str, ...]] = {}
    seen: dict[tuple[str, ...], str] = {}
    for kind in TERM_WEIGHTS:
        values = raw.get(kind, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            report.fail(f"{label}: {kind} must be a list of strings", topic=i)
        for term in values:
            words = tuple(_words(term))
            if not words:
                report.fail(
                    f"{label}: term {term!r} has no letters or digits; remove it",
                    topic=i,
                    term=term,
                )
            if len(words) == 1 and words[0].isdigit():
                report.fail(
                    f"{label}: term {term!r} is a number alone, which any count or date "
                    "matches; remove it or use a phrase holding it",
                    topic=i,
                    term=term,
                )
            if len(words) == 1 and words[0] in GENERIC_WORDS:
                report.fail(
                    f"{label}: term {term!r} is too generic to decide a topic; remove it "
                    "or use a phrase holding it",
                    topic=i,
                    term=term,
                )
            if words in seen:
                report.fail(
                    f"{label}: term {term!r} is listed twice (as {seen[words]!r} too); keep one",
                    topic=i,
                    term=term,
                )
            seen[words] = term
        lists[kind] = tuple(values)
    if not lists["strong"] and not lists["terms"]:
        report.fail(
            f'{label}: empty term list (weak terms alone never decide); add terms = ["..."]',
            topic=i,
        )
    return Topic(
        slug=slug,
        name=strings["name"],
        description=strings["description"],
        terms=lists["terms"],
        strong=lists["strong"],
        weak=lists["weak"],
    )


# ---------------------------------------------------------------- classification


@dataclass(frozen=True, slots=True)
class Evidence:
    topic: str
    term: str
    field: str
    weight: float


@dataclass(frozen=True, slots=True)
class Classification:
    topics: tuple[tuple[str, float], ...]
    evidence: tuple[Evidence, ...]

    @property
    def primary(self) -> str:
        return self.topics[0][0]


def _match(index: _Index, words: Sequence[str]) -> list[tuple[_Owners, int]]:
    """(owners, count) of every phrase found, read left to right: at each word the longest
    phrase starting there wins, and its words are not read again."""
    # Keyed by the word itself for a lone word (no tuple to build), by the tuple for a phrase.
    counts: dict[str | tuple[str, ...], int] = {}
    owners_of: dict[str | tuple[str, ...], _Owners] = {}
    # Most words start no term: find the few that do in C (map, compress), then look closer.
    starts = list(compress(count(), map(index.__contains__, words)))
    covered = 0  # words before this index belong to a phrase already counted
    last = len(words) - 1
    for i in starts:
        if i < covered:
            continue
        word = words[i]
        owners, longer = index[word]
        key: str | tuple[str, ...] = word
        end = i + 1
        if longer and i < last and (candidates := longer.get(words[i + 1])):
            for rest, phrase_owners in candidates:
                size = len(rest)
                if not size or tuple(words[i + 2 : i + 2 + size]) == rest:
                    key, owners, end = (word, words[i + 1], *rest), phrase_owners, i + 2 + size
                    break
        if owners is None:
            continue
        covered = end
        counts[key] = counts.get(key, 0) + 1
        owners_of[key] = owners
    return [(owners_of[key], n) for key, n in counts.items()]


def classify(
    taxonomy: Taxonomy,
    *,
    title: str,
    text: str,
    tags: Sequence[str] = (),
    source: str = "",
    evidence: bool = True,
    words: Sequence[str] | None = None,
) -> Classification:
    """Topics of one post, primary first (at most 3, never empty), with the evidence (none
    when `evidence` is false: the update stores only the topics, and the evidence cost a
    third of the classification).

    Reads the first SHORT_CHARS (500) characters of the title, of each of the first MAX_TAGS
    (32) tags and of the source (its title and operator category), and the first TEXT_WORDS
    (200) words of `text`, of at most its first TEXT_CHARS (1,400) characters: the work is
    bounded whatever the post's length. `words` are `opening_words(text)` when the caller
    has them already.
    """
    index = taxonomy._index
    # (found phrases, points per weight unit, whether repeats count) for each field.
    reads: list[tuple[str, list[tuple[_Owners, int]], float, bool]] = [
        ("title", _match(index, _words(title[:SHORT_CHARS])), FIELD_WEIGHTS["title"], True)
    ]
    tag_found: dict[_Owners, int] = {}  # a tag counts each term once, however many tags hold it
    for tag in islice(tags, MAX_TAGS):
        tag_found.update(_match_short(taxonomy, tag))
    reads.append(("tags", list(tag_found.items()), FIELD_WEIGHTS["tags"], False))
    if words is None:
        words = opening_words(text)
    if words:
        length = math.sqrt(LENGTH_REFERENCE / max(LENGTH_REFERENCE, len(words)))
        reads.append(("text", _match(index, words), FIELD_WEIGHTS["text"] * length, True))
    found_in_source = _match_short(taxonomy, source)
    reads.append(("source", found_in_source, FIELD_WEIGHTS["source"], False))

    # One pass: points by topic, and by (topic, term, field) for the evidence.
    raw: dict[int, float] = {}
    points: dict[int, float] = {}  # ref + field rank -> points
    solid: set[int] = set()  # topics with a match of a term or strong term
    for rank, (_, found, k, repeats) in enumerate(reads):
        for owners, n in found:
            # Title and text count repeats with diminishing returns; a tag or the source once.
            if not repeats or n == 1:
                factor = k
            else:
                factor = k * (_DIMINISHED[n] if n < len(_DIMINISHED) else 1.0 + math.log(n))
            for topic, weight, ref in owners:
                gained = weight * factor
                raw[topic] = raw.get(topic, 0.0) + gained
                if evidence:
                    points[ref + rank] = points.get(ref + rank, 0.0) + gained
                if weight >= 1.0:
                    solid.add(topic)

    # Weak terms are hints that need company: a topic found by weak terms alone is not given.
    # Ties go to the topic listed first (display order): results never depend on dict order.
    ranked = sorted(
        ((topic, score) for topic, score in raw.items() if topic in solid),
        key=lambda item: (-item[1], item[0]),
    )
    topics = taxonomy.topics
    if not ranked or ranked[0][1] < MIN_RAW:
        return Classification(topics=((taxonomy.fallback, FALLBACK_SCORE),), evidence=())
    best = ranked[0][1]
    chosen = [
        (i, score)
        for i, score in ranked[:MAX_TOPICS]
        if score >= MIN_RAW and score >= SECONDARY_SHARE * best
    ]
    kept = {i for i, _ in chosen}
    # Sorted as plain tuples; only the strongest become Evidence records.
    terms = taxonomy._terms
    strongest = sorted(
        (-w, key & 3, *terms[key >> 2]) for key, w in points.items() if terms[key >> 2][0] in kept
    )
    proof = tuple(
        _evidence(topics[t].slug, term, reads[rank][0], round(-w, 3))
        for w, rank, t, term in strongest[:MAX_EVIDENCE]
    )  # empty without `evidence`: `points` was not filled
    return Classification(
        topics=tuple(
            (topics[i].slug, round(1.0 - math.exp(-score / SCORE_SCALE), 3)) for i, score in chosen
        ),
        evidence=proof,
    )


SHORT_CACHE: Final = 4096
"""Source lines and tags whose matches a taxonomy keeps (emptied when full)."""


def _match_short(taxonomy: Taxonomy, text: str) -> list[tuple[_Owners, int]]:
    """`_match` of a source line or a tag, kept: every post of a feed has the same source,
    and tags recur (the result is only read)."""
    cache = taxonomy._short
    found = cache.get(text)
    if found is None:
        if len(cache) >= SHORT_CACHE:
            cache.clear()
        found = cache[text] = _match(taxonomy._index, _words(text[:SHORT_CHARS]))
    return found


@lru_cache(maxsize=8192)
def _evidence(topic: str, term: str, where: str, weight: float) -> Evidence:
    # Records are immutable and recur from post to post (a title match weighs the same in
    # every post): sharing them saves most of the cost of building a frozen dataclass.
    return Evidence(topic, term, where, weight)
