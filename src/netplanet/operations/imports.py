"""Importing many sources at once, and exporting them: the one path `netplanet sources
import`, `init`, `run` and the admin's OPML form share, and the one OPML export of
`netplanet sources export` and the admin's export link (`export_sources`).

An import is, in order:
1. the limits: at most `max_opml_bytes(settings)` bytes and `settings.opml_max_outlines`
   feed outlines per file; a file over either is refused whole, before anything is stored,
   with one line naming the limit and the setting;
2. reading (`sources.opml.read_opml`): outlines whose feed URL cannot be polled are skipped,
   each with a line saying where and why; titles and category names are bounded;
3. the SSRF guard's static checks (scheme, credentials, literal private addresses in any
   spelling, local names) on every URL: refused ones are skipped the same way. Host names are
   not resolved here (thousands of lookups); the fetcher's guarded resolver checks them at
   every connection;
4. at most `MAX_NEW_CATEGORIES` new categories: they become the navigation of every page, so
   the sources of any further folders are imported without a category (one line says so);
5. a bulk insert (`add_sources`: chunks of 500 per transaction, no per-source queries),
   reporting progress after each chunk.

Everything here is synchronous; the admin runs an import in a thread (web/admin/imports.py),
the CLI with a progress bar.

The export holds every stored source, enabled or not, without a date, so that exporting twice
gives the same file. The public /opml.xml (`publish.feeds.render_opml`) is another list on
purpose: the enabled sources only, under the site's title and dated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from netplanet.errors import BlockedAddressError, UsageError
from netplanet.model import SourceSpec
from netplanet.settings import Settings
from netplanet.sources.opml import OpmlRead, Skipped, TooManyOutlinesError, read_opml, to_opml
from netplanet.sources.slug import slugify

if TYPE_CHECKING:
    from netplanet.store.base import PlanetStore

__all__ = [
    "MAX_NEW_CATEGORIES",
    "Exported",
    "ImportReport",
    "Progress",
    "check_opml_size",
    "export_sources",
    "import_read",
    "import_specs",
    "max_opml_bytes",
    "read_opml_bytes",
    "read_opml_file",
]

MIN_OPML_BYTES_LIMIT = 5 * 1024 * 1024
BYTES_PER_OUTLINE = 512
"""Room per allowed outline in the byte limit: a feed reader's outline with a title, a feed
and a site URL is 150-250 bytes."""
MAX_NEW_CATEGORIES = 100
"""Categories one import may create. Each is a link in the navigation bar of every page."""
_MAX_REASON_CHARS = 300

Progress = Callable[[int, int], None]
"""Called with (sources handled so far, sources to handle) after each chunk."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    added: int
    present: int
    """Already stored, or repeated within the file."""
    skipped: tuple[Skipped, ...] = ()
    """Outlines not imported, with the reason for each."""
    notes: tuple[str, ...] = ()
    """Other things the operator should know (one line each)."""

    def summary(self) -> str:
        text = f"imported {self.added:,} sources ({self.present:,} already present"
        if self.skipped:
            text += f", {len(self.skipped):,} skipped"
        return text + ")"


def max_opml_bytes(settings: Settings) -> int:
    """The largest OPML file an import accepts: BYTES_PER_OUTLINE per allowed outline, at least
    5 MB."""
    return max(MIN_OPML_BYTES_LIMIT, BYTES_PER_OUTLINE * settings.opml_max_outlines)


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def check_opml_size(name: str, size: int, settings: Settings) -> None:
    """Raise a one-line UsageError when an OPML file of `size` bytes is over the limit."""
    limit = max_opml_bytes(settings)
    if size > limit:
        raise UsageError(
            f"{name} is {_mb(size)}, over the {_mb(limit)} an OPML import may be "
            f"({BYTES_PER_OUTLINE} bytes per outline allowed by opml_max_outlines, at least "
            f"{_mb(MIN_OPML_BYTES_LIMIT)}); nothing was imported, split the file"
        )


def read_opml_bytes(data: bytes, settings: Settings, *, name: str = "the file") -> OpmlRead:
    """Read an OPML document within the limits; raises a one-line NetplanetError otherwise."""
    check_opml_size(name, len(data), settings)
    try:
        return read_opml(data, max_outlines=settings.opml_max_outlines)
    except TooManyOutlinesError as exc:
        raise UsageError(
            f"{name}: {exc}; split the file or raise the setting opml_max_outlines "
            "(env NETPLANET_OPML_MAX_OUTLINES)"
        ) from None


def read_opml_file(path: Path, settings: Settings) -> OpmlRead:
    """`read_opml_bytes` of a file, refusing an oversized one before reading it."""
    try:
        check_opml_size(str(path), path.stat().st_size, settings)
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return read_opml_bytes(data, settings, name=str(path))


def import_read(
    store: PlanetStore, read: OpmlRead, settings: Settings, *, progress: Progress | None = None
) -> ImportReport:
    """Import what `read_opml_bytes`/`read_opml_file` read; its skipped outlines are reported
    with those the guard refuses."""
    report = import_specs(
        store,
        read.specs,
        allow_private=settings.allow_private_networks,
        lines=read.lines,
        progress=progress,
    )
    return replace(
        report,
        present=report.present + read.duplicates,
        skipped=(*read.skipped, *report.skipped),
    )


def import_specs(
    store: PlanetStore,
    specs: Sequence[SourceSpec],
    *,
    allow_private: bool,
    lines: Sequence[int | None] = (),
    progress: Progress | None = None,
) -> ImportReport:
    """Add the specs not stored yet, after the guard's static checks (steps 3-5 above).
    `lines` gives each spec's line in its file, for the skipped lines."""
    from netplanet.fetch.guard import check_url

    accepted: list[SourceSpec] = []
    skipped: list[Skipped] = []
    for i, spec in enumerate(specs):
        try:
            check_url(spec.feed_url, allow_private=allow_private)
        except BlockedAddressError as exc:
            line = lines[i] if i < len(lines) else None
            reason = str(exc)
            if len(reason) > _MAX_REASON_CHARS:
                reason = reason[:_MAX_REASON_CHARS] + "…"
            skipped.append(Skipped(line, _shown(spec.feed_url), reason))
            continue
        accepted.append(spec)
    accepted, notes = _cap_new_categories(store, accepted)
    total = len(accepted)
    added = store.add_sources(
        accepted, progress=(lambda done: progress(done, total)) if progress else None
    )
    return ImportReport(
        added=added, present=total - added, skipped=tuple(skipped), notes=tuple(notes)
    )


def _cap_new_categories(
    store: PlanetStore, specs: list[SourceSpec]
) -> tuple[list[SourceSpec], list[str]]:
    known = {c.slug for c in store.list_categories()}
    new: set[str] = set()
    dropped: set[str] = set()
    out: list[SourceSpec] = []
    uncategorized = 0
    slug_of: dict[str, str] = {"": ""}  # a file names few categories for many sources
    for spec in specs:
        slug = slug_of.get(spec.category)
        if slug is None:
            slug = slug_of[spec.category] = slugify(spec.category)
        if slug and slug not in known and slug not in new:
            if len(new) < MAX_NEW_CATEGORIES:
                new.add(slug)
            else:
                dropped.add(slug)
                spec = replace(spec, category="")
                uncategorized += 1
        out.append(spec)
    if not dropped:
        return out, []
    return out, [
        f"{uncategorized:,} sources were imported without a category: the file names "
        f"{len(new) + len(dropped):,} new categories and one import may create at most "
        f"{MAX_NEW_CATEGORIES} (each is a link on every page); the first "
        f"{MAX_NEW_CATEGORIES} in the file were kept"
    ]


@dataclass(frozen=True, slots=True)
class Exported:
    opml: bytes
    sources: int
    """How many sources `opml` holds (the CLI says it)."""


def export_sources(store: PlanetStore) -> Exported:
    """Every stored source as OPML 2.0, one folder per category (see sources.opml.to_opml)."""
    specs = [
        SourceSpec(feed_url=s.feed_url, title=s.title, site_url=s.site_url, category=s.category)
        for s in store.list_sources()
    ]
    return Exported(to_opml(specs), len(specs))


def _shown(url: str) -> str:
    return url if len(url) <= 120 else url[:120] + "…"
