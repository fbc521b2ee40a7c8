"""The one list of what the static export writes, derived from the store's catalog.

Every exported URL is a `Page`: its served path (rendered by the site's own handler), a render
key, and whether it is the front of a `?before=` chain (its older pages are exported as
`<front>more/N/`). A page whose key is the one recorded in the previous export's manifest is
not rendered again: its files are kept. A key is a hash of everything the page shows: the
"chrome" every page shares (software version, base URL, page size, site title, navigation,
topics, assets) and the stamps (store/catalog.py) of the posts and sources on it, with their
story clusters. Pages that depend on the time or on many things at once (the river's and the
categories' and topics' fronts, digests, the river feeds, the sources directory, OPML, the
search page) have no key and are always rendered: a few hundred at most.

`file_of` maps a served path to its file: "/" → "index.html", "/page/3" →
"page/3/index.html", "/feed.xml" → "feed.xml".
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from netplanet import __version__
from netplanet.publish.topics import TopicInfo
from netplanet.publish.weekly import Week
from netplanet.store.base import Catalog, CatalogEntry, CategoryInfo

FEED_NAMES = ("feed.xml", "atom.xml", "feed.json")


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    """The served path ("/", "/page/3", "/topic/routing/feed.xml")."""
    key: str | None = None
    """Render key; None: always rendered."""
    chain: bool = False
    """A list front whose `?before=` pages are exported too, as `<front>more/N/`."""


def file_of(path: str) -> str:
    """The file of a served path: a path whose last part has a dot is a file of that name,
    any other a directory's index.html."""
    rel = path.lstrip("/")
    last = rel.rsplit("/", 1)[-1]
    if "." in last:
        return rel
    return (rel.rstrip("/") + "/index.html").lstrip("/")


def more_path(front: str, n: int) -> str:
    """The served-style path of a chain's n-th older page: "/topic/x/more/2/"."""
    return f"{front.rstrip('/')}/more/{n}/"


def key_of(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Shape:
    """What the catalog says about the planet, indexed for the page list."""

    catalog: Catalog
    full: dict[int, str]
    """A post's stamp with its source's and its story cluster's."""
    months: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, catalog: Catalog) -> Shape:
        source_stamp = {s.id: s.stamp for s in catalog.sources}
        clusters: dict[int, list[CatalogEntry]] = defaultdict(list)
        for e in catalog.entries:
            if e.cluster_id is not None:
                clusters[e.cluster_id].append(e)
        cluster_stamp = {
            cid: key_of([(m.id, m.stamp, source_stamp.get(m.source_id)) for m in members])
            for cid, members in clusters.items()
        }
        full = {
            e.id: key_of(
                e.stamp,
                source_stamp.get(e.source_id),
                cluster_stamp.get(e.cluster_id) if e.cluster_id is not None else "",
            )
            for e in catalog.entries
        }
        months = sorted(
            {(e.published.year, e.published.month) for e in catalog.entries if not e.collapsed}
        )
        return cls(catalog=catalog, full=full, months=tuple(months))


def _numbered(
    chrome: str, kind: str, front: str, members: Iterable[tuple[int, str]], page_size: int
) -> list[Page]:
    """The full numbered pages of one list, keyed by the stamps of the posts in their range.
    `members` are (position, full stamp)."""
    by_page: dict[int, list[tuple[int, str]]] = defaultdict(list)
    top = 0
    for position, stamp in members:
        top = max(top, position)
        by_page[(position - 1) // page_size + 1].append((position, stamp))
    full = top // page_size
    base = front.rstrip("/")
    return [
        Page(
            f"{base}/page/{n}",
            key_of(chrome, kind, front, n, n == full, sorted(by_page.get(n, []))),
        )
        for n in range(1, full + 1)
    ]


def plan(
    shape: Shape,
    *,
    base_url: str,
    page_size: int,
    site_title: str,
    categories: Sequence[CategoryInfo],
    topics: Sequence[TopicInfo],
    assets: Sequence[str],
    digest_weeks: Sequence[datetime],
    extra: str = "",
) -> list[Page]:
    """Every page the export writes, in the order it renders them. `assets` are the
    versioned asset paths ("/static/site.<hash>.css"); `digest_weeks` the Mondays of the
    weeks with posts; `extra` goes into every key (settings a page reads)."""
    cat = shape.catalog
    chrome = key_of(
        __version__,
        base_url,
        page_size,
        site_title,
        [(c.slug, c.name) for c in categories],
        [(t.slug, t.name, t.description) for t in topics],
        sorted(assets),
        extra,
    )
    full = shape.full
    pages: list[Page] = [Page(a, a) for a in assets]
    pages += [Page("/", chain=True), Page("/sources/"), Page("/about/"), Page("/search")]
    pages += [Page(f"/{name}") for name in FEED_NAMES] + [Page("/opml.xml")]
    pages += _numbered(
        chrome,
        "r",
        "/",
        ((e.seq, full[e.id]) for e in cat.entries if e.seq is not None),
        page_size,
    )
    # Categories and topics: fronts and feeds always rendered, numbered pages keyed.
    for kind, slugs in (("c", [c.slug for c in categories]), ("t", [t.slug for t in topics])):
        noun = "category" if kind == "c" else "topic"
        positions: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for e in cat.entries:
            for where, seq in e.places:
                if seq is not None and where[0] == kind:
                    positions[where[2:]].append((seq, full[e.id]))
        for slug in slugs:
            front = f"/{noun}/{slug}/"
            pages.append(Page(front, chain=True))
            pages += [Page(front + name) for name in FEED_NAMES]
            pages += _numbered(chrome, kind, front, positions.get(slug, []), page_size)
    # Sources: everything of a source is keyed by its posts.
    of_source: dict[int, list[CatalogEntry]] = defaultdict(list)
    for e in cat.entries:
        of_source[e.source_id].append(e)
    for source in cat.sources:
        mine = of_source.get(source.id, [])
        front = f"/source/{source.slug}/"
        key = key_of(chrome, "s", source.stamp, [full[e.id] for e in mine])
        pages.append(Page(front, key, chain=True))
        pages += [Page(front + name, key_of(key, name)) for name in FEED_NAMES]
        pages += _numbered(
            chrome,
            "s",
            front,
            ((e.source_seq, full[e.id]) for e in mine if e.source_seq is not None),
            page_size,
        )
    # Month archives: keyed by their posts and the list of months (their neighbour links).
    of_month: dict[tuple[int, int], list[str]] = defaultdict(list)
    for e in cat.entries:
        of_month[(e.published.year, e.published.month)].append(full[e.id])
    for year, month in shape.months:
        key = key_of(chrome, "m", year, month, shape.months, sorted(of_month[(year, month)]))
        pages.append(Page(f"/archive/{year:04d}/{month:02d}/", key, chain=True))
    # Digests: few, and what they show depends on the week and the clock.
    pages.append(Page("/digest/", chain=True))
    pages += [Page(f"/digest/{name}") for name in FEED_NAMES]
    pages += [Page(Week.of(monday).href) for monday in digest_weeks]
    pages += [Page(f"/post/{e.id}/", key_of(chrome, "p", full[e.id])) for e in cat.entries]
    return pages
