"""The public pages: river, numbered pages, categories, topics, sources, month archives, search,
posts.

Handlers are synchronous (Starlette runs them in its thread pool, as the store is blocking),
read the store through the SiteStore protocol and render view-models from netplanet.publish.
Every page goes through `Site.cached`, which answers conditional requests with 304. Every list
takes the label filters `?podcasts=0` and `?sponsored=0` and keeps them on its links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from netplanet.model import StoredEntry
from netplanet.publish.pages import Pager, month_bounds
from netplanet.publish.posts import PostView
from netplanet.publish.status import EmptySite, empty_site
from netplanet.publish.stories import story_coverage
from netplanet.publish.topics import LABEL_PARAMS, label_query
from netplanet.store.base import Labels, Scope
from netplanet.store.fts_query import parse_query
from netplanet.web import listing
from netplanet.web.ids import parse_id
from netplanet.web.site import Site, _site, river_feeds

log = logging.getLogger(__name__)

SEARCH_MAX_PAGE = 50
SEARCH_MAX_QUERY = 256
SEARCH_SOURCE_CHOICES = 100
SEARCH_COUNT_CAP = 1000
"""Search pages count matches up to this many, then say "More than 1,000 results"."""


def _views(site: Site, entries: list[StoredEntry]) -> list[PostView]:
    return _with_coverage(site, entries, [site.post_view(e) for e in entries])


def _with_coverage(site: Site, entries: list[StoredEntry], views: list[PostView]) -> list[PostView]:
    """Views of posts in a story cluster get their "also on" / "also covered by" lines (one
    query for the page, none when no post on it is in a cluster)."""
    clustered = [e.id for e in entries if e.cluster_id is not None]
    if not clustered:
        return views
    found = site.store.coverage(clustered)
    return [
        replace(view, coverage=story_coverage(found[view.id])) if view.id in found else view
        for view in views
    ]


def _labels(request: Request) -> tuple[Labels, dict[str, str]]:
    """The reader's label filters, and the query that carries them on the list's links."""
    keep = label_query(request.query_params)
    return Labels(podcasts="podcasts" not in keep, sponsored="sponsored" not in keep), keep


_LABEL_TEXT = {"podcasts": "podcasts and videos", "sponsored": "sponsored posts"}


@dataclass(frozen=True, slots=True)
class LabelToggle:
    """One label filter as a page offers it: hidden now or not, and the same page with the
    filter flipped (a search goes back to its first page)."""

    name: str
    what: str
    href: str
    hidden: bool


def _label_toggles(request: Request) -> list[LabelToggle]:
    if _site(request).static:
        return []  # a static export has no filtered copies of its lists
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    out = []
    for name in LABEL_PARAMS:
        hidden = request.query_params.get(name) == "0"
        rest = [(k, v) for k, v in params if k != name]
        query = urlencode(rest if hidden else [*rest, (name, "0")])
        href = request.url.path + (f"?{query}" if query else "")
        out.append(LabelToggle(name, _LABEL_TEXT[name], href, hidden))
    return out


def _list_page(
    site: Site,
    request: Request,
    result: listing.Listing,
    *,
    heading: str,
    page_title: str = "",
    keep: dict[str, str] | None = None,
    **ctx: object,
) -> Response:
    result = listing.carry(result, keep or {})
    if site.static and result.page is not None:
        # "Page 4 of 3333" would change every sealed page whenever a page fills up.
        result = replace(result, pager=replace(result.pager, label=f"Page {result.page}"))
    if result.redirect is not None:
        return RedirectResponse(result.redirect, status_code=result.redirect_status)
    if result.page is not None:
        # Numbered pages say which stretch of time they hold, in the title too: "Page 4"
        # alone means nothing in a tab, a bookmark or a search result.
        what = f"{page_title}, page {result.page}" if page_title else f"Page {result.page}"
        page_title = f"{what}: {result.span.text}" if result.span else what
    return site.html(
        request,
        "list.html",
        heading=heading,
        page_title=page_title,
        posts=_views(site, result.entries),
        pager=result.pager,
        span=result.span,
        label_toggles=_label_toggles(request),
        **ctx,
    )


def _month_name(when: datetime) -> str:
    return f"{when:%B %Y}"


# --------------------------------------------------------------------------- the river


def home(request: Request) -> Response:
    site = _site(request)

    def build() -> Response:
        before = listing.parse_before(request.query_params.get("before"))
        labels, keep = _labels(request)
        result = listing.head(
            site.store, site.page_size, category=None, front="/", before=before, labels=labels
        )
        extra: dict[str, object] = {}
        if not result.entries and before is None and not keep:
            extra["empty_site"] = _empty_site(site)
        return _list_page(
            site,
            request,
            result,
            heading="Latest posts" if before is None else "Recent posts",
            page_title="" if before is None else "Recent posts",
            visually_hidden_heading=before is None,
            keep=keep,
            **extra,
        )

    return site.cached(request, build)


def _empty_site(site: Site) -> EmptySite:
    """Why the river is empty: two small aggregate queries, only while it is."""
    counts = site.store.health_counts()
    kinds = site.store.failure_kinds(1) if counts.failing else []
    return empty_site(
        sources=counts.sources,
        enabled=counts.enabled,
        polled=counts.polled,
        failing=counts.failing,
        kinds=kinds,
    )


def river_page(request: Request) -> Response:
    site = _site(request)
    page: int = request.path_params["page"]

    def build() -> Response:
        labels, keep = _labels(request)
        result = listing.numbered(site.store, site.page_size, page, front="/", labels=labels)
        return _list_page(site, request, result, heading=f"All posts, page {page}", keep=keep)

    return site.cached(request, build)


# --------------------------------------------------------------------------- categories


def _archive(
    site: Site,
    request: Request,
    page: int | None,
    *,
    front: str,
    of_category: str | None = None,
    of_topic: str | None = None,
    **shown: Any,
) -> Response:
    """A category's or a topic's list: its head, paged by `?before=` cursors, or its
    numbered page `page`; the label filters of the request applied and kept in its links."""
    labels, keep = _labels(request)
    if page is None:
        before = listing.parse_before(request.query_params.get("before"))
        result = listing.head(
            site.store,
            site.page_size,
            category=of_category,
            topic=of_topic,
            front=front,
            before=before,
            labels=labels,
        )
    else:
        result = listing.numbered(
            site.store,
            site.page_size,
            page,
            category=of_category,
            topic=of_topic,
            front=front,
            labels=labels,
        )
    return _list_page(site, request, result, keep=keep, **shown)


def _category_page(request: Request, page: int | None) -> Response:
    site = _site(request)
    slug: str = request.path_params["slug"]

    def build() -> Response:
        cat = site.category(slug)
        if cat is None:
            raise HTTPException(404)
        suffix = f", page {page}" if page else ""
        return _archive(
            site,
            request,
            page,
            front=f"/category/{cat.slug}/",
            of_category=cat.slug,
            heading=f"Category archives for “{cat.name}”{suffix}",
            page_title=cat.name,
            current_category=cat.slug,
            feeds=river_feeds(f"/category/{cat.slug}", cat.name),
        )

    return site.cached(request, build)


def category_front(request: Request) -> Response:
    return _category_page(request, None)


def category_page(request: Request) -> Response:
    return _category_page(request, request.path_params["page"])


# --------------------------------------------------------------------------- topics


def _topic_page(request: Request, page: int | None) -> Response:
    site = _site(request)
    slug: str = request.path_params["slug"]

    def build() -> Response:
        topic = site.topic(slug)
        if topic is None:
            raise HTTPException(404)
        suffix = f", page {page}" if page else ""
        return _archive(
            site,
            request,
            page,
            front=f"/topic/{topic.slug}/",
            of_topic=topic.slug,
            heading=f"{topic.name}{suffix}",
            page_title=topic.name,
            topic=topic,
            current_topic=topic.slug,
            feeds=river_feeds(f"/topic/{topic.slug}", topic.name),
        )

    return site.cached(request, build)


def topic_front(request: Request) -> Response:
    return _topic_page(request, None)


def topic_page(request: Request) -> Response:
    return _topic_page(request, request.path_params["page"])


# --------------------------------------------------------------------------- sources


def _source_page(request: Request, page: int | None) -> Response:
    site = _site(request)
    slug: str = request.path_params["slug"]

    def build() -> Response:
        summary = site.store.source_summary(slug)
        if summary is None:
            moved = site.store.get_source_by_old_slug(slug[:200])
            if moved is None:
                raise HTTPException(404)
            # Named by its host until the first poll gave it the feed's title.
            location = f"/source/{moved.slug}/"
            if request.url.query:
                location += f"?{request.url.query}"
            return RedirectResponse(
                location, 301, headers={"Cache-Control": "public, max-age=3600"}
            )
        source = summary.source
        front = f"/source/{source.slug}/"
        labels, keep = _labels(request)
        if page is None:
            before = listing.parse_before(request.query_params.get("before"))
            result = listing.head(
                site.store,
                site.page_size,
                source_id=source.id,
                front=front,
                before=before,
                labels=labels,
            )
        else:
            result = listing.numbered(
                site.store, site.page_size, page, source_id=source.id, front=front, labels=labels
            )
        return _list_page(
            site,
            request,
            result,
            heading=f"{source.display_title}, page {page}" if page else source.display_title,
            page_title=source.display_title,
            feeds=river_feeds(f"/source/{source.slug}", source.display_title),
            keep=keep,
            # The source's facts (its post count) change with every post: a static export
            # shows them on the front page only, so its sealed numbered pages never change.
            **({} if site.static and page else {"source": summary}),
        )

    return site.cached(request, build)


def source_front(request: Request) -> Response:
    return _source_page(request, None)


def source_numbered(request: Request) -> Response:
    return _source_page(request, request.path_params["page"])


def sources_directory(request: Request) -> Response:
    site = _site(request)

    def build() -> Response:
        summaries = [
            s for s in site.store.list_source_summaries() if s.source.enabled or s.post_count
        ]
        return site.html(request, "sources.html", page_title="Sources", summaries=summaries)

    return site.cached(request, build)


# --------------------------------------------------------------------------- archives


def month_archive(request: Request) -> Response:
    site = _site(request)
    year: int = request.path_params["year"]
    month: int = request.path_params["month"]

    def build() -> Response:
        bounds = month_bounds(year, month)
        if bounds is None:
            raise HTTPException(404)
        since, until = bounds
        front = f"/archive/{year:04d}/{month:02d}/"
        before = listing.parse_before(request.query_params.get("before"))
        labels, keep = _labels(request)
        result = listing.keyset(
            site.store,
            site.page_size,
            Scope(since=since, until=until, labels=labels),
            front=front,
            before=before,
        )
        if not result.entries:
            raise HTTPException(404)
        prev_at, next_at = site.store.month_neighbours(since, until)
        month_links = {
            "newer": (f"/archive/{next_at:%Y/%m}/", _month_name(next_at)) if next_at else None,
            "older": (f"/archive/{prev_at:%Y/%m}/", _month_name(prev_at)) if prev_at else None,
        }
        return _list_page(
            site,
            request,
            result,
            heading=f"Posts from {_month_name(since)}",
            page_title=_month_name(since),
            months=month_links,
            keep=keep,
        )

    return site.cached(request, build)


# --------------------------------------------------------------------------- search


def _shown(value: str) -> str:
    """A reader's unknown filter value, bounded for the notice that names it."""
    return value if len(value) <= 60 else value[:60] + "…"


def search(request: Request) -> Response:
    site = _site(request)
    params = request.query_params

    def build() -> Response:
        q = " ".join(params.get("q", "").split())[:SEARCH_MAX_QUERY]
        page = min(parse_id(params.get("page")) or 1, SEARCH_MAX_PAGE)
        notices: list[str] = []
        wanted_category = params.get("category", "")
        cat = site.category(wanted_category) if wanted_category else None
        if wanted_category and cat is None:
            notices.append(
                f"There is no category “{_shown(wanted_category)}”, so every category was searched."
            )
        wanted_topic = params.get("topic", "")
        topic = site.topic(wanted_topic) if wanted_topic else None
        if wanted_topic and topic is None:
            notices.append(
                f"There is no topic “{_shown(wanted_topic)}”, so every topic was searched."
            )
        labels, keep = _labels(request)
        # The filter lists a bounded number of sources (with 50,000 sources, listing them
        # all made every search a 2 MB page); any source can still be chosen by ?source=.
        sources = site.store.recent_sources(SEARCH_SOURCE_CHOICES)
        slug = params.get("source", "")
        src = next((s for s in sources if s.slug == slug), None)
        if src is None and slug:
            src = site.store.get_source_by_slug(slug[:200])
            if src is not None:
                sources = sorted([*sources, src], key=lambda s: s.display_title.lower())
            else:
                notices.append(
                    f"There is no source “{_shown(slug)}”, so every source was searched."
                )
        parsed = parse_query(q)
        ctx: dict[str, object] = {
            "q": q,
            "page_title": f"Search: {q}" if q else "Search",
            "sources": sources,
            "sources_capped": len(sources) >= SEARCH_SOURCE_CHOICES,
            "selected_category": cat.slug if cat else "",
            "selected_topic": topic.slug if topic else "",
            "label_toggles": _label_toggles(request),
            "selected_source": src.slug if src else "",
            # Named in the folded filters' summary, so a reader sees what narrows the results.
            "filter_label": ", ".join(
                [
                    *([f"topic {topic.name}"] if topic else []),
                    *([f"category {cat.name}"] if cat else []),
                    *([src.display_title] if src else []),
                    *(f"no {_LABEL_TEXT[name]}" for name in keep),
                ]
            ),
            "notices": notices,
            "no_words": bool(q) and parsed.empty,
            "only_exclusions": parsed.only_exclusions,
            "count": "",
            "hits": [],
            "pager": Pager(),
        }
        if not q or parsed.empty:
            return site.html(request, "search.html", searched=False, **ctx)
        size = site.page_size
        category, source_id = (cat.slug if cat else None), (src.id if src else None)
        topic_slug = topic.slug if topic else None
        try:
            hits = site.store.search(
                q,
                limit=size + 1,
                offset=(page - 1) * size,
                category=category,
                source_id=source_id,
                topic=topic_slug,
                labels=labels,
            )
            if len(hits) > size:  # more pages: count (the last page knows its count)
                found = site.store.count_matches(
                    q,
                    cap=SEARCH_COUNT_CAP,
                    category=category,
                    source_id=source_id,
                    topic=topic_slug,
                    labels=labels,
                )
            else:
                found = (page - 1) * size + len(hits) if hits else 0
        except Exception:  # reader input must never become a 500; log it for the operator
            log.exception("search for %r failed", q)
            hits, found = [], 0
        ctx["count"] = _count_line(found, parsed.only_exclusions)
        ctx["hits"] = _with_coverage(
            site,
            [h.entry for h in hits[:size]],
            [site.post_view(h.entry, snippet_html=h.snippet_html) for h in hits[:size]],
        )
        query = {"q": q}
        if topic:
            query["topic"] = topic.slug
        if cat:
            query["category"] = cat.slug
        if src:
            query["source"] = src.slug
        query |= keep

        def link(n: int) -> str:
            return "/search?" + urlencode({**query, **({"page": str(n)} if n > 1 else {})})

        more = len(hits) > size and page < SEARCH_MAX_PAGE
        ctx["pager"] = Pager(
            newer=link(page - 1) if page > 1 else None,
            older=link(page + 1) if more else None,
            label=f"Results page {page}" if page > 1 or more else "",
        )
        return site.html(request, "search.html", searched=True, **ctx)

    return site.cached(request, build)


def _count_line(found: int, only_exclusions: bool) -> str:
    """ "15 results", "More than 1,000 results"; counts stop at SEARCH_COUNT_CAP because an
    exact count of a common word reads every match (see docs/benchmarks.md)."""
    if not found:
        return ""
    amount = f"More than {SEARCH_COUNT_CAP:,}" if found > SEARCH_COUNT_CAP else f"{found:,}"
    if only_exclusions:
        noun = "post" if found == 1 else "posts"
        return f"{amount} {noun} without these words, newest first"
    return f"{amount} {'result' if found == 1 else 'results'}"


# --------------------------------------------------------------------------- single pages


def post_page(request: Request) -> Response:
    site = _site(request)
    entry_id: int = request.path_params["id"]

    def build() -> Response:
        entry = site.store.get_entry(entry_id)
        if entry is None:
            raise HTTPException(404)
        [post] = _with_coverage(site, [entry], [site.post_view(entry)])
        return site.html(request, "post.html", page_title=post.title, post=post)

    return site.cached(request, build)


def about(request: Request) -> Response:
    site = _site(request)
    return site.cached(request, lambda: site.html(request, "about.html", page_title="About"))


def routes() -> list[Route]:
    return [
        Route("/", home, name="home"),
        # {id}: positive 64-bit numbers only, {num}: short date parts (see web/ids.py).
        Route("/page/{page:id}", river_page, name="page"),
        Route("/category/{slug}/", category_front, name="category"),
        Route("/category/{slug}/page/{page:id}", category_page, name="category_page"),
        Route("/topic/{slug}/", topic_front, name="topic"),
        Route("/topic/{slug}/page/{page:id}", topic_page, name="topic_page"),
        Route("/source/{slug}/", source_front, name="source"),
        Route("/source/{slug}/page/{page:id}", source_numbered, name="source_page"),
        Route("/sources/", sources_directory, name="sources"),
        Route("/archive/{year:num}/{month:num}/", month_archive, name="archive"),
        Route("/search", search, name="search"),
        Route("/post/{id:id}/", post_page, name="post"),
        Route("/about/", about, name="about"),
    ]
