"""Entry identity within a source: the key the decider matches old and new entries on.

The guid wins when the feed has one; else the canonical URL; else the title+date hash. The
prefix says which, so a guid that happens to look like a URL never collides with a URL key.
"""

from __future__ import annotations


def entry_key(guid: str | None, canonical_url: str, title_date_hash: str) -> str:
    """The key: `g:<guid>`, else `u:<canonical url>`, else `h:<title_date_hash>`."""
    if guid is not None and guid.strip():
        return f"g:{guid.strip()}"
    if canonical_url.strip():
        return f"u:{canonical_url.strip()}"
    return f"h:{title_date_hash}"
