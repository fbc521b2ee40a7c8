"""Boilerplate removal: what blog engines, plugins and feed proxies append to every post.

`strip_boilerplate` runs on raw feed HTML, before sanitizing, and removes:
- WordPress/Yoast footers "The post X appeared first on Y." / "…first appeared on…" (with links);
- "Read more »", "Continue reading →", "Continue reading <title>", "Weiterlesen" links;
- trailing "[…]", "[...]", "[&hellip;]" truncation markers, and "Read more »" / "Läs mer »" /
  "Lire la suite →" (a few languages) as text or links; where the text then stops
  mid-sentence, "…" takes their place, so that the cut still shows;
- share blocks ("Share this:", Jetpack/AddToAny containers) and links to share endpoints, and
  Blogger's feed footer (div.blogger-post-footer: the blog's ads or notices on every post);
- tracking pixels (1×1 or 0×0 images, feedburner/feedsportal/stats/pixel URLs) and FeedBurner
  leftovers (feedflare blocks, feeds.feedburner.com/~ff/ and ~r/ images and links);
- paragraphs and containers left empty.
A bare trailing "…" is kept: it honestly says the feed truncated the text.

Input without any marker is returned untouched (a substring pre-check), so the lxml parse is paid
only by posts that need it. Each rule is first tested once on the whole document (its text, or
its links' addresses joined), in C; the per-element Python checks run only where one may match.
"""

from __future__ import annotations

import re
from typing import cast

from lxml import etree

from netplanet.enrich.empties import empty_containers, may_have_empties
from netplanet.enrich.tree import (
    Element,
    ascii_lower,
    drop_tag,
    drop_tree,
    is_plain_text,
    parse_fragment,
    serialize,
    string_of,
)

_POST_FOOTER_RE = re.compile(
    r"\A\s*the\s+post\s.+\s(?:appeared\s+first|first\s+appeared)\s+on\s.+?\.?\s*\Z",
    re.IGNORECASE | re.DOTALL,
)
# "Read more" in the languages of the planet's blogs (a link's whole text, or a plain-text
# footer followed by an arrow or an ellipsis).
_FOREIGN_MORE = (
    r"läs\s+mer|lees\s+meer|les\s+mer|læs\s+mere|lue\s+lisää|weiterlesen|mehr\s+lesen"
    r"|lire\s+la\s+suite|en\s+savoir\s+plus|leer\s+más|seguir\s+leyendo|leia\s+mais"
    r"|continua\s+a\s+leggere|leggi\s+tutto|czytaj\s+dalej|читать\s+далее|подробнее"
)
_MORE_LINK_RE = re.compile(
    r"\A\W*(?:(?:read\s+more|keep\s+reading|read\s+the\s+rest|more|" + _FOREIGN_MORE + r")\W*"
    r"|read\s+(?:the\s+)?full\s+(?:post|article|story|topic)\W*"
    r"|(?:continue\s+reading|read\s+more\s*[:»→]).{0,200})\Z",
    re.IGNORECASE | re.DOTALL,
)
_SHARE_LABEL_RE = re.compile(
    r"\A\s*(?:share\s+this(?:\s+(?:post|article|story))?|like\s+this|share\s+on)\s*:?\s*\Z",
    re.IGNORECASE,
)
_TRAILING_MARKER_RE = re.compile(r"\s*\[\s*(?:…|\.\.\.)\s*\]\s*\Z")
_TRAILING_MORE_TEXT_RE = re.compile(
    r"\s*(?:read\s+more|continue\s+reading|" + _FOREIGN_MORE + r")\s*(?:»|→|›|>>|\.\.\.|…)\s*\Z",
    re.IGNORECASE,
)
# What the foreign "read more" phrases hold, lower-cased (ascii_lower leaves the rest as is).
_FOREIGN_NEEDLES = (
    "mer", "lisää", "weiter", "lesen", "suite", "savoir", "más", "leyendo", "mais", "legg",
    "dalej", "далее", "одробнее",
)  # fmt: skip
_SENTINEL = "\ue000"  # a private-use character: where a "read more" link was
_MORE_NEEDLES = ("more", "read", "continue", *_FOREIGN_NEEDLES)
# A text ending with one of these ends a sentence (closing quotes and brackets aside), or
# already says it was cut.
_SENTENCE_ENDS = (".", "!", "?", "…")
_CLOSERS = "\"'”’»)] \t\n\r\xa0"
_CUT_PUNCT = " \t\n\r\xa0,;:([{/\\&+*=–—-"

_SHARE_URL_RE = re.compile(
    r"(?:facebook\.com/(?:sharer|share\.php|dialog/share)|\b(?:twitter|x)\.com/(?:intent|share)"
    r"|linkedin\.com/(?:sharearticle|sharing|cws/share|shareArticle)|reddit\.com/submit"
    r"|pinterest\.com/pin/create|news\.ycombinator\.com/submitlink|tumblr\.com/share"
    r"|t\.me/share|wa\.me/\?|api\.whatsapp\.com/send|getpocket\.com/(?:save|edit)"
    r"|mastodonshare|toot\.kytta|share=(?:facebook|twitter|linkedin|email|reddit|pocket))",
    re.IGNORECASE,
)
_SHARE_CLASS_RE = re.compile(
    r"(?:\A|\s)(?:sharedaddy|sd-sharing[\w-]*|sd-social[\w-]*|addtoany[\w-]*|a2a_kit"
    r"|share-?buttons?|social-?share[\w-]*|sharing-?buttons?|jp-relatedposts|feedflare"
    r"|blogger-post-footer)(?:\s|\Z)",
    re.IGNORECASE,
)
_FEEDBURNER_RE = re.compile(
    r"feeds\.feedburner\.com/~(?:ff|r)/|feedproxy\.google\.com/~(?:ff|r)/|feedsportal\.com",
    re.IGNORECASE,
)
# Images only: on a link, "/track/" may well be a real page.
_TRACKER_IMG_RE = re.compile(
    r"feeds\.feedburner\.com/|feedproxy\.google\.com/|feedsportal\.com"
    r"|//(?:pixel|stats|tracking|beacon)\.|pixel\.wp\.com|stats\.wordpress\.com"
    r"|/(?:pixel|tracking|beacon|track)(?:\.gif|\.png|/|\?|\Z)",
    re.IGNORECASE,
)
# A cheap pre-check decides whether the document needs parsing at all. Each rule above needs at
# least one of these substrings (in the lower-cased input) or a match of _EMPTY_OR_MARKER_RE.
# Substring tests run at memchr speed; one big case-insensitive alternation cost more than the
# lxml parse it was meant to save.
_NEEDLES: tuple[str, ...] = (  # the most frequent first: the first found settles it
    "more", "<img", "read", "share", "track", "stats", "continue", "feedburner", "like this",
    "submit", "appeared", "feedflare", "intent", "sharing", "tracking", "pixel", "beacon",
    "whatsapp", "a2a", "addtoany", "relatedposts", "pin/create", "getpocket", "toot.", "t.me/",
    "feedproxy", "feedsportal", "blogger-post-footer", *_FOREIGN_NEEDLES,
)  # fmt: skip
_EMPTY_OR_MARKER_RE = re.compile(
    r"\[\s*(?:…|\.\.\.|&hellip;|&#8230;|&#x2026;)\s*\]"
    r"|<(?:p|div|span|li)\b[^>]*>(?:\s|&nbsp;|&#160;|<br\s*/?>)*</",
    re.IGNORECASE,
)


def _may_have_boilerplate(html: str, lowered: str) -> bool:
    """`lowered` is html.lower(), or ascii_lower(html) with the Kelvin sign made a "k"."""
    for needle in _NEEDLES:
        if needle in lowered:
            return True
    return _EMPTY_OR_MARKER_RE.search(html) is not None


_MAX_FOOTER_CHARS = 400  # a footer or a share label is short; a paragraph of prose is not
_TINY_RE = re.compile(r"\A\s*[01]\s*(?:px)?\s*\Z")


def _folded(text: str) -> str:
    """`text` lower-cased so that a word the IGNORECASE rules match is a plain substring.

    Besides A-Z, re.IGNORECASE lets "İ" and "ı" match i, "ſ" match s and the Kelvin sign match
    k; no other character matches an ASCII letter. The rest of the text may stay as it is.
    """
    folded = ascii_lower(text)
    if not folded.isascii():
        for special, plain in _FOLDED_SPECIALS:
            if special in folded:
                folded = folded.replace(special, plain)
    return folded


_FOLDED_SPECIALS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))


def _followed(folded: str, word: str, rest: re.Pattern[str]) -> bool:
    """Whether `word` occurs in `folded` with `rest` matching right after it."""
    # str.find skips to each occurrence at memchr speed; a regex search would step through
    # every character.
    start = folded.find(word)
    while start >= 0:
        if rest.match(folded, start + len(word)):
            return True
        start = folded.find(word, start + 1)
    return False


# Whole-document forms of the text rules. An element's text is a contiguous part of the post's
# whole text, so without a match in the whole text (folded, then matched case-sensitively), no
# element's text can match the rule, and the per-element texts are not computed.
_APPEARED_FIRST_ON = ("appeared", re.compile(r"\s+first\s+on\s.", re.DOTALL))
_FIRST_APPEARED_ON = ("first", re.compile(r"\s+appeared\s+on\s.", re.DOTALL))
_SHARE_THIS_ON = ("share", re.compile(r"\s+(?:this|on)"))
_LIKE_THIS = ("like", re.compile(r"\s+this"))
# What a class name _SHARE_CLASS_RE matches holds, lower-cased.
_SHARE_CLASS_NEEDLES = (
    "shar", "social", "addtoany", "a2a_kit", "relatedposts", "feedflare", "blogger-post-footer",
)  # fmt: skip
# What each alternative of _SHARE_URL_RE holds, lower-cased: the addresses are searched only
# when one is there.
_SHARE_URL_NEEDLES = (
    "facebook.com/", "twitter.com/", "x.com/", "linkedin.com/", "reddit.com/submit",
    "pinterest.com/pin/create", "news.ycombinator.com/submitlink", "tumblr.com/share",
    "t.me/share", "wa.me/?", "api.whatsapp.com/send", "getpocket.com/", "mastodonshare",
    "toot.kytta", "share=",
)  # fmt: skip
_BLOCKS = ("p", "div", "section", "aside", "footer", "ul", "h3", "h4", "span")
# Every class attribute, joined by "\n", which _SHARE_CLASS_RE treats as the \A and \Z it looks
# for around a name: one search tells whether any element (a block among them) can match.
_CLASSES = etree.XPath("descendant::*/@class", smart_strings=False)
_HREFS = etree.XPath("descendant::a/@href", smart_strings=False)


def _text(el: Element) -> str:
    # A leaf's text is its .text; otherwise XPath string() concatenates in C, several times
    # faster than joining itertext().
    if len(el):
        return cast(str, string_of(el))
    return el.text or ""


# What each alternative of _TRACKER_IMG_RE holds, lower-cased.
_TRACKER_IMG_NEEDLES = ("feed", "pixel", "stats", "track", "beacon")


def _is_tracking_image(img: Element) -> bool:
    width, height = img.get("width"), img.get("height")
    if width and height and _TINY_RE.match(width) and _TINY_RE.match(height):
        return True
    style = img.get("style")
    if style:
        style = style.replace(" ", "").lower()
        if "width:1px" in style and "height:1px" in style:
            return True
    src = img.get("src")
    if not src:
        return False
    folded = _folded(src)
    return any(n in folded for n in _TRACKER_IMG_NEEDLES) and bool(_TRACKER_IMG_RE.search(src))


def _last_text_slot(el: Element) -> tuple[Element, str] | None:
    """The element and attribute ("text" or "tail") holding the document's last visible text."""
    for child in reversed(el):
        if child.tail and child.tail.strip():
            return child, "tail"
        if isinstance(child.tag, str):  # comments' .text is not visible text
            slot = _last_text_slot(child)
            if slot is not None:
                return slot
    if el.text and el.text.strip():
        return el, "text"
    return None


# What the two trailing-marker patterns can end with (before trailing whitespace).
_MARKER_ENDS = ("]", "»", "→", "›", ">>", "...", "…")


def _cut_tail(pattern: re.Pattern[str], value: str) -> str:
    """`pattern.sub("", value)` for the two trailing-marker patterns, searching only the end.

    A match is blanks, at most five words (runs of non-blanks: "continua a leggere »") and
    blanks up to the end of `value`, so it starts after the sixth word from the end: searching
    from there finds the same leftmost match, where a search from the start would try every
    position of the text.
    """
    words = value.rsplit(None, 5)
    match = pattern.search(value, len(words[0]) if len(words) == 6 else 0)
    return value if match is None else value[: match.start()]


def marked_cut(text: str) -> str:
    """`text`, which a feed cut short, ending so that the cut shows: "…" after its last word,
    unless it ends a sentence (or already says "…")."""
    if text.rstrip(_CLOSERS).endswith(_SENTENCE_ENDS):
        return text
    trimmed = text.rstrip(_CUT_PUNCT)
    return trimmed + "…" if trimmed else text


def _strip_trailing_markers(root: Element, *, cut: bool = False) -> None:
    """Remove "[…]" and a plain-text "Read more »" from the very end of the text, and leave
    "…" in their place where the text stops mid-sentence. `cut`: a "read more" link at the
    very end was removed already, so the text was cut short."""
    for _ in range(3):  # "… [...] Read more »" takes two passes; a third finds nothing
        slot = _last_text_slot(root)
        if slot is None:
            return
        holder, attr = slot
        value: str = getattr(holder, attr)
        if not value.rstrip().endswith(_MARKER_ENDS):  # spares the regexes a long scan
            break
        stripped = _cut_tail(_TRAILING_MORE_TEXT_RE, _cut_tail(_TRAILING_MARKER_RE, value))
        if stripped == value:
            break
        cut = True
        setattr(holder, attr, stripped)
    if cut and (slot := _last_text_slot(root)) is not None:
        holder, attr = slot
        setattr(holder, attr, marked_cut(getattr(holder, attr)))


def _find_boilerplate(
    root: Element, whole: str, *, has_class: bool
) -> tuple[list[Element], list[Element]]:
    """Elements to remove with their content, and links to unwrap (keeping their text).

    `whole` is root's text; `has_class`: whether any element may have a class attribute (False
    skips the class rules). The lists are in the order of the rules, each in document order.
    """
    doomed: list[Element] = []
    unwrap: list[Element] = []
    folded = _folded(whole)
    footer_text = "appeared" in folded and (
        _followed(folded, *_APPEARED_FIRST_ON) or _followed(folded, *_FIRST_APPEARED_ON)
    )
    share_text = _followed(folded, *_SHARE_THIS_ON) or _followed(folded, *_LIKE_THIS)
    by_text = footer_text or share_text
    classes = "\n".join(cast(list[str], _CLASSES(root))) if has_class else ""
    folded_classes = _folded(classes)
    by_class = any(n in folded_classes for n in _SHARE_CLASS_NEEDLES) and (
        _SHARE_CLASS_RE.search(classes) is not None
    )
    for el in root.iter(*_BLOCKS) if by_class or by_text else ():
        if el is root:  # the wrapper <div> cannot be dropped (a post that is only a footer)
            continue
        if by_class and _SHARE_CLASS_RE.search(el.get("class", "")):
            doomed.append(el)
            continue
        if not by_text:
            continue
        text = _text(el)
        if len(text) > _MAX_FOOTER_CHARS:
            continue
        # the WordPress/Yoast footer always links the post and the site
        footer = (
            footer_text
            and el.tag in {"p", "div"}
            and _POST_FOOTER_RE.match(text)
            and el.find(".//a") is not None
        )
        if footer or (share_text and _SHARE_LABEL_RE.match(text)):
            doomed.append(el)

    # Links: each address rule is searched once over all addresses (its pattern cannot match
    # across the "\n" joining them), and only when a word it needs is there.
    hrefs = "\n".join(cast(list[str], _HREFS(root)))
    folded_hrefs = _folded(hrefs)
    share_url = (
        bool(hrefs)
        and any(n in folded_hrefs for n in _SHARE_URL_NEEDLES)
        and bool(_SHARE_URL_RE.search(hrefs))
    )
    feedburner = "feed" in folded_hrefs and _FEEDBURNER_RE.search(hrefs) is not None
    more_class = "more-link" in classes
    more_text = any(word in folded for word in _MORE_NEEDLES)
    if share_url or feedburner or more_class or more_text:
        for a in root.iter("a"):
            href = a.get("href", "") if share_url or feedburner else ""
            if share_url and _SHARE_URL_RE.search(href):
                doomed.append(a)
            elif feedburner and _FEEDBURNER_RE.search(href):
                # flare links hold only images; a ~r/ link with words is a real (proxied) link
                (unwrap if _text(a).strip() else doomed).append(a)
            elif (more_class and "more-link" in a.get("class", "")) or (
                more_text and _MORE_LINK_RE.match(_text(a))
            ):
                doomed.append(a)
    doomed.extend(img for img in root.iter("img") if _is_tracking_image(img))
    return doomed, unwrap


def strip_boilerplate(html: str) -> str:
    """Return `html` without feed/blog boilerplate (see the module docstring)."""
    if not html:
        return html
    lowered = ascii_lower(html)
    if "\u212a" in lowered:  # as html.lower() would have it
        lowered = lowered.replace("\u212a", "k")
    if not _may_have_boilerplate(html, lowered):
        return html
    if is_plain_text(html):
        return _strip_plain(html)
    return _strip_parsed(html, lowered)


def _strip_plain(html: str) -> str:
    """What _strip_parsed returns for plain text (see is_plain_text): the parsed tree would be
    the <div> holding `html` (when not blank) and no element, which no rule but the trailing
    markers' touches, and serializing it escapes only ">"."""
    value = html if html.strip() else ""
    cut = False
    for _ in range(3):  # as _strip_trailing_markers, on its one text slot
        if not value.strip() or not value.rstrip().endswith(_MARKER_ENDS):
            break
        stripped = _cut_tail(_TRAILING_MORE_TEXT_RE, _cut_tail(_TRAILING_MARKER_RE, value))
        if stripped == value:
            break
        value, cut = stripped, True
    if cut and value.strip():
        value = marked_cut(value)
    return value.replace(">", "&gt;").strip()


def _strip_parsed(html: str, lowered: str) -> str:
    root = parse_fragment(html)
    if root is None:
        return html

    # Attribute names are never entity-decoded, and the parser lower-cases only ASCII: without
    # "class" in the lowered input, no element has a class attribute.
    whole = cast(str, string_of(root))
    doomed, unwrap = _find_boilerplate(root, whole, has_class="class" in lowered)
    # A "read more" link that ends the text (once the rest is removed) says the text before it
    # was cut short: a sentinel in its place tells whether it did.
    more_links = [
        el for el in doomed
        if el.tag == "a"
        and ("more-link" in el.get("class", "") or _MORE_LINK_RE.match(_text(el)))
    ]  # fmt: skip
    for el in more_links:
        el.tail = _SENTINEL + (el.tail or "")
    for el in doomed:
        drop_tree(el)  # keeps the tail text
    for el in unwrap:
        drop_tag(el)
    # The last visible text ends the whole text (unchanged by unwrapping): when that does not
    # end with a marker, neither does the last text.
    more_last = False
    if more_links:
        slot = _last_text_slot(root)
        more_last = slot is not None and getattr(*slot).rstrip().endswith(_SENTINEL)
        for node in root.iter():
            if node.text and _SENTINEL in node.text:
                node.text = node.text.replace(_SENTINEL, "")
            if node.tail and _SENTINEL in node.tail:
                node.tail = node.tail.replace(_SENTINEL, "")
    if doomed or whole.rstrip().endswith(_MARKER_ENDS):
        _strip_trailing_markers(root, cut=more_last)

    out = serialize(root)
    if may_have_empties(root, out):
        # Prune containers left empty (in reverse document order: innermost first).
        empties = empty_containers(root)
        for el in reversed(empties):
            drop_tree(el)
        if empties:
            out = serialize(root)
    return out[5:-6].strip()  # drop the <div> wrapper added by create_parent
