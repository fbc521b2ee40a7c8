"""The export's directory: only changed files written, each atomically, the whole export
committed at once or not at all.

While an export runs, changed files go to a staging folder inside the export directory
(flat, numbered; same file system, so a rename is atomic); nothing the previous export wrote
is touched, so an export interrupted then (the long part: rendering) leaves the previous one
intact. To commit, a journal is written (and synced) listing every rename and deletion and the new
manifest; then the files are renamed into place, files of pages that are gone are deleted,
the manifest (path → content hash, and each page's render key and files) is written
atomically, and the journal removed. An export interrupted during the commit is finished
by the next one (or the next `ExportDir.open`) from the journal. A lock file keeps two
exports out of one directory. Only files listed in the manifest are ever deleted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Self

from netplanet.errors import UsageError

MANIFEST = ".netplanet-export.json"
JOURNAL = ".netplanet-export.journal"
STAGING = ".netplanet-staging"
LOCK = ".netplanet-export.lock"
FORMAT = 1


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _write_atomic(path: Path, data: bytes, *, sync: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


class ExportDir:
    """One export into `root`: `put` files, `keep` unchanged pages, then `commit`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / STAGING
        self._lock: Any = None
        self.old_files: dict[str, str] = {}
        self.old_pages: dict[str, list[Any]] = {}
        self.files: dict[str, str] = {}
        self.pages: dict[str, list[Any]] = {}
        self.written: list[str] = []
        self.removed: list[str] = []
        self._made: set[Path] = set()
        self._moves: list[tuple[str, str]] = []

    def _folder(self, path: Path) -> None:
        if path not in self._made:
            if not path.is_dir():
                path.mkdir(parents=True, exist_ok=True)
            self._made.add(path)

    # ------------------------------------------------------------------ opening

    def open(self) -> Self:
        root = self.root
        if root.exists() and not root.is_dir():
            raise UsageError(f"{root} is a file, not a directory; name a directory to export to")
        try:
            root.mkdir(parents=True, exist_ok=True)
            self._lock = open(root / LOCK, "a")  # noqa: SIM115 - held until close()
        except OSError as exc:
            raise UsageError(
                f"cannot write to {root} ({exc.strerror}); name a writable directory"
            ) from exc
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise UsageError(f"another export is writing to {root}; wait for it to end") from exc
        manifest = root / MANIFEST
        if not manifest.exists() and not (root / JOURNAL).exists():
            others = [p.name for p in root.iterdir() if p.name not in (LOCK, STAGING)]
            if others:
                self.close()
                raise UsageError(
                    f"{root} holds other files and no export; name an empty or new directory"
                )
        self.recover()
        if manifest.exists():
            try:
                data = json.loads(manifest.read_text())
                if data.get("format") == FORMAT:
                    self.old_files = data["files"]
                    self.old_pages = data["pages"]
            except (ValueError, KeyError, TypeError):
                self.old_files, self.old_pages = {}, {}  # rewritten whole
        shutil.rmtree(self.staging, ignore_errors=True)
        return self

    def recover(self) -> None:
        """Finish a commit that was interrupted (its journal is there), else do nothing."""
        journal = self.root / JOURNAL
        if not journal.exists():
            return
        try:
            data = json.loads(journal.read_text())
        except ValueError:  # the journal itself was cut short: the commit had not begun
            journal.unlink()
            return
        self._apply(data)

    def _apply(self, data: dict[str, Any]) -> None:
        for staged, rel in data["moves"]:
            src = self.staging / staged
            if src.exists():
                dst = self.root / rel
                self._folder(dst.parent)
                os.replace(src, dst)
        for rel in data["deletes"]:
            target = self.root / rel
            target.unlink(missing_ok=True)
            self._prune(target.parent)
        _write_atomic(self.root / MANIFEST, json.dumps(data["manifest"]).encode(), sync=True)
        (self.root / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def _prune(self, folder: Path) -> None:
        while folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None and not (self.root / JOURNAL).exists():
            shutil.rmtree(self.staging, ignore_errors=True)  # never committed: not needed
        self.close()

    # ------------------------------------------------------------------ writing

    def unchanged(self, page: str, key: str | None) -> bool:
        """Whether `page` (a served path) was written with render key `key` last time."""
        old = self.old_pages.get(page)
        return key is not None and old is not None and old[0] == key

    def keep(self, page: str) -> None:
        """Keep the files `page` wrote last time, as they are."""
        key, names = self.old_pages[page]
        self.pages[page] = [key, names]
        for name in names:
            self.files[name] = self.old_files[name]

    def page(self, page: str, key: str | None, names: list[str]) -> None:
        self.pages[page] = [key, names]

    def put(self, rel: str, data: bytes) -> None:
        """File `rel` (relative, "/"-separated) with `data`: staged when it changed."""
        digest = content_hash(data)
        self.files[rel] = digest
        if self.old_files.get(rel) == digest and (self.root / rel).exists():
            return
        # Staged flat (one folder, numbered files): a folder per page would cost a mkdir
        # and an rmdir per page.
        staged = str(len(self.written))
        self._folder(self.staging)
        (self.staging / staged).write_bytes(data)
        self.written.append(rel)
        self._moves.append((staged, rel))

    def commit(self) -> None:
        gone = sorted(set(self.old_files) - set(self.files))
        data = {
            "moves": self._moves,
            "deletes": gone,
            "manifest": {"format": FORMAT, "files": self.files, "pages": self.pages},
        }
        _write_atomic(self.root / JOURNAL, json.dumps(data).encode(), sync=True)
        self._apply(data)
        self.removed = gone
