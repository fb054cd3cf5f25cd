"""The scan service: one scan, one decision, one event.

A scan runs in a write transaction that holds nothing else: on a race for
the same nonce it is rolled back and the first answer re-read. The
guarantees of the scan API come from here:

* idempotent by nonce: the nonce is unique on the events table; a replay
  returns the stored answer and writes nothing;
* exactly once under concurrency: a scan expected to succeed is first tried
  as conditional UPDATEs that hold only while the item (and bag) are in the
  state the decision needs (`_try_optimistic`, the busy path); anything else
  is decided with the row locked (``BEGIN IMMEDIATE`` on SQLite,
  ``SELECT … FOR UPDATE`` on PostgreSQL) by `_decide`;
* refused scans are recorded too, and change nothing else.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, insert, literal, null, select as sa_select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from ..domain.codes import CodeKind, classify, is_domestic_waybill, is_valid_s10, make_s10, normalize_code
from ..domain.status import (
    TRANSITIONS, Action, BagState, Reason, Status, TransitionRefused, TripState, check_flags, next_status,
)
from ..models import Bag, Credential, Event, Station, Trip, WaybillRange
from ..models.base import utcnow
from . import recent
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


# The scan path runs on every scan, so it speaks SQLAlchemy Core on the
# session's connection with statements built once: no ORM objects, no unit
# of work, and the write lock held for a handful of short statements.
_C = Credential.__table__
_B = Bag.__table__
_T = Trip.__table__
_E = Event.__table__
_R = WaybillRange.__table__
_ITEM_COLUMNS = (_C.c.id, _C.c.credential_no, _C.c.waybill_no, _C.c.status, _C.c.route,
                 _C.c.credential_type, _C.c.hold, _C.c.revoked, _C.c.bag_id)
_BAG_COLUMNS = (_B.c.id, _B.c.code, _B.c.route, _B.c.state, _B.c.item_count, _B.c.seal_no, _B.c.trip_id)


def _move_item(key_column, *conditions):
    """UPDATE of one item found by `key_column` = :code, only while it is in
    :from_status, neither revoked nor held (and `conditions`); SET takes the
    columns of the parameters given; the row as it is after."""
    return (update(_C).where(key_column == bindparam("code"), _C.c.status == bindparam("from_status"),
                             _C.c.revoked == False, _C.c.hold == False, *conditions)  # noqa: E712
            .returning(*_ITEM_COLUMNS))


_SQL = {
    "station": sa_select(Station.__table__.c.id, Station.__table__.c.code, Station.__table__.c.actions)
    .where(Station.__table__.c.code == bindparam("code")),
    "item_by_waybill": sa_select(*_ITEM_COLUMNS).where(_C.c.waybill_no == bindparam("code")).with_for_update(),
    "item_by_no": sa_select(*_ITEM_COLUMNS).where(_C.c.credential_no == bindparam("code")).with_for_update(),
    "item_id_by_waybill": sa_select(_C.c.id).where(_C.c.waybill_no == bindparam("code")),
    "bag_by_code": sa_select(*_BAG_COLUMNS).where(_B.c.code == bindparam("code")).with_for_update(),
    "bag_by_id": sa_select(*_BAG_COLUMNS).where(_B.c.id == bindparam("id")).with_for_update(),
    "bag_by_seal": sa_select(_B.c.id).where(_B.c.seal_no == bindparam("seal")),
    "bag_count": update(_B).where(_B.c.id == bindparam("b_id"))
    .values(item_count=_B.c.item_count + bindparam("delta")),
    "bag_blocked": sa_select(_C.c.revoked, _C.c.hold).where(
        _C.c.bag_id == bindparam("bag_id"), (_C.c.revoked == True) | (_C.c.hold == True)).limit(1),  # noqa: E712
    "bags_left": sa_select(func.count()).select_from(_B).where(
        _B.c.trip_id == bindparam("trip_id"), _B.c.state != BagState.arrived.value),
    "trip_by_code": sa_select(_T.c.id, _T.c.code, _T.c.state).where(_T.c.code == bindparam("code")).with_for_update(),
    "ranges": sa_select(_R.c.id, _R.c.prefix, _R.c.country, _R.c.next, _R.c.last)
    .where(_R.c.station_id == bindparam("station_id"), _R.c.next <= _R.c.last)
    .order_by(_R.c.id).with_for_update(),
    "range_next": update(_R).where(_R.c.id == bindparam("r_id")).values(next=bindparam("next")),
    "event": insert(_E),
    "replay": sa_select(_E.c.id, _E.c.result, _E.c.reason, _E.c.response).where(_E.c.nonce == bindparam("nonce")),
    # the optimistic path: the write itself checks what the decision needs
    "move_by_waybill": _move_item(_C.c.waybill_no),
    "move_by_no": _move_item(_C.c.credential_no),
    "bag_move_by_waybill": _move_item(_C.c.waybill_no, _C.c.route == bindparam("c_route")),
    "bag_move_by_no": _move_item(_C.c.credential_no, _C.c.route == bindparam("c_route")),
    "bag_add": update(_B).where(_B.c.code == bindparam("b_code"), _B.c.state == BagState.open.value)
    .values(item_count=_B.c.item_count + 1).returning(*_BAG_COLUMNS),
    # SET takes the columns of the parameters given
    "item_update": update(_C).where(_C.c.id == bindparam("c_id")),
    "bag_update": update(_B).where(_B.c.id == bindparam("b_id")),
}


@dataclass(slots=True)
class _Item:
    """The columns of an item a scan decides on (and answers with)."""

    id: int
    credential_no: str
    waybill_no: str | None
    status: str
    route: str
    credential_type: str
    hold: bool
    revoked: bool
    bag_id: int | None


@dataclass(slots=True)
class _Bag:
    id: int
    code: str
    route: str
    state: str
    item_count: int
    seal_no: str | None
    trip_id: int | None


@dataclass(frozen=True)
class _StationRow:
    id: int
    code: str
    action_list: list[str]


def _station_row(conn: Connection, code: str) -> _StationRow | None:
    row = conn.execute(_SQL["station"], {"code": code}).first()
    return _StationRow(row[0], row[1], row[2].split()) if row else None


def scan(session: Session | Connection, req: ScanRequest, *, acting_station: str | None = None,
         default_weight_g: int | None = None) -> ScanOutcome:
    """Decide one scan and record it in `session`: a write session, or a
    connection of a writer engine (the API's busy path: no ORM session to
    set up). The caller commits. `acting_station`, when a station token
    makes the request, must equal the station named in the request."""
    if req.action not in SCAN_ACTIONS:
        raise ServiceError(f"unknown action {req.action!r}", field="action")
    if acting_station is not None and acting_station != req.station:
        raise Forbidden(f"this token acts for station {acting_station}, not {req.station}", field="station")
    if isinstance(session, Session) and (session.new or session.dirty or session.deleted):
        session.flush()  # the scan reads the database, not the session
    for attempt in range(5):
        try:
            # No look-up of the nonce first: replays are rare, and the unique
            # nonce makes the event insert fail for one, which is then
            # rolled back and answered from the stored event. That keeps a
            # query out of the write transaction of every other scan.
            return _try_optimistic(session, req, default_weight_g) or _decide(session, req, default_weight_g)
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


def _replay(session: Session | Connection, nonce: str) -> ScanOutcome | None:
    ev = session.execute(_SQL["replay"], {"nonce": nonce}).first()
    if ev is None:
        return None
    event_id, result, reason, response = ev
    stored = json.loads(response or "{}")
    return ScanOutcome(
        result=stored.get("result", result), reason=stored.get("reason", reason),
        item=stored.get("item"), event_id=event_id, replayed=True, bag=stored.get("bag"),
        detail=stored.get("detail"),
    )


def _connection(session: Session | Connection) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _bind(session: Session | Connection):
    return session.engine if isinstance(session, Connection) else session.get_bind()


# Item scans that need nothing but the item (and, for bagging, the bag) and
# that are expected to succeed: the common case at every station.
OPTIMISTIC_ACTIONS = {Action.handover, Action.capture, Action.accept, Action.bag}


def _try_optimistic(session: Session, req: ScanRequest, default_weight_g: int | None) -> ScanOutcome | None:
    """The busy path, shaped like a bare UPDATE + INSERT: a scan expected to
    succeed is written at once as one conditional UPDATE of the item (in the
    one status the action moves, neither revoked nor held; for bagging after
    one of the bag, still open, and only into a bag of the item's route; for
    capture after the waybill is allocated or found free) and its event. Nothing is read first: the station comes from memory. When a
    condition does not hold, nothing is kept and the full path decides the
    scan again under lock and names the refusal; a race for one item still
    gets exactly one `ok`. None means: take the full path."""
    reader = getattr(_bind(session), "credtrack_reader", None)
    transition = TRANSITIONS.get(req.action)
    if (reader is None or req.action not in OPTIMISTIC_ACTIONS or session.in_transaction()
            or len(transition.sources) != 1):
        return None
    code = normalize_code(req.code)
    kind = classify(code).kind
    if kind not in (CodeKind.waybill, CodeKind.credential):
        return None
    bag_code = _ctx(req, "bag").upper()
    if (req.action == Action.bag) != bool(bag_code):
        return None
    station = _known_station(reader, req.station)
    if station is None or req.action not in station.action_list:
        return None
    (source,) = transition.sources
    params: dict = {"code": code, "from_status": source.value, "status": transition.target.value,
                    "updated_at": utcnow()}
    details: dict = {}
    waybill = _ctx(req, "waybill")
    if req.action == Action.accept:
        weight = (req.context or {}).get("weight_g")
        params["weight_g"] = details["weight_g"] = int(weight) if weight not in (None, "") else default_weight_g
    elif req.action == Action.capture and waybill:
        waybill = normalize_code(waybill)
        if not (is_valid_s10(waybill) or is_domestic_waybill(waybill)):
            return None
    conn = _connection(session)
    if req.action == Action.capture:
        if waybill:
            taken = conn.execute(_SQL["item_id_by_waybill"], {"code": waybill}).first() is not None
        else:
            waybill, taken = _allocate_waybill(conn, station), False
            details["allocated"] = True
        if taken or waybill is None:
            session.rollback()
            return None
        params["waybill_no"] = details["waybill"] = waybill
    bag = None
    if bag_code:
        # lock order everywhere: bag before item
        added = conn.execute(_SQL["bag_add"], {"b_code": bag_code}).first()
        if added is None:
            session.rollback()
            return None
        bag = _Bag(*added)
        params["bag_id"], params["c_route"] = bag.id, bag.route
        stmt = _SQL["bag_move_by_waybill" if kind == CodeKind.waybill else "bag_move_by_no"]
    else:
        stmt = _SQL["move_by_waybill" if kind == CodeKind.waybill else "move_by_no"]
    moved = conn.execute(stmt, params).first()
    if moved is None:
        session.rollback()
        return None
    item = _Item(*moved)
    outcome = ScanOutcome("ok", None, item_summary(item), None, bag=bag_summary(bag),
                          detail=params.get("waybill_no"))
    outcome.event_id = _record(
        conn, req, station, code, outcome, credential_id=item.id, bag_id=bag.id if bag else None,
        from_status=source.value, to_status=item.status,
        details={**_context_details(req), **details} or None)
    values = {k: params[k] for k in ("status", "updated_at", "weight_g", "bag_id", "waybill_no") if k in params}
    _sync_session(session, item, bag, values, {"item_count": bag.item_count} if bag else None)
    return outcome


def _known_station(reader, code: str) -> _StationRow | None:
    """The station's row, from memory (services/recent.py) or read outside
    any write transaction."""
    def load() -> _StationRow | None:
        with reader.connect() as rc:
            return _station_row(rc, code)

    return recent.on(reader, "credtrack_stations").fetch(code, load)


def _decide(session: Session | Connection, req: ScanRequest, default_weight_g: int | None) -> ScanOutcome:
    conn = _connection(session)
    station = _station_row(conn, req.station)
    if station is None:
        raise ServiceError(f"unknown station {req.station!r}", field="station")
    code = normalize_code(req.code)
    item: _Item | None = None
    bag: _Bag | None = None
    changes: dict = {}
    details = _context_details(req)
    try:
        if req.action not in station.action_list:
            raise _Refused(Reason.not_allowed_here)
        if req.action in ITEM_ACTIONS:
            item, bag, changes = _item_scan(conn, req, station, code, default_weight_g)
        else:
            bag, changes = _bag_scan(session, conn, req, station, code)
    except _Refused as refusal:
        item = refusal.item or item
        bag = refusal.bag or bag
        outcome = ScanOutcome("rejected", refusal.reason.value, item_summary(item), None,
                              bag=bag_summary(bag), detail=refusal.detail)
        outcome.event_id = _record(
            conn, req, station, code, outcome, credential_id=item.id if item else None,
            bag_id=bag.id if bag else None, from_status=item.status if item else None,
            to_status=item.status if item else None, details=details or None)
        return outcome

    outcome = ScanOutcome("ok", None, item_summary(item), None, bag=bag_summary(bag),
                          detail=changes.get("detail"))
    outcome.event_id = _record(
        conn, req, station, code, outcome, credential_id=item.id if item else None,
        bag_id=bag.id if bag else None, trip_id=changes.get("trip_id"),
        from_status=changes.get("from"), to_status=changes.get("to"),
        details={**details, **changes.get("details", {})} or None)
    _sync_session(session, item, bag, changes.get("item_values"), changes.get("bag_values"))
    return outcome


def _record(conn: Connection, req: ScanRequest, station: _StationRow, code: str, outcome: ScanOutcome,
            *, details: dict | None, **columns) -> int:
    """Append the scan's event, with the answer kept for replays; its id."""
    result = conn.execute(_SQL["event"], {
        "action": req.action, "result": outcome.result, "reason": outcome.reason, "code": code[:64],
        "station": station.code, "user_id": req.user_id, "nonce": req.nonce, "scanned_at": req.scanned_at,
        "at": utcnow(), "details": json.dumps(details, ensure_ascii=False) if details else None,
        "response": _stored_response(outcome), "trip_id": None, **columns,
    })
    return result.inserted_primary_key[0]


def _sync_session(session: Session | Connection, item: _Item | None, bag: _Bag | None,
                  item_values: dict | None, bag_values: dict | None) -> None:
    """Objects of the caller's session that the scan changed behind the ORM's
    back get the new values, as an ORM update would have given them."""
    if not isinstance(session, Session) or not session.identity_map:
        return
    for model, row, values in ((Credential, item, item_values), (Bag, bag, bag_values)):
        if row is None or not values:
            continue
        obj = session.identity_map.get(identity_key(model, row.id))
        if obj is not None:
            for key, value in values.items():
                set_committed_value(obj, key, value)


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


def _lock_item(conn: Connection, code: str) -> _Item | None:
    """Find an item by waybill or credential number and lock its row."""
    c = classify(code)
    if c.kind == CodeKind.invalid_waybill:
        raise _Refused(Reason.invalid_waybill)
    if c.kind == CodeKind.waybill:
        stmt = _SQL["item_by_waybill"]
    elif c.kind == CodeKind.credential:
        stmt = _SQL["item_by_no"]
    else:
        return None
    row = conn.execute(stmt, {"code": c.code}).first()
    return _Item(*row) if row else None


def _lock_bag(conn: Connection, code: str | None = None, bag_id: int | None = None) -> _Bag | None:
    if bag_id is not None:
        row = conn.execute(_SQL["bag_by_id"], {"id": bag_id}).first()
    else:
        row = conn.execute(_SQL["bag_by_code"], {"code": code.strip().upper()}).first()
    return _Bag(*row) if row else None


def _item_scan(conn: Connection, req, station, code, default_weight_g):
    bag = None
    if req.action in (Action.bag, Action.unbag):
        if not _ctx(req, "bag"):
            raise _Refused(Reason.missing_context)
        # lock order everywhere: bag before item
        bag = _lock_bag(conn, _ctx(req, "bag"))
        if bag is None:
            raise _Refused(Reason.unknown_code)
    item = _lock_item(conn, code)
    if item is None:
        raise _Refused(Reason.unknown_code, bag=bag)
    if req.action == Action.pull and item.bag_id is not None:
        bag = _lock_bag(conn, bag_id=item.bag_id)
    try:
        check_flags(req.action, revoked=item.revoked, hold=item.hold)
        target = next_status(req.action, item.status)
    except TransitionRefused as refused:
        raise _Refused(refused.reason, item=item, bag=bag) from None

    changes: dict = {"from": item.status, "to": target.value, "details": {}}
    values: dict = {}
    bag_delta = 0
    if req.action == Action.capture:
        waybill = _ctx(req, "waybill")
        if waybill:
            waybill = normalize_code(waybill)
            if not (is_valid_s10(waybill) or is_domestic_waybill(waybill)):
                raise _Refused(Reason.invalid_waybill, item=item)
            other = conn.execute(_SQL["item_id_by_waybill"], {"code": waybill}).scalar()
            if other is not None and other != item.id:
                raise _Refused(Reason.waybill_in_use, item=item)
        else:
            waybill = _allocate_waybill(conn, station)
            if waybill is None:
                raise _Refused(Reason.missing_context, item=item)
            changes["details"]["allocated"] = True
        values["waybill_no"] = waybill
        changes["detail"] = waybill
        changes["details"]["waybill"] = waybill
    elif req.action == Action.accept:
        weight = (req.context or {}).get("weight_g")
        values["weight_g"] = int(weight) if weight not in (None, "") else default_weight_g
        changes["details"]["weight_g"] = values["weight_g"]
    elif req.action == Action.bag:
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        if bag.route != item.route:
            raise _Refused(Reason.wrong_route, item=item, bag=bag, detail=item.route)
        values["bag_id"], bag_delta = bag.id, 1
    elif req.action == Action.unbag:
        if item.bag_id != bag.id:
            raise _Refused(Reason.wrong_stage, item=item, bag=bag)
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        values["bag_id"], bag_delta = None, -1
    elif req.action == Action.pull and bag is not None:
        if bag.state != BagState.open:
            raise _Refused(_bag_closed_reason(bag), item=item, bag=bag)
        values["bag_id"], bag_delta = None, -1
    values["status"] = target.value
    values["updated_at"] = utcnow()
    conn.execute(_SQL["item_update"], {"c_id": item.id, **values})
    for key in ("waybill_no", "status", "bag_id"):
        if key in values:
            setattr(item, key, values[key])
    changes["item_values"] = values
    if bag_delta:
        conn.execute(_SQL["bag_count"], {"b_id": bag.id, "delta": bag_delta})
        bag.item_count += bag_delta
        changes["bag_values"] = {"item_count": bag.item_count}
    return item, bag, changes


def _bag_closed_reason(bag: _Bag) -> Reason:
    return Reason.bag_sealed if bag.state == BagState.sealed else Reason.bag_not_open


def _allocate_waybill(conn: Connection, station: _StationRow) -> str | None:
    """The next unused S10 number from the station's range(s)."""
    for r_id, prefix, country, next_no, last in conn.execute(_SQL["ranges"], {"station_id": station.id}).all():
        while next_no <= last:
            number = make_s10(prefix, next_no, country)
            next_no += 1
            # a pre-printed label may already carry this number: skip it
            if conn.execute(_SQL["item_id_by_waybill"], {"code": number}).first() is None:
                conn.execute(_SQL["range_next"], {"r_id": r_id, "next": next_no})
                return number
        conn.execute(_SQL["range_next"], {"r_id": r_id, "next": next_no})
    return None


def _bag_scan(session: Session, conn: Connection, req: ScanRequest, station: _StationRow, code: str):
    c = classify(code)
    if c.kind != CodeKind.bag:
        if c.kind == CodeKind.invalid_waybill:
            raise _Refused(Reason.invalid_waybill)
        # an item scanned where a bag is expected: name it for the operator
        raise _Refused(Reason.unknown_code if (item := _lock_item(conn, code)) is None else Reason.wrong_stage,
                       item=item)
    if req.action == Action.seal and not _ctx(req, "seal"):
        raise _Refused(Reason.missing_context)
    if req.action == Action.load and not _ctx(req, "trip"):
        raise _Refused(Reason.missing_context)
    if req.action == Action.arrive and not _ctx(req, "seal"):
        raise _Refused(Reason.missing_context)
    bag = _lock_bag(conn, c.code)
    if bag is None:
        raise _Refused(Reason.unknown_code)
    if req.action == Action.seal:
        changes = _seal(session, conn, req, station, bag)
    elif req.action == Action.load:
        changes = _load(conn, req, bag)
    else:
        changes = _arrive(session, conn, req, station, bag)
    values = changes.pop("bag_values")
    conn.execute(_SQL["bag_update"], {"b_id": bag.id, **values})
    for key in ("state", "seal_no", "trip_id"):
        if key in values:
            setattr(bag, key, values[key])
    changes["bag_values"] = values
    return bag, changes


def _seal(session, conn, req, station, bag: _Bag) -> dict:
    if bag.state != BagState.open:
        raise _Refused(Reason.already_done, bag=bag)
    seal_no = _ctx(req, "seal").upper()
    if bag.item_count == 0:
        raise _Refused(Reason.wrong_stage, bag=bag)
    if conn.execute(_SQL["bag_by_seal"], {"seal": seal_no}).first() is not None:
        # the same physical seal cannot close two bags
        raise _Refused(Reason.seal_mismatch, bag=bag, detail=seal_no)
    blocked = conn.execute(_SQL["bag_blocked"], {"bag_id": bag.id}).first()
    if blocked is not None:
        raise _Refused(Reason.revoked if blocked[0] else Reason.on_hold, bag=bag)
    now = utcnow()
    moved = move_items(session, where=(Credential.bag_id == bag.id), action=Action.seal,
                       source=Status.bagged, target=Status.dispatched, station=station.code,
                       user_id=req.user_id, bag_id=bag.id, at=now)
    return {"from": BagState.open.value, "to": BagState.sealed.value,
            "details": {"seal": seal_no, "items": moved},
            "bag_values": {"state": BagState.sealed.value, "seal_no": seal_no, "sealed_at": now,
                           "sealed_by": req.user_id}}


def _load(conn, req, bag: _Bag) -> dict:
    trip = conn.execute(_SQL["trip_by_code"], {"code": _ctx(req, "trip").upper()}).first()
    if trip is None:
        raise _Refused(Reason.unknown_code, bag=bag)
    trip_id, trip_code, trip_state = trip
    if bag.state == BagState.open:
        raise _Refused(Reason.wrong_stage, bag=bag)
    if bag.state != BagState.sealed:
        raise _Refused(Reason.already_done if bag.trip_id == trip_id else Reason.wrong_stage, bag=bag)
    if trip_state != TripState.loading:
        raise _Refused(Reason.trip_not_loading, bag=bag)
    return {"from": BagState.sealed.value, "to": BagState.loaded.value, "trip_id": trip_id,
            "details": {"trip": trip_code},
            "bag_values": {"state": BagState.loaded.value, "trip_id": trip_id}}


def _arrive(session, conn, req, station, bag: _Bag) -> dict:
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
    if bag.trip_id is not None:
        # this bag is the last of its trip still on the way: the trip has arrived
        left = conn.execute(_SQL["bags_left"], {"trip_id": bag.trip_id}).scalar()
        if left == 1:
            conn.execute(update(_T).where(_T.c.id == bag.trip_id)
                         .values(state=TripState.arrived.value, arrived_at=now))
    return {"from": BagState.in_transit.value, "to": BagState.arrived.value, "trip_id": bag.trip_id,
            "details": {"seal": seal_read, "items": moved},
            "bag_values": {"state": BagState.arrived.value, "arrived_at": now}}


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
