"""The change feed for the organizer's systems: every event in commit order.

The cursor is the id of the last event delivered. Ids are allocated in commit
order (event_order.py), so when a reader sees event n committed, every event
below n is committed or will never exist: paging by id neither skips nor
repeats, even while stations write.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from ...models import Credential, Event
from ..errors import ServiceError

MAX_LIMIT = 10_000


def parse_cursor(after: str | None) -> int:
    """The event id a cursor stands for (an empty cursor: the beginning)."""
    if after in (None, ""):
        return 0
    if not after.isdigit() or len(after) > 18:
        raise ServiceError("after must be a cursor returned by a previous page", field="after")
    return int(after)


def changes(session: Session, *, after: str | None = None, limit: int = 1000) -> dict:
    """The events after `after`, oldest first, and the cursor to continue
    from (the same cursor when nothing new has been committed)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ServiceError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    start = parse_cursor(after)
    rows = session.execute(
        select(Event.id, Credential.credential_no, Event.action, Event.result, Event.reason,
               Event.from_status, Event.to_status, Event.station, Event.code, Event.at)
        .join(Credential, Credential.id == Event.credential_id, isouter=True)
        .where(Event.id > start).order_by(Event.id).limit(limit)).all()
    events = [
        {"id": r[0], "credential_no": r[1], "action": r[2], "result": r[3], "reason": r[4],
         "from": r[5], "to": r[6], "station": r[7], "code": r[8] if r[1] is None else None,
         "at": r[9].isoformat()}
        for r in rows
    ]
    return {"events": events, "next": str(rows[-1][0]) if rows else str(start)}
