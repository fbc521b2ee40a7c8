"""Alembic migrations for every backend (append-only)."""
