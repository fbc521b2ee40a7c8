"""The static export: the whole public site written as files (`netplanet export`, `run --export`).

`pages.py` lists what is exported (from the store's catalog, each page with a render key),
`render.py` renders it by calling the site's own route handlers in-process, `links.py` makes
every internal link relative, `search.py` writes the client-side search index, `files.py`
writes the files atomically with a manifest and a journal, and `run.py` puts them together
(`export_site`, `ExportStep`).
"""

from __future__ import annotations

from netplanet.export.run import ExportResult, ExportStep, export_site

__all__ = ["ExportResult", "ExportStep", "export_site"]
