"""The scan service: one scan, one decision, one event.

A scan runs in a write session that holds nothing else: on a race for the
same nonce it is rolled back and the first answer re-read. The guarantees of
the scan API come from here:

* idempotent by nonce: the nonce is unique on the events table; a replay
  returns the stored answer and writes nothing;
* exactly once under concurrency: the item (or bag) row is locked
  (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL)
  before the decision is taken;
* refused scans are recorded too, and change nothing else.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, func, insert, literal, null, select as sa_select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, select

from ..domain.codes import CodeKind, classify, is_domestic_waybill, is_valid_s10, make_s10, normalize_code
from ..domain.status import (
    Action, BagState, Reason, Status, SystemAction, TransitionRefused, TripState, check_flags, next_status,
)
from ..models import Bag, Credential, Event, Station, Trip, WaybillRange
from ..models.base import utcnow
from . import events
from .errors import Forbidden, ServiceError

ITEM_ACTIONS = {Action.handover, Action.capture, Action.accept, Action.bag, Action.unbag, Action.pull}
BAG_ACTIONS = {Action.seal, Action.load, Action.arrive}
SCAN_ACTIONS = ITEM_ACTIONS | BAG_ACTIONS


@dataclass
class ScanRequest:
    code: str
    action: str
    station: str
    nonce: str
    context: dict[str, Any] = field(default_factory=dict)
    scanned_at: datetime | None = None
    user_id: int | None = None


@dataclass
class ScanOutcome:
    result: str  # ok, rejected
    reason: str | None
    item: dict | None
    event_id: int | None
    replayed: bool = False
    bag: dict | None = None
    detail: str | None = None  # a fact for the message (e.g. the allocated waybill)

    def as_dict(self) -> dict:
        out = {
            "result": self.result, "reason": self.reason, "item": self.item,
            "event_id": self.event_id, "replayed": self.replayed,
        }
        if self.bag is not None:
            out["bag"] = self.bag
        return out


class _Refused(Exception):
    def __init__(self, reason: Reason, item: Credential | None = None, bag: Bag | None = None, detail=None):
        super().__init__(reason.value)
        self.reason, self.item, self.bag, self.detail = reason, item, bag, detail


def item_summary(item: Credential | None) -> dict | None:
    """What a scan answer says about an item: no personal data."""
    if item is None:
        return None
    return {
        "credential_no": item.credential_no,
        "waybill_no": item.waybill_no,
        "status": item.status,
        "route": item.route,
        "credential_type": item.credential_type,
        "hold": item.hold,
        "revoked": item.revoked,
        "bag_id": item.bag_id,
    }


def bag_summary(bag: Bag | None) -> dict | None:
    if bag is None:
        return None
    return {"code": bag.code, "route": bag.route, "state": bag.state, "item_count": bag.item_count,
            "seal_no": bag.seal_no}


def station_by_code(session: Session, code: str) -> Station | None:
    return session.exec(select(Station).where(Station.code == code)).first()


def scan(session: Session, req: ScanRequest, *, acting_station: str | None = None,
         default_weight_g: int | None = None) -> ScanOutcome:
    """Decide one scan and record it in `session` (a write session; the
    caller commits). `acting_station`, when a station token makes the
    request, must equal the station named in the request."""
    if req.action not in SCAN_ACTIONS:
        raise ServiceError(f"unknown action {req.action!r}", field="action")
    if acting_station is not None and acting_station != req.station:
        raise Forbidden(f"this token acts for station {acting_station}, not {req.station}", field="station")
    for attempt in range(5):
        try:
            # No look-up of the nonce first: replays are rare, and the unique
            # nonce makes the event insert fail for one, which is then
            # rolled back and answered from the stored event. That keeps a
            # query out of the write transaction of every other scan.
            return _decide(session, req, default_weight_g)
        except IntegrityError:
            # the nonce was used before (a replay, or a concurrent request
            # with it that won the race): answer as the first time
            session.rollback()
            replay = _replay(session, req.nonce)
            if replay is not None:
                return replay
            raise
        except OperationalError as exc:
            session.rollback()
            # PostgreSQL deadlock/serialization failure: try again
            if attempt < 4 and _retryable(exc):
                continue
            raise
    raise RuntimeError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01")


def _replay(session: Session, nonce: str) -> ScanOutcome | None:
    ev = session.exec(select(Event).where(Event.nonce == nonce)).first()
    if ev is None:
        return None
    stored = json.loads(ev.response or "{}")
    return ScanOutcome(
        result=stored.get("result", ev.result), reason=stored.get("reason", ev.reason),
        item=stored.get("item"), event_id=ev.id, replayed=True, bag=stored.get("bag"),
        detail=stored.get("detail"),
    )


def _decide(session: Session, req: ScanRequest, default_weight_g: int | None) -> ScanOutcome:
    station = station_by_code(session, req.station)
    if station is None:
        raise ServiceError(f"unknown station {req.station!r}", field="station")
    code = normalize_code(req.code)
    item: Credential | None = None
    bag: Bag | None = None
    changes: dict = {}
    try:
        if req.action not in station.action_list:
            raise _Refused(Reason.not_allowed_here)
        if req.action in ITEM_ACTIONS:
            item, bag, changes = _item_scan(session, req, station, code, default_weight_g)
        else:
            bag, changes = _bag_scan(session, req, station, code)
    except _Refused as refusal:
        item = refusal.item or item
        bag = refusal.bag or bag
        outcome = ScanOutcome("rejected", refusal.reason.value, item_summary(item), None,
                              bag=bag_summary(bag), detail=refusal.detail)
        ev = events.record(
            session, action=req.action, result="rejected", reason=refusal.reason.value,
            credential_id=item.id if item else None, bag_id=bag.id if bag else None,
            from_status=item.status if item else None, to_status=item.status if item else None,
            code=code[:64], station=station.code, user_id=req.user_id, nonce=req.nonce,
            scanned_at=req.scanned_at, details=_context_details(req), response=_stored_response(outcome),
        )
        outcome.event_id = ev.id
        return outcome

    outcome = ScanOutcome("ok", None, item_summary(item), None, bag=bag_summary(bag),
                          detail=changes.get("detail"))
    ev = events.record(
        session, action=req.action, credential_id=item.id if item else None,
        bag_id=bag.id if bag else None, trip_id=changes.get("trip_id"),
        from_status=changes.get("from"), to_status=changes.get("to"), code=code[:64],
        station=station.code, user_id=req.user_id, nonce=req.nonce, scanned_at=req.scanned_at,
        details={**_context_details(req), **changes.get("details", {})} or None,
        response=_stored_response(outcome),
    )
    outcome.event_id = ev.id
    return outcome


def _context_details(req: ScanRequest) -> dict:
    return {k: v for k, v in (req.context or {}).items() if v not in (None, "")}


def _stored_response(outcome: ScanOutcome) -> str:
    """The answer kept on the event (written with it, in one INSERT)."""
    stored = {"result": outcome.result, "reason": outcome.reason, "item": outcome.item}
    if outcome.bag is not None:
        stored["bag"] = outcome.bag
    if outcome.detail:
        stored["detail"] = outcome.detail
    return json.dumps(stored, ensure_ascii=False)


def _ctx(req: ScanRequest, key: str) -> str:
    value = (req.context or {}).get(key)
    return str(value).strip() if value is not None else ""


def _lock_item(session: Session, code: str) -> Credential | None:
    """Find an item by waybill or credential number and lock its row."""
    c = classify(code)
    if c.kind == CodeKind.invalid_waybill:
        raise _Refused(Reason.invalid_waybill)
    if c.kind == CodeKind.waybill:
        stmt = select(Credential).where(Credential.waybill_no == c.code)
    elif c.kind == CodeKind.credential:
        stmt = select(Credential).where(Credential.credential_no == c.code)
    else:
        return None
    return session.exec(stmt.with_for_update()).first()


def _lock_bag(session: Session, code: str) -> Bag | None:
    return session.exec(select(Bag).where(Bag.code == code.strip().upper()).with_for_update()).first()


def _item_scan(session, req, station, code, default_weight_g):
    bag = None
    if req.action in (Action.bag, Action.unbag):
        if not _ctx(req, "bag"):
            raise _Refused(Reason.missing_context)
        # lock order everywhere: bag before item
        bag = _lock_bag(session, _ctx(req, "bag"))
        if bag is None:
            raise _Refused(Reason.unknown_code)
    item = _lock_item(session, code)
    if item is None:
        raise _Refused(Reason.unknown_code, bag=bag)
    if req.action == Action.pull and item.bag_id is not None:
        bag = session.exec(select(Bag).where(Bag.id == item.bag_id).with_for_update()).first()
    try:
        check_flags(req.action, revoked=item.revoked, hold=item.hold)
        target = next_status(req.action, item.status)
    except TransitionRefused as refused:
        raise _Refused(refused.reason, item=item, bag=bag) from None

    changes: dict = {"from": item.status, "to": target.value, "details": {}}
    if req.action == Action.capture:
        waybill = _ctx(req, "waybill")
        if waybill:
            waybill = normalize_code(waybill)
            if not (is_valid_s10(waybill) or is_domestic_waybill(waybill)):
                raise _Refused(Reason.invalid_waybill, item=item)
            other = session.exec(select(Credential.id).where(Credential.waybill_no == waybill)).first()
            if other is not None and other != item.id:
                raise _Refused(Reason.waybill_in_use, item=item)
        else:
            waybill = _allocate_waybill(session, station)
            if waybill is None:
                raise _Refused(Reason.missing_context, item=item)
            changes["details"]["allocated"] = True
        item.waybill_no = waybill
        changes["detail"] = waybill
        changes["details"]["waybill"] = waybill
    elif req.action == Action.accept:
        weight = (req.context or {}).get("weight_g")
        item.weight_g = int(weight) if weight not in (None, "") else default_weight_g
        changes["details"]["weight_g"] = item.weight_g
    elif req.action == Action.bag:
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        if bag.route != item.route:
            raise _Refused(Reason.wrong_route, item=item, bag=bag, detail=item.route)
        item.bag_id = bag.id
        bag.item_count += 1
    elif req.action == Action.unbag:
        if item.bag_id != bag.id:
            raise _Refused(Reason.wrong_stage, item=item, bag=bag)
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        item.bag_id = None
        bag.item_count -= 1
    elif req.action == Action.pull and bag is not None:
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        item.bag_id = None
        bag.item_count -= 1
    item.status = target.value
    item.updated_at = utcnow()
    session.add(item)
    if bag is not None:
        session.add(bag)
    # flushed with the event, in one round
    return item, bag, changes


def _bag_closed_reason(bag: Bag) -> Reason:
    return Reason.bag_sealed if bag.state == BagState.sealed else Reason.bag_not_open


def _allocate_waybill(session: Session, station: Station) -> str | None:
    """The next unused S10 number from the station's range(s)."""
    ranges = session.exec(
        select(WaybillRange).where(WaybillRange.station_id == station.id,
                                   WaybillRange.next <= WaybillRange.last)
        .order_by(WaybillRange.id).with_for_update()
    ).all()
    for rng in ranges:
        while rng.next <= rng.last:
            number = make_s10(rng.prefix, rng.next, rng.country)
            rng.next += 1
            session.add(rng)
            # a pre-printed label may already carry this number: skip it
            if session.exec(select(Credential.id).where(Credential.waybill_no == number)).first() is None:
                return number
    return None


def _bag_scan(session: Session, req: ScanRequest, station: Station, code: str):
    c = classify(code)
    if c.kind != CodeKind.bag:
        if c.kind == CodeKind.invalid_waybill:
            raise _Refused(Reason.invalid_waybill)
        # an item scanned where a bag is expected: name it for the operator
        item = _find_item(session, code)
        raise _Refused(Reason.unknown_code if item is None else Reason.wrong_stage, item=item)
    if req.action == Action.seal and not _ctx(req, "seal"):
        raise _Refused(Reason.missing_context)
    if req.action == Action.load and not _ctx(req, "trip"):
        raise _Refused(Reason.missing_context)
    if req.action == Action.arrive and not _ctx(req, "seal"):
        raise _Refused(Reason.missing_context)
    bag = _lock_bag(session, c.code)
    if bag is None:
        raise _Refused(Reason.unknown_code)
    if req.action == Action.seal:
        return bag, _seal(session, req, station, bag)
    if req.action == Action.load:
        return bag, _load(session, req, bag)
    return bag, _arrive(session, req, station, bag)


def _find_item(session: Session, code: str) -> Credential | None:
    c = classify(code)
    if c.kind == CodeKind.waybill:
        return session.exec(select(Credential).where(Credential.waybill_no == c.code)).first()
    if c.kind == CodeKind.credential:
        return session.exec(select(Credential).where(Credential.credential_no == c.code)).first()
    return None


def _seal(session, req, station, bag: Bag) -> dict:
    if bag.state != BagState.open:
        raise _Refused(Reason.already_done, bag=bag)
    seal_no = _ctx(req, "seal").upper()
    if bag.item_count == 0:
        raise _Refused(Reason.wrong_stage, bag=bag)
    taken = session.exec(select(Bag.id).where(Bag.seal_no == seal_no)).first()
    if taken is not None:
        # the same physical seal cannot close two bags
        raise _Refused(Reason.seal_mismatch, bag=bag, detail=seal_no)
    blocked = session.exec(
        select(Credential.revoked, Credential.hold).where(
            Credential.bag_id == bag.id, (Credential.revoked == True) | (Credential.hold == True)  # noqa: E712
        )
    ).first()
    if blocked is not None:
        raise _Refused(Reason.revoked if blocked[0] else Reason.on_hold, bag=bag)
    now = utcnow()
    moved = move_items(session, where=(Credential.bag_id == bag.id), action=Action.seal,
                       source=Status.bagged, target=Status.dispatched, station=station.code,
                       user_id=req.user_id, bag_id=bag.id, at=now)
    bag.state = BagState.sealed
    bag.seal_no = seal_no
    bag.sealed_at = now
    bag.sealed_by = req.user_id
    session.add(bag)
    session.flush()
    return {"from": BagState.open.value, "to": BagState.sealed.value,
            "details": {"seal": seal_no, "items": moved}}


def _load(session, req, bag: Bag) -> dict:
    trip = session.exec(select(Trip).where(Trip.code == _ctx(req, "trip").upper()).with_for_update()).first()
    if trip is None:
        raise _Refused(Reason.unknown_code, bag=bag)
    if bag.state == BagState.open:
        raise _Refused(Reason.wrong_stage, bag=bag)
    if bag.state != BagState.sealed:
        raise _Refused(Reason.already_done if bag.trip_id == trip.id else Reason.wrong_stage, bag=bag)
    if trip.state != TripState.loading:
        raise _Refused(Reason.trip_not_loading, bag=bag)
    bag.state = BagState.loaded
    bag.trip_id = trip.id
    session.add(bag)
    session.flush()
    return {"from": BagState.sealed.value, "to": BagState.loaded.value, "trip_id": trip.id,
            "details": {"trip": trip.code}}


def _arrive(session, req, station, bag: Bag) -> dict:
    if bag.state == BagState.arrived:
        raise _Refused(Reason.already_done, bag=bag)
    if bag.state != BagState.in_transit:
        raise _Refused(Reason.wrong_stage, bag=bag)
    seal_read = _ctx(req, "seal").upper()
    if seal_read != (bag.seal_no or "").upper():
        raise _Refused(Reason.seal_mismatch, bag=bag, detail=seal_read)
    now = utcnow()
    moved = move_items(session, where=(Credential.bag_id == bag.id), action=Action.arrive,
                       source=Status.in_transit, target=Status.arrived, station=station.code,
                       user_id=req.user_id, bag_id=bag.id, at=now)
    bag.state = BagState.arrived
    bag.arrived_at = now
    session.add(bag)
    session.flush()
    if bag.trip_id is not None:
        remaining = session.exec(
            select(func.count()).select_from(Bag).where(Bag.trip_id == bag.trip_id, Bag.state != BagState.arrived)
        ).one()
        if remaining == 0:
            trip = session.get(Trip, bag.trip_id)
            trip.state = TripState.arrived
            trip.arrived_at = now
            session.add(trip)
    return {"from": BagState.in_transit.value, "to": BagState.arrived.value, "trip_id": bag.trip_id,
            "details": {"seal": seal_read, "items": moved}}


def move_items(session: Session, *, where, action: str, source: Status, target: Status,
               station: str | None, user_id: int | None, at: datetime,
               bag_id: int | None = None, trip_id: int | None = None) -> int:
    """Move every item matching `where` from `source` to `target`, set-based,
    with one event per item. Returns how many moved."""
    cond = (Credential.status == source.value) & where
    moved = session.scalar(sa_select(func.count()).select_from(Credential).where(cond))
    if not moved:
        return 0
    session.execute(
        insert(Event).from_select(
            ["credential_id", "bag_id", "trip_id", "action", "result", "from_status", "to_status",
             "station", "user_id", "at"],
            sa_select(Credential.id, _lit(bag_id, Integer), _lit(trip_id, Integer),
                      _lit(action, String), _lit("ok", String), _lit(source.value, String),
                      _lit(target.value, String), _lit(station, String), _lit(user_id, Integer),
                      _lit(at, Event.__table__.c.at.type))
            .where(cond).order_by(Credential.id),
        )
    )
    session.execute(update(Credential).where(cond).values(status=target.value, updated_at=at))
    return moved


def _lit(value, type_):
    """A typed constant for INSERT … SELECT (PostgreSQL must know the type)."""
    return null() if value is None else literal(value, type_=type_)
