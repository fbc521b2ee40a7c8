"""Podcast and video detection: is a post an episode to listen to or watch?

An episode says so by its feed's media (an audio or video enclosure, an `itunes:duration`),
by being a video page itself (a YouTube or Vimeo link), or in its own words where shows
write them: an episode number in the title ("Episode 123", "Ep. 45:", "#212 –"), or an
opening sentence such as "In this episode". A post *about* podcasts ("We launched podcast
analytics", "the podcast I listen to") is none of these: the word "podcast" alone never
counts, and cues deep in the text are not read.

Pure: strings and numbers in, a bool out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from netplanet.model import Enclosure

OPENING_CHARS = 400
"""How much of the text's start the spoken cues are looked for in."""

_MEDIA_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".mp4", ".m4v", ".webm")
_VIDEO_HOSTS = {"youtube.com", "m.youtube.com", "youtu.be", "vimeo.com", "player.vimeo.com"}

# "Episode 12", "Ep 12", "Ep. 12", "E12:", "#212 –" / "#212:" at the start of the title.
_TITLE_RE = re.compile(
    r"\b(?:episode|ep\.?)\s*#?\d{1,4}\b"
    r"|\A\s*(?:#\d{1,4}|e\d{1,4})\s*[:|–—-]",
    re.IGNORECASE,
)
# How shows open their notes; only at the start of the text.
_OPENING_RE = re.compile(
    r"\b(?:in|on)\s+(?:this|today['’]?s|this\s+week['’]?s)\s+(?:episode|show)\b"
    r"|\bwelcome\s+to\s+(?:episode|the\s+show)\b"
    r"|\bthis\s+week\s+on\s+the\s+(?:podcast|show)\b"
    r"|\A\s*(?:listen|watch)\s+(?:now|to\s+(?:the|this)\s+episode)\b",
    re.IGNORECASE,
)
# Every opening cue holds one of these words. Most texts hold none, and a substring test
# costs far less than the regex's scan. Characters the regex takes for i or s when ignoring
# case, and lower() would not turn into them, are mapped first, so the test never rejects a
# text the regex would match.
_OPENING_WORDS = ("episode", "show", "podcast", "listen", "watch")
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_FOLDED = ("\u0130", "\u0131", "\u017f", "\u212a")
_VIDEO_HINTS = ("youtu", "vimeo")


def media_enclosure(enclosure: Enclosure | None) -> bool:
    """An audio or video enclosure (by type, or by file name when the type says nothing)."""
    if enclosure is None:
        return False
    kind = enclosure.type.lower()
    if kind.startswith(("audio/", "video/")):
        return True
    if kind and kind not in ("application/octet-stream", "binary/octet-stream"):
        return False
    return urlsplit(enclosure.url).path.lower().endswith(_MEDIA_EXTENSIONS)


def video_link(url: str) -> bool:
    """The post's own link is a video page (YouTube watch/shorts, youtu.be, Vimeo)."""
    lowered = url.lower()
    if not any(hint in lowered for hint in _VIDEO_HINTS):
        return False  # most links: no URL to split
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").removeprefix("www.")
    if host not in _VIDEO_HOSTS:
        return False
    path = parts.path
    if host == "youtu.be" or host.endswith("vimeo.com"):
        return bool(path.strip("/"))
    return path.startswith(("/watch", "/shorts/", "/live/"))


def is_podcast(
    *,
    title: str,
    text: str = "",
    url: str = "",
    enclosure: Enclosure | None = None,
    duration_s: int | None = None,
) -> bool:
    """True for a podcast or video episode (see the module docstring for the evidence)."""
    if media_enclosure(enclosure) or (duration_s is not None and duration_s > 0):
        return True
    if video_link(url):
        return True
    if _TITLE_RE.search(title):
        return True
    opening = text[:OPENING_CHARS]
    # Mapping characters one by one costs more than everything else here: only a text
    # holding one of them needs it.
    unusual = any(char in opening for char in _FOLDED)
    folded = (opening.translate(_FOLD) if unusual else opening).lower()
    if not any(word in folded for word in _OPENING_WORDS):
        return False
    return bool(_OPENING_RE.search(opening))
