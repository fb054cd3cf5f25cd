"""The audit log: every event, searchable and exportable, never editable.

Reads only. Corrections are compensating events written by the services
that own them; nothing here (or anywhere in the application) updates or
deletes an event row.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import clock, vocabulary
from ..domain.cells import csv_chunks
from ..domain.masking import mask_address, mask_name, mask_phone_screen
from ..models import Credential, Event, User
from ..permissions import PiiAccess, PiiPath, personal_data_access
from . import disclosure
from .errors import bad_date, not_between, one_of

MAX_PAGE = 500
CSV_COLUMNS = ["id", "at", "action", "action_code", "result", "result_code", "reason", "reason_code",
               "credential_no", "waybill_no", "code", "station", "user", "from", "from_code", "to", "to_code",
               "nonce", "details"]


@dataclass
class AuditFilter:
    """What to search for; empty fields do not filter. Dates are local days
    (the configured zone, clock.py) and include both ends."""

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
        raise bad_date(field, value) from None
    return clock.day_bounds(d)[0]


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
        # the action's code or its label in either language (交接 → handover);
        # text that names no action matches nothing
        actions = vocabulary.codes_for("action", f.action) or [f.action.strip()]
        stmt = stmt.where(Event.action.in_(actions))
    if f.result:
        results = vocabulary.codes_for("result", f.result)
        if not results:
            raise one_of("result", f.result, ("ok", "rejected"), "result")
        stmt = stmt.where(Event.result.in_(results))
    if f.since:
        stmt = stmt.where(Event.at >= _day(f.since, "since"))
    if f.until:
        stmt = stmt.where(Event.at < _day(f.until, "until") + timedelta(days=1))
    return stmt


# the word in a key that marks personal data below it, and its mask
_PII_KEYS = {"phone": mask_phone_screen, "name": mask_name, "address": mask_address}
_NOT_PII_KEYS = {"username"}
# a mainland mobile number anywhere in a value: masked even under a key that
# names nothing personal (a free-text note, an unforeseen key)
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def shows_personal_data(role: str | None) -> bool:
    """Whether the audit log shows `role` personal data in event details unmasked."""
    return personal_data_access(role, PiiPath.audit) == PiiAccess.full


def mask_details(details: str | None, role: str | None, *, unmasked: bool | None = None) -> str | None:
    """Event details for display. For roles that do not see personal data
    in the audit log, every string *below* a key naming a phone, a name or
    an address is masked, however deep (`{"fields": {"recipient_phone":
    {"from": "133…", "to": "139…"}}}` masks both numbers: the key path
    decides, not only the string's own key), and any mobile number
    elsewhere is masked too. `unmasked` overrides the role (an export
    authorised to hold personal data)."""
    if not details or (shows_personal_data(role) if unmasked is None else unmasked):
        return details
    try:
        data = json.loads(details)
    except ValueError:
        return _MOBILE.sub(lambda m: mask_phone_screen(m.group()), details)
    return json.dumps(_mask(data, None), ensure_ascii=False)


def _pii_mask(key: str):
    k = key.lower()
    if k in _NOT_PII_KEYS:
        return None
    for word, fn in _PII_KEYS.items():
        if word in k:
            return fn
    return None


def _mask(value, mask):
    """`mask`: the mask of the nearest key on the path that names personal data."""
    if isinstance(value, dict):
        return {k: _mask(v, _pii_mask(str(k)) or mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, mask) for v in value]
    if isinstance(value, str):
        if mask is not None:
            return mask(value)
        return _MOBILE.sub(lambda m: mask_phone_screen(m.group()), value)
    if mask is not None and isinstance(value, int) and not isinstance(value, bool):
        return mask(str(value))
    return value


def _row(ev: Event, credential_no, waybill_no, username, role: str | None, unmasked: bool | None = None) -> dict:
    return {
        "id": ev.id, "at": ev.at.isoformat() if ev.at else None, "action": ev.action, "result": ev.result,
        "reason": ev.reason, "credential_no": credential_no, "waybill_no": waybill_no, "code": ev.code,
        "station": ev.station, "user": username, "from": ev.from_status, "to": ev.to_status,
        "nonce": ev.nonce, "details": mask_details(ev.details, role, unmasked=unmasked),
    }


def search(session: Session, f: AuditFilter, *, role: str, limit: int = 100, before: int | None = None) -> dict:
    """A page of events matching `f`, newest first; `next` is the `before`
    cursor of the following page."""
    if not 1 <= limit <= MAX_PAGE:
        raise not_between("limit", 1, MAX_PAGE)
    stmt = _statement(f)
    if before is not None:
        stmt = stmt.where(Event.id < before)
    rows = session.execute(stmt.order_by(Event.id.desc()).limit(limit + 1)).all()
    out = [_row(*r, role=role) for r in rows[:limit]]
    return {"events": out, "next": out[-1]["id"] if len(rows) > limit else None}


def export_csv(engine: Engine, f: AuditFilter, *, role: str | None, by: int | None,
               personal: bool = False) -> Iterator[str]:
    """Every matching event as CSV (UTF-8 with BOM for Excel), oldest first,
    streamed in chunks. Personal data in event details is masked unless
    `personal` is asked for, which needs the right to export personal data
    (disclosure.authorise_export: 403 otherwise). The filter is checked and
    the export recorded as an `export` event before this returns; the rows
    are read as the returned iterator is consumed (in a read transaction of
    its own, so that a long export never holds the write lock)."""
    stmt = _statement(f)
    disclosure.authorise_export(engine, user_id=by, role=role, kind="audit_csv", personal_data=personal,
                                fmt="csv", filters=f.as_dict())
    return _stream(engine, stmt, role, personal)


def labelled_row(row: dict) -> dict:
    """An event row as the CSV writes it: labels for people in the reader's
    language, the codes beside them, the time in ISO 8601 with the
    configured zone's offset."""
    out = dict(row)
    out["at"] = clock.iso_local(row["at"])
    for key, kind in (("action", "action"), ("result", "result"), ("reason", "reason")):
        out[f"{key}_code"] = row[key]
        out[key] = vocabulary.label(kind, row[key])
    for key in ("from", "to"):
        out[f"{key}_code"] = row[key]
        out[key] = vocabulary.state_label(row[key], row["action"])
    return out


def _stream(engine: Engine, stmt, role: str | None, personal: bool) -> Iterator[str]:
    with Session(engine) as s:
        result = s.execute(stmt.order_by(Event.id).execution_options(yield_per=2000))
        labelled = (labelled_row(_row(*r, role=role, unmasked=personal)) for r in result)
        yield from csv_chunks(([row[c] for c in CSV_COLUMNS] for row in labelled),
                              header=[vocabulary.header(c) for c in CSV_COLUMNS])

