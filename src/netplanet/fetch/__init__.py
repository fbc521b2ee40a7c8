"""fetch stage: conditional HTTP GETs under limits, behind the SSRF guard.

Knows nothing of parse or store. See http.py (Fetcher) and guard.py (SSRF guard).
"""

from netplanet.fetch.guard import (
    GuardedResolver,
    check_url,
    check_url_resolves_public,
    is_forbidden_address,
    parse_ip_host,
)
from netplanet.fetch.http import Fetcher
from netplanet.fetch.report import parse_retry_after

__all__ = [
    "Fetcher",
    "GuardedResolver",
    "check_url",
    "check_url_resolves_public",
    "is_forbidden_address",
    "parse_ip_host",
    "parse_retry_after",
]
