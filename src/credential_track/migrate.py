"""Bring a database to the current schema with Alembic."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# The migrations were numbered 0001, 0003–0007, 0009 until they were
# renumbered without the gaps. A database made before holds "0009" when it
# was current: that id exists no more and names today's 0007. (A database
# left at an older number of the old scheme would read as a later migration
# of the new one; none was ever deployed so.)
RENUMBERED = {"0009": "0007"}


def _stamp_renumbered(conn) -> None:
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return
    for old, new in RENUMBERED.items():
        conn.execute(text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                     {"new": new, "old": old})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision` on `engine`'s database."""
    cfg = alembic_config()
    with engine.begin() as conn:
        _stamp_renumbered(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
