"""The admin's taxonomy editor (/admin/topics): the TOML text in a textarea, validated whole
on save (a one-line error, with the submitted text kept in the form), saved where the planet
reads it (operations/topics.py: the `topics_file` setting's file, written atomically, else a
copy in the database), then the stored posts re-classified in a background thread, one run at
a time. A running planet picks the new taxonomy up for new posts within a minute
(Planet.taxonomy); `netplanet run` also re-classifies at start whenever the version changed.
"""

from __future__ import annotations

import logging
import threading

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from netplanet.enrich.topics import Taxonomy, default_taxonomy_path
from netplanet.errors import NetplanetError
from netplanet.operations.topics import (
    PROGRESS_KEY,
    VERSION_KEY,
    reclassify,
    reclassifying,
    save_taxonomy,
    taxonomy_source,
)
from netplanet.store.base import PlanetStore
from netplanet.web.admin.guard import Ctx, admin
from netplanet.web.admin.posts import current_taxonomy

log = logging.getLogger(__name__)

_running = reclassifying
job: threading.Thread | None = None
"""The last background re-classification started here (tests wait for it)."""


def start_reclassify(store: PlanetStore, taxonomy: Taxonomy) -> bool:
    """Re-classify the stored posts in a background thread; False when one is running."""
    global job
    if not _running.acquire(blocking=False):
        return False

    def work() -> None:
        try:
            report = reclassify(store, taxonomy)
            log.info("re-classified %d posts: %d changed", report.examined, report.changed)
        except Exception:
            log.exception("re-classifying stored posts failed; `netplanet topics reclassify`")
        finally:
            _running.release()

    job = threading.Thread(target=work, name="reclassify", daemon=True)
    job.start()
    return True


def _status(store: PlanetStore, taxonomy: Taxonomy) -> str:
    if _running.locked() or store.get_setting(PROGRESS_KEY):
        return "Re-classifying the stored posts (reload to follow)."
    if store.get_setting(VERSION_KEY) != taxonomy.version:
        return "The stored posts were classified with another version of the taxonomy."
    return "The stored posts are classified with this version."


async def _topics(request: Request, ctx: Ctx) -> Response:
    settings, store = ctx.site.settings, ctx.store
    notice = problem = ""
    text: str | None = None
    if request.method == "POST":
        action = ctx.field("action")
        raw = ctx.form.get("taxonomy") if ctx.form is not None else None
        submitted = raw if isinstance(raw, str) else ""
        try:
            if action == "save":
                text = submitted  # kept in the form whatever happens
                taxonomy = save_taxonomy(settings, store, submitted)
                started = start_reclassify(store, taxonomy)
                notice = (
                    f"Saved: taxonomy version {taxonomy.version}, {len(taxonomy.topics)} topics. "
                    + (
                        "Re-classifying the stored posts in the background."
                        if started
                        else "A re-classification is running; run `netplanet topics reclassify` "
                        "when it ends."
                    )
                )
            elif action == "reclassify":
                started = start_reclassify(store, current_taxonomy(ctx))
                notice = (
                    "Re-classifying the stored posts in the background."
                    if started
                    else "A re-classification is running already."
                )
            elif action == "bundled":
                text = default_taxonomy_path().read_text(encoding="utf-8")
                notice = "The bundled taxonomy is in the editor: Save to use it."
            else:
                problem = f"unknown action {action!r}"
        except NetplanetError as exc:
            problem = f"Not saved: {exc}"
    try:
        source, where = taxonomy_source(settings, store)
    except NetplanetError as exc:  # topics_file unreadable: say so, and let a save replace it
        source, where = "", str(settings.topics_path)
        problem = problem or str(exc)
    in_use: Taxonomy | None = None
    try:
        in_use = current_taxonomy(ctx)
        state = _status(store, in_use)
    except NetplanetError as exc:
        state = f"The taxonomy in use cannot be read: {exc}"
    return ctx.page(
        request,
        "admin/topics.html",
        400 if problem else 200,
        page_title="Topics — admin",
        text=source if text is None else text,
        where=where,
        taxonomy=in_use,
        counts=store.topic_counts(),
        state=state,
        notice=notice,
        problem=problem,
        wide=True,
    )


def routes() -> list[Route]:
    return [Route("/admin/topics", admin(_topics), methods=["GET", "POST"])]
