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


def test_the_migrations_are_numbered_without_gaps_and_chained_in_order():
    import re

    from credential_track.migrate import MIGRATIONS

    chain = []
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text = path.read_text()
        rev = re.search(r"^revision(?::\s*str)?\s*=\s*['\"](\d+)['\"]", text, re.M).group(1)
        down = re.search(r"^down_revision[^=]*=\s*(?:['\"](\d+)['\"]|None)", text, re.M).group(1)
        assert path.name.startswith(rev + "_"), path.name
        chain.append((rev, down))
    assert [r for r, _ in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert [d for _, d in chain] == [None] + [r for r, _ in chain[:-1]]


def test_a_database_current_under_the_old_numbers_is_carried_to_the_new_ones(engine):
    from alembic import command
    from sqlalchemy import text

    from credential_track import migrate

    with engine.begin() as conn:
        (head,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")  # the schema that was current under the old numbers
        conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head == "0008"
