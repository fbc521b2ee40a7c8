"""The taxonomy as the pipeline hands it to `digest`, cheap to send to a pool worker.

In the pipeline's own process `Classifier` is only a wrapper. Sent to a worker of the process
pool, it travels as the taxonomy's topics and version, not its compiled term index (the
larger part), and each worker compiles a version once and keeps it for the polls that follow:
the pickled form is a few tens of KB, decoded in well under a millisecond, against bodies of
hundreds of KB. No file is read in the worker, so a taxonomy edited while the planet runs
cannot make the pool and the pipeline disagree.
"""

from __future__ import annotations

from typing import Any

from netplanet.enrich.topics import Taxonomy, Topic

_COMPILED: dict[str, Taxonomy] = {}
"""The taxonomy this worker compiled last, by version (one at a time: they change rarely)."""


class Classifier:
    __slots__ = ("taxonomy",)

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def __reduce__(self) -> tuple[Any, ...]:
        t = self.taxonomy
        return (_arrived, (t.version, t.topics, t.fallback))


def _arrived(version: str, topics: tuple[Topic, ...], fallback: str) -> Classifier:
    taxonomy = _COMPILED.get(version)
    if taxonomy is None:
        taxonomy = Taxonomy(topics=topics, fallback=fallback, version=version)
        _COMPILED.clear()
        _COMPILED[version] = taxonomy
    return Classifier(taxonomy)
