"""The models and the Alembic migrations describe the same schema, on both
databases: a model change without its migration (or the reverse) fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from credential_track.models import metadata


def _include(obj, name, type_, reflected, compare_to) -> bool:
    # the hotline search's own structures, made by hand per database in its
    # migration: SQLite's full-text tables, PostgreSQL's trigram and "C"-collation indexes
    if type_ == "table" and name and (name.startswith("credential_fts") or name == "alembic_version"):
        return False
    if type_ == "index" and reflected and name and name.startswith("ix_credential_") and (
            name.endswith("_trgm") or name.endswith("_c")):
        return False
    return True


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
        diff = compare_metadata(ctx, metadata)
    assert diff == []
