"""Search indexing leaves the write path: a queue of posts to index, filled by triggers.

Until 0010 every insert or edit of a post indexed it inside the write (SQLite: FTS5 triggers;
PostgreSQL: a BEFORE trigger computing `search_vector`), which was ~85% of the group commit's
time in a cold round. Now the triggers only put the post's id in `search_queue` (one small
B-tree row, in the same transaction as the post), and `store/indexing.py` indexes queued posts
later, in batches of their own transactions, and removes them from the queue in the same
transaction: a crash mid-batch leaves the queue as it was, and the batch is simply redone.

- Insert, or an edit that changes the title or the text: the id is queued (once).
- Delete: SQLite's FTS row goes at once, as before (a reused rowid must never find another
  post's words), and the id leaves the queue; PostgreSQL's vector goes with its row.
- A source's new title still updates its posts' index rows at once (0001/0002 triggers: rare).

Posts stored before this migration are already indexed: the queue starts empty. Downgrade
indexes whatever is still queued, then restores the 0001/0002 triggers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE_UP = [
    "CREATE TABLE search_queue (entry_id INTEGER NOT NULL, CONSTRAINT pk_search_queue"
    " PRIMARY KEY (entry_id))",
    "DROP TRIGGER entries_fts_ai",
    "DROP TRIGGER entries_fts_au",
    "DROP TRIGGER entries_fts_ad",
    """CREATE TRIGGER search_queue_ai AFTER INSERT ON entries BEGIN
        INSERT OR IGNORE INTO search_queue(entry_id) VALUES (new.id);
    END""",
    """CREATE TRIGGER search_queue_au AFTER UPDATE OF title, text ON entries
        WHEN new.title IS NOT old.title OR new.text IS NOT old.text BEGIN
        INSERT OR IGNORE INTO search_queue(entry_id) VALUES (new.id);
    END""",
    """CREATE TRIGGER entries_fts_ad AFTER DELETE ON entries BEGIN
        DELETE FROM entries_fts WHERE rowid = old.id;
        DELETE FROM search_queue WHERE entry_id = old.id;
    END""",
]

# 0001's triggers, put back by downgrade after the queued posts are indexed.
_SQLITE_DOWN = [
    """DELETE FROM entries_fts WHERE rowid IN (SELECT entry_id FROM search_queue)""",
    """INSERT INTO entries_fts(rowid, title, text, source)
        SELECT e.id, e.title, e.text, s.title FROM search_queue AS q
        JOIN entries AS e ON e.id = q.entry_id JOIN sources AS s ON s.id = e.source_id""",
    "DROP TRIGGER search_queue_ai",
    "DROP TRIGGER search_queue_au",
    "DROP TRIGGER entries_fts_ad",
    "DROP TABLE search_queue",
    """CREATE TRIGGER entries_fts_ai AFTER INSERT ON entries BEGIN
        INSERT INTO entries_fts(rowid, title, text, source)
        VALUES (new.id, new.title, new.text,
                (SELECT title FROM sources WHERE id = new.source_id));
    END""",
    """CREATE TRIGGER entries_fts_au AFTER UPDATE OF title, text ON entries BEGIN
        DELETE FROM entries_fts WHERE rowid = old.id;
        INSERT INTO entries_fts(rowid, title, text, source)
        VALUES (new.id, new.title, new.text,
                (SELECT title FROM sources WHERE id = new.source_id));
    END""",
    """CREATE TRIGGER entries_fts_ad AFTER DELETE ON entries BEGIN
        DELETE FROM entries_fts WHERE rowid = old.id;
    END""",
]

_POSTGRES_UP = [
    "CREATE TABLE search_queue (entry_id integer NOT NULL,"
    " CONSTRAINT pk_search_queue PRIMARY KEY (entry_id))",
    "DROP TRIGGER entries_search_vector_biu ON entries",
    """CREATE FUNCTION entries_search_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_queue WHERE entry_id = OLD.id;
        ELSIF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
                OR NEW.text IS DISTINCT FROM OLD.text THEN
            INSERT INTO search_queue (entry_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER entries_search_enqueue_aiud
        AFTER INSERT OR UPDATE OF title, text OR DELETE ON entries
        FOR EACH ROW EXECUTE FUNCTION entries_search_enqueue()""",
]

_POSTGRES_DOWN = [
    """UPDATE entries AS e SET search_vector =
        setweight(to_tsvector('english', coalesce(e.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(s.title, '')), 'B')
        || setweight(to_tsvector('english', coalesce(e.text, '')), 'C')
        FROM sources AS s, search_queue AS q
        WHERE s.id = e.source_id AND q.entry_id = e.id""",
    "DROP TRIGGER entries_search_enqueue_aiud ON entries",
    "DROP FUNCTION entries_search_enqueue()",
    "DROP TABLE search_queue",
    # 0002's function is still there; only its trigger was dropped.
    """CREATE TRIGGER entries_search_vector_biu
        BEFORE INSERT OR UPDATE OF title, text, source_id ON entries
        FOR EACH ROW EXECUTE FUNCTION entries_search_vector()""",
]


def upgrade() -> None:
    statements = _SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
