"""Writing events: the append-only record of every state change."""
from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from ..models import Event
from ..models.base import utcnow


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
    """Append one event (flushed, not committed) and return it. `response`
    is the JSON answer a scan gave, kept for replays of its nonce."""
    ev = Event(
        action=action, result=result, reason=reason, credential_id=credential_id,
        bag_id=bag_id, trip_id=trip_id, from_status=from_status, to_status=to_status,
        code=code, station=station, user_id=user_id, nonce=nonce, scanned_at=scanned_at,
        details=json.dumps(details, ensure_ascii=False) if details else None,
        at=at or utcnow(), response=response,
    )
    session.add(ev)
    session.flush()
    return ev
