"""store/migrate.py: the cheap "already current?" check and when alembic gets imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from netplanet.store import open_store
from netplanet.store.migrate import HEAD_REVISION, current_revision, head_revision, migrate


def test_head_constant_is_alembics_head() -> None:
    # A new migration must bump HEAD_REVISION (migrate() would fall back to alembic otherwise).
    assert head_revision() == HEAD_REVISION


def _check_migrate(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        assert current_revision(engine) is None  # no alembic_version table yet
        assert migrate(engine) is True
        assert current_revision(engine) == HEAD_REVISION
        assert migrate(engine) is False
    finally:
        engine.dispose()


def test_migrate_sqlite(tmp_path: Path) -> None:
    _check_migrate(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrate_postgres(postgres_url: str) -> None:
    _check_migrate(postgres_url)


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    open_store(url).close()
    code = (
        "import sys; from netplanet.store import open_store; "
        f"open_store({url!r}).close(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
