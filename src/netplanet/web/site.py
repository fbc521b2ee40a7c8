"""What every web handler shares: the per-app `Site` and the `_site(request)` accessor.

`Site` owns the things pages have in common: the store (any `PlanetStore`, store/base.py; the
public pages use its `SiteStore` part, /healthz and the admin area the rest), templates,
versioned static assets (`Assets`), the category navigation (cached for a few seconds), HTTP
validators (ETag / Last-Modified, answered with 304) and a small cache of rendered pages keyed
by those validators, the PipelineFactory the admin's "poll now" polls with, and the planet's
topics (the taxonomy's slug, name and description, in display order: publish/topics.py).
`river_feeds` is the feed alternates a page advertises. Route modules import from here;
web/app.py builds the `Site` and puts it on the app's state.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from netplanet import __version__
from netplanet.errors import NetplanetError
from netplanet.model import StoredEntry
from netplanet.operations.topics import cached_taxonomy
from netplanet.publish.posts import (
    PostView,
    category_href,
    format_date,
    iso_date,
    post_view,
    safe_url,
)
from netplanet.publish.topics import DEFAULT_TOPICS, TopicInfo, topic_map
from netplanet.settings import Settings
from netplanet.store.base import CategoryInfo, PlanetStore
from netplanet.update.factory import PipelineFactory
from netplanet.web.edge import BASE_SCOPE_KEY
from netplanet.web.origin import Origin

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_CACHE_CONTROL = "public, max-age=60"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Pages show relative dates ("3 hours ago"), so their validators also change every few minutes.
TIME_BUCKET_S = 300
_ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".js": "text/javascript; charset=utf-8",
}

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Assets:
    """Static files held in memory and served under content-hashed names (site.<hash>.css)."""

    def __init__(self, folder: Path) -> None:
        self.by_name: dict[str, tuple[bytes, str, bool]] = {}
        self.url_of: dict[str, str] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix not in _ASSET_TYPES:
                continue
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            versioned = f"{path.stem}.{digest}{path.suffix}"
            kind = _ASSET_TYPES[path.suffix]
            self.by_name[versioned] = (body, kind, True)
            self.by_name[path.name] = (body, kind, False)  # old bookmarks; short cache
            self.url_of[path.name] = f"/static/{versioned}"

    def url(self, name: str) -> str:
        return self.url_of[name]

    def response(self, request: Request) -> Response:
        found = self.by_name.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        body, kind, immutable = found
        cache = ASSET_CACHE_CONTROL if immutable else "public, max-age=300"
        return Response(body, media_type=kind, headers={"Cache-Control": cache})


class Site:
    """What every page handler needs: store, settings, clock, templates and caches."""

    def __init__(
        self,
        store: PlanetStore,
        settings: Settings,
        *,
        pipelines: PipelineFactory | None = None,
        clock: Clock = _utcnow,
        page_size: int = 30,
        nav_ttl: float = 5.0,
        page_cache_size: int = 256,
        topics: Sequence[TopicInfo] | None = None,
        static: bool = False,
    ) -> None:
        self.store = store
        self.static = static
        """Rendering for the static export (export/): no relative ages, no label toggles, the
        "of F" left out of numbered pages' labels, a source's facts on its front page only,
        OPML dated by its newest source, the search page driven by search.js, and no page
        cache (each page is rendered once)."""
        self._fixed_topics = None if topics is None else tuple(topics)
        self._topics: tuple[float, tuple[TopicInfo, ...], dict[str, TopicInfo]] = (-1e9, (), {})
        self.settings = settings
        self.pipelines = pipelines
        """Builds the admin's "poll now" pipeline (Planet.pipeline); None: no polling here."""
        self.origin = Origin(store, settings)
        self.clock = clock
        self.page_size = page_size
        self.nav_ttl = nav_ttl
        self.assets = Assets(HERE / "static")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            auto_reload=False,  # templates ship with the package; skip the per-render stat()
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters.update(
            safe_url=safe_url, category_href=category_href, iso=iso_date, date=format_date
        )
        self.env.globals.update(
            site_title=settings.site_title,
            asset=self.assets.url,
            version=__version__,
            static_export=static,
        )
        self._nav: tuple[float, list[CategoryInfo]] = (-1e9, [])
        self._pages: OrderedDict[str, tuple[bytes, str, int]] = OrderedDict()
        self._page_cache_size = page_cache_size
        self._lock = threading.Lock()
        self._parts: OrderedDict[str, str] = OrderedDict()

    # ------------------------------------------------------------------ shared data

    def now(self) -> datetime:
        return self.clock()

    def categories(self, *, fresh: bool = False) -> list[CategoryInfo]:
        """The navigation's categories, re-read at most every `nav_ttl` seconds."""
        stamp, cats = self._nav
        if fresh or time.monotonic() - stamp > self.nav_ttl:
            cats = self.store.list_categories()
            self._nav = (time.monotonic(), cats)
        return cats

    def category(self, slug: str) -> CategoryInfo | None:
        for fresh in (False, True):  # a category created seconds ago is not a 404
            for cat in self.categories(fresh=fresh):
                if cat.slug == slug:
                    return cat
        return None

    def _topic_state(self) -> tuple[tuple[TopicInfo, ...], dict[str, TopicInfo]]:
        """The planet's topics (its taxonomy's, unless the app was given a list), re-read at
        most every `nav_ttl` seconds: a taxonomy saved in the admin area shows without a
        restart. One that cannot be read keeps the topics shown (logged; the default ones at
        first), since the pages can still be served."""
        stamp, topics, by_slug = self._topics
        if self._fixed_topics is not None:
            if not by_slug:
                topics = self._fixed_topics
                self._topics = (stamp, topics, topic_map(topics))
            return self._topics[1], self._topics[2]
        if time.monotonic() - stamp > self.nav_ttl:
            try:
                taxonomy = cached_taxonomy(self.settings, self.store)
                topics = tuple(TopicInfo(t.slug, t.name, t.description) for t in taxonomy.topics)
            except NetplanetError as exc:
                log.error("the taxonomy cannot be read (%s); showing the topics shown so far", exc)
                topics = topics or tuple(DEFAULT_TOPICS)
            by_slug = topic_map(topics)
            self._topics = (time.monotonic(), topics, by_slug)
        return topics, by_slug

    @property
    def topics(self) -> tuple[TopicInfo, ...]:
        """The planet's topics in display order (the taxonomy the classifier uses)."""
        return self._topic_state()[0]

    @property
    def topic_by_slug(self) -> dict[str, TopicInfo]:
        return self._topic_state()[1]

    def topic(self, slug: str) -> TopicInfo | None:
        return self.topic_by_slug.get(slug)

    def post_view(self, entry: StoredEntry, *, snippet_html: str = "") -> PostView:
        """A post as pages show it, with the chips of the topics this site knows. A static
        export shows no age ("3 hours ago" would be wrong tomorrow and would change every
        page at every export), only the date."""
        view = post_view(entry, self.now(), snippet_html=snippet_html, topics=self.topic_by_slug)
        if self.static and view.published_iso:
            return replace(view, relative="")
        return view

    def base_url(self, request: Request) -> str:
        """The absolute base of every link: fixed for all clients (see web/origin.py)."""
        base = request.scope.get(BASE_SCOPE_KEY)
        if isinstance(base, str):
            return base
        return self.origin.fixed or str(request.base_url).rstrip("/")

    def id_authority(self, request: Request) -> str:
        """The authority of output-feed ids (`tag:<authority>:...`), fixed once stored."""
        return self.origin.authority(self.base_url(request))

    # ------------------------------------------------------------------ rendering

    def render(self, request: Request, template: str, **ctx: Any) -> str:
        ctx.setdefault("page_title", "")
        ctx.setdefault("feeds", river_feeds())
        ctx.setdefault("current_category", "")
        ctx.setdefault("current_topic", "")
        ctx.setdefault("q", "")
        return self.env.get_template(template).render(
            request_path=request.url.path,
            canonical=self.base_url(request) + request.url.path,
            nav=self.categories(),
            topic_nav=self.topics,
            **ctx,
        )

    def html(self, request: Request, template: str, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(self.render(request, template, **ctx))

    def cached(self, request: Request, build: Callable[[], Response]) -> Response:
        """Answer with 304 when the client's copy is current; otherwise build (or reuse) the page.

        The validators come from one tiny query (store.site_version), the URL and the current
        five-minute bucket, so a conditional request costs no page queries at all. The base URL
        is part of the key: a page rendered for a loopback Host before the site's base was fixed
        is never served to anyone else. A static export (`static`) just builds the page.
        """
        if self.static:
            return build()
        now = self.now()
        version = self.store.site_version()
        bucket = int(now.timestamp()) // TIME_BUCKET_S
        url = request.url.path + ("?" + request.url.query if request.url.query else "")
        base = self.base_url(request)
        tag = hashlib.blake2b(
            f"{__version__}|{version.token}|{bucket}|{base}|{url}".encode(), digest_size=12
        ).hexdigest()
        etag = f'W/"{tag}"'
        modified = datetime.fromtimestamp(bucket * TIME_BUCKET_S, UTC)
        if version.changed_at is not None and version.changed_at > modified:
            modified = version.changed_at
        modified = min(modified, now)
        return self._answer(request, etag, modified, PAGE_CACHE_CONTROL, build)

    def _answer(
        self,
        request: Request,
        etag: str,
        modified: datetime,
        cache_control: str,
        build: Callable[[], Response],
    ) -> Response:
        """304 when the client's copy is current, else the page cache's body for `etag`, built
        once; a response other than 200 is passed on and never kept."""
        modified = modified.replace(microsecond=0)
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            "Cache-Control": cache_control,
        }
        if _not_modified(request, etag, modified):
            return Response(status_code=304, headers=headers)
        with self._lock:
            hit = self._pages.get(etag)
            if hit is not None:
                self._pages.move_to_end(etag)
        if hit is None:
            response = build()
            if response.status_code != 200:
                return response
            hit = (bytes(response.body), response.media_type or "text/html", 200)
            with self._lock:
                self._pages[etag] = hit
                while len(self._pages) > self._page_cache_size:
                    self._pages.popitem(last=False)
        body, media_type, status = hit
        return Response(body, status_code=status, media_type=media_type, headers=headers)

    def remember(self, key: str, build: Callable[[], str], *, kept: int = 64) -> str:
        """A rendered part fixed by `key` (a finished week's feed item), built once and kept
        (the newest `kept`): pages that change around unchanging parts rebuild only those."""
        with self._lock:
            found = self._parts.get(key)
            if found is not None:
                self._parts.move_to_end(key)
                return found
        made = build()
        with self._lock:
            self._parts[key] = made
            while len(self._parts) > kept:
                self._parts.popitem(last=False)
        return made

    def immutable(
        self,
        request: Request,
        key: str,
        build: Callable[[], bytes],
        *,
        modified: datetime,
        cache_control: str,
    ) -> Response:
        """A page fixed by `key` (a finished week's frozen digest) beside what every page
        shows: the software version, base URL, path and the site's navigation. Its ETag is a
        hash of those, so a conditional request costs no rendering, and the body is kept in
        the page cache, so the page is rendered once per key (a static export just builds it)."""
        if self.static:
            return Response(build(), media_type="text/html; charset=utf-8")
        nav = [(c.slug, c.name) for c in self.categories()] + [
            (t.slug, t.name) for t in self.topics
        ]
        tag = hashlib.blake2b(
            f"{__version__}|{key}|{self.base_url(request)}|{request.url.path}|{nav}".encode(),
            digest_size=12,
        ).hexdigest()
        etag = f'"{tag}"'
        return self._answer(
            request,
            etag,
            modified,
            cache_control,
            lambda: Response(build(), media_type="text/html; charset=utf-8"),
        )


def river_feeds(base: str = "", title: str = "") -> list[tuple[str, str, str]]:
    """The (type, title, href) alternates a page advertises in its head."""
    label = f" — {title}" if title else ""
    return [
        ("application/rss+xml", f"RSS{label}", f"{base}/feed.xml"),
        ("application/atom+xml", f"Atom{label}", f"{base}/atom.xml"),
        ("application/feed+json", f"JSON Feed{label}", f"{base}/feed.json"),
    ]


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:  # RFC 9110 13.1.2: If-None-Match wins over If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    ims = request.headers.get("if-modified-since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return modified <= since


def _site(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site
