"""Item statuses, scan actions, refusal reasons and the transition table.

The words here are the words of the API, the database and the UI: one name
for one thing everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    registered = "registered"
    received = "received"
    captured = "captured"
    accepted = "accepted"
    bagged = "bagged"
    dispatched = "dispatched"
    in_transit = "in_transit"
    arrived = "arrived"
    out_for_delivery = "out_for_delivery"
    delivery_failed = "delivery_failed"
    delivered = "delivered"
    returned = "returned"
    withdrawn = "withdrawn"


class Action(StrEnum):
    """Scan actions of the scan API (DESIGN.md) plus system/bulk actions."""

    handover = "handover"
    capture = "capture"
    accept = "accept"
    bag = "bag"
    unbag = "unbag"
    seal = "seal"
    load = "load"
    arrive = "arrive"
    pull = "pull"


class EventAction(StrEnum):
    """Every action an event can record: the one event vocabulary.

    The scan actions (`Action`) come first with the same values; then what
    the system, a trip, the delivery feed, the desk, supervisors and
    administrators do. An event whose action is not here cannot be written
    (services/events.py); each member has a label in both languages
    (vocabulary.py)."""

    # scans (the same words as Action)
    handover = "handover"
    capture = "capture"
    accept = "accept"
    bag = "bag"
    unbag = "unbag"
    seal = "seal"
    load = "load"
    arrive = "arrive"
    pull = "pull"
    # the chain beyond the stations
    import_ = "import"
    update = "update"
    open_bag = "open_bag"
    create_trip = "create_trip"
    depart = "depart"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    delivery_failed = "delivery_failed"
    returned = "returned"
    # handover batches
    receive_batch = "receive_batch"
    close_batch = "close_batch"
    # the organizer's revocations, the desk and the supervisors
    revoke = "revoke"
    intercept = "intercept"
    correct = "correct"
    hold = "hold"
    release = "release"
    undo = "undo"
    reopen = "reopen"
    reveal = "reveal"
    # disclosures of personal data (services/disclosure.py) and other records
    export = "export"  # a file was exported (details say whether it held personal data)
    audit_export = "audit_export"
    recipient_read = "recipient_read"  # a station read an item's recipient data at capture
    label_download = "label_download"  # waybill labels or a bag manifest were downloaded
    personal_search = "personal_search"  # a search by phone or name by a role that sees them masked
    import_undone = "import_undone"  # an interrupted import's rows removed again
    # accounts, tokens, stations, the database
    login = "login"  # a browser session started
    logout = "logout"  # a browser session ended by its user
    user_create = "user_create"
    user_activate = "user_activate"
    user_deactivate = "user_deactivate"
    user_role = "user_role"
    user_password = "user_password"
    user_logout_all = "user_logout_all"
    user_unlock = "user_unlock"
    login_locked = "login_locked"
    token_create = "token_create"
    token_revoke = "token_revoke"
    token_expire = "token_expire"
    station_update = "station_update"
    db_restore = "db_restore"


# Until every caller says EventAction: the same enum under its older name.
SystemAction = EventAction


class Reason(StrEnum):
    """The fixed refusal vocabulary of the scan API."""

    unknown_code = "unknown_code"
    invalid_waybill = "invalid_waybill"
    waybill_in_use = "waybill_in_use"
    wrong_stage = "wrong_stage"
    already_done = "already_done"
    revoked = "revoked"
    on_hold = "on_hold"
    not_allowed_here = "not_allowed_here"
    wrong_route = "wrong_route"
    bag_not_open = "bag_not_open"
    bag_sealed = "bag_sealed"
    trip_not_loading = "trip_not_loading"
    seal_mismatch = "seal_mismatch"
    missing_context = "missing_context"


class BagState(StrEnum):
    open = "open"
    sealed = "sealed"
    loaded = "loaded"
    in_transit = "in_transit"
    arrived = "arrived"


class TripState(StrEnum):
    loading = "loading"
    departed = "departed"
    arrived = "arrived"


# The main chain in order; used to tell "already done" from "wrong stage".
CHAIN: tuple[Status, ...] = (
    Status.registered,
    Status.received,
    Status.captured,
    Status.accepted,
    Status.bagged,
    Status.dispatched,
    Status.in_transit,
    Status.arrived,
    Status.out_for_delivery,
    Status.delivered,
)
_RANK = {s: i for i, s in enumerate(CHAIN)}
# Delivery outcomes sit at the end of the chain: an item there is past every
# station action.
_RANK[Status.delivery_failed] = _RANK[Status.out_for_delivery]
_RANK[Status.returned] = _RANK[Status.delivered]

FINAL_STATUSES = frozenset({Status.delivered, Status.returned, Status.withdrawn})


def rank(status: Status) -> int:
    """Position of a status along the chain (withdrawn ranks after all)."""
    return _RANK.get(status, len(CHAIN))


@dataclass(frozen=True)
class Transition:
    """Which statuses an item-level action moves, and where to."""

    action: str
    sources: frozenset[Status]
    target: Status


def _t(action: str, sources: set[Status], target: Status) -> Transition:
    return Transition(action, frozenset(sources), target)


# One table: item-level transitions for every action that moves an item.
# seal/load/arrive are scanned on a bag; depart is done on a trip; their
# item rows move with them.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(Action.handover, {Status.registered}, Status.received),
        _t(Action.capture, {Status.received}, Status.captured),
        _t(Action.accept, {Status.captured}, Status.accepted),
        _t(Action.bag, {Status.accepted}, Status.bagged),
        _t(Action.unbag, {Status.bagged}, Status.accepted),
        _t(Action.seal, {Status.bagged}, Status.dispatched),
        _t(SystemAction.depart, {Status.dispatched}, Status.in_transit),
        _t(Action.arrive, {Status.in_transit}, Status.arrived),
        _t(
            Action.pull,
            {Status.registered, Status.received, Status.captured, Status.accepted, Status.bagged},
            Status.withdrawn,
        ),
        _t(
            SystemAction.out_for_delivery,
            {Status.arrived, Status.in_transit, Status.delivery_failed, Status.out_for_delivery},
            Status.out_for_delivery,
        ),
        _t(
            SystemAction.delivered,
            {Status.arrived, Status.in_transit, Status.out_for_delivery, Status.delivery_failed},
            Status.delivered,
        ),
        _t(
            SystemAction.delivery_failed,
            {Status.arrived, Status.in_transit, Status.out_for_delivery},
            Status.delivery_failed,
        ),
        _t(
            SystemAction.returned,
            {Status.arrived, Status.in_transit, Status.out_for_delivery, Status.delivery_failed},
            Status.returned,
        ),
    )
}

# Bags move with their own small state machine: forward with the scans and
# the trip, back by a supervisor's compensation (reopen a sealed bag, undo a
# load before departure).
BAG_TRANSITIONS: dict[str, tuple[BagState, BagState]] = {
    Action.seal: (BagState.open, BagState.sealed),
    Action.load: (BagState.sealed, BagState.loaded),
    SystemAction.depart: (BagState.loaded, BagState.in_transit),
    Action.arrive: (BagState.in_transit, BagState.arrived),
    EventAction.reopen: (BagState.sealed, BagState.open),
    # a supervisor's undo of a load before departure
    "unload": (BagState.loaded, BagState.sealed),
}
BAG_ORDER: tuple[BagState, ...] = (BagState.open, BagState.sealed, BagState.loaded, BagState.in_transit,
                                   BagState.arrived)


def next_bag_state(action: str, current: BagState | str) -> BagState:
    """The state a bag in `current` moves to under `action`.

    Raises TransitionRefused with `already_done` when the bag is already
    where the action would take it (or beyond it, for a forward move) and
    with `wrong_stage` otherwise."""
    current = BagState(current)
    source, target = BAG_TRANSITIONS[action]
    if current == source:
        return target
    forward = BAG_ORDER.index(target) > BAG_ORDER.index(source)
    done = BAG_ORDER.index(current) >= BAG_ORDER.index(target) if forward else current == target
    raise TransitionRefused(Reason.already_done if done else Reason.wrong_stage)


class TransitionRefused(Exception):
    """An action that the item's state does not allow; carries the reason."""

    def __init__(self, reason: Reason):
        super().__init__(reason.value)
        self.reason = reason


def next_status(action: str, current: Status | str) -> Status:
    """The status an item in `current` moves to under `action`.

    Raises TransitionRefused with `already_done` when the item is already at
    or beyond the action's target on the chain (a repeated scan), and with
    `wrong_stage` when the action does not apply to the status at all.
    """
    current = Status(current)
    t = TRANSITIONS[action]
    if current in t.sources:
        return t.target
    if action == Action.unbag:
        # an item that is not in a bag any more has been taken out already
        if current == Status.accepted:
            raise TransitionRefused(Reason.already_done)
        raise TransitionRefused(Reason.wrong_stage)
    if current == Status.withdrawn:
        raise TransitionRefused(
            Reason.already_done if action == Action.pull else Reason.wrong_stage
        )
    if action == Action.pull:
        raise TransitionRefused(Reason.wrong_stage)
    if rank(current) >= rank(t.target):
        raise TransitionRefused(Reason.already_done)
    raise TransitionRefused(Reason.wrong_stage)


def check_flags(action: str, *, revoked: bool, hold: bool) -> None:
    """Held or revoked items are refused at every station; only `pull` takes
    a revoked item (out of the flow)."""
    if action == Action.pull:
        if not revoked:
            raise TransitionRefused(Reason.wrong_stage)
        return
    if revoked:
        raise TransitionRefused(Reason.revoked)
    if hold:
        raise TransitionRefused(Reason.on_hold)
