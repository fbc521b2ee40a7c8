"""Routes for the planet's output feeds (RSS, Atom, JSON Feed) and the OPML source list.

The documents themselves come from netplanet.publish.feeds; this module only picks the entries
(newest first, by published date) and the channel, and serves them with the same validators as
the pages. The river, each category, topic and source has its feeds (`…/feed.xml`,
`…/atom.xml`, `…/feed.json`); `?podcasts=0` and `?sponsored=0` leave labelled posts out, as on
the pages. When publish.feeds is not importable the routes answer 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from netplanet.model import StoredEntry
from netplanet.publish.topics import label_query
from netplanet.store.base import Labels
from netplanet.web.site import _site

FEED_SIZE = 50

try:
    from netplanet.publish import feeds as _feeds
except ImportError:  # pragma: no cover - only while the feeds module does not exist
    _feeds = None  # type: ignore[assignment]

# path suffix -> (renderer name, media type)
_FORMATS = {
    "feed.xml": ("render_rss", "application/rss+xml; charset=utf-8"),
    "atom.xml": ("render_atom", "application/atom+xml; charset=utf-8"),
    "feed.json": ("render_json_feed", "application/feed+json; charset=utf-8"),
}


def _fmt(request: Request) -> str:
    return request.url.path.rsplit("/", 1)[1]


def _labels(request: Request) -> Labels:
    keep = label_query(request.query_params)
    return Labels(podcasts="podcasts" not in keep, sponsored="sponsored" not in keep)


def feed_response(
    request: Request,
    fmt: str,
    channel_for: Callable[[str], tuple[str, str, str, Sequence[StoredEntry]]],
) -> Response:
    """Serve format `fmt` of the feed that `channel_for(base_url)` describes as
    (title, page path, description, entries)."""
    site = _site(request)
    if _feeds is None:
        raise HTTPException(404)
    renderer_name, media_type = _FORMATS[fmt]

    def build() -> Response:
        base = site.base_url(request)
        title, page_path, description, entries = channel_for(base)
        channel = _feeds.FeedChannel(
            title=title,
            site_url=base + page_path,
            feed_url=base + request.url.path,
            description=description,
            updated=max((e.updated or e.published for e in entries), default=None),
            id_authority=site.id_authority(request),
            topic_names={t.slug: t.name for t in site.topics},
        )
        render: Any = getattr(_feeds, renderer_name)
        return Response(render(channel, entries), media_type=media_type)

    return site.cached(request, build)


def _list_feed(
    request: Request,
    *,
    title: str,
    path: str,
    about: str,
    category: str | None = None,
    topic: str | None = None,
) -> Response:
    """The feed of the river, or of one category or topic: a story shown once (collapsed posts
    left out, as the pages leave them out), the request's label filters applied."""
    site = _site(request)

    def channel(base: str) -> tuple[str, str, str, Sequence[StoredEntry]]:
        entries = site.store.list_entries(
            category=category,
            topic=topic,
            collapsed=False,
            labels=_labels(request),
            limit=FEED_SIZE,
        )
        return title, path, about, entries

    return feed_response(request, _fmt(request), channel)


def river_feed(request: Request) -> Response:
    title = _site(request).settings.site_title
    return _list_feed(request, title=title, path="/", about=f"The latest posts gathered by {title}")


def category_feed(request: Request) -> Response:
    site = _site(request)
    cat = site.category(request.path_params["slug"])
    if cat is None:
        raise HTTPException(404)
    return _list_feed(
        request,
        title=f"{site.settings.site_title} — {cat.name}",
        path=f"/category/{cat.slug}/",
        about=f"Posts in {cat.name}",
        category=cat.slug,
    )


def topic_feed(request: Request) -> Response:
    site = _site(request)
    topic = site.topic(request.path_params["slug"])
    if topic is None:
        raise HTTPException(404)
    return _list_feed(
        request,
        title=f"{site.settings.site_title} — {topic.name}",
        path=f"/topic/{topic.slug}/",
        about=topic.description or f"Posts about {topic.name}",
        topic=topic.slug,
    )


def source_feed(request: Request) -> Response:
    site = _site(request)
    source = site.store.get_source_by_slug(request.path_params["slug"])
    if source is None:
        raise HTTPException(404)

    def channel(base: str) -> tuple[str, str, str, Sequence[StoredEntry]]:
        entries = site.store.list_entries(
            source_id=source.id, labels=_labels(request), limit=FEED_SIZE
        )
        title = f"{site.settings.site_title} — {source.display_title}"
        return title, f"/source/{source.slug}/", f"Posts from {source.display_title}", entries

    return feed_response(request, _fmt(request), channel)


def opml(request: Request) -> Response:
    site = _site(request)
    if _feeds is None:
        raise HTTPException(404)

    def build() -> Response:
        listed = site.store.list_sources()
        # A static export's copy changes only when a source is added, not at every export.
        stamps = [s.created_at for s in listed if s.created_at is not None]
        now = max(stamps, default=None) if site.static else None
        body = _feeds.render_opml(listed, title=site.settings.site_title, now=now or site.now())
        return Response(body, media_type="text/x-opml; charset=utf-8")

    return site.cached(request, build)


def routes() -> list[Route]:
    out = []
    for name in _FORMATS:
        out += [
            Route(f"/{name}", river_feed),
            Route(f"/category/{{slug}}/{name}", category_feed),
            Route(f"/topic/{{slug}}/{name}", topic_feed),
            Route(f"/source/{{slug}}/{name}", source_feed),
        ]
    out.append(Route("/opml.xml", opml))
    return out
