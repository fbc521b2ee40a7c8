"""The export's client-side search: a compact index in small script files and the page's
script (web/static/search.js), so searching works without a server, from the file system too
(scripts load from file:// where fetch() cannot).

`search/index.js` names the shards, sources, topics and categories; each month's posts are a
shard, `search/YYYY-MM.js`: [id, title, link, source id, date, topics, categories, text],
the text being the excerpt's first 200 characters. A month's shard is rebuilt only when the
stamps of its posts change, so a new post rewrites one shard and the index. The index covers
the posts the lists show (not another feed's copy of a post, nor a story's other posts).
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from netplanet.export.pages import Shape, key_of
from netplanet.publish.posts import safe_url
from netplanet.publish.topics import TopicInfo
from netplanet.sources.slug import slugify
from netplanet.store.base import CategoryInfo, SearchRow

INDEX = "search/index.js"
TEXT_CHARS = 200
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def shard_file(year: int, month: int) -> str:
    return f"search/{year:04d}-{month:02d}.js"


def month_keys(shape: Shape, chrome: str) -> dict[tuple[int, int], str]:
    """Each month's shard key: the stamps of the month's listed posts."""
    stamps: dict[tuple[int, int], list[str]] = defaultdict(list)
    for e in shape.catalog.entries:
        if not e.collapsed:
            stamps[(e.published.year, e.published.month)].append(shape.full[e.id])
    return {month: key_of(chrome, "search", month, sorted(s)) for month, s in stamps.items()}


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _text(excerpt_html: str) -> str:
    plain = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", excerpt_html))).strip()
    return plain if len(plain) <= TEXT_CHARS else plain[:TEXT_CHARS].rsplit(" ", 1)[0] + "…"


def shard(rows: Iterable[SearchRow]) -> bytes:
    data = [
        [
            r.id,
            r.title or "(untitled)",
            safe_url(r.url) or "",
            r.source_id,
            f"{r.published:%Y-%m-%d}" if r.date_known else "",
            " ".join(r.topics),
            " ".join(slugify(c, fallback="category") for c in r.categories if c),
            _text(r.excerpt_html),
        ]
        for r in rows
    ]
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"(window.npSearchRows=window.npSearchRows||[]).push({body});\n".encode()


def index(
    shards: Sequence[str],
    sources: Iterable[tuple[int, str, str]],
    topics: Sequence[TopicInfo],
    categories: Sequence[CategoryInfo],
) -> bytes:
    """`search/index.js`: shard files (relative to search/, newest first), sources
    (id → [slug, title]), topics and categories (slug → name)."""
    data = {
        "shards": [s.removeprefix("search/") for s in sorted(shards, reverse=True)],
        "sources": {str(i): [slug, title] for i, slug, title in sources},
        "topics": {t.slug: t.name for t in topics},
        "categories": {c.slug: c.name for c in categories},
    }
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"window.npSearchIndex={body};\n".encode()
