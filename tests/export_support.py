"""Helpers for the static export's tests: walking every internal link of an export."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LINK = re.compile(r'\s(?:href|src|action)="([^"]*)"')


def internal_links(page: Path, root: Path) -> list[tuple[str, Path | None]]:
    """Every internal link of `page` as (link, target file); the target is None for a
    root-relative link ("/x"), which breaks under a sub-path and from the file system."""
    out: list[tuple[str, Path | None]] = []
    for raw in _LINK.findall(page.read_text(encoding="utf-8")):
        link = html.unescape(raw)
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith("#") or not link:
            continue
        if link.startswith("/"):
            out.append((link, None))
            continue
        out.append((link, (page.parent / unquote(parts.path)).resolve()))
    return out


def broken_links(root: Path) -> list[str]:
    """Every internal link of every page of the export at `root` whose file is missing."""
    root = root.resolve()
    broken = []
    for page in sorted(root.rglob("*.html")):
        for link, target in internal_links(page, root):
            if target is None or not target.is_file() or root not in target.parents:
                broken.append(f"{page.relative_to(root)}: {link}")
    return broken
