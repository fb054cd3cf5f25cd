"""Handover batches: receiving what the organizer hands over and
reconciling it against the manifest.

Each manifest import is a batch. A batch is received either as a whole (a
counted quantity: every item of the batch still `registered` moves to
`received`, one `handover` event each) or item by item with handover scans
that carry the batch in their context (`context.batch`, the batch id or
name). Closing a batch lists

* missing: items of the batch never received (still `registered`);
* extra: codes scanned into the batch that are not in its manifest — an
  unknown code (the refused scan event keeps the batch in its details) or
  an item that belongs to another batch.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_
from sqlmodel import Session, select

from .. import clock, vocabulary
from ..domain.cells import csv_chunks
from ..domain.numbers import whole_number
from ..domain.status import Action, Status
from ..models import Credential, Event, HandoverBatch
from ..models.base import utcnow
from . import events
from .errors import Conflict, NotFound, ServiceError
from .scan import move_items

LIST_LIMIT = 200


@dataclass
class Extra:
    code: str
    reason: str  # unknown_code, invalid_waybill or other_batch
    credential_no: str | None
    other_batch: str | None
    station: str | None
    at: str


def get_batch(session: Session, ref: int | str) -> HandoverBatch:
    """A batch by id or name; ServiceError (404) when there is none."""
    batch = None
    batch_id = whole_number(ref)
    if batch_id is not None:
        batch = session.get(HandoverBatch, batch_id)
    if batch is None:
        batch = session.exec(select(HandoverBatch).where(HandoverBatch.name == str(ref))).first()
    if batch is None:
        raise NotFound(_("There is no handover batch “%(batch)s”.", batch=ref), field="batch")
    return batch


def list_batches(session: Session, *, limit: int = 100) -> list[dict]:
    """The newest batches with their counts."""
    batches = session.exec(select(HandoverBatch).order_by(HandoverBatch.id.desc()).limit(limit)).all()
    return [summary(session, b) for b in batches]


def received_count(session: Session, batch: HandoverBatch) -> int:
    return session.scalar(select(func.count()).select_from(Credential).where(
        Credential.batch_id == batch.id, Credential.status != Status.registered.value)) or 0


def missing_count(session: Session, batch: HandoverBatch) -> int:
    return session.scalar(select(func.count()).select_from(Credential).where(
        Credential.batch_id == batch.id, Credential.status == Status.registered.value)) or 0


def summary(session: Session, batch: HandoverBatch, *, with_lists: bool = False) -> dict:
    """A batch with expected / received / missing / extra counts (and the
    first missing and extra items when `with_lists`)."""
    extras = extra_items(session, batch)
    out = {
        "id": batch.id, "name": batch.name, "source_file": batch.source_file, "state": batch.state,
        "expected": batch.expected, "counted": batch.counted, "received": received_count(session, batch),
        "missing": missing_count(session, batch), "extra": len(extras),
        "created_at": _iso(batch.created_at), "received_at": _iso(batch.received_at),
        "closed_at": _iso(batch.closed_at),
    }
    if with_lists:
        out["missing_items"] = [
            {"credential_no": no, "credential_type": t, "route": r}
            for no, t, r in session.exec(
                select(Credential.credential_no, Credential.credential_type, Credential.route)
                .where(Credential.batch_id == batch.id, Credential.status == Status.registered.value)
                .order_by(Credential.id).limit(LIST_LIMIT))
        ]
        out["extra_items"] = [e.__dict__ for e in extras[:LIST_LIMIT]]
    return out


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def receive_batch(session: Session, ref: int | str, *, counted: int, user_id: int | None = None,
                  station: str | None = None) -> dict:
    """Receive a batch as a whole with the quantity counted: items still
    `registered` (and not revoked) become `received`, one event each, and
    the batch records the count. Returns the batch summary with `difference`
    (counted − expected)."""
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise ServiceError(_("The counted quantity must be a whole number, 0 or more."), field="counted")
    batch = get_batch(session, ref)
    if batch.state == "closed":
        raise Conflict(_("The handover batch %(batch)s is closed.", batch=batch.name), field="batch")
    now = utcnow()
    moved = move_items(
        session, where=(Credential.batch_id == batch.id) & (Credential.revoked == False),  # noqa: E712
        action=Action.handover, source=Status.registered, target=Status.received, station=station,
        user_id=user_id, at=now)
    batch.counted = counted
    batch.received_at = now
    session.add(batch)
    events.record(session, action="receive_batch", station=station, user_id=user_id, at=now,
                  details={"batch": batch.id, "name": batch.name, "counted": counted,
                           "expected": batch.expected, "moved": moved})
    session.flush()
    out = summary(session, batch)
    out["moved"] = moved
    out["difference"] = counted - batch.expected
    return out


def close_batch(session: Session, ref: int | str, *, user_id: int | None = None) -> dict:
    """Close a batch: no more receiving into it; the summary lists missing
    and extra items."""
    batch = get_batch(session, ref)
    if batch.state == "closed":
        raise Conflict(_("The handover batch %(batch)s is closed already.", batch=batch.name), field="batch")
    out = summary(session, batch, with_lists=True)
    batch.state = "closed"
    batch.closed_at = utcnow()
    session.add(batch)
    events.record(session, action="close_batch", user_id=user_id, at=batch.closed_at,
                  details={"batch": batch.id, "name": batch.name, "expected": batch.expected,
                           "received": out["received"], "missing": out["missing"], "extra": out["extra"]})
    session.flush()
    out.update(state="closed", closed_at=_iso(batch.closed_at))
    return out


def _batch_keys(batch: HandoverBatch) -> set[str]:
    return {str(batch.id), batch.name}


def extra_items(session: Session, batch: HandoverBatch) -> list[Extra]:
    """Codes scanned into this batch that its manifest does not hold (one per code)."""
    keys = _batch_keys(batch)
    stmt = (
        select(Event.code, Event.reason, Event.station, Event.at, Event.details, Credential.credential_no,
               Credential.batch_id)
        .join(Credential, Credential.id == Event.credential_id, isouter=True)
        .where(Event.action == Action.handover.value, Event.code.is_not(None),
               Event.details.like('%"batch"%'),
               or_(Event.credential_id.is_(None), Credential.batch_id.is_(None),
                   Credential.batch_id != batch.id))
        .order_by(Event.id)
    )
    seen: dict[str, Extra] = {}
    other_names: dict[int, str] = {}
    for code, reason, station, at, details, credential_no, other_id in session.exec(stmt):
        try:
            ctx = json.loads(details or "{}")
        except ValueError:
            continue
        if str(ctx.get("batch", "")).strip() not in keys or code in seen:
            continue
        other = None
        if credential_no is not None and other_id is not None:
            if other_id not in other_names:
                b = session.get(HandoverBatch, other_id)
                other_names[other_id] = b.name if b else str(other_id)
            other = other_names[other_id]
        seen[code] = Extra(code=code, reason=reason if credential_no is None else "other_batch",
                           credential_no=credential_no, other_batch=other, station=station, at=_iso(at) or "")
    return list(seen.values())


DISCREPANCY_COLUMNS = ["kind", "kind_code", "code", "credential_no", "credential_type", "credential_type_code",
                       "route", "route_code", "reason", "reason_code", "other_batch", "station", "scanned_at"]


def discrepancy_rows(session: Session, batch: HandoverBatch, lang: str | None = None) -> Iterator[list]:
    """Missing then extra items of a batch, as rows for the organizer
    (DISCREPANCY_COLUMNS): labels in `lang` beside the codes, local times."""
    word = vocabulary.label
    stmt = (select(Credential.credential_no, Credential.credential_type, Credential.route)
            .where(Credential.batch_id == batch.id, Credential.status == Status.registered.value)
            .order_by(Credential.id).execution_options(yield_per=2000))
    missing, extra = word("discrepancy_kind", "missing", lang), word("discrepancy_kind", "extra", lang)
    not_received = word("reason", "not_received", lang)
    for no, ctype, route in session.exec(stmt):
        yield [missing, "missing", no, no, word("credential_type", ctype, lang), ctype,
               word("route", route, lang), route, not_received, "not_received", "", "", ""]
    for e in extra_items(session, batch):
        yield [extra, "extra", e.code, e.credential_no or "", "", "", "", "", word("reason", e.reason, lang), e.reason,
               e.other_batch or "", e.station or "", clock.iso_local(e.at)]


def discrepancy_csv(session: Session, batch: HandoverBatch) -> Iterator[str]:
    """The discrepancy list as CSV text chunks (UTF-8 BOM first, for Excel)."""
    return csv_chunks(discrepancy_rows(session, batch), header=[vocabulary.header(c) for c in DISCREPANCY_COLUMNS])
