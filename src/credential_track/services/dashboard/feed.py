"""The change feed for the organizer's systems: every event in commit order.

The cursor is the id of the last event delivered. Ids are allocated in commit
order (event_order.py), so when a reader sees event n committed, every event
below n is committed or will never exist: paging by id neither skips nor
repeats, even while stations write.
"""
from __future__ import annotations

from sqlalchemy import String, func, literal_column, select
from sqlmodel import Session

from ...domain.numbers import whole_number
from ...models import Credential, Event
from ..errors import bad_cursor, not_between

MAX_LIMIT = 10_000


def parse_cursor(after: str | None) -> int:
    """The event id a cursor stands for (an empty cursor: the beginning)."""
    if after in (None, ""):
        return 0
    n = whole_number(after)
    if n is None:
        raise bad_cursor("after")
    return n


def changes(session: Session, *, after: str | None = None, limit: int = 1000) -> dict:
    """The events after `after`, oldest first, and the cursor to continue
    from (the same cursor when nothing new has been committed)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise not_between("limit", 1, MAX_LIMIT)
    start = parse_cursor(after)
    # the timestamp formatted by the database: per-row datetime objects
    # would cost more than the rest of the page
    rows = session.connection().execute(
        select(Event.id, Credential.credential_no, Event.action, Event.result, Event.reason,
               Event.from_status, Event.to_status, Event.station, Event.code, _iso_at(session))
        .join(Credential, Credential.id == Event.credential_id, isouter=True)
        .where(Event.id > start).order_by(Event.id).limit(limit)).all()
    events = [
        {"id": r[0], "credential_no": r[1], "action": r[2], "result": r[3], "reason": r[4],
         "from": r[5], "to": r[6], "station": r[7], "code": None if r[1] else r[8], "at": r[9]}
        for r in rows
    ]
    return {"events": events, "next": str(rows[-1][0]) if rows else str(start)}


def _iso_at(session: Session):
    """event.at as ISO 8601 text in UTC, as datetime.isoformat() writes it."""
    if session.bind.dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.replace(Event.at, " ", "T").concat("+00:00").label("at")
    return literal_column(
        "to_char(event.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')", String).label("at")
