"""PostgreSQL full-text search: a weighted tsvector column on entries, kept by triggers, + GIN.

On SQLite this revision does nothing: 0001 already created the FTS5 table and its triggers.

The vector cannot be a generated column because it includes the source's title, which lives
in another table; so a BEFORE trigger fills it on entries, and an AFTER trigger on sources
refreshes a source's entries when its title changes. Weights: title A, source title B, text C.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _vector(title: str, source: str, text: str) -> str:
    """The weighted document, written once for both triggers and the backfill."""
    return (
        f"setweight(to_tsvector('english', coalesce({title}, '')), 'A')"
        f" || setweight(to_tsvector('english', coalesce({source}, '')), 'B')"
        f" || setweight(to_tsvector('english', coalesce({text}, '')), 'C')"
    )


_SOURCE_OF_NEW = "(SELECT s.title FROM sources AS s WHERE s.id = NEW.source_id)"

_UP = [
    "ALTER TABLE entries ADD COLUMN search_vector tsvector",
    f"""CREATE FUNCTION entries_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := {_vector("NEW.title", _SOURCE_OF_NEW, "NEW.text")};
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER entries_search_vector_biu
        BEFORE INSERT OR UPDATE OF title, text, source_id ON entries
        FOR EACH ROW EXECUTE FUNCTION entries_search_vector()""",
    f"""CREATE FUNCTION sources_search_title() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.title IS DISTINCT FROM OLD.title THEN
            UPDATE entries AS e SET search_vector = {_vector("e.title", "NEW.title", "e.text")}
            WHERE e.source_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER sources_search_title_au AFTER UPDATE OF title ON sources
        FOR EACH ROW EXECUTE FUNCTION sources_search_title()""",
    f"""UPDATE entries AS e SET search_vector = {_vector("e.title", "s.title", "e.text")}
        FROM sources AS s WHERE s.id = e.source_id""",
    "CREATE INDEX ix_entries_search_vector ON entries USING gin (search_vector)",
]

_DOWN = [
    "DROP INDEX IF EXISTS ix_entries_search_vector",
    "DROP TRIGGER IF EXISTS sources_search_title_au ON sources",
    "DROP FUNCTION IF EXISTS sources_search_title()",
    "DROP TRIGGER IF EXISTS entries_search_vector_biu ON entries",
    "DROP FUNCTION IF EXISTS entries_search_vector()",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWN:
            op.execute(statement)
