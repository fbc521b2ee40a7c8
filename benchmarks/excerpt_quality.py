"""Excerpt quality on the shared corpus: how excerpts end, and what they keep.

Parses and enriches every entry of ../shared/corpus/feeds with the default excerpt length and
counts, per excerpt:
- `mid-sentence`: the excerpt's text stops where the post's text goes on, without "…" and not
  at a sentence end (the reader cannot tell it was cut);
- `empty`: no excerpt at all although the feed gave some text (content, summary or media);
- `footer`: a "read more"-style footer survived (any of a few languages);
- `lists` / `pre`: excerpts that keep a list / a code block; and the word counts.

    .venv/bin/python benchmarks/excerpt_quality.py [--words N] [--show K] [--json]

Not part of `make bench`: it measures quality, not speed, and prints instead of writing docs.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from netplanet.enrich import enrich_entry, html_to_text
from netplanet.errors import ParseError
from netplanet.parse import parse_feed
from netplanet.settings import Settings

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
NOW = datetime(2030, 1, 1, tzinfo=UTC)

# What may end a complete sentence (closing quotes and brackets after it are skipped), plus the
# visible cut marks.
_CLOSERS = "\"'”’»)]*_"
_ENDS = ".!?…:"
_FOOTER_RE = re.compile(
    r"(?:read\s+more|continue\s+reading|läs\s+mer|weiterlesen|lire\s+la\s+suite|leer\s+más)"
    r"\s*(?:[»→›]|\Z)|appeared\s+first\s+on|\[\s*(?:…|\.\.\.)\s*\]\s*\Z",
    re.IGNORECASE,
)


_FEED_FOOTER_RE = re.compile(
    r"\s*the\s+post\s.+\s(?:appeared\s+first|first\s+appeared)\s+on\s.+\Z", re.IGNORECASE
)
_MARKED_RE = re.compile(r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\]|»|→)\W*\Z")


def _tail_words(text: str, n: int = 6) -> list[str]:
    return [w.strip(_CLOSERS + _ENDS + ",;") for w in text.split()[-n:]]


def _full_texts(content: str, summary: str, media: str) -> list[str]:
    """The post's fullest text as the feed gave it (a marker such as "[…]" left in place, so
    an excerpt ending where a truncated text ends does not count as complete)."""
    texts = [_FEED_FOOTER_RE.sub("", html_to_text(content or summary)), html_to_text(media)]
    # The measure must not lean on the code it measures (strip_boilerplate): only the
    # WordPress footer ("The post … appeared first on …") is taken off, by its own pattern.
    summary_text = _FEED_FOOTER_RE.sub("", html_to_text(summary))
    # A hand-written summary is complete where it ends; one ending in a marker was cut short.
    if summary_text and not _MARKED_RE.search(summary_text):
        texts.append(summary_text)
    return [t for t in texts if t]


def ends_mid_sentence(excerpt_text: str, full_texts: list[str]) -> bool:
    """The excerpt stops without a mark where some text of the post it came from goes on."""
    text = excerpt_text.rstrip()
    if not text:
        return False
    stripped = text.rstrip(_CLOSERS)
    if stripped[-1:] in _ENDS:
        return False
    tail = _tail_words(text)
    # It ends where a whole text (or a block of it) ends: nothing was cut.
    return not any(_tail_words(full) == tail for full in full_texts)


@dataclass
class Report:
    feeds: int = 0
    entries: int = 0
    mid_sentence: int = 0
    empty: int = 0
    footer: int = 0
    lists: int = 0
    pre: int = 0
    words: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    empty_by_feed: dict[str, int] = field(default_factory=dict)
    htmls: list[tuple[str, int]] = field(default_factory=list)
    """(excerpt HTML, its word count), with `keep_html`."""


def measure(words: int, show: int = 0, *, keep_html: bool = False) -> Report:
    report = Report()
    for path in sorted(CORPUS.iterdir()):
        if path.name == "MANIFEST.tsv":
            continue
        try:
            feed = parse_feed(
                path.read_bytes(), content_type="", url=f"https://example.org/{path.name}"
            )
        except ParseError:
            continue
        report.feeds += 1
        for parsed in feed.entries:
            entry = enrich_entry(
                parsed,
                source_id=1,
                source_category="",
                base_url=feed.link or "https://example.org/",
                now=NOW,
                excerpt_words=words,
            )
            report.entries += 1
            text = html_to_text(entry.excerpt_html)
            fulls = _full_texts(parsed.content_html, parsed.summary_html, parsed.media_html)
            report.words.append(len(text.split()))
            if keep_html:
                report.htmls.append((entry.excerpt_html, len(text.split())))
            if not text:
                if any(fulls):
                    report.empty += 1
                    report.empty_by_feed[path.name] = report.empty_by_feed.get(path.name, 0) + 1
                continue
            if ends_mid_sentence(text, fulls):
                report.mid_sentence += 1
                if len(report.samples) < show:
                    report.samples.append(f"{path.name}: …{text[-90:]}")
            if _FOOTER_RE.search(text):
                report.footer += 1
            if "<li>" in entry.excerpt_html:
                report.lists += 1
            if "<pre>" in entry.excerpt_html:
                report.pre += 1
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=Settings().excerpt_words)
    parser.add_argument("--show", type=int, default=0, help="print this many mid-sentence ends")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    report = measure(args.words, args.show)
    figures = {
        "words_setting": args.words,
        "feeds": report.feeds,
        "excerpts": report.entries,
        "mid_sentence_without_mark": report.mid_sentence,
        "empty_with_text_available": report.empty,
        "footer_left": report.footer,
        "with_list": report.lists,
        "with_pre": report.pre,
        "median_words": statistics.median(report.words) if report.words else 0,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name:28} {value}")
        for sample in report.samples:
            print(sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
