"""Scans of a bag (seal, load, arrive) and the set-based move of the items
inside it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, func, literal, null, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from ...domain.scan_rules import Facts
from ...domain.status import Action, Status, TripState, next_bag_state
from ...models import Credential
from .. import events
from . import model
from .model import Decision, ScanOutcome, ScanRequest, StationRow, bag_summary
from .record import record_scan
from .statements import SQL
from .statements import C as _C
from .statements import E as _E


def apply_bag_scan(conn: Connection, req: ScanRequest, station: StationRow, code: str, facts: Facts) -> Decision:
    """Carry out a seal, load or arrive whose guards hold: the bag moves
    along `BAG_TRANSITIONS`, its items with it (one event each)."""
    bag = facts.bag
    target = next_bag_state(req.action, bag.state)
    now = model.now()
    details: dict[str, Any] = {}
    values: dict[str, Any] = {"state": target.value}
    trip_id = None
    if req.action == Action.seal:
        seal_no = facts.ctx("seal").upper()
        moved = move_items(conn, where=(Credential.bag_id == bag.id), action=Action.seal,
                           source=Status.bagged, target=Status.dispatched, station=station.code,
                           user_id=req.user_id, bag_id=bag.id, at=now)
        details = {"seal": seal_no, "items": moved}
        values.update(seal_no=seal_no, sealed_at=now, sealed_by=req.user_id)
    elif req.action == Action.load:
        trip_id = facts.trip.id
        details = {"trip": facts.trip.code}
        values["trip_id"] = trip_id
    else:  # arrive
        seal_read = facts.ctx("seal").upper()
        moved = move_items(conn, where=(Credential.bag_id == bag.id), action=Action.arrive,
                           source=Status.in_transit, target=Status.arrived, station=station.code,
                           user_id=req.user_id, bag_id=bag.id, at=now)
        trip_id = bag.trip_id
        if bag.trip_id is not None:
            # this bag is the last of its trip still on the way: the trip has arrived
            left = conn.execute(SQL["bags_left"], {"trip_id": bag.trip_id}).scalar()
            if left == 1:
                conn.execute(SQL["trip_arrived"], {"t_id": bag.trip_id, "state": TripState.arrived.value,
                                                   "arrived_at": now})
        details = {"seal": seal_read, "items": moved}
        values["arrived_at"] = now
    from_state = bag.state
    conn.execute(SQL["bag_update"], {"b_id": bag.id, **values})
    for key in ("state", "seal_no", "trip_id"):
        if key in values:
            setattr(bag, key, values[key])
    outcome = ScanOutcome("ok", None, None, None, bag=bag_summary(bag))
    outcome.event_id = record_scan(conn, req, station, code, outcome,
                                   bag_id=bag.id, trip_id=trip_id, from_status=from_state,
                                   to_status=bag.state, extra=details)
    return Decision(outcome, None, bag, None, values)


def move_items(conn: Session | Connection, *, where: Any, action: str, source: Status, target: Status,
               station: str | None, user_id: int | None, at: datetime,
               bag_id: int | None = None, trip_id: int | None = None) -> int:
    """Move every item matching `where` from `source` to `target`, set-based,
    with one event per item. Returns how many moved."""
    cond = (_C.c.status == source.value) & where
    moved = conn.scalar(select(func.count()).select_from(_C).where(cond))
    if not moved:
        return 0
    target_conn = conn.connection() if isinstance(conn, Session) else conn
    events.write_from_select(
        target_conn,
        ["credential_id", "bag_id", "trip_id", "action", "result", "from_status", "to_status",
         "station", "user_id", "at"],
        select(_C.c.id, _lit(bag_id, Integer), _lit(trip_id, Integer),
               _lit(action, String), _lit("ok", String), _lit(source.value, String),
               _lit(target.value, String), _lit(station, String), _lit(user_id, Integer),
               _lit(at, _E.c.at.type))
        .where(cond).order_by(_C.c.id),
        actions=[action])
    conn.execute(_C.update().where(cond).values(status=target.value, updated_at=at))
    return moved


def _lit(value: object, type_: Any) -> ColumnElement[Any]:
    """A typed constant for INSERT … SELECT (PostgreSQL must know the type)."""
    return null() if value is None else literal(value, type_=type_)

