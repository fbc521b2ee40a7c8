"""Finding the feed behind a URL an operator typed: a feed URL, or a site's HTML page.

Order: the URL itself if it is a feed; else the page's <link rel="alternate"> feeds; else the
common paths (/feed/, /index.xml, /atom.xml, /rss.xml, ...). Every request goes through the
fetcher, so the SSRF guard and the size/time limits apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from netplanet.errors import DiscoveryError, NotAFeedError, ParseError
from netplanet.fetch.http import Fetcher
from netplanet.model import FetchOutcome, FetchRequest, FetchResult, ParsedFeed
from netplanet.parse import parse_feed
from netplanet.sources.discover import candidate_urls, find_feed_links


@dataclass(frozen=True, slots=True)
class Discovered:
    feed_url: str
    feed: ParsedFeed
    how: str
    """One line telling the operator which feed was chosen and why."""


async def _try_feed(fetcher: Fetcher, url: str) -> tuple[FetchResult, ParsedFeed | None]:
    result = await fetcher.fetch(FetchRequest(url=url))
    if result.outcome is not FetchOutcome.OK or result.body is None:
        return result, None
    try:
        return result, parse_feed(result.body, content_type=result.content_type, url=url)
    except ParseError:
        return result, None


def _describe_failure(result: FetchResult) -> str:
    if result.error:
        return result.error
    return f"HTTP {result.status} at {result.final_url}"


async def discover_feed(fetcher: Fetcher, url: str) -> Discovered:
    """Resolve `url` to a feed, or raise DiscoveryError saying what was tried."""
    first = await fetcher.fetch(FetchRequest(url=url))
    if first.outcome is not FetchOutcome.OK or first.body is None:
        raise DiscoveryError(f"cannot add {url}: {_describe_failure(first)}")
    final = first.permanent_url or first.final_url
    try:
        feed = parse_feed(first.body, content_type=first.content_type, url=first.final_url)
        return Discovered(final, feed, f"{final} is a {feed.format} feed")
    except NotAFeedError:
        pass
    except ParseError as exc:
        raise DiscoveryError(f"cannot add {url}: not a feed or an HTML page ({exc})") from None

    for link in find_feed_links(first.body, first.final_url):
        result, linked = await _try_feed(fetcher, link)
        if linked is not None:
            chosen = result.permanent_url or link
            return Discovered(
                chosen, linked, f"{url} is an HTML page; found <link rel=alternate> at {chosen}"
            )
    tried: list[str] = []
    for candidate in candidate_urls(first.final_url):
        result, guessed = await _try_feed(fetcher, candidate)
        if guessed is not None:
            chosen = result.permanent_url or candidate
            return Discovered(
                chosen, guessed, f"{url} is an HTML page naming no feed; found one at {chosen}"
            )
        tried.append(candidate)
    raise DiscoveryError(
        f"cannot add {url}: it is an HTML page that names no feed, and none of the common "
        f"paths answered with one ({', '.join(tried)}); give the feed URL itself"
    )
