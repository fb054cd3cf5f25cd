"""The fast path: a scan expected to succeed, written at once.

Shaped like a bare UPDATE + INSERT: the guards of the action
(`domain.scan_rules`) are applied in three places, all derived from the one
declaration — the checks of the request before anything is written, the
stored-column conditions inside the WHERE clause of the conditional UPDATEs
(of the bag, then the item: the lock order everywhere), and the checks of
the rows on what those UPDATEs return. When any of them does not hold,
nothing is kept and the locked path decides the scan again and names the
refusal; a race for one item still gets exactly one `ok`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from ...domain.codes import CodeKind, classify, normalize_code
from ...domain.scan_rules import (
    BAG_KNOWN,
    GUARDS,
    Facts,
    checks,
    context_value,
    context_waybill,
    first_failure,
    item_effects,
)
from ...domain.status import TRANSITIONS, Action
from . import model
from .model import BagRow, Decision, ItemRow, ScanOutcome, ScanRequest, StationRow, bag_summary, item_summary
from .record import record_scan
from .statements import FAST, FAST_ACTIONS, waybill_owner
from .waybills import allocate


def eligible(req: ScanRequest) -> bool:
    """Whether the fast path may try this scan at all."""
    return req.action in FAST_ACTIONS and len(TRANSITIONS[req.action].sources) == 1


def try_scan(conn: Connection, req: ScanRequest, station: StationRow | None, default_weight_g: int | None,
             rollback: Callable[[], None]) -> Decision | None:
    """Write the scan if every guard holds; None (with everything undone by
    `rollback`) when the locked path must decide."""
    if station is None:
        return None
    code = normalize_code(req.code)
    kind = classify(code).kind
    if kind not in (CodeKind.waybill, CodeKind.credential):
        return None
    facts = Facts(action=req.action, station_actions=frozenset(station.action_list),
                  context=req.context or {}, code_kind=kind.value)
    if first_failure(checks(req.action, "request"), facts) is not None:
        return None
    waybill = context_waybill(req.context) if req.action == "capture" else ""
    if waybill:
        facts.waybill_owner = waybill_owner(conn, waybill)
    # before the write, no item is known: a waybill bound to any item sends the
    # scan to the locked path, which tells the item's own waybill from another's
    if first_failure(checks(req.action, "lookup"), facts) is not None:
        return None
    (source,) = TRANSITIONS[req.action].sources
    target = TRANSITIONS[req.action].target
    statements = FAST[Action(req.action)]
    params: dict[str, Any] = {"p_code": code}
    bag = None
    if BAG_KNOWN in GUARDS[req.action]:
        bag_code = context_value(req.context, "bag").upper()
        # lock order everywhere: bag before item
        added = conn.execute(statements["bag"], {"p_bag_code": bag_code, "p_delta": 1}).first()
        if added is None:
            rollback()
            return None
        bag = facts.bag = BagRow(*added)
        params["p_bag_route"], params["p_bag_id"] = bag.route, bag.id
    effects = item_effects(req.action, facts, default_weight_g=default_weight_g)
    if effects.needs_waybill:
        number = allocate(conn, station)
        if number is None:
            rollback()
            return None
        effects.values["waybill_no"] = effects.details["waybill"] = number
        effects.details["allocated"] = True
    values = {**effects.values, "status": target.value, "updated_at": model.now()}
    moved = conn.execute(statements["waybill" if kind == CodeKind.waybill else "credential"],
                         {**params, **values}).first()
    if moved is None:
        rollback()
        return None
    item = facts.item = ItemRow(*moved)
    if first_failure(checks(req.action, "rows"), facts) is not None:
        rollback()
        return None
    outcome = ScanOutcome("ok", None, item_summary(item), None, bag=bag_summary(bag),
                          detail=values.get("waybill_no") if req.action == "capture" else None)
    outcome.event_id = record_scan(conn, req, station, code, outcome, credential_id=item.id,
                                   bag_id=bag.id if bag else None, from_status=source.value,
                                   to_status=item.status, extra=effects.details)
    return Decision(outcome, item, bag, values, {"item_count": bag.item_count} if bag else None)

