"""store/pages.py list queries: small rows (no body) and the cached site_version statement."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from builders import NOW, make_entry, plan, spec
from netplanet.store import SqlStore
from netplanet.store.base import Scope


def test_list_queries_leave_the_body_out(store: SqlStore) -> None:
    # Lists show excerpts only; reading ~9 KB bodies per row made the home page sort them.
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(1, 6))))
    store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # posts 3-5 sealed, 1-2 not
    full = {e.id: e for e in store.list_entries(limit=10)}
    assert all(e.content_html for e in full.values())

    listed = store.keyset_entries(Scope(), limit=10)
    sealed = [r.entry for r in store.sealed_entries(limit=10)]
    assert len(listed) == 5
    assert len(sealed) == 3
    for entry in [*listed, *sealed]:
        assert entry.content_html == ""
        assert entry.excerpt_html
        assert entry == dataclasses.replace(full[entry.id], content_html="")


def test_site_version_changes_with_new_posts(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    before = store.site_version()
    assert store.site_version() == before  # the statement is reused, the answer is fresh
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    assert store.site_version().token != before.token
