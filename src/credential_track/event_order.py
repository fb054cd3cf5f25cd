"""Event ids in commit order on PostgreSQL.

A sequence hands out ids when rows are inserted, not when transactions
commit: transaction A may take id 10, B id 11, and B commit first. A reader
paging the change feed by id would then pass 11 and never see 10. To make
"id order = commit order" hold, every transaction that inserts into the
event table takes one transaction-scoped advisory lock just before its first
event insert; the lock is released only after the commit is visible, so the
ids of one transaction are all allocated after the previous writer's commit.

Every event is written through `services/events.py`, which calls `lock`
before its insert. SQLite needs nothing: it has one writer at a time and a
write transaction holds the lock from BEGIN IMMEDIATE to COMMIT.
"""
from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

# an arbitrary 64-bit key for "the event table's id order"
LOCK_KEY = 0x4354_4556_454E_5453 & 0x7FFF_FFFF_FFFF_FFFF
_FLAG = "credtrack_event_lock"
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock(conn: Connection) -> None:
    """Take the event-order lock for the connection's transaction (once;
    PostgreSQL only). Call it before inserting into the event table."""
    if conn.dialect.name != "postgresql" or conn.info.get(_FLAG):
        return
    conn.execute(_LOCK, {"key": LOCK_KEY})
    conn.info[_FLAG] = True


def install(engine: Engine) -> None:
    """Forget the lock flag whenever a transaction on `engine` begins or
    ends (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return

    def _clear(conn, *args):
        conn.info.pop(_FLAG, None)

    # cleared when a transaction begins as well as when it ends: a connection
    # returned to the pool is rolled back by the driver, not through these events
    event.listen(engine, "begin", _clear)
    event.listen(engine, "commit", _clear)
    event.listen(engine, "rollback", _clear)
