"""Event ids in commit order on PostgreSQL.

A sequence hands out ids when rows are inserted, not when transactions
commit: transaction A may take id 10, B id 11, and B commit first. A reader
paging the change feed by id would then pass 11 and never see 10. To make
"id order = commit order" hold, every transaction that inserts into the
event table takes one transaction-scoped advisory lock just before its first
event insert; the lock is released only after the commit is visible, so the
ids of one transaction are all allocated after the previous writer's commit.

The hook sits on the engine (``before_cursor_execute``), so every writer —
the scan service, bulk moves, the demo, imports — is covered without having
to remember it. SQLite needs nothing: it has one writer at a time and a
write transaction holds the lock from BEGIN IMMEDIATE to COMMIT.
"""
from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

# an arbitrary 64-bit key for "the event table's id order"
LOCK_KEY = 0x4354_4556_454E_5453 & 0x7FFF_FFFF_FFFF_FFFF
_FLAG = "credtrack_event_lock"
_INSERT_EVENT = re.compile(r'^\s*INSERT\s+INTO\s+"?event"?[\s(]', re.IGNORECASE)


def install(engine: Engine) -> None:
    """Make every transaction on `engine` that inserts events take the
    event-order lock first (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_event_insert(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get(_FLAG) or not _INSERT_EVENT.match(statement):
            return
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.info[_FLAG] = True

    def _clear(conn, *args):
        conn.info.pop(_FLAG, None)

    # cleared when a transaction begins as well as when it ends: a connection
    # returned to the pool is rolled back by the driver, not through these events
    event.listen(engine, "begin", _clear)
    event.listen(engine, "commit", _clear)
    event.listen(engine, "rollback", _clear)
