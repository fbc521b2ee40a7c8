"""The weekly digest on the site: `/digest/` (the weeks that have posts, newest first),
`/digest/<year>-w<week>/` (one week's roundup, publish/weekly.py) and its feeds
(`/digest/feed.xml`, `/digest/atom.xml`, `/digest/feed.json`: one item per finished week).

A finished week's page is built from its frozen list (operations/weekly.py), so it only
changes with the software or the site's navigation: it is served with a long, immutable
Cache-Control and an ETag of those (`Site.immutable`), rendered once and kept in the page
cache. The week in progress goes through `Site.cached` like
every other page (a minute's cache) and says it is in progress. A bad or future week is a 404
page that says why; `2026-W48` redirects to the lowercase URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from netplanet.errors import NotFoundError, UsageError
from netplanet.model import StoredEntry
from netplanet.operations.weekly import WeekRead, read_week
from netplanet.publish.weekly import (
    Digest,
    Week,
    build_digest,
    render_html,
    title_of,
)
from netplanet.publish.weeks import last_finished
from netplanet.web.outputs import feed_response
from netplanet.web.site import Site, _site

FINAL_CACHE_CONTROL = "public, max-age=2592000, immutable"
"""A finished week's page: 30 days, never revalidated while fresh (its list cannot change)."""
INDEX_WEEKS = 52
"""Weeks the index lists per page (a year); older ones follow an "Older digests" link."""
FEED_WEEKS = 10
"""Finished weeks in the digest feeds."""


def digest_feeds(title: str = "") -> list[tuple[str, str, str]]:
    label = f" — {title}" if title else ""
    return [
        ("application/rss+xml", f"Weekly digest (RSS){label}", "/digest/feed.xml"),
        ("application/atom+xml", f"Weekly digest (Atom){label}", "/digest/atom.xml"),
        ("application/feed+json", f"Weekly digest (JSON Feed){label}", "/digest/feed.json"),
    ]


def _missing(request: Request, message: str) -> Response:
    site = _site(request)
    body = site.render(
        request, "error.html", page_title="No such digest", status=404, message=message
    )
    return HTMLResponse(body, status_code=404, headers={"Cache-Control": "no-cache"})


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _digest(site: Site, read: WeekRead, *, base: str = "") -> Digest:
    return build_digest(
        read.data,
        read.week,
        site.topics,
        final=read.final,
        cap=site.settings.digest_items_per_topic,
        base=base,
    )


def _neighbours(week: Week, now: datetime) -> tuple[Week, Week | None]:
    """The week before (always: whether it has posts can change when a new source brings a
    backlog, and a finished week's page must not change; before the planet's first posts its
    page says so) and the week after, once it has started."""
    after = week.next()
    return week.previous(), after if after.start <= now else None


def _page(site: Site, request: Request, read: WeekRead) -> str:
    digest = _digest(site, read)
    older, newer = _neighbours(read.week, site.now())
    return site.render(
        request,
        "digest.html",
        page_title=f"Weekly digest {read.week.label}",
        digest=digest,
        older=older,
        newer=newer,
        feeds=digest_feeds(),
    )


def week_page(request: Request) -> Response:
    site = _site(request)
    raw: str = request.path_params["week"]
    try:
        week = Week.parse(raw)
    except UsageError as exc:
        return _missing(
            request,
            _sentence(str(exc)) + " A week's digest is at /digest/<year>-w<week>/, for example "
            "/digest/2026-w48/.",
        )
    if raw != week.slug:
        return RedirectResponse(week.href, 301, headers={"Cache-Control": "public, max-age=86400"})
    now = site.now()
    if week.start > now:
        return _missing(
            request,
            f"The digest of {week.label} does not exist yet: that week starts on "
            f"{week.start:%A %-d %B %Y}.",
        )
    if not week.finished(now):  # in progress: live, cached for a minute like other pages
        return site.cached(
            request,
            lambda: HTMLResponse(_page(site, request, read_week(site.store, week, now))),
        )
    stamp = site.store.frozen_at(week.label)
    if stamp is None:  # not frozen yet: freeze it now (or say why there is none)
        try:
            stamp = read_week(site.store, week, now).data.frozen_at
        except NotFoundError as exc:
            return _missing(request, _sentence(str(exc)))
    assert stamp is not None

    def build() -> bytes:
        return _page(site, request, read_week(site.store, week, now)).encode()

    return site.immutable(
        request,
        # The frozen list's stamp, and the one setting the page reads (the cap).
        f"{week.label}|{stamp.isoformat()}|{site.settings.digest_items_per_topic}",
        build,
        modified=stamp,
        cache_control=FINAL_CACHE_CONTROL,
    )


def index(request: Request) -> Response:
    site = _site(request)

    def build() -> Response:
        now = site.now()
        current = Week.of(now)
        raw = request.query_params.get("before")
        before = current.end
        if raw is not None:
            try:
                before = min(Week.parse(raw).start, before)
            except UsageError:
                return _missing(
                    request,
                    f"“{raw[:40]}” is not a week; older digests are "
                    "listed from /digest/?before=2026-w48.",
                )
        starts = site.store.digest_weeks(before=before, limit=INDEX_WEEKS + 1)
        weeks = [Week.of(s) for s in starts[:INDEX_WEEKS]]
        older = f"/digest/?before={weeks[-1].slug}" if len(starts) > INDEX_WEEKS else None
        return HTMLResponse(
            site.render(
                request,
                "digests.html",
                page_title="Weekly digest",
                weeks=weeks,
                current=current,
                older=older,
                paged=raw is not None,
                feeds=digest_feeds(),
            )
        )

    return site.cached(request, build)


def _feed(request: Request) -> Response:
    site = _site(request)
    title = f"{site.settings.site_title} weekly digest"

    def channel(base: str) -> tuple[str, str, str, Sequence[StoredEntry]]:
        now = site.now()
        starts = site.store.digest_weeks(before=last_finished(now).end, limit=FEED_WEEKS)
        items: list[StoredEntry] = []
        for start in starts:
            week = Week.of(start)
            try:
                items.append(_feed_item(site, week, now, base))
            except NotFoundError:  # pragma: no cover - a week with posts always has one
                continue
        about = "One post a week: the week's posts worth reading, grouped by topic"
        return title, "/digest/", about, items

    return feed_response(request, request.url.path.rsplit("/", 1)[1], channel)


def _feed_body(site: Site, week: Week, now: datetime, base: str) -> tuple[str, datetime]:
    """A finished week's digest as a feed item's HTML, and when its list was frozen. The
    feeds are rebuilt whenever a post arrives, but their weeks never change: each body is
    rendered once (`Site.remember`, keyed by all it depends on)."""
    stamp = site.store.frozen_at(week.label)
    if stamp is None:
        stamp = read_week(site.store, week, now).data.frozen_at  # freezes it
        assert stamp is not None
    topics = tuple((t.slug, t.name) for t in site.topics)
    cap = site.settings.digest_items_per_topic
    key = f"digest-feed|{week.label}|{stamp.isoformat()}|{base}|{cap}|{topics}"

    def build() -> str:
        read = read_week(site.store, week, now)
        return f"<p>{week.span}</p>\n" + render_html(_digest(site, read, base=base))

    return site.remember(key, build), stamp


def _feed_item(site: Site, week: Week, now: datetime, base: str) -> StoredEntry:
    """A finished week as one feed item: the digest as HTML, linking to its page."""
    body, frozen = _feed_body(site, week, now, base)
    site_title = site.settings.site_title
    return StoredEntry(
        id=0,
        source_id=0,
        source_title=site_title,
        source_slug="digest",
        key=f"digest:{week.label}",
        guid=None,
        url=base + week.href,
        title=title_of(week, site_title),
        author="",
        published=week.end,
        updated=frozen,
        first_seen=frozen,
        content_html="",
        excerpt_html=body,
        categories=(),
        tags=(),
        enclosure=None,
        duration_s=None,
        sponsored=False,
        fingerprint="",
    )


def routes() -> list[Route]:
    return [
        Route("/digest/", index, name="digests"),
        Route("/digest/feed.xml", _feed),
        Route("/digest/atom.xml", _feed),
        Route("/digest/feed.json", _feed),
        Route("/digest/{week}/", week_page, name="digest"),
    ]
