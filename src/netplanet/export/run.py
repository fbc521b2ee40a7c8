"""`export_site`: the whole public site written to a directory, incrementally; `ExportStep`:
the same, as `netplanet run --export` calls it after the planet changed.

The pages come from export/pages.py's list, rendered by the site's own handlers (render.py,
over an app made with `static=True`: dates without ages, no label toggles, the search page
driven by search.js), their links made relative (links.py), and written by files.py, which
writes only what changed and commits the export at once. The search index is written last
(search.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from netplanet.errors import UsageError
from netplanet.export import search
from netplanet.export.files import ExportDir
from netplanet.export.links import Links
from netplanet.export.pages import Page, Shape, file_of, key_of, more_path, plan
from netplanet.export.render import Renderer
from netplanet.publish.topics import TopicInfo
from netplanet.publish.weekly import Week
from netplanet.settings import Settings
from netplanet.store.admin import BASE_URL_KEY
from netplanet.store.base import CategoryInfo, PlanetStore
from netplanet.untrusted import http_url

log = logging.getLogger(__name__)


class ExportStopped(Exception):
    """Raised by `export_site` when its `stop` said so: nothing of this export was
    committed, the previous export is as it was."""


Progress = Callable[[int, int], None]
"""Called with (pages done, pages in all) as the export goes."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    written: list[str]
    """Files written (new or changed), relative to the export directory."""
    removed: list[str]
    """Files of pages that are gone, deleted."""
    files: int
    """Files in the export."""
    rendered: int
    """Pages rendered (the others were unchanged by their render key)."""
    seconds: float
    base_url: str
    missing: list[str] = field(default_factory=list)
    """Listed pages the site answered with something other than a page (logged)."""

    @property
    def unchanged(self) -> int:
        return self.files - len(self.written)

    def summary(self) -> str:
        return (
            f"wrote {len(self.written):,}, unchanged {self.unchanged:,}, removed "
            f"{len(self.removed):,} files in {self.seconds:.1f} s"
        )


def check_base_url(raw: str) -> str:
    """The export's base URL without its trailing slash; a one-line UsageError when it is not
    an absolute http(s) URL without a query or fragment."""
    url = http_url(raw)
    parts = urlsplit(url) if url else None
    if parts is None or parts.query or parts.fragment or url != raw.strip():
        raise UsageError(
            f"--base-url {raw!r} is not an absolute http(s) URL; give the address the export "
            "will be served from, e.g. https://planet.example.net/ or https://example.net/planet/"
        )
    return url.rstrip("/")


def base_url_for(store: PlanetStore, settings: Settings, out: Path, wanted: str = "") -> str:
    """--base-url, else `site_url`, else the base URL the site stored, else the directory's
    file:// URL (feeds then point at the files)."""
    if wanted:
        return check_base_url(wanted)
    known = settings.site_url or store.get_setting(BASE_URL_KEY) or ""
    return known.rstrip("/") if known else out.resolve().as_uri()


def export_site(
    store: PlanetStore,
    settings: Settings,
    out: Path,
    *,
    base_url: str = "",
    page_size: int = 30,
    topics: Sequence[TopicInfo] | None = None,
    clock: Callable[[], datetime] | None = None,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> ExportResult:
    """Export the public site into `out` (created if needed; an existing export is updated,
    writing only the files that changed). `base_url` is where it will be served from (see
    `base_url_for`). Raises UsageError for a directory that cannot be an export, and
    ExportStopped when `stop()` turns true before the export is committed."""
    from netplanet.web.app import create_app

    started = time.monotonic()
    base = base_url_for(store, settings, out, base_url)
    now_fn = clock or (lambda: datetime.now(UTC))
    with ExportDir(out) as folder:
        app = create_app(
            store, settings, static=True, page_size=page_size, topics=topics, clock=now_fn
        )
        site = app.state.site
        shape = Shape.of(store.catalog())
        categories, topic_list = site.categories(fresh=True), site.topics
        weeks = store.digest_weeks(before=Week.of(now_fn()).end, limit=1_000_000)
        extra = key_of(settings.digest_items_per_topic)
        pages = plan(
            shape,
            base_url=base,
            page_size=page_size,
            site_title=settings.site_title,
            categories=categories,
            topics=topic_list,
            assets=list(site.assets.url_of.values()),
            digest_weeks=weeks,
            extra=extra,
        )
        month_keys = search.month_keys(shape, key_of(base, extra))
        shards = {month: search.shard_file(*month) for month in month_keys}
        files = {file_of(p.path) for p in pages} | {search.INDEX, *shards.values()}
        chains: dict[str, str] = {}
        links = Links(base, files, chains)
        renderer = Renderer(app, base)
        missing: list[str] = []
        rendered = 0
        total = len(pages) + len(shards)
        for done, page in enumerate(pages, start=1):
            if stop is not None and stop():
                raise ExportStopped(f"the export to {out} was stopped; the previous one is kept")
            if folder.unchanged(page.path, page.key):
                folder.keep(page.path)
            else:
                rendered += 1
                if not _export_page(page, renderer, links, folder, files, chains):
                    missing.append(page.path)
            if progress is not None and (done % 50 == 0 or done == total):
                progress(done, total)
        _export_search(store, folder, month_keys, shards, topic_list, categories)
        if progress is not None:
            progress(total, total)
        folder.commit()
        written, removed = folder.written, folder.removed
        count = len(folder.files)
    for path in missing:
        log.warning("export: %s was listed but the site has no page there; left out", path)
    return ExportResult(
        written=written,
        removed=removed,
        files=count,
        rendered=rendered,
        seconds=time.monotonic() - started,
        base_url=base,
        missing=missing,
    )


def _export_page(
    page: Page,
    renderer: Renderer,
    links: Links,
    folder: ExportDir,
    files: set[str],
    chains: dict[str, str],
) -> bool:
    if page.chain:
        got = renderer.chain(page.path)
        names = [file_of(page.path)] + [
            file_of(more_path(page.path, n)) for n in range(1, len(got))
        ]
        for (target, _), name in zip(got[1:], names[1:], strict=True):
            chains[target] = name
            files.add(name)
    else:
        one = renderer.get(page.path)
        got = [(page.path, one.body)] if one.status == 200 else []
        names = [file_of(page.path)]
        if got and not one.media_type.startswith("text/html"):
            folder.put(names[0], one.body)
            folder.page(page.path, page.key, names)
            return True
    if not got:
        return False
    for (_, body), name in zip(got, names, strict=True):
        folder.put(name, links.html(name, body.decode()).encode())
    folder.page(page.path, page.key, names[: len(got)])
    return True


def _export_search(
    store: PlanetStore,
    folder: ExportDir,
    month_keys: dict[tuple[int, int], str],
    shards: dict[tuple[int, int], str],
    topics: Sequence[TopicInfo],
    categories: Sequence[CategoryInfo],
) -> None:
    for month, key in month_keys.items():
        name = f"search:{month[0]:04d}-{month[1]:02d}"
        if folder.unchanged(name, key):
            folder.keep(name)
            continue
        rows = store.search_rows(*search.month_bounds(*month))
        folder.put(shards[month], search.shard(rows))
        folder.page(name, key, [shards[month]])
    sources = [(s.id, s.slug, s.display_title) for s in store.list_sources()]
    folder.put(
        search.INDEX,
        search.index(list(shards.values()), sources, topics, categories),
    )
    folder.page("search:index", None, [search.INDEX])


class ExportStep:
    """`netplanet run --export DIR`: export again after the planet changed (the runtime calls
    it in a thread after polls stored something; see runtime/service.py). Failures are logged,
    never raised: the planet goes on polling and serving."""

    def __init__(
        self,
        store: PlanetStore,
        settings: Settings,
        out: Path,
        *,
        base_url: str = "",
        topics: Sequence[TopicInfo] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.out = out
        self.base_url = base_url
        self.topics = topics
        self.last: ExportResult | None = None

    def __call__(self, halted: Callable[[], bool] = lambda: False) -> None:
        try:
            result = export_site(
                self.store,
                self.settings,
                self.out,
                base_url=self.base_url,
                topics=self.topics,
                stop=halted,
            )
        except ExportStopped as exc:
            log.info("%s", exc)
            return
        except Exception as exc:
            log.error("export to %s failed: %s", self.out, exc)
            return
        self.last = result
        log.info("export to %s: %s", self.out, result.summary())
