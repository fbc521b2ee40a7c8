"""fetch stage: conditional HTTP GETs under limits, behind the SSRF guard.

Knows nothing of parse or store. See http.py (Fetcher) and guard.py (SSRF guard). The names
below are loaded on first use, so importing one submodule does not load the others.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netplanet.fetch.guard import (
        GuardedResolver,
        check_url,
        check_url_resolves_public,
        is_forbidden_address,
        parse_ip_host,
    )
    from netplanet.fetch.http import Fetcher
    from netplanet.fetch.report import parse_retry_after

_HOME = {
    "Fetcher": "http",
    "GuardedResolver": "guard",
    "check_url": "guard",
    "check_url_resolves_public": "guard",
    "is_forbidden_address": "guard",
    "parse_ip_host": "guard",
    "parse_retry_after": "report",
}

__all__ = [
    "Fetcher",
    "GuardedResolver",
    "check_url",
    "check_url_resolves_public",
    "is_forbidden_address",
    "parse_ip_host",
    "parse_retry_after",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
