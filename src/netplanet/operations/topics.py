"""Topics, as the command line, the admin area and `netplanet run` all handle them.

- **Which taxonomy.** The `topics_file` setting when set; else the taxonomy an operator saved
  in the admin area (kept in `app_settings`, so every web server and worker of a planet reads
  the same one, and `netplanet db copy` carries it); else the bundled one.
- **Saving** (the admin's editor): the text is validated whole first (nothing is written when
  it does not parse); then it replaces `topics_file` (atomically: a temporary file renamed over
  it) or, without that setting, the stored copy.
- **Re-classifying** stored posts with the current taxonomy (and their podcast label with
  the current rules, as rows stored before the label existed have none): batches read by id
  (a keyset, so the 1,000th batch costs what the first does), text cut short by the database
  (the classifier reads only the start), only rows whose topics change are written, posts an
  operator set are skipped. The position is saved after every batch (`topics_reclassify`),
  so a run that was stopped goes on where it stopped; at the end the taxonomy's version is
  stored (`topics_version`) and cached pages are told to change. `netplanet run` starts one
  at start-up when the stored version differs from the taxonomy's.
- **One post**: its explanation (the classifier's evidence, term by term) and an operator's
  override (primary + up to two secondary topics), or handing it back to the classifier.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netplanet.enrich import topic_source
from netplanet.enrich.labels import is_podcast
from netplanet.enrich.topics import TEXT_CHARS as CLASSIFIED_CHARS
from netplanet.enrich.topics import (
    Classification,
    Taxonomy,
    classify,
    default_taxonomy_path,
    load_taxonomy,
    parse_taxonomy,
)
from netplanet.errors import ConfigError, NotFoundError, UsageError

if TYPE_CHECKING:
    from netplanet.model import StoredEntry
    from netplanet.settings import Settings
    from netplanet.store.base import ClassifyRow, PlanetStore

log = logging.getLogger(__name__)

VERSION_KEY = "topics_version"
"""app_settings: the taxonomy version the stored posts were last re-classified with."""
TEXT_KEY = "topics_toml"
"""app_settings: the taxonomy saved in the admin area (used when `topics_file` is empty)."""
PROGRESS_KEY = "topics_reclassify"
"""app_settings: {"version": ..., "after": last post id done} of an unfinished run."""
SAVED_ORIGIN = "the taxonomy saved in the admin area"

BATCH = 500
TEXT_CHARS = 2 * CLASSIFIED_CHARS
"""Characters of a stored text re-classification reads: more than the classifier looks at
(enrich/topics.py reads the opening words), far less than a long post."""
MAX_SECONDARY = 2
TEXT_MAX_BYTES = 1024 * 1024
"""A taxonomy is tens of KB; the admin's editor refuses more than this."""


# ------------------------------------------------------------------ which taxonomy


def planet_taxonomy(settings: Settings, store: PlanetStore) -> Taxonomy:
    """The taxonomy this planet classifies with (see the module docstring); ConfigError, one
    line naming the file, when it cannot be read or is invalid."""
    path = settings.topics_path
    if path is not None:
        return load_taxonomy(path)
    text = store.get_setting(TEXT_KEY)
    if text:
        return parse_taxonomy(text, origin=SAVED_ORIGIN)
    return load_taxonomy(None)


_cache: dict[str, Taxonomy] = {}
_cache_lock = threading.Lock()

TAXONOMY_CHECK_S = 60.0
"""How often a running planet looks whether its taxonomy changed (Planet.taxonomy, and `run`
re-classifying stored posts)."""

reclassifying = threading.Lock()
"""Held while this process re-classifies stored posts (the admin's background job, `run`'s
watcher): one at a time, so two never write the same rows and progress key."""


def cached_taxonomy(settings: Settings, store: PlanetStore) -> Taxonomy:
    """`planet_taxonomy`, compiled once per version of its source (a cheap check first): for
    the web process, which shows the taxonomy's topics and re-reads them as they change."""
    key = taxonomy_key(settings, store)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = planet_taxonomy(settings, store)
        with _cache_lock:
            _cache.clear()
            _cache[key] = found
    return found


def taxonomy_key(settings: Settings, store: PlanetStore) -> str:
    """Changes when the planet's taxonomy may have (a cheap check: the file's size and time,
    or a hash of the stored text), for processes that reload it while they run."""
    import hashlib

    path = settings.topics_path
    if path is not None:
        try:
            st = path.stat()
        except OSError:
            return "file:missing"
        return f"file:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    text = store.get_setting(TEXT_KEY) or ""
    return "stored:" + hashlib.blake2b(text.encode("utf-8", "surrogatepass")).hexdigest()


def taxonomy_source(settings: Settings, store: PlanetStore) -> tuple[str, str]:
    """(the TOML text of the current taxonomy, where it lives) for the admin's editor."""
    path = settings.topics_path
    if path is not None:
        try:
            return path.read_text(encoding="utf-8"), f"the file {path} (setting topics_file)"
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the taxonomy file {path}: {exc}") from None
    text = store.get_setting(TEXT_KEY)
    if text:
        return text, SAVED_ORIGIN
    return default_taxonomy_path().read_text(encoding="utf-8"), "the bundled taxonomy"


def save_taxonomy(settings: Settings, store: PlanetStore, text: str) -> Taxonomy:
    """Validate `text` whole and make it the planet's taxonomy (see the module docstring).
    ConfigError (nothing written) when it is not a valid taxonomy."""
    if len(text.encode("utf-8", "surrogatepass")) > TEXT_MAX_BYTES:
        raise ConfigError(f"the taxonomy is larger than {TEXT_MAX_BYTES // 1024} KiB")
    text = text.replace("\r\n", "\n")
    path = settings.topics_path
    taxonomy = parse_taxonomy(text, origin=str(path) if path else "the submitted taxonomy")
    if path is not None:
        _write_atomically(path, text)
    else:
        store.set_setting(TEXT_KEY, text)
    log.info("taxonomy saved (version %s, %d topics)", taxonomy.version, len(taxonomy.topics))
    return taxonomy


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: written beside it and renamed over it, so a reader sees
    the old file or the new one, never half of one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write the taxonomy file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the taxonomy file {path}: {exc.strerror}") from None


# ------------------------------------------------------------------ classifying stored posts


def classify_row(taxonomy: Taxonomy, row: ClassifyRow) -> Classification:
    """A stored post classified as enrich_entry classifies a new one."""
    return classify(
        taxonomy,
        title=row.title,
        text=row.text,
        tags=row.tags,
        source=topic_source(row.source_title, row.category),
    )


def _rounded(topics: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    return tuple((slug, round(score, 4)) for slug, score in topics)  # as stored


@dataclass(frozen=True, slots=True)
class ReclassifyReport:
    version: str
    examined: int = 0
    changed: int = 0
    resumed_after: int = 0
    """The post id a resumed run went on after (0: from the start)."""
    up_to_date: bool = False
    """Nothing to do: the stored posts were classified with this version already."""
    finished: bool = True
    """False when stopped before the end (the next run goes on from there)."""
    relabelled: int = 0
    """Posts whose podcast label changed (rows stored before the label existed get theirs)."""


def needs_reclassify(store: PlanetStore, taxonomy: Taxonomy) -> bool:
    """Whether the stored posts were classified with another taxonomy (or a run is unfinished)."""
    return store.get_setting(VERSION_KEY) != taxonomy.version or _progress(store) is not None


def _progress(store: PlanetStore) -> dict[str, object] | None:
    raw = store.get_setting(PROGRESS_KEY)
    if not raw:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def reclassify(
    store: PlanetStore,
    taxonomy: Taxonomy,
    *,
    everything: bool = False,
    batch: int = BATCH,
    on_batch: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ReclassifyReport:
    """Re-classify stored posts with `taxonomy` (see the module docstring). Without
    `everything`, nothing is done when the stored version is this one, and an unfinished run
    of this version goes on. `on_batch(last id done, highest id)` follows the progress; `stop`
    is asked between batches."""
    version = taxonomy.version
    after = 0
    progress = _progress(store)
    if not everything:
        if progress is not None and progress.get("version") == version:
            after = int(str(progress.get("after", 0)))
        elif store.get_setting(VERSION_KEY) == version:
            return ReclassifyReport(version, up_to_date=True)
    resumed = after
    last = store.last_entry_id()
    examined = changed = relabelled = 0
    try:
        while True:
            if stop is not None and stop():
                return ReclassifyReport(
                    version, examined, changed, resumed, finished=False, relabelled=relabelled
                )
            rows = store.entries_to_classify(after_id=after, limit=batch, text_chars=TEXT_CHARS)
            if not rows:
                break
            changes = []
            labels = []
            for row in rows:
                topics = _rounded(classify_row(taxonomy, row).topics)
                if topics != _rounded(row.topics):
                    changes.append((row.id, topics))
                podcast = is_podcast(
                    title=row.title,
                    text=row.text,
                    url=row.url,
                    enclosure=row.enclosure,
                    duration_s=row.duration_s,
                )
                if podcast != row.podcast:
                    labels.append((row.id, podcast))
            changed += store.rewrite_topics(changes)
            relabelled += store.set_podcast(labels)
            examined += len(rows)
            after = rows[-1].id
            store.set_setting(PROGRESS_KEY, json.dumps({"version": version, "after": after}))
            if on_batch is not None:
                on_batch(after, max(last, after))
        store.set_setting(VERSION_KEY, version)
        store.set_setting(PROGRESS_KEY, "")
    finally:
        if changed or relabelled:
            store.bump_generation()  # cached pages show topics and labels
    return ReclassifyReport(version, examined, changed, resumed, relabelled=relabelled)


# ------------------------------------------------------------------ one post


@dataclass(frozen=True, slots=True)
class Explanation:
    entry: StoredEntry
    classification: Classification
    """What the classifier says now, with its evidence."""

    @property
    def manual(self) -> bool:
        return self.entry.topics_manual

    @property
    def current(self) -> bool:
        """The stored topics are what the classifier gives now."""
        return _rounded(self.entry.topics) == _rounded(self.classification.topics)


def explain(store: PlanetStore, taxonomy: Taxonomy, entry_id: int) -> Explanation:
    entry = store.get_entry(entry_id)
    if entry is None:
        raise NotFoundError(f"no post {entry_id}; `netplanet entries` shows ids")
    rows = store.entries_to_classify(
        after_id=entry_id - 1, limit=1, text_chars=TEXT_CHARS, manual=True
    )
    if not rows or rows[0].id != entry_id:
        raise NotFoundError(f"no post {entry_id}; `netplanet entries` shows ids")
    return Explanation(entry, classify_row(taxonomy, rows[0]))


def override_topics(
    store: PlanetStore, taxonomy: Taxonomy, entry_id: int, primary: str, secondary: Sequence[str]
) -> tuple[str, ...]:
    """An operator's topics for one post: kept by edits and re-classification. Returns the
    slugs set. UsageError for an unknown topic, a repeat or too many."""
    chosen = [primary, *(s for s in secondary if s)]
    if not primary:
        raise UsageError("choose a primary topic")
    unknown = [slug for slug in chosen if taxonomy.get(slug) is None]
    if unknown:
        raise UsageError(f"no topic {unknown[0]!r} in the taxonomy")
    if len(set(chosen)) != len(chosen):
        raise UsageError("each topic may be chosen once")
    if len(chosen) > 1 + MAX_SECONDARY:
        raise UsageError(f"at most {MAX_SECONDARY} secondary topics")
    store.set_topics(entry_id, [(slug, 1.0) for slug in chosen], manual=True)
    store.bump_generation()
    return tuple(chosen)


def automatic_topics(store: PlanetStore, taxonomy: Taxonomy, entry_id: int) -> tuple[str, ...]:
    """Hand one post back to the classifier: classified now, and by every later run."""
    explained = explain(store, taxonomy, entry_id)
    topics = explained.classification.topics
    store.set_topics(entry_id, topics, manual=False)
    store.bump_generation()
    return tuple(slug for slug, _ in topics)
