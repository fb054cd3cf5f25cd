"""What the technical-support desks look at: the database's size, the last
backup, whether the database and the queue answer."""
from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

LAST_BACKUP_KEY = "credtrack:last_backup"


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 — any failure means not ready
        return False


def database_bytes(engine: Engine) -> int | None:
    """The database's size on disk: SQLite's file with its WAL, PostgreSQL's
    pg_database_size; None when it cannot be read."""
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:":
            return None
        return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_database_size(current_database())")).scalar()


def record_backup(*, path: str | Path, size: int, method: str) -> None:
    """Keep the last backup taken (`credtrack backup`) in the queue's store,
    where every app process and machine reads it."""
    from ..tasks.queue import huey

    huey.put(LAST_BACKUP_KEY, {"path": str(path), "bytes": size, "method": method, "at": time.time()})


def last_backup() -> dict | None:
    from ..tasks import records
    from ..tasks.queue import huey

    info = huey.get(LAST_BACKUP_KEY, peek=True)
    return None if info is None else {**info, "at": records.at(info["at"])}
