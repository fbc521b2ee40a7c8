"""Internal links of exported pages made relative, with an explicit `index.html`.

A page at "topic/routing/page/3/index.html" links to "../../../../post/7/index.html", so the
export works under any base URL (a sub-path too) and opened from the file system, where a
directory does not open its index.html. `Links.resolve` says which exported file a served
URL is (None when the export has no such page); `Links.html` rewrites a page's `href`,
`src` and `action` attributes, turns an anchor to a page the export does not have into
plain text (a digest's link to the week before the planet's first posts), and points
absolute URLs of the base (the canonical link) at the exported page's directory.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Container

from netplanet.export.pages import file_of

_ANCHOR = re.compile(r'<a\b([^>]*?)\shref="(/(?!/)[^"]*)"([^>]*)>(.*?)</a>', re.S)
_ATTR = re.compile(r'(\s(?:href|src|action)=")([^"]*)(")')
_CLASS = re.compile(r'\sclass="[^"]*"')
SEARCH_PAGE = "search/index.html"


class Links:
    """Maps served URLs to exported files. `files` holds every file the export has;
    `chains` maps a served `?before=` target to its page's file."""

    def __init__(self, base_url: str, files: Container[str], chains: dict[str, str]) -> None:
        self.base = base_url.rstrip("/")
        self.files = files
        self.chains = chains
        self._known: dict[str, tuple[str, str]] = {}

    def resolve(self, url: str) -> tuple[str, str] | None:
        found = self._known.get(url)
        if found is None:
            found = self._resolve(url)
            if found is not None:
                self._known[url] = found
        return found

    def _resolve(self, url: str) -> tuple[str, str] | None:
        """(file, suffix) for an internal URL ("/post/7/#c" → ("post/7/index.html", "#c")),
        None when the export has no such page. A search keeps its query (the search page
        reads it); other queries are dropped (a static file has one form)."""
        rest, hash_, fragment = url.partition("#")
        suffix = hash_ + fragment
        path, q, query = rest.partition("?")
        if q and rest in self.chains:
            return self.chains[rest], suffix
        target = file_of(path)
        if target == SEARCH_PAGE and query:
            suffix = f"?{query}{suffix}"
        return (target, suffix) if target in self.files else None

    def html(self, page_file: str, body: str) -> str:
        # Up to the export's root, then down: "../../post/7/index.html" (no shortcut for
        # siblings: the same file either way, and no path arithmetic per link).
        up = "../" * page_file.count("/")
        unresolved = 0

        def unlink(m: re.Match[str]) -> str:
            classes = _CLASS.search(m[1] + m[3])
            return f"<span{classes[0] if classes else ''}>{m[4]}</span>"

        def relink(m: re.Match[str]) -> str:
            nonlocal unresolved
            raw = html.unescape(m[2])
            if raw.startswith("/") and not raw.startswith("//"):
                found = self.resolve(raw)
                if found is None:
                    unresolved += 1
                    return m[0]
                return m[1] + html.escape(up + found[0] + found[1]) + m[3]
            if raw.startswith(self.base + "/"):
                found = self.resolve(raw[len(self.base) :])
                if found is None:
                    return m[0]
                public = found[0].removesuffix("index.html")
                return m[1] + html.escape(f"{self.base}/{public}{found[1]}") + m[3]
            return m[0]

        out = _ATTR.sub(relink, body)
        # Links left root-relative go nowhere in the export: their anchors become text.
        return _ANCHOR.sub(unlink, out) if unresolved else out


def chain_files(front: str, targets: list[str], more: Callable[[str, int], str]) -> dict[str, str]:
    """The files of a chain's `?before=` pages: the n-th is `more(front, n)`'s file."""
    return {t: file_of(more(front, n)) for n, t in enumerate(targets[1:], start=1)}
