"""`credtrack demo`: a deterministic synthetic data set with a history.

N credentials over provinces and types, played through a campaign of
synthetic.DAYS days up to now (synthetic.Operation): the manifest imported
on the first morning, the stations working their sites' shifts at their own
pace, bags sealed when full or at the cut-offs, trips on a timetable per
route, EMS delivering per route (a few routes slow), a few holds,
revocations and failed deliveries, and hotline calls. Every item's status is
where its path stood at "now", with the events that got it there. Bulk
inserts at the driver level (db.insert_rows; events through services/events.py) in one
transaction.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from ..db import analyze, drop_secondary_indexes, insert_rows, writer
from ..domain.codes import bag_code, make_s10, trip_code
from ..domain.forecast import parse_site_hours
from ..domain.status import BagState, Status, TripState
from ..models import Bag, Call, Credential, DashState, Event, HandoverBatch, Station, Trip, User
from ..models.base import utcnow
from ..settings import Settings
from . import events
from .errors import ServiceError
from .synthetic import (
    BAG_SIZE,
    CUTOFFS,
    DAYS,
    DEPARTURES,
    FAIL_SHARE,
    HOLD_SHARE,
    NEXT_DAY_SHARE,
    SEAL_TO_DEPARTURE,
    TRANSIT_HOURS,
    TRIP_BAGS,
    WITHDRAW_SHARE,
    Generator,
    Operation,
    ems_hours,
    route_kind,
    tray,
)

S = Status
CHUNK = 20_000
BATCH_SIZE = 50_000
# the demo's campaign is due this many days after "now" (its own opening day,
# used by the forecast while OPENING_DATE is not configured)
OPENING_AFTER_DAYS = 7
DEMO_OPENING_KEY = "demo_opening"
# revoked before they were pulled, among the items still waiting for capture
REVOKED_SHARE = 0.004
HOTLINE_LOAD = {"HL-1": 3.0, "HL-2": 2.2, "HL-3": 1.2}  # calls per open hour at the 20,000-item scale
CALL_CATEGORIES = ("where_is_it",) * 6 + ("address_change", "wrong_data", "complaint", "other")


BAG_COLUMNS = ("id", "code", "route", "state", "station_id", "item_count", "created_at", "created_by", "seal_no",
               "sealed_at", "trip_id", "arrived_at", "sealed_by")


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t * 3600, UTC)


class _Item:
    __slots__ = ("cid", "person", "batch", "status", "updated", "events", "waybill", "weight", "hold",
                 "revoked", "bag")

    def __init__(self, cid: int, person, batch: int):
        self.cid, self.person, self.batch = cid, person, batch
        self.status, self.updated, self.events = S.registered.value, 0.0, []
        self.waybill = self.weight = self.bag = None
        self.hold = self.revoked = False


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
               progress: Callable[[int], None] | None = None, now: datetime | None = None,
               site_hours: str | None = None) -> dict:
    """Insert the demo data set into an initialised, credential-free database.
    `site_hours` as the SITE_HOURS setting (default: config's)."""
    from .. import clock

    LOCAL_TZ = clock.local_zone()
    from .tickets import CATEGORIES

    rng = random.Random(seed)
    gen = Generator(seed)
    crew = Generator(seed + 1)  # drivers and escorts, apart from the holders' sequence
    now = now or utcnow()
    local_now = now.astimezone(LOCAL_TZ)
    start = datetime.combine(local_now.date() - timedelta(days=DAYS), time(0), LOCAL_TZ).astimezone(UTC)
    op = Operation(items=credentials, start=start, now=now, tz=LOCAL_TZ,
                   site_hours=parse_site_hours(site_hours or Settings.site_hours), seed=seed)
    end = op.end
    opening = local_now.date() + timedelta(days=OPENING_AFTER_DAYS)
    with writer(engine).begin() as conn:
        if conn.execute(select(func.count()).select_from(Credential)).scalar():
            raise ValueError("the database has credentials already; demo data goes into an empty one")
        # an empty database: the indexes of the two big tables are built after the rows
        rebuilt = drop_secondary_indexes(conn, ("credential", "event"))
        stations = {code: sid for code, sid in conn.execute(select(Station.code, Station.id))}
        operator_id = conn.execute(select(User.id).where(User.username == "operator")).scalar()
        agent_id = conn.execute(select(User.id).where(User.username == "agent")).scalar()
        n_batches = (credentials + BATCH_SIZE - 1) // BATCH_SIZE
        batch_ids, imported = [], []
        for b in range(n_batches):
            size = min(BATCH_SIZE, credentials - b * BATCH_SIZE)
            t_import = op.h0 + 8 + b * 0.25  # the first morning, 08:00 local, a batch every quarter hour
            res = conn.execute(insert(HandoverBatch).values(
                name=f"DEMO-{b + 1:02d}", source_file=f"demo-manifest-{b + 1:02d}.csv", expected=size,
                state="open", created_at=_at(t_import), created_by=operator_id))
            batch_ids.append(res.inserted_primary_key[0])
            imported.append(t_import)
        received_at: dict[int, float] = {}

        bag_base = conn.execute(select(func.max(Bag.id))).scalar() or 0
        trip_base = conn.execute(select(func.max(Trip.id))).scalar() or 0
        cred_base = conn.execute(select(func.max(Credential.id))).scalar() or 0
        bags: list[dict] = []
        open_bags: dict[str, dict] = {}
        trips: dict[tuple, dict] = {}
        n_trips = 0
        new_bags: list[dict] = []
        new_trips: list[dict] = []
        out_creds: list[dict] = []
        out_events: list[dict] = []
        done = 0
        serial = 0

        def ev(item: _Item, action: str, frm: str | None, to: str | None, t: float, station: str | None = None,
               bag_id: int | None = None, trip_id: int | None = None, details: str | None = None) -> None:
            item.events.append({
                "credential_id": item.cid, "bag_id": bag_id, "trip_id": trip_id, "action": action, "result": "ok",
                "from_status": frm, "to_status": to, "station": station,
                "user_id": operator_id if station and station.startswith("WS") else None, "at": _at(t),
                "details": details})
            if to:
                item.status = to
            item.updated = t

        def flush(force: bool = False) -> None:
            nonlocal done
            if not out_creds or (len(out_creds) < CHUNK and not force):
                return
            if new_trips:  # before the events that point at them
                insert_rows(conn, Trip.__table__, new_trips)
                new_trips.clear()
            if new_bags:  # before the items that point at them
                # the final update sets each bag's trip and state
                insert_rows(conn, Bag.__table__, [{c: None if c == "trip_id" else b[c] for c in BAG_COLUMNS}
                                           for b in new_bags])
                new_bags.clear()
            insert_rows(conn, Credential.__table__, out_creds)
            events.write_many(conn, out_events)
            if progress:
                progress(len(out_creds))
            done += len(out_creds)
            out_creds.clear()
            out_events.clear()

        def finish(item: _Item) -> None:
            p = item.person
            if (not item.revoked and not item.hold and item.status in (S.registered, S.received)
                    and rng.random() < REVOKED_SHARE):
                t_rev = max(item.updated + 0.01, end - rng.uniform(0.2, 12))
                if t_rev <= end:
                    ev(item, "revoke", item.status, item.status, t_rev, details='{"reason": "主办方取消"}')
                    item.revoked = True
            out_creds.append({
                "id": item.cid, "credential_no": p.credential_no, "credential_type": p.credential_type,
                "holder_name": p.holder_name, "organization": p.organization,
                "recipient_name": p.recipient_name, "recipient_phone": p.recipient_phone,
                "phone_last4": p.recipient_phone[-4:], "recipient_phone_e164": p.recipient_phone_e164,
                "province": p.province, "city": p.city, "district": p.district, "address": p.address,
                "postcode": p.postcode, "language": p.language, "route": p.route,
                "batch_id": batch_ids[item.batch], "waybill_no": item.waybill, "status": item.status,
                "hold": item.hold, "hold_reason": "地址待核实" if item.hold else None, "revoked": item.revoked,
                "revoked_reason": "主办方取消" if item.revoked else None, "intercept": False,
                "label_reprint": False, "contact_problem": None, "bag_id": item.bag, "weight_g": item.weight,
                "created_at": _at(imported[item.batch]), "updated_at": _at(item.updated),
            })
            out_events.extend(item.events)
            item.events = []
            flush()

        def held(item: _Item, t: float) -> bool:
            """A few items are put on hold while they wait (and stay on hold)."""
            if rng.random() >= HOLD_SHARE:
                return False
            t_hold = t + rng.uniform(0.1, 1.5)
            if t_hold > end:
                return False
            ev(item, "hold", item.status, item.status, t_hold, station="CS-1",
               details='{"reason": "地址待核实"}')
            item.hold = True
            finish(item)
            return True

        def trip_for(kind: str, td: float) -> dict:
            nonlocal n_trips
            key = (kind, round(td, 4))
            trip = trips.get(key)
            if trip is None or trip["bags"] >= TRIP_BAGS:
                n_trips += 1
                tid = trip_base + n_trips
                ta = td + rng.uniform(*TRANSIT_HOURS[kind])
                state = (TripState.loading if td > end else TripState.departed if ta > end else TripState.arrived)
                trip = {"id": tid, "code": trip_code(tid), "vehicle": f"沪A·{rng.randrange(10**5):05d}",
                        "driver": crew.name(), "escorts": f"{crew.name()}、{crew.name()}",
                        "origin": "邮政证件分拣中心", "destination": "上海国际邮件处理中心", "state": state.value,
                        "created_at": _at(td - 1), "created_by": operator_id,
                        "departed_at": _at(td) if td <= end else None, "arrived_at": _at(ta) if ta <= end else None}
                new_trips.append(dict(trip))
                trip["bags"], trip["td"], trip["ta"] = 0, td, ta
                trips[key] = trip
            trip["bags"] += 1
            return trip

        def deliver(item: _Item, ta: float) -> None:
            """EMS from the mail centre to the holder."""
            lo, hi = ems_hours(item.person.route)
            t = op.delivery_round(ta + rng.uniform(lo, hi))
            if t > end:
                return
            ev(item, "out_for_delivery", S.arrived, S.out_for_delivery, t)
            fails = 0
            while True:
                if rng.random() < (FAIL_SHARE if not fails else 0.15):
                    tf = t + rng.uniform(2, 6)
                    if tf > end:
                        return
                    ev(item, "delivery_failed", S.out_for_delivery, S.delivery_failed, tf,
                       details='{"reason": "收件人不在"}')
                    fails += 1
                    if fails >= 2:
                        tr = tf + rng.uniform(12, 30)
                        if tr <= end:
                            ev(item, "returned", S.delivery_failed, S.returned, tr)
                        return
                    t = op.next_local(tf, ((8, 0),), after=4) + rng.uniform(0, 1.5)
                    if t > end:
                        return
                    ev(item, "out_for_delivery", S.delivery_failed, S.out_for_delivery, t)
                    continue
                td = t + (rng.uniform(18, 26) if rng.random() < NEXT_DAY_SHARE else rng.uniform(1.5, 7))
                if td <= end:
                    ev(item, "delivered", S.out_for_delivery, S.delivered, td)
                return

        def close_bag(bag: dict, ts: float) -> None:
            """Seal a bag at ts and move its items on: trip, arrival, EMS."""
            del open_bags[bag["route"]]
            items = bag.pop("items")
            if ts <= end:
                bag.update(state=BagState.sealed.value, seal_no=f"SEAL-{bag['id']:08d}", sealed_at=_at(ts),
                           sealed_by=operator_id)
                td = op.next_local(ts, DEPARTURES[route_kind(bag["route"])], after=SEAL_TO_DEPARTURE)
                trip = None
                if td - 1 / 3 <= end:  # loaded 20 minutes before departure; till then no trip
                    trip = trip_for(route_kind(bag["route"]), td)
                    bag.update(trip_id=trip["id"], state=BagState.loaded.value)
                if td <= end:
                    bag["state"] = BagState.in_transit.value
                if trip is not None and trip["ta"] <= end:
                    bag.update(state=BagState.arrived.value, arrived_at=_at(trip["ta"]))
                for item in items:
                    ev(item, "seal", S.bagged, S.dispatched, ts, bag["station"], bag["id"])
                    if td <= end:
                        ev(item, "depart", S.dispatched, S.in_transit, td, None, bag["id"], trip["id"])
                        if trip["ta"] <= end:
                            ev(item, "arrive", S.in_transit, S.arrived, trip["ta"], "WS-10", bag["id"], trip["id"])
                            deliver(item, trip["ta"])
            for item in items:
                finish(item)

        def put_in_bag(item: _Item, t: float, station: str) -> None:
            route = item.person.route
            bag = open_bags.get(route)
            if bag is not None and t >= bag["cutoff"]:
                close_bag(bag, bag["cutoff"])
                bag = None
            if bag is None:
                bid = bag_base + len(bags) + 1
                bag = {"id": bid, "code": bag_code(bid), "route": route, "state": BagState.open.value,
                       "station_id": stations.get(station), "item_count": 0, "created_at": _at(t),
                       "created_by": operator_id, "seal_no": None, "sealed_at": None, "trip_id": None,
                       "arrived_at": None, "sealed_by": None}
                new_bags.append(bag)
                bag.update(items=[], station=station, cutoff=op.next_local(t, CUTOFFS, after=1 / 60))
                bags.append(bag)
                open_bags[route] = bag
            item.bag = bag["id"]
            bag["item_count"] += 1
            ev(item, "bag", S.accepted, S.bagged, t, station, bag["id"])
            bag["items"].append(item)
            if len(bag["items"]) >= BAG_SIZE:
                close_bag(bag, t + rng.uniform(2, 8) / 60)

        hand, cap, acc, bagging = (op.servers[s] for s in ("handover", "capture", "accept", "bag"))
        for i in range(credentials):
            cid = cred_base + i + 1
            item = _Item(cid, gen.person(cid), i // BATCH_SIZE)
            ev(item, "import", None, S.registered, imported[item.batch])
            got = hand.serve(imported[item.batch])
            if got is None:
                finish(item)
                continue
            t, k = got
            ev(item, "handover", S.registered, S.received, t, op.station("handover", k))
            received_at[item.batch] = min(received_at.get(item.batch, t), t)
            if rng.random() < WITHDRAW_SHARE:
                t_rev = t + rng.uniform(0.5, 6)
                if t_rev <= end:
                    ev(item, "revoke", S.received, S.received, t_rev, details='{"reason": "主办方取消"}')
                    item.revoked = True
                    t_pull = t_rev + rng.uniform(0.2, 2)
                    if t_pull <= end:
                        ev(item, "pull", S.received, S.withdrawn, t_pull, "WS-01")
                finish(item)
                continue
            if held(item, t):
                continue
            got = cap.serve(t)
            if got is None:
                finish(item)
                continue
            t, k = got
            serial += 1
            item.waybill = make_s10("EB", serial)
            ev(item, "capture", S.received, S.captured, t, op.station("capture", k))
            if held(item, t):
                continue
            got = acc.serve(tray(t))
            if got is None:
                finish(item)
                continue
            t, k = got
            item.weight = 45
            ev(item, "accept", S.captured, S.accepted, t, op.station("accept", k))
            if held(item, t):
                continue
            got = bagging.serve(tray(t))
            if got is None:
                finish(item)
                continue
            t, k = got
            put_in_bag(item, t, op.station("bag", k))
        for bag in list(open_bags.values()):
            if bag["cutoff"] <= end:
                close_bag(bag, bag["cutoff"])
            else:
                del open_bags[bag["route"]]
                for item in bag.pop("items"):
                    finish(item)
        flush(force=True)

        for batch, t in received_at.items():
            conn.execute(update(HandoverBatch).where(HandoverBatch.id == batch_ids[batch]).values(received_at=_at(t)))
        if bags:
            cols = ("state", "seal_no", "sealed_at", "sealed_by", "trip_id", "arrived_at", "item_count")
            conn.execute(update(Bag).where(Bag.id == bindparam("b_id"))
                         .values(**{c: bindparam(f"b_{c}") for c in cols}),
                         [{"b_id": b["id"], **{f"b_{c}": b[c] for c in cols}} for b in bags])
        calls = _calls(op, rng, cred_base, credentials, agent_id, CATEGORIES)
        if calls:
            conn.execute(insert(Call), calls)
        dialect = engine.dialect.name
        ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(DashState.__table__)
        day = opening.year * 10000 + opening.month * 100 + opening.day
        conn.execute(ins.values(key=DEMO_OPENING_KEY, value=day)
                     .on_conflict_do_update(index_elements=["key"], set_={"value": day}))
        if dialect == "postgresql":
            for table in ("credential", "bag", "trip", "service_call"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        for statement in rebuilt:
            conn.exec_driver_sql(statement)
        n_events = conn.execute(select(func.count()).select_from(Event)).scalar()
    analyze(engine, "credential")
    return {"credentials": done, "bags": len(bags), "trips": n_trips, "events": n_events, "calls": len(calls),
            "opening": opening}


def _calls(op: Operation, rng: random.Random, cred_base: int, credentials: int, agent_id: int | None,
           categories) -> list[dict]:
    """Hotline calls on the registration centre's hours, busier on HL-1."""
    out = []
    for k in range(len(op.local)):
        h = op.h0 + k
        share = op.hours.open_fraction("RCC", h)
        if not share:
            continue
        for line, load in HOTLINE_LOAD.items():
            n = int(rng.uniform(0, 2 * load * op.scale * share) + 0.5)
            for _ in range(n):
                t = h + rng.random()
                if t > op.end:
                    continue
                out.append({"line": line, "desk": "CS-1" if line == "HL-1" else "CS-2", "agent_id": agent_id,
                            "caller_number": "", "credential_id": cred_base + rng.randint(1, credentials),
                            "category": rng.choice([c for c in CALL_CATEGORIES if c in categories]),
                            "outcome": "", "started_at": _at(t), "duration_s": rng.randint(45, 420),
                            "ticket_id": None})
    return out
