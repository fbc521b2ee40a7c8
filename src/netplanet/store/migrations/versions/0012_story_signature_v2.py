"""Story signature version 2: stored posts' SimHash and band keys recomputed from their text.

Version 2 (enrich/story.py, SIGNATURE_VERSION) hashes the classifier's words of a post's
opening (120 of them, not 120 whitespace-split ones) and keeps one 32-bit band key instead of
two, so the values stored by version 1 would never match a new post's. Each signed post's
`entries.simhash` is recomputed from its stored text (only its start is read: the database
cuts it), its band rows (keys `b0:`, `b1:`) are replaced by the new one, and every other
story key (URL, title, CVE ids, figures, names) is kept as it is. Posts stored before
signatures existed (migration 0008: no SimHash, no keys) are left unsigned, as they were.
Clusters already formed stay as they are.

Downgrade leaves the version 2 values: an older netplanet reads them without error, and only
its SimHash comparisons with posts stored before the downgrade find nothing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 500
_READ_CHARS = 1500
"""Characters of a post's text read: more than version 2 hashes (enrich/story.py)."""

_entries = sa.table(
    "entries",
    sa.column("id", sa.Integer),
    sa.column("text", sa.Text),
    sa.column("published", UTCDateTime),
    sa.column("simhash", sa.BigInteger),
)
_keys = sa.table(
    "story_keys",
    sa.column("entry_id", sa.Integer),
    sa.column("key", sa.Text),
    sa.column("published", UTCDateTime),
)


def upgrade() -> None:
    # Imported here: only this step needs the signature code.
    from netplanet.enrich.story import text_simhash

    conn = op.get_bind()
    read = (
        sa.select(
            _entries.c.id,
            sa.func.substr(_entries.c.text, 1, _READ_CHARS).label("text"),
            _entries.c.published,
            _entries.c.simhash,
        )
        .where(_entries.c.id > sa.bindparam("after"), _entries.c.simhash.is_not(None))
        .order_by(_entries.c.id)
        .limit(_BATCH)
    )
    set_simhash = (
        sa.update(_entries)
        .where(_entries.c.id == sa.bindparam("eid"))
        .values(simhash=sa.bindparam("value"))
    )
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        after = rows[-1].id
        ids = [r.id for r in rows]
        # Band keys are the only keys starting with "b": one range of each post's keys.
        conn.execute(
            sa.delete(_keys).where(_keys.c.entry_id.in_(ids), _keys.c.key >= "b", _keys.c.key < "c")
        )
        changed: list[dict[str, object]] = []
        bands: list[dict[str, object]] = []
        for r in rows:
            value, keys = text_simhash(r.text or "")
            if value != r.simhash:
                changed.append({"eid": r.id, "value": value})
            bands.extend({"entry_id": r.id, "key": k, "published": r.published} for k in keys)
        if changed:
            conn.execute(set_simhash, changed)
        if bands:
            conn.execute(sa.insert(_keys), bands)


def downgrade() -> None:
    pass  # see the module docstring: version 2 values are readable by older code
