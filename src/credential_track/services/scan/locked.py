"""The locked path: a scan decided with its rows locked.

Every scan the fast path does not take (or gives back) comes here: the rows
it names are locked (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE``
on PostgreSQL, bag before item), the guards of `domain.scan_rules` are
evaluated in their declared order, and the first that fails names the
refusal. A refused scan is recorded and changes nothing else."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.engine import Connection

from ...domain.codes import classify, normalize_code
from ...domain.scan_rules import GUARDS, Facts, context_value, context_waybill, first_failure, item_effects
from ...domain.status import TRANSITIONS, Action, Reason
from ..errors import ServiceError
from . import bags, model
from .model import ITEM_ACTIONS, Decision, Refused, ScanOutcome, ScanRequest, StationRow, bag_summary, item_summary
from .record import record_scan
from .statements import SQL, lock_bag, lock_item, lock_trip, station_row, waybill_owner
from .waybills import allocate


def decide(conn: Connection, req: ScanRequest, default_weight_g: int | None) -> Decision:
    """Decide and record one scan under lock (the caller commits)."""
    station = station_row(conn, req.station)
    if station is None:
        raise ServiceError(_("There is no station %(station)s.", station=req.station), field="station")
    code = normalize_code(req.code)
    facts = _facts(conn, req, station, code)
    try:
        failed = first_failure(GUARDS[req.action], facts)
        if failed is not None:
            raise Refused(failed.reason(facts), item=facts.item, bag=facts.bag,
                          detail=_refusal_detail(failed.name, facts))
        if req.action in ITEM_ACTIONS:
            decision = _apply_item_scan(conn, req, station, facts, default_weight_g)
        else:
            decision = bags.apply_bag_scan(conn, req, station, code, facts)
    except Refused as refusal:
        outcome = ScanOutcome("rejected", refusal.reason.value, item_summary(refusal.item), None,
                              bag=bag_summary(refusal.bag), detail=refusal.detail)
        item = refusal.item
        outcome.event_id = record_scan(
            conn, req, station, code, outcome, credential_id=item.id if item else None,
            bag_id=refusal.bag.id if refusal.bag else None, from_status=item.status if item else None,
            to_status=item.status if item else None)
        return Decision(outcome, item, refusal.bag)
    return decision


def _facts(conn: Connection, req: ScanRequest, station: StationRow, code: str) -> Facts:
    """Lock and read what the guards of the scan look at."""
    classified = classify(code)
    facts = Facts(action=req.action, station_actions=frozenset(station.action_list),
                  context=req.context or {}, code_kind=classified.kind.value, code=code)
    if req.action not in station.action_list:
        # refused whatever the rows say; the item scanned is still named, so
        # that the refusal is in its timeline (and the change feed names it)
        if classified.kind.value != "bag":
            facts.item = lock_item(conn, classified.kind, classified.code)
        return facts
    if req.action in ITEM_ACTIONS:
        bag_code = context_value(req.context, "bag")
        if req.action in (Action.bag, Action.unbag) and bag_code:
            # lock order everywhere: bag before item
            facts.bag = lock_bag(conn, code=bag_code)
        facts.item = lock_item(conn, classified.kind, classified.code)
        if facts.item is None:
            return facts
        if req.action == Action.pull and facts.item.bag_id is not None:
            facts.bag = lock_bag(conn, bag_id=facts.item.bag_id)
        if req.action == Action.capture and (waybill := context_waybill(req.context)):
            facts.waybill_owner = waybill_owner(conn, waybill)
        return facts
    # bag actions: the scanned code is the bag
    if classified.kind.value != "bag":
        facts.item = lock_item(conn, classified.kind, classified.code)
        return facts
    facts.bag = lock_bag(conn, code=classified.code)
    if req.action == Action.load and (trip_code := context_value(req.context, "trip")):
        facts.trip = lock_trip(conn, trip_code)
    elif facts.bag is not None and req.action == Action.seal and (
            seal := context_value(req.context, "seal").upper()):
        facts.seal_owner = conn.execute(SQL["bag_by_seal"], {"seal": seal}).scalar()
        blocked = conn.execute(SQL["bag_blocked"], {"bag_id": facts.bag.id}).first()
        facts.bag_blocked = (bool(blocked[0]), bool(blocked[1])) if blocked else None
    return facts


def _refusal_detail(guard: str, facts: Facts) -> str | None:
    """A fact the refusal message names (the item's route, the seal read)."""
    if guard == "same_route":
        return str(facts.item.route)
    if guard in ("seal_unused", "seal_matches"):
        return facts.ctx("seal").upper()
    return None


def _apply_item_scan(conn: Connection, req: ScanRequest, station: StationRow, facts: Facts,
                     default_weight_g: int | None) -> Decision:
    item, bag = facts.item, facts.bag
    transition = TRANSITIONS[req.action]
    effects = item_effects(req.action, facts, default_weight_g=default_weight_g)
    if effects.needs_waybill:
        number = allocate(conn, station)
        if number is None:
            raise Refused(Reason.missing_context, item=item)
        effects.values["waybill_no"] = effects.details["waybill"] = number
        effects.details["allocated"] = True
    from_status = item.status
    values = {**effects.values, "status": transition.target.value, "updated_at": model.now()}
    conn.execute(SQL["item_update"], {"c_id": item.id, **values})
    for key in ("waybill_no", "status", "bag_id"):
        if key in values:
            setattr(item, key, values[key])
    bag_values = None
    if effects.bag_delta:
        conn.execute(SQL["bag_count"], {"b_id": bag.id, "delta": effects.bag_delta})
        bag.item_count += effects.bag_delta
        bag_values = {"item_count": bag.item_count}
    outcome = ScanOutcome("ok", None, item_summary(item), None, bag=bag_summary(bag),
                          detail=values.get("waybill_no") if req.action == Action.capture else None)
    outcome.event_id = record_scan(
        conn, req, station, facts.code, outcome, credential_id=item.id,
        bag_id=bag.id if bag else None, from_status=from_status, to_status=item.status, extra=effects.details)
    return Decision(outcome, item, bag, values, bag_values)
