"""The enrich stage: ParsedEntry -> Entry, cleaned, excerpted, canonicalized and fingerprinted.

Pure functions only: no I/O, no clock (`now` is an argument), no store handle. Each concern has
its own module; `enrich_entry` composes them in the order that matters (boilerplate is found in
the raw HTML, then the sanitizer runs, then excerpts and text are cut from the sanitized HTML,
parsed once for both). It is two steps, `draft_entry` (the HTML work) and `finish_entry` (story
signature and topics, which read the text's words against per-process tables), so that a
feed's posts can be finished together (see Draft).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from netplanet.enrich.boilerplate import strip_boilerplate
from netplanet.enrich.canonical import canonical_url
from netplanet.enrich.excerpt import EXCERPT_WORDS, Fragment, html_to_text, make_excerpt
from netplanet.enrich.fingerprint import entry_fingerprint, title_date_hash
from netplanet.enrich.identity import entry_key
from netplanet.enrich.labels import is_podcast
from netplanet.enrich.sanitize import sanitize_html
from netplanet.enrich.sponsored import is_sponsored
from netplanet.enrich.story import story_signature
from netplanet.enrich.topics import Taxonomy, classify, opening_words
from netplanet.model import Enclosure, Entry, ParsedEntry
from netplanet.untrusted import http_url, plain_text

__all__ = [
    "Draft",
    "canonical_url",
    "draft_entry",
    "enrich_entry",
    "entry_fingerprint",
    "entry_key",
    "finish_entry",
    "html_to_text",
    "is_podcast",
    "is_sponsored",
    "make_excerpt",
    "sanitize_html",
    "strip_boilerplate",
    "title_date_hash",
    "topic_source",
]

UNTITLED = "(untitled)"
FUTURE_TOLERANCE = timedelta(days=1)
"""Feeds a little ahead (time zones, scheduled posts) are fine; further ahead is a bad date."""
DERIVED_TITLE_WORDS = 10
MEANINGFUL_SUMMARY_WORDS = 8
"""A summary shorter than this ("Episode 12", "[…]") is not worth an excerpt of its own."""

# Characters XML 1.0 (and so lxml) refuses in text. A JSON Feed can carry them; left in, the
# first tree edit next to one raises and the whole entry would be lost.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


# The C0 controls of _NOT_XML_RE as bytes: deleting them from the UTF-8 form is a C loop several
# times faster than the regex search (lone surrogates make the encoding fail).
_NOT_XML_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _xml_safe(html: str) -> str:
    try:
        encoded = html.encode()
    except UnicodeEncodeError:  # a lone surrogate: the regex replaces it
        return _NOT_XML_RE.sub(" ", html)
    if len(encoded.translate(None, _NOT_XML_BYTES)) == len(encoded) and (
        html.isascii() or ("\ufffe" not in html and "\uffff" not in html)
    ):
        return html
    return _NOT_XML_RE.sub(" ", html)


_WORD_CORE_RE = re.compile(r"\w+")
TRUNCATION_OVERLAP = 0.8
"""Share of a summary's words found, in order, at the start of the content that makes the
summary a copy of that start (WordPress's 55 words, Blogger's first characters)."""


TRUNCATION_SPAN = 2000  # characters of a summary compared with the content


def _words_of(text: str, limit: int) -> list[str]:
    head = text[: max(0, limit)]
    if head.isascii():  # casefold() is lower() there, and lowering first moves no word's edge
        return _WORD_CORE_RE.findall(head.lower())
    return [w.casefold() for w in _WORD_CORE_RE.findall(head)]


def is_truncation(summary_text: str, content_text: str) -> bool:
    """Whether a summary is only the content cut short: it says so ("…", "[…]" became "…"),
    or its words are, in order, the first words of the (longer) content.

    Then the content, cut by the excerpt rules, makes the better excerpt: longer, with its
    lists and code, and cut where the excerpt says it is cut. A summary written as one is kept.
    """
    end = summary_text.rstrip(" \"'”’»)]")
    if end.endswith(("…", "...")):
        return True
    # Only as much of the content as the summary could copy is compared (characters are
    # cheap to bound; captions or a heading before the copied words fit in the margin).
    # The start of a long summary tells as well as all of it, and keeps the match cheap.
    span = min(len(summary_text), TRUNCATION_SPAN)
    summary = _words_of(summary_text, span)
    if not summary:
        return False
    content = _words_of(content_text, 2 * span + 400)
    if len(content) <= len(summary):
        return False
    needed = TRUNCATION_OVERLAP * len(summary)
    # Two exact shortcuts before the matcher (~50 µs a pair): the content starting with the
    # summary's words matches all of them; and the matcher can match no more of the summary's
    # words than the content holds at all, which rules out most summaries written as such.
    if content[: len(summary)] == summary:
        return True
    if sum(map(set(content).__contains__, summary)) < needed:
        return False
    matcher = difflib.SequenceMatcher(None, summary, content, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched >= needed


def _derive_title(text: str) -> str:
    words = text.split()
    if not words:
        return UNTITLED
    if len(words) <= DERIVED_TITLE_WORDS:
        return " ".join(words)
    return " ".join(words[:DERIVED_TITLE_WORDS]) + "…"


def _aware(when: datetime | None) -> datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)  # records promise UTC; a naive value can only mean UTC


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        value = plain_text(value)
        folded = value.casefold()
        if value and folded not in seen:
            seen.add(folded)
            out.append(value)
    return tuple(out)


def _pick_enclosure(enclosures: tuple[Enclosure, ...], base_url: str) -> Enclosure | None:
    """The first audio/video enclosure, else the first; only those with an http(s) URL."""
    usable: list[Enclosure] = []
    for enclosure in enclosures:
        url = http_url(enclosure.url, base_url)
        if not url:
            continue  # javascript:, data:, file:...: the post is kept without it
        if url != enclosure.url:
            enclosure = Enclosure(url, enclosure.type, enclosure.length)
        if enclosure.type.lower().startswith(("audio/", "video/")):
            return enclosure
        usable.append(enclosure)
    return usable[0] if usable else None


@lru_cache(maxsize=256)
def _site(base_url: str) -> str:
    """`http_url(base_url)`: every post of a feed has the same base URL, so it is checked once
    per feed, not once per post."""
    return http_url(base_url)


def topic_source(source_title: str, category: str) -> str:
    """What the classifier is told of a post's source: its title and category (a weak prior,
    the same for new posts and re-classified ones)."""
    return " · ".join(part for part in (source_title.strip(), category.strip()) if part)


def _topics(
    taxonomy: Taxonomy | None,
    *,
    title: str,
    text: str,
    tags: tuple[str, ...],
    source: str,
    words: list[str],
) -> tuple[tuple[str, float], ...]:
    if taxonomy is None:
        return ()
    found = classify(
        taxonomy, title=title, text=text, tags=tags, source=source, evidence=False, words=words
    )
    return found.topics


@dataclass(slots=True)
class Draft:
    """An entry enriched but for the steps that read its text's words against per-process
    tables (the story signature's SimHash words, the taxonomy's terms): `finish_entry` does
    those. `enrich_entry` finishes a draft at once; `digest` drafts a feed's entries, then
    finishes them in one loop, so those tables stay in the CPU's caches from one post to the
    next instead of being evicted by each post's HTML work (~25 µs a post less, the same
    Entry)."""

    fields: dict[str, Any]
    """Entry's fields, but simhash, story_keys and topics."""
    story_url: str
    """The post's own canonical link, or "" (a site's home page is no post's identity)."""
    topic_source: str


def enrich_entry(
    parsed: ParsedEntry,
    *,
    source_id: int,
    source_category: str,
    base_url: str,
    now: datetime,
    excerpt_words: int = EXCERPT_WORDS,
    taxonomy: Taxonomy | None = None,
    source_title: str = "",
    raw_hash: str = "",
) -> Entry:
    """Turn one parsed entry into a storable Entry. `base_url` is the source's site (or feed).
    With a `taxonomy`, the post is classified (its topics); without, it has none. `raw_hash`
    is the caller's hash of the parsed entry, kept on the Entry (update/digest.py)."""
    draft = draft_entry(
        parsed,
        source_id=source_id,
        source_category=source_category,
        base_url=base_url,
        now=now,
        excerpt_words=excerpt_words,
        source_title=source_title,
        raw_hash=raw_hash,
    )
    return finish_entry(draft, taxonomy)


def finish_entry(draft: Draft, taxonomy: Taxonomy | None) -> Entry:
    """The Entry of a draft: its story signature and, with a `taxonomy`, its topics."""
    fields = draft.fields
    title, text = fields["title"], fields["text"]
    # The text's opening, cut into words once for the classifier and the story signature.
    opening = opening_words(text)
    simhash, story_keys = story_signature(
        title=title, text=text, url=draft.story_url, words=opening
    )
    topics = _topics(
        taxonomy,
        title=title,
        text=text,
        tags=fields["tags"],
        source=draft.topic_source,
        words=opening,
    )
    return Entry(**fields, simhash=simhash, story_keys=story_keys, topics=topics)


def draft_entry(
    parsed: ParsedEntry,
    *,
    source_id: int,
    source_category: str,
    base_url: str,
    now: datetime,
    excerpt_words: int = EXCERPT_WORDS,
    source_title: str = "",
    raw_hash: str = "",
) -> Draft:
    """Everything of `enrich_entry` but `finish_entry`'s part (see Draft)."""
    now = _aware(now) or now
    # Only an http(s) link is a link: anything else (javascript:, data:, ...) counts as none,
    # and the post falls back to its source's URL like a post without a link.
    link = http_url(parsed.link, base_url)
    site = _site(base_url)
    url = canonical_url(link or site)
    # Relative URLs in a post are relative to the post (Hugo page bundles), else the site.
    content_base = link or site

    summary_raw = _xml_safe(parsed.summary_html)
    # A media feed (YouTube) says what a video is about only in media:description.
    content_raw = _xml_safe(parsed.content_html) or summary_raw or _xml_safe(parsed.media_html)
    content_html = sanitize_html(strip_boilerplate(content_raw), base_url=content_base)
    # Each sanitized fragment is parsed once for both its excerpt and its text (Fragment);
    # the excerpt is taken first because taking the text reshapes the tree.
    content = Fragment(content_html)
    excerpt_html = content.excerpt(excerpt_words)
    text = content.text()
    if parsed.content_html and summary_raw:  # a separate summary exists
        summary = Fragment(sanitize_html(strip_boilerplate(summary_raw), base_url=content_base))
        summary_excerpt = summary.excerpt(excerpt_words)  # cheap: summaries are short
        summary_text = summary.text()
        if len(summary_text.split()) >= MEANINGFUL_SUMMARY_WORDS and not is_truncation(
            summary_text, text
        ):
            excerpt_html = summary_excerpt  # written as a summary: the author's own excerpt

    # ParsedEntry titles are plain text, but double-escaped feeds ("AT&amp;amp;T",
    # "&lt;b&gt;") are common: decode, and drop the tags that decoding makes.
    title = plain_text(parsed.title) or plain_text(_derive_title(text)) or UNTITLED

    feed_date = _aware(parsed.published) or _aware(parsed.updated)
    if feed_date is not None and feed_date > now + FUTURE_TOLERANCE:
        feed_date = None
    published = feed_date or now
    updated = _aware(parsed.updated)
    if updated is not None and updated > now + FUTURE_TOLERANCE:
        updated = now

    categories = (source_category.strip(),) if source_category.strip() else ()
    tags = _dedupe(parsed.categories)
    enclosure = _pick_enclosure(parsed.enclosures, base_url)
    duration_s = parsed.duration_s if parsed.duration_s and parsed.duration_s > 0 else None
    author = plain_text(parsed.author)

    # Identity must not move between polls: without a feed date, hash the title alone (not
    # `now`), and only a link of the entry's own (not the site fallback) is a URL identity.
    tdh = title_date_hash(title, feed_date)
    guid = parsed.guid.strip() if parsed.guid and parsed.guid.strip() else None
    key = entry_key(guid, url if link else "", tdh)

    fields: dict[str, Any] = dict(
        source_id=source_id,
        key=key,
        guid=guid,
        url=url,
        title_date_hash=tdh,
        title=title,
        author=author,
        published=published,
        updated=updated,
        content_html=content_html,
        excerpt_html=excerpt_html,
        text=text,
        categories=categories,
        tags=tags,
        enclosure=enclosure,
        duration_s=duration_s,
        sponsored=is_sponsored(title, parsed.categories, text),
        fingerprint=entry_fingerprint(
            title=title,
            url=url,
            author=author,
            content_html=content_html,
            excerpt_html=excerpt_html,
            categories=categories,
            tags=tags,
            enclosure=enclosure,
            duration_s=duration_s,
        ),
        date_from_feed=feed_date is not None,
        podcast=is_podcast(
            title=title, text=text, url=link, enclosure=enclosure, duration_s=duration_s
        ),
        raw_hash=raw_hash,
    )
    return Draft(
        fields,
        story_url=url if link else "",
        topic_source=topic_source(source_title, source_category),
    )
