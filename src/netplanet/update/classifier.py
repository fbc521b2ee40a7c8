"""The taxonomy as the pipeline hands it to `digest`, cheap to send to a pool worker.

In the pipeline's own process `Classifier` is only a wrapper. Sent to a worker of the process
pool, it travels as the taxonomy's version and its topics encoded once (pickled bytes, made
on the first send and kept), not its compiled term index (the larger part): every later task
copies those bytes instead of pickling the topics again (~0.25 ms a task). A worker decodes
and compiles a version once and keeps it, so a task of a version it knows only reads the
version (decoding the topics cost ~0.4 ms a task). No file is read in the worker, so a
taxonomy edited while the planet runs cannot make the pool and the pipeline disagree.
"""

from __future__ import annotations

import pickle
from typing import Any

from netplanet.enrich.topics import Taxonomy

_COMPILED: dict[str, Classifier] = {}
"""The taxonomy this worker compiled last, by version (one at a time: they change rarely)."""


class Classifier:
    __slots__ = ("_encoded", "taxonomy")

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._encoded: bytes | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        if self._encoded is None:
            t = self.taxonomy
            self._encoded = pickle.dumps((t.topics, t.fallback), pickle.HIGHEST_PROTOCOL)
        return (_arrived, (self.taxonomy.version, self._encoded))


def _arrived(version: str, encoded: bytes) -> Classifier:
    known = _COMPILED.get(version)
    if known is None:
        topics, fallback = pickle.loads(encoded)
        known = Classifier(Taxonomy(topics=topics, fallback=fallback, version=version))
        _COMPILED.clear()
        _COMPILED[version] = known
    return known
