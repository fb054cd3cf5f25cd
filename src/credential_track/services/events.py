"""Writing events: the append-only record of every state change.

Every event row of the application is written here — one row through the
ORM (`record`) or Core (`write`), many rows at once (`write_many`), one row
per item of a SELECT (`write_from_select`), or the bulk paths' own driver
statements (`write_sql`). Each writer checks that the action belongs to the
event vocabulary (`domain.status.EventAction`) and takes PostgreSQL's
event-order lock (event_order.py) before inserting, so the change feed sees
ids in commit order. A test fails if an event is inserted anywhere else.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlmodel import Session

from .. import event_order
from ..db import insert_rows
from ..domain.status import EventAction
from ..models import Event
from ..models.base import utcnow

_E = Event.__table__
_INSERT = insert(_E)


def _action(action: str) -> str:
    """The action's code, refused when it is not in the vocabulary."""
    try:
        return EventAction(action).value
    except ValueError:
        raise ValueError(f"{action!r} is not an event action (domain.status.EventAction)") from None


def details_json(details: dict | None) -> str | None:
    """Event details as stored: JSON, non-ASCII kept, None when empty."""
    return json.dumps(details, ensure_ascii=False) if details else None


def record(
    session: Session,
    *,
    action: str,
    result: str = "ok",
    reason: str | None = None,
    credential_id: int | None = None,
    bag_id: int | None = None,
    trip_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    code: str | None = None,
    station: str | None = None,
    user_id: int | None = None,
    nonce: str | None = None,
    scanned_at: datetime | None = None,
    details: dict | None = None,
    at: datetime | None = None,
    response: str | None = None,
) -> Event:
    """Append one event in an ORM session (flushed, not committed) and
    return it. `response` is the JSON answer a scan gave, kept for replays
    of its nonce."""
    ev = Event(
        action=_action(action), result=result, reason=reason, credential_id=credential_id,
        bag_id=bag_id, trip_id=trip_id, from_status=from_status, to_status=to_status,
        code=code, station=station, user_id=user_id, nonce=nonce, scanned_at=scanned_at,
        details=details_json(details), at=at or utcnow(), response=response,
    )
    event_order.lock(session.connection())
    session.add(ev)
    session.flush()
    return ev


def write(conn: Connection, *, action: str, details: dict | None = None, **columns: Any) -> int:
    """Append one event on a Core connection; its id. `columns` are event
    columns (credential_id, result, reason, station, user_id, nonce, …)."""
    row = {"result": "ok", "at": utcnow(), **columns, "action": _action(action), "details": details_json(details)}
    event_order.lock(conn)
    return conn.execute(_INSERT, row).inserted_primary_key[0]


def write_many(conn: Connection, rows: Sequence[dict]) -> None:
    """Append many events (dicts of the same event columns, `details`
    already JSON or None) at the driver level (db.insert_rows: COPY on
    PostgreSQL, one executemany on SQLite):
    the demo's millions of rows without the per-row cost of bound-parameter
    processing."""
    if not rows:
        return
    for action in {r["action"] for r in rows}:
        _action(action)
    event_order.lock(conn)
    insert_rows(conn, _E, rows, event_writer=True)


def write_from_select(conn: Connection, columns: Sequence[str], select: Select, *,
                      actions: Iterable[str]) -> None:
    """Append one event per row of `select`, whose columns fill `columns` of
    the event table in order; `actions` names the action(s) it writes."""
    for action in actions:
        _action(action)
    event_order.lock(conn)
    conn.execute(insert(_E).from_select(list(columns), select))


def write_sql(conn: Connection, statement: str, parameters: Any, *, actions: Iterable[str]) -> None:
    """Run a driver-level ``INSERT INTO event …`` of the bulk paths (imports,
    revocations), which build their statements for the database's own
    placeholder style; `actions` names the action(s) it writes."""
    if not statement.lstrip().upper().startswith("INSERT INTO EVENT"):
        raise ValueError("write_sql only inserts events")
    for action in actions:
        _action(action)
    event_order.lock(conn)
    conn.exec_driver_sql(statement, parameters)
