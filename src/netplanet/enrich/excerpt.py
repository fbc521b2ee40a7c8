"""Excerpts for the river of posts, and plain text for the search index.

`make_excerpt` rebuilds a small HTML fragment from scratch rather than truncating markup, so the
result is well-formed by construction: every block becomes a <p>, lists flatten into one
paragraph ("a; b; c"), only links (http/https) and emphasis survive inline, and images, tables,
code blocks, figures and embeds are left out (a river is for reading, not for layout). Words are
counted on decoded text, so a cut can never fall inside a tag, an entity or a word.

The cut prefers a sentence end in the last ~30% of the budget (up to a small overshoot); failing
that, it cuts at the word limit and appends "…". Text that fits (with the same small overshoot)
is kept whole.
"""

from __future__ import annotations

import math
import re
from html import escape

from netplanet.enrich.tree import (
    Element,
    collapsed_text,
    drop_tree,
    is_plain_text,
    parse_clean,
    without_unparsable,
)

ELLIPSIS = "…"
LINK_REL = "nofollow noopener noreferrer"

_BLOCK = frozenset(
    {"p", "div", "li", "dt", "dd", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
     "section", "article", "header", "footer", "main", "aside", "address", "details",
     "summary", "center", "tr", "caption", "hr", "body", "html"}
)  # fmt: skip
_LIST = frozenset({"ul", "ol", "dl", "menu"})
_SKIP = frozenset(
    {"img", "picture", "table", "pre", "figure", "script", "style", "noscript", "template",
     "svg", "math", "iframe", "object", "embed", "video", "audio", "canvas", "form", "button",
     "select", "textarea", "input", "head", "title", "map", "nav", "sup"}
)  # fmt: skip
# Skipped elements that still separate what comes before from what comes after.
_SKIP_BREAK = frozenset(
    {"img", "picture", "table", "pre", "figure", "svg", "math", "iframe", "object", "embed",
     "video", "audio", "canvas", "form", "nav", "textarea", "select", "button", "input"}
)  # fmt: skip
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
    """Raised by the collector once its paragraphs hold more words than the cut can use."""


class _Collector:
    """Walks the parsed tree into paragraphs of (text, inline marks) segments.

    With a `budget`, the walk stops (raising _Enough) at the first paragraph boundary after
    more than `budget` words: the cut never looks further, and a long post is mostly past it.
    """

    def __init__(self, budget: int | None = None) -> None:
        self.paras: list[_Para] = []
        self.current = _Para()
        # Identifies each inline element; id() won't do: lxml proxies are transient and their
        # ids get reused, which would merge two adjacent <a>s.
        self.serial = 0
        self.budget = budget
        self.words = 0

    def flush(self) -> None:
        current = self.current
        current.finish()
        if current.segments:
            self.paras.append(current)
            if self.budget is not None:
                # str.split() and _WORD_RE agree: both split on str.isspace() characters.
                self.words += current.text.count(" ") + 1  # words joined by single spaces
                if self.words > self.budget:
                    self.current = _Para()
                    raise _Enough
        self.current = _Para()

    def list_item(self) -> None:
        """Separate flattened list items with "; " unless the previous one ended a sentence."""
        current = self.current
        if current.segments:  # its first segment starts with a word: it has text
            current.finish()
            last, marks = current.segments[-1]
            if last[-1] not in ".!?;:,":
                last += ";"
            current.segments[-1] = (last + " ", marks)

    def walk(self, el: Element, marks: tuple[_Mark, ...], in_list: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        outer_in_list = in_list
        if tag in _SKIP_BREAK:
            self.current.add(" ", marks)  # "foo<pre>…</pre>bar" must not read "foobar"
        if tag and tag not in _SKIP:
            if tag in _BLOCK and in_list:
                self.current.add(" ", marks)  # "<li><p>a</p><p>b</p>" reads "a b"
            if tag in _LIST:
                if not in_list:
                    self.flush()
                in_list = True
            elif tag in {"li", "dt", "dd"} and in_list:
                self.list_item()
            elif tag in _BLOCK and not in_list:
                self.flush()
            elif tag == "br":
                self.current.add(" ", marks)
            elif tag in _INLINE_KEPT:
                self.serial += 1
                marks = (*marks, (self.serial, f"<{tag}>", f"</{tag}>"))
            elif tag == "a":
                href = (el.get("href") or "").strip()
                if _HTTP_RE.match(href):
                    opening = f'<a href="{escape(href)}" rel="{LINK_REL}">'
                    self.serial += 1
                    marks = (*marks, (self.serial, opening, "</a>"))
            if el.text:
                self.current.add(el.text, marks)
            for child in el:
                self.walk(child, marks, in_list)
                if child.tail:
                    self.current.add(child.tail, marks)
            if tag in _BLOCK or tag in _LIST:
                if outer_in_list:
                    self.current.add(" ", marks)
                else:
                    self.flush()


def _is_sentence_end(word: str, next_word: str | None) -> bool:
    if not word.endswith(_SENTENCE_END_LAST) or not _SENTENCE_END_RE.search(word):
        return False
    if _ABBREVIATION_RE.match(word):
        return False
    return next_word is None or not next_word[:1].islower()


def _slack(limit: int) -> int:
    """Words a cut may run past the limit to end on a sentence (or to keep the text whole)."""
    return max(2, limit // 10)


def _choose_cut(paras: list[_Para], limit: int) -> tuple[int, int, bool] | None:
    """(paragraph index, character offset, add ellipsis?) or None to keep everything."""
    slack = _slack(limit)
    # The words, and the paragraph each is in. Only the first limit + slack words and the one
    # after them are ever looked at, so stop there. A paragraph's text is its words joined by
    # single spaces, so str.split() finds them and offsets follow from their lengths.
    words: list[str] = []
    owner: list[int] = []
    wanted = limit + slack + 1
    for p_index, para in enumerate(paras):
        take = wanted - len(words) + 1
        texts = para.text.split(None, take)[:take]
        words += texts
        owner += [p_index] * len(texts)
        if len(words) >= wanted:
            break
    if len(words) <= limit + slack:
        return None
    low = math.ceil(limit * 0.7)
    # The last sentence end within the limit, else the first one in the slack past it.
    for n in (*range(limit, low - 1, -1), *range(limit + 1, limit + slack + 1)):
        word = words[n - 1]
        if not word.endswith(_SENTENCE_END_LAST):  # most words: no regex
            continue
        p_index = owner[n - 1]
        next_word = words[n] if owner[n] == p_index else None  # n < len(words): see `wanted`
        if _is_sentence_end(word, next_word):
            return p_index, _word_end(words, owner, n - 1), False
    p_index = owner[limit - 1]
    text = paras[p_index].text
    text = text[: _word_end(words, owner, limit - 1)]
    trimmed = text.rstrip(_TRAILING_PUNCT)
    if not trimmed.strip() and p_index == 0:
        return 0, 0, True
    return p_index, len(trimmed), True


def _word_end(words: list[str], owner: list[int], n: int) -> int:
    """Offset, in its paragraph's text, just past words[n]."""
    first = owner.index(owner[n])
    return sum(map(len, words[first : n + 1])) + n - first


def _render(para: _Para, cut: int | None, ellipsis: bool) -> str:
    out = ["<p>"]
    stack: tuple[_Mark, ...] = ()
    pos = 0
    for text, marks in para.segments:
        if cut is not None:
            if pos >= cut:
                break
            text = text[: cut - pos]
        pos += len(text)
        if marks is not stack:  # consecutive segments mostly share their marks' tuple
            common = 0
            shared = min(len(stack), len(marks))
            while common < shared and stack[common][0] == marks[common][0]:
                common += 1
            out.extend([mark[2] for mark in reversed(stack[common:])])
            out.extend([mark[1] for mark in marks[common:]])
            stack = marks
        # html.escape(text, quote=False), without the call
        out.append(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    out.extend([mark[2] for mark in reversed(stack)])
    if ellipsis:
        out.append(ELLIPSIS)
    out.append("</p>")
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

    def excerpt(self, words: int = 75) -> str:
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
                collector.walk(root, (), False)
            collector.flush()
        except _Enough:
            pass
        return _excerpt_of(collector.paras, words)

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


def _excerpt_of(paras: list[_Para], words: int) -> str:
    cut = _choose_cut(paras, words)
    if cut is None:
        return "".join(_render(p, None, False) for p in paras)
    p_index, offset, ellipsis = cut
    rendered = [_render(p, None, False) for p in paras[:p_index]]
    if offset > 0:
        rendered.append(_render(paras[p_index], offset, ellipsis))
    elif rendered and ellipsis:
        rendered[-1] = rendered[-1][: -len("</p>")] + ELLIPSIS + "</p>"
    return "".join(rendered)


def make_excerpt(html: str, *, words: int = 75) -> str:
    """A well-formed HTML excerpt of about `words` words (see the module docstring)."""
    return Fragment(html).excerpt(words)


def html_to_text(html: str) -> str:
    """Plain text of `html` for the search index: no markup, whitespace collapsed."""
    return Fragment(html).text()
