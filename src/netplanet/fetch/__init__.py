"""fetch stage: conditional HTTP GETs under limits, behind the SSRF guard.

Knows nothing of parse or store. See http.py (Fetcher) and guard.py (SSRF guard). The names
below are loaded on first use, so importing one submodule does not load the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netplanet.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _HOME)
