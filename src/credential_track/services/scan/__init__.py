"""The scan service: one scan, one decision, one event.

A scan runs in a write transaction that holds nothing else: on a race for
the same nonce it is rolled back and the first answer re-read. The
guarantees of the scan API come from here:

* idempotent by nonce: the nonce is unique on the events table; a replay
  (same nonce, code, action and station) returns the stored answer and
  writes nothing; the same nonce for another code, action or station is a
  `Conflict` (409) that says so;
* exactly once under concurrency: a scan expected to succeed is first tried
  as conditional UPDATEs that hold only while the item (and bag) are in the
  state the guards need (`fast.py`); anything else is decided with the rows
  locked (`locked.py`);
* refused scans are recorded too, and change nothing else.

What a scan must meet is declared once, in `domain.scan_rules`; both paths
derive from it.
"""
from __future__ import annotations

import json
import time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from ...db import writer
from ...domain.codes import normalize_code
from ...models import Bag, Credential, Station
from .. import recent
from ..errors import Conflict, Forbidden, ServiceError
from . import fast, locked
from .bags import move_items
from .model import (
    BAG_ACTIONS,
    ITEM_ACTIONS,
    SCAN_ACTIONS,
    Decision,
    ScanOutcome,
    ScanRequest,
    StationRow,
    bag_summary,
    item_summary,
)
from .statements import SQL, station_row

__all__ = ["scan", "scan_on", "ScanRequest", "ScanOutcome", "SCAN_ACTIONS", "ITEM_ACTIONS", "BAG_ACTIONS",
           "item_summary", "bag_summary", "move_items", "station_by_code"]


def station_by_code(session: Session, code: str) -> Station | None:
    return session.exec(select(Station).where(Station.code == code)).first()


def scan(session: Session | Connection, req: ScanRequest, *, acting_station: str | None = None,
         default_weight_g: int | None = None, fast_path: bool = True) -> ScanOutcome:
    """Decide one scan and record it in `session`: a write session, or a
    connection of a writer engine (the API's busy path: no ORM session to
    set up). The caller commits. `acting_station`, when a station token
    makes the request, must equal the station named in the request.
    `fast_path=False` decides every scan under lock (the parity test)."""
    if req.action not in SCAN_ACTIONS:
        raise ServiceError(_("There is no scan action “%(action)s”.", action=req.action), field="action")
    if acting_station is not None and acting_station != req.station:
        raise Forbidden(_("This token acts for station %(token)s, not %(station)s.", token=acting_station,
                          station=req.station), field="station")
    if isinstance(session, Session) and (session.new or session.dirty or session.deleted):
        session.flush()  # the scan reads the database, not the session
    started = time.perf_counter()
    outcome = _decide(session, req, default_weight_g, fast_path)
    from ... import metrics  # imported at the first scan: see metrics.py

    metrics.observe_scan(action=req.action, result=outcome.result, station=req.station,
                         seconds=time.perf_counter() - started)
    return outcome


def _decide(session: Session | Connection, req: ScanRequest, default_weight_g: int | None,
            fast_path: bool) -> ScanOutcome:
    for attempt in range(5):
        try:
            # No look-up of the nonce first: replays are rare, and the unique
            # nonce makes the event insert fail for one, which is then
            # rolled back and answered from the stored event. That keeps a
            # query out of the write transaction of every other scan.
            decision = (_try_fast(session, req, default_weight_g) if fast_path else None) \
                or locked.decide(_connection(session), req, default_weight_g)
            _sync_session(session, decision)
            return decision.outcome
        except IntegrityError:
            # the nonce was used before (a replay, or a concurrent request
            # with it that won the race): answer as the first time
            session.rollback()
            replay = _replay(session, req)
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


def scan_on(engine: Engine, req: ScanRequest, *, acting_station: str | None = None,
            default_weight_g: int | None = None) -> ScanOutcome:
    """Decide and record one scan in a transaction of its own on a plain
    connection of `engine`'s writer (the API's busy path: no ORM session to
    set up), committed before it returns."""
    with writer(engine).connect() as conn:
        outcome = scan(conn, req, acting_station=acting_station, default_weight_g=default_weight_g)
        conn.commit()
    return outcome


def _try_fast(session: Session | Connection, req: ScanRequest, default_weight_g: int | None) -> Decision | None:
    reader = getattr(_bind(session), "credtrack_reader", None)
    if reader is None or session.in_transaction() or not fast.eligible(req):
        return None
    return fast.try_scan(_connection(session), req, _known_station(reader, req.station), default_weight_g,
                         session.rollback)


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01")


def _replay(session: Session | Connection, req: ScanRequest) -> ScanOutcome | None:
    """The stored answer to the scan that first used the request's nonce.
    A Conflict when that scan was another code, action or station: a client
    reusing a nonce is a bug, never a silent replay of someone else's scan."""
    ev = session.execute(SQL["replay"], {"nonce": req.nonce}).first()
    if ev is None:
        return None
    event_id, result, reason, response, code, action, station = ev
    mine = (normalize_code(req.code)[:64], req.action, req.station)
    if (code, action, station) != mine:
        differs = [name for name, a, b in zip(("code", "action", "station"), (code, action, station), mine)
                   if a != b][0]
        raise Conflict(_("The nonce %(nonce)s was used for another scan (its %(field)s differs): choose a new "
                         "nonce for every scan.", nonce=req.nonce, field=differs), field="nonce")
    stored = json.loads(response or "{}")
    return ScanOutcome(
        result=stored.get("result", result), reason=stored.get("reason", reason),
        item=stored.get("item"), event_id=event_id, replayed=True, bag=stored.get("bag"),
        detail=stored.get("detail"),
    )


def _connection(session: Session | Connection) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _bind(session: Session | Connection) -> Any:
    return session.engine if isinstance(session, Connection) else session.get_bind()


def _known_station(reader: Engine, code: str) -> StationRow | None:
    """The station's row, from memory (services/recent.py) or read outside
    any write transaction."""
    def load() -> StationRow | None:
        with reader.connect() as rc:
            return station_row(rc, code)

    return recent.on(reader, "credtrack_stations").fetch(code, load)


def _sync_session(session: Session | Connection, decision: Decision) -> None:
    """Objects of the caller's session that the scan changed behind the ORM's
    back get the new values, as an ORM update would have given them."""
    if not isinstance(session, Session) or not session.identity_map:
        return
    for model, row, values in ((Credential, decision.item, decision.item_values),
                               (Bag, decision.bag, decision.bag_values)):
        if row is None or not values:
            continue
        obj = session.identity_map.get(identity_key(model, row.id))
        if obj is not None:
            for key, value in values.items():
                set_committed_value(obj, key, value)
