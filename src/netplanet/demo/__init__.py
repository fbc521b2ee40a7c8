"""The offline demo: a bundled set of sample feeds, written for netplanet, about fictional blogs.

This module owns the catalogue (`DEMO_SOURCES`: which feed is served where, as which source) and
the templating that makes the feeds look fresh: the files in `feeds/` hold dates as offsets from
"now" (`{{rfc822:3d4h}}` is three days and four hours ago, `{{rfc3339:…}}` the same in RFC 3339),
and `{{self}}` / `{{base}}` stand for the loopback server's URLs. `render_documents(now, base)`
turns them into the bytes `server.py` serves.

The feeds deliberately cover the formats and quirks the pipeline must handle: WordPress RSS with
content:encoded, "Read more »" links and "appeared first on" footers; a Hugo Atom feed with
xml:base and relative links; a JSON Feed 1.1; a podcast with enclosures and itunes:duration; a
vendor blog with a sponsored post; and one source whose URL serves an HTML page that names its
real feed with <link rel=alternate> (a broken source, recorded as failing).

All sites use the reserved .example domain (RFC 2606): nothing here points at a real blog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib.resources import files
from typing import Final

from netplanet.model import SourceSpec

__all__ = [
    "DEMO_SOURCES",
    "DemoDocument",
    "DemoSource",
    "render_documents",
    "render_template",
]


@dataclass(frozen=True, slots=True)
class DemoSource:
    """One source of the demo planet and the document its feed URL serves."""

    title: str
    site_url: str
    category: str
    path: str
    """Path of the feed URL on the loopback server."""
    file: str
    """Template in demo/feeds/."""
    content_type: str
    broken: bool = False
    """True for the source that is meant to fail (its URL does not serve a feed)."""
    entries: int = 0
    """How many posts the feed holds (0 for the broken source)."""

    def spec(self, base_url: str) -> SourceSpec:
        return SourceSpec(
            feed_url=base_url + self.path,
            title=self.title,
            site_url=self.site_url,
            category=self.category,
        )


@dataclass(frozen=True, slots=True)
class DemoDocument:
    """A rendered document, ready to serve."""

    path: str
    body: bytes
    content_type: str


_RSS: Final = "application/rss+xml; charset=utf-8"
_ATOM: Final = "application/atom+xml; charset=utf-8"

DEMO_SOURCES: Final[tuple[DemoSource, ...]] = (
    DemoSource(
        "Route Reflections", "https://routereflections.example/", "Networking",
        "/route-reflections/feed/", "route-reflections.xml", _RSS, entries=9,
    ),
    DemoSource(
        "Fabric Notes", "https://fabricnotes.example/", "Networking",
        "/fabric-notes/index.xml", "fabric-notes.atom", _ATOM, entries=7,
    ),
    DemoSource(
        "Automation Bench", "https://automationbench.example/", "Network Automation",
        "/automation-bench/feed.json", "automation-bench.json", "application/feed+json",
        entries=7,
    ),
    DemoSource(
        "Underlay Radio", "https://underlayradio.example/", "Podcasts",
        "/underlay-radio/podcast.rss", "underlay-radio.xml", _RSS, entries=6,
    ),
    DemoSource(
        "Segment Routed", "https://segmentrouted.example/", "Networking",
        "/segment-routed/rss.xml", "segment-routed.xml", "text/xml", entries=6,
    ),
    DemoSource(
        "v6 Field Notes", "https://v6fieldnotes.example/", "Networking",
        "/v6-field-notes/feed.xml", "v6-field-notes.atom", _ATOM, entries=6,
    ),
    DemoSource(
        "Telemetry Lab", "https://telemetrylab.example/", "Network Automation",
        "/telemetry-lab/rss/", "telemetry-lab.xml", _RSS, entries=6,
    ),
    DemoSource(
        "Bastion Networks Blog", "https://www.bastionnetworks.example/blog", "Security",
        "/bastion-networks/blog.rss", "bastion-networks.xml", _RSS, entries=7,
    ),
    DemoSource(
        "Cloud Edge Journal", "https://cloudedge.example/", "Cloud",
        "/cloud-edge-journal/feed.xml", "cloud-edge-journal.xml", _RSS, entries=6,
    ),
    DemoSource(
        "Packet Loss Diaries", "https://packetlossdiaries.example/", "Networking",
        "/packet-loss-diaries/", "packet-loss-diaries.html", "text/html; charset=utf-8",
        broken=True,
    ),
)  # fmt: skip

# Served but not a source: the feed the broken source's HTML page points to.
EXTRA_DOCUMENTS: Final[tuple[tuple[str, str, str], ...]] = (
    ("/packet-loss-diaries/rss.xml", "packet-loss-diaries.xml", _RSS),
)

_PLACEHOLDER: Final = re.compile(
    r"\{\{(?:(?P<kind>rfc822|rfc3339):(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?"
    r"|(?P<name>self|base))\}\}"
)


def load_template(name: str) -> str:
    return files(__name__).joinpath("feeds", name).read_text(encoding="utf-8")


def render_template(text: str, *, now: datetime, base_url: str, self_url: str = "") -> str:
    """Replace the date offsets and URL placeholders of one template."""
    # Whole minutes: two renderings in the same minute give the same bytes (same ETag).
    now = now.astimezone(UTC).replace(second=0, microsecond=0)

    def sub(m: re.Match[str]) -> str:
        if m["name"] == "self":
            return self_url
        if m["name"] == "base":
            return base_url
        ago = timedelta(days=int(m["d"] or 0), hours=int(m["h"] or 0), minutes=int(m["m"] or 0))
        when = now - ago
        if m["kind"] == "rfc822":
            return format_datetime(when, usegmt=True)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    return _PLACEHOLDER.sub(sub, text)


def render_documents(now: datetime, base_url: str) -> dict[str, DemoDocument]:
    """Every document the demo feed server serves, by path, rendered for `now`."""
    items = [(s.path, s.file, s.content_type) for s in DEMO_SOURCES] + list(EXTRA_DOCUMENTS)
    out: dict[str, DemoDocument] = {}
    for path, file, content_type in items:
        text = render_template(
            load_template(file), now=now, base_url=base_url, self_url=base_url + path
        )
        out[path] = DemoDocument(path, text.encode("utf-8"), content_type)
    return out
