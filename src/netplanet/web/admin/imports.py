"""The admin's OPML import, run in a background thread so the site keeps answering meanwhile.

The upload is read and checked (size, outline limit, well-formed OPML) before the import
starts, so a refused file is reported at once and nothing of it is stored. The import itself
(`operations.imports.import_read`) then runs in a thread of its own; its status (running with
progress, done with the report, failed) is kept in the database (`app_settings`), so whichever
web process serves the next page shows it. One import runs at a time: a second upload while
one is running is refused with a line saying so. A status left "running" by a process that
stopped mid-import (each chunk is its own transaction: what was stored stays) stops counting
as running once it has not moved for `STALE_AFTER_S`; importing the same file again adds the
rest.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from netplanet.errors import NetplanetError
from netplanet.operations.imports import import_read

if TYPE_CHECKING:
    from netplanet.sources.opml import OpmlRead
    from netplanet.web.site import Site

log = logging.getLogger(__name__)

STATUS_KEY = "opml_import"
KEPT_LINES = 100
"""Skipped lines kept with the status and listed on the page; the count says how many more."""
STALE_AFTER_S = 120.0
"""A running status not updated for this long was left by a process that stopped: progress
is saved after every chunk of 500 sources, which takes well under a second (up to the
database's 30 s busy timeout when another writer holds SQLite)."""
_start_lock = threading.Lock()


@dataclass
class ImportStatus:
    """The last admin import, as the Import page shows it."""

    state: str
    """"running", "done" or "failed"."""
    file: str
    started: str
    updated: str
    total: int = 0
    done: int = 0
    added: int = 0
    present: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    def running(self, now: datetime) -> bool:
        if self.state != "running":
            return False
        return now - datetime.fromisoformat(self.updated) < timedelta(seconds=STALE_AFTER_S)

    @property
    def hidden_lines(self) -> int:
        return max(0, self.skipped - len(self.lines))


def load_status(site: Site) -> ImportStatus | None:
    raw = site.store.get_setting(STATUS_KEY)
    if not raw:
        return None
    try:
        return ImportStatus(**json.loads(raw))
    except (TypeError, ValueError):  # written by another version: start afresh
        return None


def _save(site: Site, status: ImportStatus) -> None:
    status.updated = site.now().isoformat()
    site.store.set_setting(STATUS_KEY, json.dumps(asdict(status), ensure_ascii=False))


def start_import(site: Site, read: OpmlRead, name: str) -> threading.Thread:
    """Start importing `read` in a thread; raises NetplanetError while another import runs."""
    with _start_lock:
        current = load_status(site)
        if current is not None and current.running(site.now()):
            raise NetplanetError(
                f"an import of {current.file} is running ({current.done:,} of "
                f"{current.total:,} sources); wait for it to finish, then import again"
            )
        now = site.now().isoformat()
        status = ImportStatus("running", name, now, now, total=len(read.specs))
        _save(site, status)
    thread = threading.Thread(
        target=_run, args=(site, read, status), name="opml-import", daemon=True
    )
    thread.start()
    return thread


def _run(site: Site, read: OpmlRead, status: ImportStatus) -> None:
    def progress(done: int, total: int) -> None:
        status.done, status.total = done, total
        _save(site, status)

    try:
        report = import_read(site.store, read, site.settings, progress=progress)
        if report.added:
            site.store.bump_generation()
    except Exception as exc:
        if not isinstance(exc, NetplanetError):  # a thread's error would only reach stderr
            log.exception("OPML import of %s failed", status.file)
        status.state = "failed"
        reason = str(exc) if isinstance(exc, NetplanetError) else "an unexpected error"
        status.error = (
            f"the import stopped after {status.done:,} of {status.total:,} sources on "
            f"{reason}; what was stored stays, and importing the file again adds the rest"
        )
    else:
        status.state = "done"
        status.done = status.total
        status.added, status.present = report.added, report.present
        status.skipped = len(report.skipped)
        status.lines = [str(s) for s in report.skipped[:KEPT_LINES]]
        status.notes = list(report.notes)
    try:
        _save(site, status)
    except NetplanetError:
        log.exception("could not save the status of the OPML import of %s", status.file)
