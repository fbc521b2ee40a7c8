"""Helpers for the static export's tests: walking every internal link of an export."""

from __future__ import annotations

import html
import os
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LINK = re.compile(r'\s(?:href|src|action)="([^"]*)"')


def export_files(root: Path) -> set[str]:
    """Every file of the export, as "/"-separated paths relative to `root`."""
    out = set()
    for folder, _, names in os.walk(root):
        rel = os.path.relpath(folder, root)
        for name in names:
            out.add(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return out


def broken_links(root: Path) -> list[str]:
    """Every internal link (relative, or root-relative: those break under a sub-path and from
    the file system) of every page of the export at `root` whose target file is missing."""
    files = export_files(root)
    broken = []
    for page in sorted(f for f in files if f.endswith(".html")):
        here = posixpath.dirname(page)
        text = (root / page).read_text(encoding="utf-8")
        for raw in set(_LINK.findall(text)):
            link = html.unescape(raw)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link or link.startswith("#"):
                continue
            target = posixpath.normpath(posixpath.join(here, unquote(parts.path)))
            if link.startswith("/") or target not in files:
                broken.append(f"{page}: {link}")
    return broken
