"""The audit log: every event, searchable and exportable, never editable.

Reads only. Corrections are compensating events written by the services
that own them; nothing here (or anywhere in the application) updates or
deletes an event row.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..domain.cells import csv_row
from ..domain.masking import mask_address, mask_name, mask_phone
from ..models import Credential, Event, User
from ..permissions import allowed, can_see_pii
from . import events
from .errors import Forbidden, ServiceError

MAX_PAGE = 500
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CSV_COLUMNS = ["id", "at", "action", "result", "reason", "credential_no", "waybill_no", "code",
               "station", "user", "from", "to", "nonce", "details"]


@dataclass
class AuditFilter:
    """What to search for; empty fields do not filter. Dates are local days
    (Asia/Shanghai) and include both ends."""

    item: str | None = None  # credential number, waybill number or scanned code
    user: str | None = None  # user name
    station: str | None = None
    action: str | None = None
    result: str | None = None
    since: str | None = None  # YYYY-MM-DD
    until: str | None = None  # YYYY-MM-DD

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _day(value: str, field: str) -> datetime:
    try:
        d = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ServiceError(f"{field} must be a date like 2026-11-05, got {value!r}", field=field) from None
    return datetime.combine(d, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def _statement(f: AuditFilter):
    stmt = (
        select(Event, Credential.credential_no, Credential.waybill_no, User.username)
        .join(Credential, Credential.id == Event.credential_id, isouter=True)
        .join(User, User.id == Event.user_id, isouter=True)
    )
    # every filter is a bound parameter compared for equality: no pattern, no SQL from input
    if f.item:
        item = f.item.strip()
        ids = select(Credential.id).where(or_(Credential.credential_no == item, Credential.waybill_no == item.upper()))
        stmt = stmt.where(or_(Event.credential_id.in_(ids), Event.code == item, Event.code == item.upper()))
    if f.user:
        stmt = stmt.where(User.username == f.user.strip())
    if f.station:
        stmt = stmt.where(Event.station == f.station.strip().upper())
    if f.action:
        stmt = stmt.where(Event.action == f.action.strip())
    if f.result:
        if f.result not in ("ok", "rejected"):
            raise ServiceError("result must be ok or rejected", field="result")
        stmt = stmt.where(Event.result == f.result)
    if f.since:
        stmt = stmt.where(Event.at >= _day(f.since, "since"))
    if f.until:
        stmt = stmt.where(Event.at < _day(f.until, "until") + timedelta(days=1))
    return stmt


def record_export(session: Session, *, user_id: int | None, role: str, kind: str, personal_data: bool,
                  rows: int | None = None, filters: dict | None = None) -> Event:
    """Authorise and record one export before it is produced.

    An export that contains personal data (names, phones, addresses) needs
    the `export_pii` permission (organizer, admin): anyone else gets
    Forbidden. Every export is recorded as an `export` event with its kind,
    filters and row count (flushed; the caller commits, or uses its own
    write_session on a GET request)."""
    if personal_data and not allowed(role, "export_pii"):
        raise Forbidden(f"role {role} may not export personal data", field="export")
    return events.record(session, action="export", user_id=user_id,
                         details={"kind": kind, "personal_data": personal_data, "rows": rows,
                                  "filters": filters or None})


_PII_KEYS = {"phone": mask_phone, "name": mask_name, "address": mask_address}


def mask_details(details: str | None, role: str) -> str | None:
    """Event details for display: values under keys naming a phone, a name or
    an address are masked for roles that do not see personal data."""
    if not details or can_see_pii(role):
        return details
    try:
        data = json.loads(details)
    except ValueError:
        return details
    return json.dumps(_mask(data), ensure_ascii=False)


def _mask(value, key: str = ""):
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if isinstance(value, str):
        k = key.lower()
        for word, fn in _PII_KEYS.items():
            if word in k and k != "username":
                return fn(value)
    return value


def _row(ev: Event, credential_no, waybill_no, username, role: str) -> dict:
    return {
        "id": ev.id, "at": ev.at.isoformat() if ev.at else None, "action": ev.action, "result": ev.result,
        "reason": ev.reason, "credential_no": credential_no, "waybill_no": waybill_no, "code": ev.code,
        "station": ev.station, "user": username, "from": ev.from_status, "to": ev.to_status,
        "nonce": ev.nonce, "details": mask_details(ev.details, role),
    }


def search(session: Session, f: AuditFilter, *, role: str, limit: int = 100, before: int | None = None) -> dict:
    """A page of events matching `f`, newest first; `next` is the `before`
    cursor of the following page."""
    if not 1 <= limit <= MAX_PAGE:
        raise ServiceError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    stmt = _statement(f)
    if before is not None:
        stmt = stmt.where(Event.id < before)
    rows = session.execute(stmt.order_by(Event.id.desc()).limit(limit + 1)).all()
    out = [_row(*r, role=role) for r in rows[:limit]]
    return {"events": out, "next": out[-1]["id"] if len(rows) > limit else None}


def export_csv(engine: Engine, f: AuditFilter, *, role: str, by: int | None) -> Iterator[str]:
    """Every matching event as CSV (UTF-8 with BOM for Excel), oldest first,
    streamed in chunks. The filter is checked and the export recorded as an
    `audit_export` event before this returns; the rows are read as the
    returned iterator is consumed (in a read transaction of its own, so that
    a long export never holds the write lock)."""
    from ..db import write_session

    stmt = _statement(f)
    with write_session(engine) as s:
        events.record(s, action="audit_export", user_id=by, details={"filter": f.as_dict()})
    return _stream(engine, stmt, role)


def _stream(engine: Engine, stmt, role: str) -> Iterator[str]:
    yield "\ufeff"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    with Session(engine) as s:
        result = s.execute(stmt.order_by(Event.id).execution_options(yield_per=2000))
        for n, r in enumerate(result, 1):
            row = _row(*r, role=role)
            w.writerow(csv_row(row[c] for c in CSV_COLUMNS))
            if n % 2000 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()

