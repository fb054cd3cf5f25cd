"""`credtrack demo`: a deterministic synthetic data set.

N credentials over provinces and types, a realistic share already moved
through every stage, with the bags, trips and the full event history each
status implies. Bulk inserts through SQLAlchemy Core in one transaction, so
500,000 items take about a minute, not hours.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Engine

from ..db import analyze, writer
from ..domain.codes import bag_code, make_s10, trip_code
from ..domain.status import BagState, Status, TripState
from ..models import Bag, Credential, Event, HandoverBatch, Station, Trip, User
from ..models.base import utcnow
from . import events
from .errors import ServiceError
from .synthetic import Generator

S = Status
# share of items that have reached each status
STATUS_SHARES: list[tuple[Status, float]] = [
    (S.registered, 0.34), (S.received, 0.08), (S.captured, 0.07), (S.accepted, 0.06),
    (S.bagged, 0.04), (S.dispatched, 0.04), (S.in_transit, 0.06), (S.arrived, 0.06),
    (S.out_for_delivery, 0.05), (S.delivery_failed, 0.015), (S.delivered, 0.15),
    (S.returned, 0.005), (S.withdrawn, 0.005),
]
MAIN = [S.registered, S.received, S.captured, S.accepted, S.bagged, S.dispatched, S.in_transit, S.arrived]
STEP_ACTION = {
    S.received: ("handover", "WS-01"), S.captured: ("capture", "WS-03"), S.accepted: ("accept", "WS-05"),
    S.bagged: ("bag", "WS-07"), S.dispatched: ("seal", "WS-07"), S.in_transit: ("depart", None),
    S.arrived: ("arrive", "WS-10"), S.out_for_delivery: ("out_for_delivery", None),
    S.delivery_failed: ("delivery_failed", None), S.delivered: ("delivered", None),
    S.returned: ("returned", None), S.withdrawn: ("pull", "WS-01"),
}
BAG_STATE = {
    S.bagged: BagState.open, S.dispatched: BagState.sealed, S.in_transit: BagState.in_transit,
}
FINAL = {S.delivered, S.returned, S.withdrawn}
BAG_SIZE = 100
TRIP_BAGS = 20
CHUNK = 20_000
BATCH_SIZE = 50_000


def path_to(status: Status) -> list[Status]:
    """The statuses an item passed through to reach `status`, in order."""
    if status == S.withdrawn:
        return [S.registered, S.received, S.withdrawn]
    if status in MAIN:
        return MAIN[: MAIN.index(status) + 1]
    tail = {
        S.out_for_delivery: [S.out_for_delivery],
        S.delivered: [S.out_for_delivery, S.delivered],
        S.delivery_failed: [S.out_for_delivery, S.delivery_failed],
        S.returned: [S.out_for_delivery, S.delivery_failed, S.returned],
    }[status]
    return MAIN + tail


def _bag_state(status: Status) -> BagState | None:
    if status == S.withdrawn or status in (S.registered, S.received, S.captured, S.accepted):
        return None
    return BAG_STATE.get(status, BagState.arrived)


def existing_data(engine: Engine) -> dict[str, int]:
    """What the database holds beyond the seed data: users, credentials,
    handover batches and events (all zero in a database fit for the demo)."""
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(model)).scalar()
                for name, model in (("users", User), ("credentials", Credential),
                                    ("handover_batches", HandoverBatch), ("events", Event))}


def refuse_unless_empty(engine: Engine, *, force: bool = False) -> None:
    """Refuse (ServiceError) to put the demo, whose accounts and passwords
    are public, into a database that already holds data, unless `force`."""
    found = existing_data(engine)
    if force or not any(found.values()):
        return
    from flask_babel import gettext as _

    held = ", ".join(f"{name}: {n:,}" for name, n in found.items() if n)
    raise ServiceError(_("This database already holds data (%(held)s): the demo, with its public accounts and "
                         "passwords, goes only into an empty database. Use a new database, or pass --force "
                         "to add it anyway.", held=held), field="database")


def build_demo(engine: Engine, *, credentials: int, seed: int = 2026,
               progress: Callable[[int], None] | None = None, now: datetime | None = None) -> dict:
    """Insert the demo data set into an initialised, credential-free database."""
    rng = random.Random(seed)
    gen = Generator(seed)
    crew = Generator(seed + 1)  # drivers and escorts, apart from the holders' sequence
    now = now or utcnow()
    start = now - timedelta(days=12)
    statuses = rng.choices([s for s, _ in STATUS_SHARES], [w for _, w in STATUS_SHARES], k=credentials)
    # revoked items waiting to be pulled, and a few held ones
    with writer(engine).begin() as conn:
        if conn.execute(select(func.count()).select_from(Credential)).scalar():
            raise ValueError("the database has credentials already; demo data goes into an empty one")
        stations = {code: sid for code, sid in conn.execute(select(Station.code, Station.id))}
        operator_id = conn.execute(select(User.id).where(User.username == "operator")).scalar()
        n_batches = (credentials + BATCH_SIZE - 1) // BATCH_SIZE
        batch_ids = []
        for b in range(n_batches):
            size = min(BATCH_SIZE, credentials - b * BATCH_SIZE)
            res = conn.execute(insert(HandoverBatch).values(
                name=f"DEMO-{b + 1:02d}", source_file=f"demo-manifest-{b + 1:02d}.csv", expected=size,
                state="open", created_at=start, created_by=operator_id))
            batch_ids.append(res.inserted_primary_key[0])

        bags: list[dict] = []
        open_bag: dict[tuple[str, BagState], dict] = {}
        trips: list[dict] = []
        open_trip: dict[BagState, dict] = {}
        bag_base = (conn.execute(select(func.max(Bag.id))).scalar() or 0)
        trip_base = (conn.execute(select(func.max(Trip.id))).scalar() or 0)
        cred_base = conn.execute(select(func.max(Credential.id))).scalar() or 0

        def bag_for(route: str, state: BagState, at: datetime) -> dict:
            key = (route, state)
            bag = open_bag.get(key)
            if bag is None or bag["item_count"] >= BAG_SIZE:
                bid = bag_base + len(bags) + 1
                bag = {"id": bid, "code": bag_code(bid), "route": route, "state": state.value,
                       "station_id": stations.get("WS-07"), "item_count": 0, "created_at": at,
                       "created_by": operator_id, "seal_no": None, "sealed_at": None, "trip_id": None,
                       "arrived_at": None, "sealed_by": None}
                if state != BagState.open:
                    bag["seal_no"] = f"SEAL-{bid:08d}"
                    bag["sealed_at"] = at
                    bag["sealed_by"] = operator_id
                if state in (BagState.in_transit, BagState.arrived):
                    bag["trip_id"] = trip_for(state, at)
                if state == BagState.arrived:
                    bag["arrived_at"] = at
                conn.execute(insert(Bag).values(**bag))
                bags.append(bag)
                open_bag[key] = bag
            bag["item_count"] += 1
            return bag

        def trip_for(state: BagState, at: datetime) -> int:
            trip = open_trip.get(state)
            if trip is None or trip["bags"] >= TRIP_BAGS:
                tid = trip_base + len(trips) + 1
                trip = {"id": tid, "code": trip_code(tid), "vehicle": f"沪A·{rng.randrange(10**5):05d}",
                        "driver": crew.name(), "escorts": f"{crew.name()}、{crew.name()}",
                        "origin": "邮政证件分拣中心", "destination": "上海国际邮件处理中心",
                        "state": (TripState.departed if state == BagState.in_transit else TripState.arrived).value,
                        "created_at": at, "departed_at": at,
                        "arrived_at": at if state == BagState.arrived else None,
                        "created_by": operator_id, "bags": 0}
                conn.execute(insert(Trip).values(**{k: v for k, v in trip.items() if k != "bags"}))
                trips.append(trip)
                open_trip[state] = trip
            trip["bags"] += 1
            return trip["id"]

        serial = 0
        done = 0
        for chunk_start in range(0, credentials, CHUNK):
            cred_rows, event_rows = [], []
            for i in range(chunk_start, min(credentials, chunk_start + CHUNK)):
                p = gen.person(cred_base + i + 1)
                status = statuses[i]
                cid = cred_base + i + 1
                path = path_to(status)
                t = start + timedelta(seconds=rng.uniform(0, 3 * 86400))
                times = [t]
                for _ in path[1:]:
                    t = min(now - timedelta(minutes=5), t + timedelta(seconds=rng.uniform(1800, 20 * 3600)))
                    times.append(t)
                if status not in FINAL and len(path) > 1:
                    # an item still on its way moved last a few hours ago, as on
                    # a live day, not days ago (it would count as stuck)
                    shift = now - timedelta(seconds=rng.uniform(600, 6 * 3600)) - times[-1]
                    if shift > timedelta(0):
                        times = [x + shift for x in times]
                bag = None
                bstate = _bag_state(status)
                if bstate is not None:
                    bag = bag_for(p.route, bstate, times[path.index(S.bagged)])
                waybill = None
                if S.captured in path:
                    serial += 1
                    waybill = make_s10("EB", serial)
                revoked = status == S.withdrawn or (status in (S.registered, S.received) and rng.random() < 0.004)
                hold = not revoked and status in (S.received, S.captured, S.accepted) and rng.random() < 0.01
                cred_rows.append({
                    "id": cid, "credential_no": p.credential_no, "credential_type": p.credential_type,
                    "holder_name": p.holder_name, "organization": p.organization,
                    "recipient_name": p.recipient_name, "recipient_phone": p.recipient_phone,
                    "phone_last4": p.recipient_phone[-4:], "recipient_phone_e164": p.recipient_phone_e164,
                    "province": p.province, "city": p.city,
                    "district": p.district, "address": p.address, "postcode": p.postcode,
                    "language": p.language, "route": p.route, "batch_id": batch_ids[i // BATCH_SIZE],
                    "waybill_no": waybill, "status": status.value, "hold": hold,
                    "hold_reason": "地址待核实" if hold else None, "revoked": revoked,
                    "revoked_reason": "主办方取消" if revoked else None, "intercept": False,
                    "label_reprint": False, "contact_problem": None,
                    "bag_id": bag["id"] if bag else None,
                    "weight_g": 45 if S.accepted in path else None,
                    "created_at": times[0], "updated_at": times[-1],
                })
                event_rows.append({"credential_id": cid, "bag_id": None, "action": "import", "result": "ok",
                                   "from_status": None, "to_status": S.registered.value, "station": None,
                                   "user_id": None, "at": times[0]})
                for prev, nxt, at in zip(path, path[1:], times[1:]):
                    action, st = STEP_ACTION[nxt]
                    event_rows.append({
                        "credential_id": cid, "bag_id": bag["id"] if bag and nxt in (S.bagged, S.dispatched, S.in_transit, S.arrived) else None,
                        "action": action, "result": "ok", "from_status": prev.value, "to_status": nxt.value,
                        "station": st, "user_id": operator_id if st else None, "at": at,
                    })
            conn.execute(insert(Credential), cred_rows)
            events.write_many(conn, event_rows)
            done += len(cred_rows)
            if progress:
                progress(len(cred_rows))
        received = conn.execute(
            select(Credential.batch_id, func.count()).where(Credential.status != S.registered.value)
            .group_by(Credential.batch_id)).all()
        for batch_id, _n in received:
            conn.execute(update(HandoverBatch).where(HandoverBatch.id == batch_id)
                         .values(received_at=start + timedelta(days=1)))
        if bags:
            conn.execute(update(Bag).where(Bag.id == bindparam("b_id")).values(item_count=bindparam("b_n")),
                         [{"b_id": b["id"], "b_n": b["item_count"]} for b in bags])
        if engine.dialect.name == "postgresql":
            for table in ("credential", "bag", "trip"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        n_events = conn.execute(select(func.count()).select_from(Event)).scalar()
    analyze(engine, "credential")
    return {"credentials": done, "bags": len(bags), "trips": len(trips), "events": n_events}
