"""The scan path's SQL: Core statements built once at import, and the fast
path's conditional UPDATEs compiled from the guards of `domain.scan_rules`.

The scan path runs on every scan, so it speaks SQLAlchemy Core on the
caller's connection: no ORM objects, no unit of work, and the write lock held
for a handful of short statements."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import ColumnElement

from ...domain.scan_rules import Cond, Guard, sql_conditions
from ...domain.status import Action, BagState
from ...models import Bag, Credential, Event, Station, Trip, WaybillRange
from .model import BagRow, ItemRow, StationRow, TripRow

C: Table = Credential.__table__  # type: ignore[attr-defined]
B: Table = Bag.__table__  # type: ignore[attr-defined]
T: Table = Trip.__table__  # type: ignore[attr-defined]
E: Table = Event.__table__  # type: ignore[attr-defined]
R: Table = WaybillRange.__table__  # type: ignore[attr-defined]
S: Table = Station.__table__  # type: ignore[attr-defined]
ITEM_COLUMNS = (C.c.id, C.c.credential_no, C.c.waybill_no, C.c.status, C.c.route,
                C.c.credential_type, C.c.hold, C.c.revoked, C.c.bag_id)
BAG_COLUMNS = (B.c.id, B.c.code, B.c.route, B.c.state, B.c.item_count, B.c.seal_no, B.c.trip_id)
_TABLES = {"item": C, "bag": B}

SQL = {
    "station": select(S.c.id, S.c.code, S.c.actions).where(S.c.code == bindparam("code")),
    "item_by_waybill": select(*ITEM_COLUMNS).where(C.c.waybill_no == bindparam("code")).with_for_update(),
    "item_by_no": select(*ITEM_COLUMNS).where(C.c.credential_no == bindparam("code")).with_for_update(),
    "item_by_no_plain": select(*ITEM_COLUMNS).where(C.c.credential_no == bindparam("code")),
    "item_id_by_waybill": select(C.c.id).where(C.c.waybill_no == bindparam("code")),
    "bag_by_code": select(*BAG_COLUMNS).where(B.c.code == bindparam("code")).with_for_update(),
    "bag_by_id": select(*BAG_COLUMNS).where(B.c.id == bindparam("id")).with_for_update(),
    "bag_by_seal": select(B.c.id).where(B.c.seal_no == bindparam("seal")),
    "bag_count": update(B).where(B.c.id == bindparam("b_id"))
    .values(item_count=B.c.item_count + bindparam("delta")),
    "bag_blocked": select(C.c.revoked, C.c.hold).where(
        C.c.bag_id == bindparam("bag_id"), (C.c.revoked == True) | (C.c.hold == True)).limit(1),  # noqa: E712
    "bags_left": select(func.count()).select_from(B).where(
        B.c.trip_id == bindparam("trip_id"), B.c.state != BagState.arrived.value),
    "trip_by_code": select(T.c.id, T.c.code, T.c.state).where(T.c.code == bindparam("code")).with_for_update(),
    "trip_arrived": update(T).where(T.c.id == bindparam("t_id")),
    "ranges": select(R.c.id, R.c.prefix, R.c.country, R.c.next, R.c.last)
    .where(R.c.station_id == bindparam("station_id"), R.c.next <= R.c.last)
    .order_by(R.c.id).with_for_update(),
    "range_next": update(R).where(R.c.id == bindparam("r_id")).values(next=bindparam("next")),
    "event": insert(E),
    "replay": select(E.c.id, E.c.result, E.c.reason, E.c.response, E.c.code, E.c.action, E.c.station)
    .where(E.c.nonce == bindparam("nonce")),
    # SET takes the columns of the parameters given
    "item_update": update(C).where(C.c.id == bindparam("c_id")),
    "bag_update": update(B).where(B.c.id == bindparam("b_id")),
}


def _compile(cond: Cond) -> ColumnElement[bool]:
    """A guard's stored-column condition as SQL. A condition on another
    subject's column (`same`) takes that value as the parameter
    ``p_<subject>_<column>``."""
    column = _TABLES[cond.subject].c[cond.column]
    out: ColumnElement[bool]
    if cond.op == "eq":
        out = column == cond.operand
    elif cond.op == "in":
        values = sorted(cond.operand)
        out = column == values[0] if len(values) == 1 else column.in_(values)
    elif cond.op == "same":
        other_subject, other_column = cond.operand
        out = column == bindparam(f"p_{other_subject}_{other_column}")
    else:
        raise ValueError(f"unknown operator {cond.op!r}")
    return out


# Item scans that need nothing but the item (and, for bagging, the bag) and
# that are expected to succeed: the common case at every station.
FAST_ACTIONS = frozenset({Action.handover, Action.capture, Action.accept, Action.bag})


def fast_item_update(action: str, key_column: Any,
                     guards: Mapping[str, tuple[Guard, ...]] | None = None) -> ReturningUpdate[Any]:
    """UPDATE of the item the code names, only while every stored-column
    guard of `action` holds; SET takes the columns of the parameters given."""
    conds = sql_conditions(action, "item", guards)
    return (update(C).where(key_column == bindparam("p_code"), *map(_compile, conds))
            .returning(*ITEM_COLUMNS))


def fast_bag_update(action: str, guards: Mapping[str, tuple[Guard, ...]] | None = None) -> ReturningUpdate[Any]:
    """UPDATE of the bag the context names (its count moved by :p_delta),
    only while every stored-column guard of `action` on the bag holds."""
    conds = sql_conditions(action, "bag", guards)
    return (update(B).where(B.c.code == bindparam("p_bag_code"), *map(_compile, conds))
            .values(item_count=B.c.item_count + bindparam("p_delta")).returning(*BAG_COLUMNS))


FAST = {
    action: {
        "waybill": fast_item_update(action, C.c.waybill_no),
        "credential": fast_item_update(action, C.c.credential_no),
        "bag": fast_bag_update(action),
    }
    for action in FAST_ACTIONS
}


def station_row(conn: Connection, code: str) -> StationRow | None:
    row = conn.execute(SQL["station"], {"code": code}).first()
    return StationRow(row[0], row[1], row[2].split()) if row else None


def lock_item(conn: Connection, kind: str, code: str) -> ItemRow | None:
    """The item a waybill or credential number names, its row locked."""
    if kind not in ("waybill", "credential"):
        return None
    row = conn.execute(SQL["item_by_waybill" if kind == "waybill" else "item_by_no"], {"code": code}).first()
    return ItemRow(*row) if row else None


def lock_bag(conn: Connection, *, code: str | None = None, bag_id: int | None = None) -> BagRow | None:
    if bag_id is not None:
        row = conn.execute(SQL["bag_by_id"], {"id": bag_id}).first()
    else:
        row = conn.execute(SQL["bag_by_code"], {"code": (code or "").strip().upper()}).first()
    return BagRow(*row) if row else None


def lock_trip(conn: Connection, code: str) -> TripRow | None:
    row = conn.execute(SQL["trip_by_code"], {"code": code.strip().upper()}).first()
    return TripRow(*row) if row else None


def waybill_owner(conn: Connection, waybill: str) -> int | None:
    """The id of the item a waybill number is bound to, if any."""
    return conn.execute(SQL["item_id_by_waybill"], {"code": waybill}).scalar()
