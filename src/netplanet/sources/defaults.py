"""The bundled default source list (`netplanet/data/sources.opml`) as `SourceSpec` records."""

from __future__ import annotations

from importlib.resources import files

from netplanet.model import SourceSpec
from netplanet.sources.opml import parse_opml

__all__ = ["DEFAULT_SOURCES_RESOURCE", "load_default_sources"]

DEFAULT_SOURCES_RESOURCE = "data/sources.opml"
"""Path of the bundled OPML inside the ``netplanet`` package."""


def load_default_sources() -> list[SourceSpec]:
    """The bundled default sources, in file order (a fresh list on every call)."""
    # importlib.resources works from a wheel, a zip or a source checkout alike.
    data = files("netplanet").joinpath(DEFAULT_SOURCES_RESOURCE).read_bytes()
    return parse_opml(data)
