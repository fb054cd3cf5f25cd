"""EMS delivery events: what happens to an item after it leaves our hands.

Events come from the API (`POST /api/v1/delivery-events`) and from files
(`credtrack import delivery-events`). Each is keyed by (waybill, event, at):
sending the same event again applies it once. An event that moves the item
does so through the domain's transition table, is recorded as an ``Event``
row with the system action of the same name, and feeds the outreach rules
and the notification outbox.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..domain.status import SystemAction, TransitionRefused, next_status
from ..models import Credential, DeliveryEvent
from ..models.base import utcnow
from ..vocabulary import field_label
from . import events, notify, outreach

# EMS (UPU EMSEVT) event codes. Those that move an item map to a normalized
# event name; the others are recorded against the item without moving it.
EMS_CODES: dict[str, str | None] = {
    "EMA": None,  # posting / collection
    "EMB": None,  # arrival at outward office of exchange
    "EMC": None,  # departure from outward office of exchange
    "EMD": None,  # arrival at inward office of exchange
    "EME": None,  # held at inward office of exchange
    "EMF": None,  # departure from inward office of exchange
    "EMG": SystemAction.out_for_delivery.value,  # arrival at delivery office: on its last leg
    "EMH": SystemAction.delivery_failed.value,  # unsuccessful delivery attempt
    "EMI": SystemAction.delivered.value,  # final delivery
    "EMJ": None,  # arrival at transit office of exchange
    "EMK": None,  # departure from transit office of exchange
    "EDG": SystemAction.out_for_delivery.value,  # item out for delivery
}
NORMALIZED = {
    SystemAction.out_for_delivery.value, SystemAction.delivered.value,
    SystemAction.delivery_failed.value, SystemAction.returned.value,
}
MAX_BATCH = 1000


@dataclass
class DeliveryInput:
    """One event as sent, checked for shape (not yet against the items)."""

    waybill: str
    code: str  # as sent
    event: str  # normalized name, or the EMS code when informational
    at: datetime
    location: str = ""
    reason: str = ""


class EventFieldError(Exception):
    """A malformed event; `field` names the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def normalize_event(code: str) -> str | None:
    """`EMH` → `delivery_failed`, `delivered` → `delivered`, `EMA` → `EMA`;
    None when the code is neither an EMS code nor a normalized name."""
    raw = (code or "").strip()
    if raw.lower() in NORMALIZED:
        return raw.lower()
    upper = raw.upper()
    if upper in EMS_CODES:
        return EMS_CODES[upper] or upper
    return None


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:  # EMS feeds without an offset are in China time
        from datetime import timedelta
        dt = dt.replace(tzinfo=timezone(timedelta(hours=8)))
    return dt.astimezone(UTC)


def check_event(raw: Any) -> DeliveryInput:
    """Check one event's shape; raises EventFieldError naming the field."""
    if not isinstance(raw, dict):
        raise EventFieldError("", _("each event must be an object"))
    waybill = raw.get("waybill")
    if not isinstance(waybill, str) or not waybill.strip():
        raise EventFieldError("waybill", _("the waybill is required"))
    waybill = waybill.strip().upper()
    if len(waybill) > 20:
        raise EventFieldError("waybill", _("the waybill “%(value)s” is longer than 20 characters", value=waybill[:24]))
    code = raw.get("event")
    if not isinstance(code, str) or not code.strip():
        raise EventFieldError("event", _("the event is required"))
    event = normalize_event(code)
    if event is None:
        raise EventFieldError("event", _("the event “%(value)s” is neither an EMS code (EMA…EMK) nor one of %(names)s",
                                         value=code[:30], names=", ".join(sorted(NORMALIZED))))
    try:
        at = _parse_time(raw.get("at"))
    except ValueError:
        raise EventFieldError("at", _("the time must be ISO 8601, not “%(value)s”", value=str(raw.get("at"))[:40])) from None
    out = {}
    for name in ("location", "reason"):
        value = raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise EventFieldError(name, _("%(field)s must be text", field=field_label(name)))
        if len(value) > 200:
            raise EventFieldError(name, _("%(field)s is longer than %(max)s characters", field=field_label(name), max=200))
        out[name] = value.strip()
    return DeliveryInput(waybill=waybill, code=code.strip(), event=event, at=at, **out)


def apply_events(session: Session, inputs: Iterable[DeliveryInput | EventFieldError], *,
                 user_id: int | None = None, now: datetime | None = None,
                 settings: outreach.OutreachSettings | None = None) -> list[dict]:
    """Apply checked events in `session` (a write session; the caller
    commits). Returns one result per input, in order:

    ``{"result": "applied"|"recorded"|"duplicate"|"rejected"|"error", ...}``

    ``applied`` moved the item, ``recorded`` kept an informational EMS event,
    ``duplicate`` had been received before (with the first outcome),
    ``rejected`` names a reason (``unknown_code``, ``wrong_stage``,
    ``already_done``) and ``error`` a malformed field. A rejected event may be
    sent again later and is then decided afresh.
    """
    now = now or utcnow()
    results: list[dict] = []
    touched: set[int] = set()
    failed: set[int] = set()
    for i, ev in enumerate(inputs):
        if isinstance(ev, EventFieldError):
            results.append({"index": i, "result": "error", "field": ev.field, "error": ev.message})
            continue
        res, cid = _apply_one(session, ev, user_id=user_id, now=now)
        res["index"] = i
        results.append(res)
        if res["result"] == "applied" and cid is not None:
            touched.add(cid)
            if res["event"] == SystemAction.delivery_failed.value:
                failed.add(cid)
    if touched:
        outreach.run_rules(session, credential_ids=sorted(touched), now=now, settings=settings)
    if failed:
        notify.queue(session, kind="delivery_failed", credential_ids=sorted(failed), now=now)
    return results


def _apply_one(session: Session, ev: DeliveryInput, *, user_id, now) -> tuple[dict, int | None]:
    base = {"waybill": ev.waybill, "event": ev.event, "at": ev.at.isoformat()}
    # lock the item first: a concurrent request with the same event waits here
    # and then finds the first one's row
    item = session.exec(select(Credential).where(Credential.waybill_no == ev.waybill).with_for_update()).first()
    existing = session.exec(select(DeliveryEvent).where(
        DeliveryEvent.waybill_no == ev.waybill, DeliveryEvent.event == ev.event,
        DeliveryEvent.at == ev.at)).first()
    if existing is not None and existing.result != "rejected":
        return {**base, "result": "duplicate", "first_result": existing.result,
                "event_id": existing.event_id}, None
    try:
        with session.begin_nested():
            row = _decide(session, ev, item, existing, user_id=user_id, now=now)
    except IntegrityError:
        # the same event for an unknown waybill arrived through another request at the same moment
        return {**base, "result": "duplicate", "first_result": None, "event_id": None}, None
    out = {**base, "result": row.result, "event_id": row.event_id}
    if row.refusal:
        out["reason"] = row.refusal
    if item is not None:
        out["status"] = item.status
    return out, item.id if item else None


def _decide(session: Session, ev: DeliveryInput, item: Credential | None, existing: DeliveryEvent | None, *,
            user_id, now) -> DeliveryEvent:
    row = existing or DeliveryEvent(waybill_no=ev.waybill, event=ev.event, code=ev.code, at=ev.at,
                                    location=ev.location, reason=ev.reason, result="rejected")
    row.credential_id = item.id if item else None
    row.received_at = now
    if item is None:
        row.result, row.refusal = "rejected", "unknown_code"
    elif ev.event not in NORMALIZED:
        row.result, row.refusal = "recorded", None
    else:
        try:
            target = next_status(ev.event, item.status)
        except TransitionRefused as refused:
            row.result, row.refusal = "rejected", refused.reason.value
        else:
            details = {"ems": ev.code}
            if ev.location:
                details["location"] = ev.location
            if ev.reason:
                details["reason"] = ev.reason
            record = events.record(
                session, action=ev.event, credential_id=item.id, from_status=item.status,
                to_status=target.value, code=ev.waybill, user_id=user_id, scanned_at=ev.at, at=now,
                details=details)
            item.status = target.value
            item.updated_at = now
            session.add(item)
            row.result, row.refusal, row.event_id = "applied", None, record.id
    session.add(row)
    session.flush()
    return row


# ---- files -------------------------------------------------------------

HEADERS = {
    "waybill": "waybill", "waybill_no": "waybill", "运单号": "waybill", "邮件号": "waybill",
    "event": "event", "code": "event", "事件": "event", "事件代码": "event",
    "at": "at", "time": "at", "时间": "at",
    "location": "location", "地点": "location",
    "reason": "reason", "原因": "reason",
}


def read_file(path: str) -> Iterator[tuple[int, Any]]:
    """Yield (row number, raw event dict) from a CSV or JSON file. CSV rows
    are numbered as a spreadsheet shows them (header = 1); JSON events from 1.
    Raises EventFieldError for a file that cannot be read at all."""
    with open(path, "rb") as f:
        data = f.read()
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise EventFieldError("file", _("the file is neither UTF-8 nor GB18030 text"))
    stripped = text.lstrip()
    if path.lower().endswith(".json") or stripped.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventFieldError("file", _("not valid JSON: %(error)s", error=exc)) from None
        rows = doc.get("events") if isinstance(doc, dict) else doc
        if not isinstance(rows, list):
            raise EventFieldError("events", _("a JSON file holds a list of events or {\"events\": [...]}"))
        for n, row in enumerate(rows, start=1):
            yield n, row
        return
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise EventFieldError("file", _("the file is empty"))
    names = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for h in header]
    for need in ("waybill", "event", "at"):
        if need not in names:
            raise EventFieldError("header", _("the header has no %(column)s column", column=need))
    for n, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        yield n, {name: value for name, value in zip(names, values) if name}
