"""Excerpts for the river of posts, and plain text for the search index.

`make_excerpt` rebuilds a small HTML fragment from scratch rather than truncating markup, so the
result is well-formed by construction: it is a list of blocks (paragraphs, headings as <h4>,
lists as <ul>/<ol>/<dl> with their items, quotes as <blockquote>, code blocks as
<pre><code>) inside their containers, rendered by opening and closing tags in order. Only links
(http/https), emphasis and inline code survive inside a block; images, tables, figures and
embeds are left out (a river is for reading, not for layout). A code block is kept as escaped
text, bounded to PRE_MAX_LINES lines and PRE_MAX_CHARS characters (a last line "…" says it was
cut), and is never split by the excerpt cut. Words are counted on decoded text, so a cut can
never fall inside a tag, an entity or a word.

The cut prefers a sentence end in the last ~30% of the budget (up to a small overshoot);
failing that, it cuts at the word limit and appends "…" (after a code block: a paragraph "…").
Text that fits (with the same small overshoot) is kept whole. So an excerpt either holds all
of its text, or ends at a sentence end, or shows "…".
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import cast

from netplanet.enrich.tree import (
    Element,
    collapsed_text,
    drop_tree,
    is_plain_text,
    parse_clean,
    string_of,
    without_unparsable,
)

ELLIPSIS = "…"
EXCERPT_WORDS = 150
"""The default excerpt length, in words (setting `excerpt_words`). With the cut's sentence
window (70-110%) an excerpt runs ~105-165 words: an opening paragraph or two plus a short list
or config snippet, enough to judge a post, while a screen of the river still shows several
posts. The planets this one is modelled on show 150-250; 75 cut most posts inside their
first paragraph."""
LINK_REL = "nofollow noopener noreferrer"

_BLOCK = frozenset(
    {"p", "div", "li", "dt", "dd", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
     "section", "article", "header", "footer", "main", "aside", "address", "details",
     "summary", "center", "tr", "caption", "hr", "body", "html"}
)  # fmt: skip
_LIST = frozenset({"ul", "ol", "dl", "menu"})
_SKIP = frozenset(
    {"img", "picture", "table", "figure", "script", "style", "noscript", "template",
     "svg", "math", "iframe", "object", "embed", "video", "audio", "canvas", "form", "button",
     "select", "textarea", "input", "head", "title", "map", "nav", "sup"}
)  # fmt: skip
# Skipped elements that still separate what comes before from what comes after.
_SKIP_BREAK = frozenset(
    {"img", "picture", "table", "pre", "figure", "svg", "math", "iframe", "object", "embed",
     "video", "audio", "canvas", "form", "nav", "textarea", "select", "button", "input"}
)  # fmt: skip
_ITEMS = frozenset({"li", "dt", "dd"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LIST_CLOSINGS = frozenset({"</ul>", "</ol>", "</dl>"})
_ITEM_CLOSINGS = frozenset({"</li>", "</dt>", "</dd>"})
MAX_DEPTH = 4
"""Lists and quotes nest this deep in an excerpt; deeper ones read as paragraphs."""
PRE_MAX_LINES = 12
PRE_MAX_CHARS = 800
"""A code block is kept to this many lines and characters (then a last line "…"): a short
config snippet shows whole, a long listing only its start."""
_INLINE_KEPT = frozenset({"em", "strong", "b", "i", "code"})
# html_to_text: elements whose content is not text, and elements that separate words
_TEXT_SKIP = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe",
     "object", "embed", "select", "textarea", "button"}
)  # fmt: skip
_TEXT_BREAK = _BLOCK | _LIST | frozenset({"br", "td", "th", "pre", "figure", "figcaption", "img"})

_WS_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\S+")
_XML_SPACE = " \t\n\r"
_SENTENCE_END_RE = re.compile(r"[^.][.!?]+[\"'”’»)\]]*\Z|\A[!?]+\Z")
_ABBREVIATION_RE = re.compile(
    r"\A(?:e\.g|i\.e|etc|vs|cf|approx|fig|no|nr|vol|mr|mrs|ms|dr|prof|st|inc|ltd|jr|sr|[a-z])\.\Z",
    re.IGNORECASE,
)
# Stripped from the end of a cut text before the ellipsis: every str.isspace() code point (what
# \s means) and some punctuation. str.rstrip() takes it in one C call.
SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TRAILING_PUNCT = SPACE_CHARS + ",;:([{/\\&+*=–—-"
# Every word _SENTENCE_END_RE accepts ends with one of these: a cheap test before the regex.
_SENTENCE_END_LAST = tuple(".!?\"'”’»)]")
_HTTP_RE = re.compile(r"\Ahttps?://", re.IGNORECASE)

_Mark = tuple[int, str, str]  # (identity, opening tag, closing tag)


# _WS_RE.sub(" ", text) with fewer matches (a lone " " is left alone), and skipped altogether
# when there is nothing to replace: the common case, and a sub with a match per word is slow.
_SPACE_RUN_RE = re.compile(r"\s\s+|[^\S ]")


def _collapse_spaces(text: str) -> str:
    """`text` with each run of whitespace (str.isspace) replaced by one space."""
    # A printable string holds no whitespace but " " (every other isspace() character is not
    # printable): without two in a row there is nothing to replace.
    if "  " not in text and text.isprintable():
        return text
    return _SPACE_RUN_RE.sub(" ", text)


class _Para:
    """A paragraph: (text, marks) segments, whose texts hold no whitespace but single spaces
    (so its text is words joined by " ", without a space at either end once finished)."""

    __slots__ = ("segments",)

    def __init__(self) -> None:
        self.segments: list[tuple[str, tuple[_Mark, ...]]] = []

    def add(self, text: str, marks: tuple[_Mark, ...]) -> None:
        text = _collapse_spaces(text)
        segments = self.segments
        if not segments or segments[-1][0][-1] == " ":
            text = text.lstrip(" ")
        if text:
            segments.append((text, marks))

    def finish(self) -> None:
        segments = self.segments
        while segments:
            text, marks = segments[-1]
            if text[-1] != " ":
                return
            text = text.rstrip(" ")
            if text:
                segments[-1] = (text, marks)
                return
            segments.pop()

    @property
    def text(self) -> str:
        segments = self.segments
        if len(segments) == 1:
            return segments[0][0]
        return "".join([text for text, _ in segments])


class _Enough(Exception):
    """Raised by the collector once its blocks hold more words than the cut can use."""


class _Block:
    """One block of the excerpt: a paragraph (`tag` "p" or "h4", or "" for text that sits
    directly in a list item) or a code block (`tag` "pre", its bounded text in `pre`), inside
    the containers (lists, items, quotes) of `path`, outermost first."""

    __slots__ = ("para", "path", "pre", "tag", "words")

    def __init__(self, tag: str, path: tuple[_Mark, ...], para: _Para | None, pre: str) -> None:
        self.tag = tag
        self.path = path
        self.para = para
        self.pre = pre
        # str.split() and _WORD_RE agree: both split on str.isspace() characters; a paragraph's
        # words are joined by single spaces.
        self.words = para.text.count(" ") + 1 if para is not None else max(1, len(pre.split()))


def bounded_pre(text: str) -> str:
    """A code block's text cut to PRE_MAX_LINES lines and PRE_MAX_CHARS characters, with a
    last line "…" when anything was cut; "" when it holds nothing but blanks."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        del lines[0]
    kept: list[str] = []
    chars = 0
    for line in lines[:PRE_MAX_LINES]:
        room = PRE_MAX_CHARS - chars
        if len(line) > room:
            if room >= 20 or not kept:  # a long first line is cut rather than the block lost
                kept.append(line[: max(room, 20)].rstrip())
            break
        kept.append(line)
        chars += len(line) + 1
    if len(kept) < len(lines) or (kept and kept[-1] != lines[len(kept) - 1]):
        kept.append(ELLIPSIS)
    return "\n".join(kept)


def _pre_text(el: Element) -> str:
    """A code block's text, its <br>s as line breaks."""
    if el.find(".//br") is None:
        return cast(str, string_of(el))
    parts: list[str] = []

    def visit(node: Element) -> None:
        if node.tag == "br":
            parts.append("\n")
        elif node.text and isinstance(node.tag, str):  # a comment's text is not text
            parts.append(node.text)
        for child in node:
            visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(el)
    return "".join(parts)


class _Collector:
    """Walks the parsed tree into blocks of (text, inline marks) segments.

    With a `budget`, the walk stops (raising _Enough) at the first block boundary after more
    than `budget` words: the cut never looks further, and a long post is mostly past it.
    """

    def __init__(self, budget: int | None = None) -> None:
        self.blocks: list[_Block] = []
        self.current = _Para()
        self.tag = "p"
        # The open containers (lists, list items, quotes), outermost first.
        self.path: tuple[_Mark, ...] = ()
        # Identifies each inline element and container; id() won't do: lxml proxies are
        # transient and their ids get reused, which would merge two adjacent <a>s.
        self.serial = 0
        self.budget = budget
        self.words = 0

    def _mark(self, opening: str, closing: str) -> _Mark:
        self.serial += 1
        return (self.serial, opening, closing)

    def _add(self, block: _Block) -> None:
        self.blocks.append(block)
        if self.budget is not None:
            self.words += block.words
            if self.words > self.budget:
                raise _Enough

    def flush(self) -> None:
        current = self.current
        current.finish()
        self.current = _Para()
        if current.segments:
            path, tag = self.path, self.tag
            if path and path[-1][2] in _LIST_CLOSINGS:  # loose text in a list: an item of its own
                path = (*path, self._mark("<li>", "</li>"))
                tag = ""
            self._add(_Block(tag, path, current, ""))

    def pre(self, el: Element) -> None:
        self.flush()
        text = bounded_pre(_pre_text(el))
        if text:
            path = self.path
            if path and path[-1][2] in _LIST_CLOSINGS:
                path = (*path, self._mark("<li>", "</li>"))
            self._add(_Block("pre", path, None, text))

    def walk(self, el: Element, marks: tuple[_Mark, ...]) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_BREAK:
            self.current.add(" ", marks)  # "foo<img>bar" must not read "foobar"
        if not tag or tag in _SKIP:
            return
        if tag == "pre":
            self.pre(el)
            return
        outer_path, outer_tag = self.path, self.tag
        container: _Mark | None = None
        if tag in _BLOCK or tag in _LIST:
            self.flush()
            depth = len(self.path)
            in_list = bool(self.path) and self.path[-1][2] in _LIST_CLOSINGS
            if tag in _LIST and depth < MAX_DEPTH:
                kind = "ol" if tag == "ol" else "dl" if tag == "dl" else "ul"
                container = self._mark(f"<{kind}>", f"</{kind}>")
            elif tag in _ITEMS and in_list:
                item = ("dt" if tag == "dt" else "dd") if self.path[-1][2] == "</dl>" else "li"
                container = self._mark(f"<{item}>", f"</{item}>")
            elif tag == "blockquote" and depth < MAX_DEPTH:
                container = self._mark("<blockquote>", "</blockquote>")
            if container is not None:
                self.path = (*self.path, container)
                # text directly in an item needs no paragraph of its own
                self.tag = "" if container[2] in _ITEM_CLOSINGS else "p"
            else:
                self.tag = "h4" if tag in _HEADINGS else "p"
        elif tag == "br":
            self.current.add(" ", marks)
        elif tag in _INLINE_KEPT:
            marks = (*marks, self._mark(f"<{tag}>", f"</{tag}>"))
        elif tag == "a":
            href = (el.get("href") or "").strip()
            if _HTTP_RE.match(href):
                marks = (*marks, self._mark(f'<a href="{escape(href)}" rel="{LINK_REL}">', "</a>"))
        if el.text:
            self.current.add(el.text, marks)
        for child in el:
            self.walk(child, marks)
            if child.tail:
                self.current.add(child.tail, marks)
        if tag in _BLOCK or tag in _LIST:
            self.flush()
            self.path, self.tag = outer_path, outer_tag


def _is_sentence_end(word: str, next_word: str | None) -> bool:
    if not word.endswith(_SENTENCE_END_LAST) or not _SENTENCE_END_RE.search(word):
        return False
    if _ABBREVIATION_RE.match(word):
        return False
    return next_word is None or not next_word[:1].islower()


def _slack(limit: int) -> int:
    """Words a cut may run past the limit to end on a sentence (or to keep the text whole)."""
    return max(2, limit // 10)


_Cut = tuple[int, int, bool]
"""(block index, character offset in its paragraph or -1 for all of it, add an ellipsis?)"""


def _choose_cut(blocks: list[_Block], limit: int) -> _Cut | None:
    """Where to cut `blocks` to about `limit` words, or None to keep everything."""
    slack = _slack(limit)
    if sum(block.words for block in blocks) <= limit + slack:
        return None
    # The units a cut may follow, up to limit + slack words and one more: a paragraph's words
    # (with the offset just past each, in its text) and a code block as a whole.
    # (block index, offset or -1, words so far, the word or "" for a code block, next word)
    units: list[tuple[int, int, int, str, str | None]] = []
    count = 0
    for b_index, block in enumerate(blocks):
        if block.para is None:
            count += block.words
            units.append((b_index, -1, count, "", None))
        else:
            words = block.para.text.split(None, limit + slack + 1 - count + 1)
            offset = -1
            for w_index, word in enumerate(words[: limit + slack + 2 - count]):
                offset += len(word) + 1
                count += 1
                following = words[w_index + 1] if w_index + 1 < len(words) else None
                units.append((b_index, offset, count, word, following))
        if count > limit + slack:
            break
    low = math.ceil(limit * 0.7)
    # The last sentence end within the limit, else the first one in the slack past it.
    within = [u for u in units if low <= u[2] <= limit]
    beyond = [u for u in units if limit < u[2] <= limit + slack]
    for b_index, offset, _, word, following in (*reversed(within), *beyond):
        if word.endswith(_SENTENCE_END_LAST) and _is_sentence_end(word, following):
            return b_index, offset, False
    fitting = [u for u in units if u[2] <= limit] or units[:1]
    b_index, offset, _, word, following = fitting[-1]
    if offset < 0:
        return b_index, -1, True
    if word.endswith(_SENTENCE_END_LAST) and _is_sentence_end(word, following):
        return b_index, offset, False  # a sentence end short of the window is still one
    para = blocks[b_index].para
    assert para is not None
    trimmed = para.text[:offset].rstrip(_TRAILING_PUNCT)
    if not trimmed.strip():  # a word of punctuation only: end before its paragraph
        return (b_index - 1, -1, True) if b_index > 0 else (-1, -1, False)  # -1: nothing
    return b_index, len(trimmed), True


def _render_para(para: _Para, cut: int | None, out: list[str]) -> None:
    stack: tuple[_Mark, ...] = ()
    pos = 0
    for text, marks in para.segments:
        if cut is not None:
            if pos >= cut:
                break
            text = text[: cut - pos]
        pos += len(text)
        if marks is not stack:  # consecutive segments mostly share their marks' tuple
            _switch(stack, marks, out)
            stack = marks
        # html.escape(text, quote=False), without the call
        out.append(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    out.extend([mark[2] for mark in reversed(stack)])


def _switch(old: tuple[_Mark, ...], new: tuple[_Mark, ...], out: list[str]) -> None:
    """Close the marks (or containers) of `old` not in `new` and open those of `new`."""
    common = 0
    shared = min(len(old), len(new))
    while common < shared and old[common][0] == new[common][0]:
        common += 1
    out.extend([mark[2] for mark in reversed(old[common:])])
    out.extend([mark[1] for mark in new[common:]])


def _render(blocks: list[_Block], cut: _Cut | None) -> str:
    last = len(blocks) - 1 if cut is None else cut[0]
    out: list[str] = []
    path: tuple[_Mark, ...] = ()
    for b_index in range(last + 1):
        block = blocks[b_index]
        _switch(path, block.path, out)
        path = block.path
        offset = cut[1] if cut is not None and b_index == last and cut[1] >= 0 else None
        ellipsis = cut is not None and b_index == last and cut[2]
        if block.para is None:
            text = block.pre.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append(f"<pre><code>{text}</code></pre>")
            if ellipsis and not block.pre.endswith(ELLIPSIS):  # the cut follows a code block
                out.append(f"<p>{ELLIPSIS}</p>")
            continue
        if block.tag:
            out.append(f"<{block.tag}>")
        _render_para(block.para, offset, out)
        if ellipsis:
            out.append(ELLIPSIS)
        if block.tag:
            out.append(f"</{block.tag}>")
    out.extend([mark[2] for mark in reversed(path)])
    return "".join(out)


class Fragment:
    """One HTML fragment parsed (lazily) once, for its excerpt and then its plain text.

    `text()` reshapes the parsed tree, so it comes last; an `excerpt()` asked for after it
    parses the fragment again rather than read a changed tree.
    """

    __slots__ = ("_consumed", "_parsed", "_root", "html")

    def __init__(self, html: str) -> None:
        self.html = html
        self._root: Element | None = None
        self._parsed = False
        self._consumed = False

    def _tree(self) -> Element | None:
        if not self._parsed or self._consumed:
            self._root = parse_clean(self.html)
            self._parsed, self._consumed = True, False
        return self._root

    def excerpt(self, words: int = EXCERPT_WORDS) -> str:
        """A well-formed HTML excerpt of about `words` words (see the module docstring)."""
        if words < 1:
            return ""
        collector = _Collector(budget=words + _slack(words))
        try:
            html = self.html
            if "<" not in html and is_plain_text(html := without_unparsable(html)):
                # the tree would be the root <div> holding this text (when not blank): walking
                # it adds the text and flushes
                if html.strip():
                    collector.current.add(html, ())
            else:
                root = self._tree()
                if root is None:
                    return ""
                collector.walk(root, ())
            collector.flush()
        except _Enough:
            pass
        return _excerpt_of(collector.blocks, words)

    def text(self) -> str:
        """Plain text for the search index: no markup, whitespace collapsed."""
        # " ".join(s.split()) is _WS_RE.sub(" ", s).strip(), several times faster: str.split()
        # and the regex's \s agree on every code point (str.isspace).
        html = self.html
        if "<" not in html and "&" not in html:
            return " ".join(html.split())
        root = self._tree()
        if root is None:
            return ""
        self._consumed = True
        # One pass over the elements (a set lookup is cheaper than lxml matching 40 tag names
        # per element). Separating "<p>a</p><p>b</p>" into "a b", not "ab", needs a space
        # after each block and at its start, only where none is there that collapses anyway;
        # the dropped elements' tails join their neighbours' in the same order either way.
        skipped: list[Element] = []
        for el in root.iter():
            tag = el.tag
            if tag in _TEXT_BREAK:
                tail = el.tail
                if not tail:
                    el.tail = " "
                elif tail[0] not in _XML_SPACE:
                    el.tail = " " + tail
                # ... and before its start too, or loose text ahead of a block glues to it
                # ("tail text<p>More" was "textMore").
                text = el.text
                if not text:
                    el.text = " "
                elif text[0] not in _XML_SPACE:
                    el.text = " " + text
            elif tag in _TEXT_SKIP:
                skipped.append(el)
        for el in skipped:
            drop_tree(el)
        return collapsed_text(root)


def _excerpt_of(blocks: list[_Block], words: int) -> str:
    return _render(blocks, _choose_cut(blocks, words))


def make_excerpt(html: str, *, words: int = EXCERPT_WORDS) -> str:
    """A well-formed HTML excerpt of about `words` words (see the module docstring)."""
    return Fragment(html).excerpt(words)


def html_to_text(html: str) -> str:
    """Plain text of `html` for the search index: no markup, whitespace collapsed."""
    return Fragment(html).text()


def first_sentences(text: str, *, sentences: int = 2, words: int = 50) -> str:
    """The first `sentences` sentences of plain `text` (the weekly digest's one-or-two-sentence
    excerpt), with the sentence-end rule of `make_excerpt` (abbreviations and a lower-case next
    word are not ends). A second sentence is added only while the total stays within `words`;
    a first sentence longer than `words` is cut at a word with "…", as is text without any
    sentence end."""
    found = _WORD_RE.findall(text)
    if not found:
        return ""
    taken = 0
    end = 0
    for index, word in enumerate(found):
        following = found[index + 1] if index + 1 < len(found) else None
        if index + 1 > words:
            break
        if _is_sentence_end(word, following):
            taken += 1
            end = index + 1
            if taken >= sentences:
                break
    if end == 0:  # no sentence ends within the budget: cut at a word
        if len(found) <= words:
            return " ".join(found)
        return " ".join(found[:words]).rstrip(_TRAILING_PUNCT) + ELLIPSIS
    return " ".join(found[:end])
