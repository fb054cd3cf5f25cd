"""What a scan must meet before it changes anything: the guards of every
scan action, declared once as data.

Each guard carries the refusal reason it gives when it does not hold. A
guard is either a condition on stored columns (`Cond`: the item's status,
flags and route, the bag's state) or a check of the request (the station's
actions, the context, the waybill). The scan service derives both of its
paths from these declarations: the fast path compiles the conditions into
the WHERE clause of its conditional UPDATEs and evaluates the request checks
before writing; the locked path evaluates every guard in order on the locked
rows and names the first that fails. A test runs every case through both.

Plain Python: no database, no Flask.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .codes import is_domestic_waybill, is_valid_s10, normalize_code
from .status import (
    BAG_TRANSITIONS,
    TRANSITIONS,
    Action,
    BagState,
    Reason,
    TransitionRefused,
    next_bag_state,
    next_status,
)


@dataclass
class Facts:
    """What a scan is decided on: the request and the rows it names (None
    when the code names nothing)."""

    action: str
    station_actions: frozenset[str]
    context: Mapping[str, Any]
    code_kind: str = "credential"  # what the scanned code is (domain.codes.CodeKind)
    code: str = ""  # the scanned code, normalised
    item: Any = None  # an object with the item's columns
    bag: Any = None  # an object with the bag's columns
    trip: Any = None  # for `load`: an object with id, code, state
    waybill_owner: int | None = None  # capture: id of the item already bound to the waybill
    seal_owner: int | None = None  # seal: id of a bag that already carries the seal
    bag_blocked: tuple[bool, bool] | None = None  # seal: (revoked, hold) of a blocked item inside

    def ctx(self, key: str) -> str:
        return context_value(self.context, key)


def context_value(context: Mapping[str, Any] | None, key: str) -> str:
    """A context value as text without surrounding blanks ('' when absent)."""
    value = (context or {}).get(key)
    return str(value).strip() if value is not None else ""


def context_waybill(context: Mapping[str, Any] | None) -> str:
    """The waybill number a capture names in its context, normalised ('' when none)."""
    raw = context_value(context, "waybill")
    return normalize_code(raw) if raw else ""


@dataclass(frozen=True)
class Cond:
    """A condition on one stored column: `subject.column op operand`.

    `op` is ``eq`` (equals a constant), ``in`` (one of a set), or ``same``
    (equals another subject's column, `operand` = (subject, column))."""

    subject: str  # "item" or "bag"
    column: str
    op: str
    operand: Any

    def holds(self, facts: Facts) -> bool:
        row = getattr(facts, self.subject)
        value = getattr(row, self.column)
        if self.op == "eq":
            return bool(value == self.operand)
        if self.op == "in":
            return value in self.operand
        if self.op == "same":
            other_subject, other_column = self.operand
            return bool(value == getattr(getattr(facts, other_subject), other_column))
        raise ValueError(f"unknown operator {self.op!r}")


Refusal = Reason | Callable[[Facts], Reason]


@dataclass(frozen=True)
class Guard:
    """One thing a scan must meet, and the reason it is refused when not.

    Exactly one of `cond` (a stored-column condition, compiled to SQL by the
    fast path) and `check` (a test of the request or of looked-up facts)."""

    name: str
    refusal: Refusal
    cond: Cond | None = None
    check: Callable[[Facts], bool] | None = None
    # the guard applies only when this holds (e.g. pulling an item that is in a bag)
    when: Callable[[Facts], bool] | None = None
    # what a `check` reads: "request" (station, context, code: known before any
    # row is read), "lookup" (what was looked up about the request, e.g. who
    # holds its waybill) or "rows" (the item, bag or trip found)
    needs: str = "request"

    def applies(self, facts: Facts) -> bool:
        return self.when is None or self.when(facts)

    def holds(self, facts: Facts) -> bool:
        if self.cond is not None:
            return self.cond.holds(facts)
        assert self.check is not None
        return self.check(facts)

    def reason(self, facts: Facts) -> Reason:
        return self.refusal(facts) if callable(self.refusal) else self.refusal


def first_failure(guards: tuple[Guard, ...], facts: Facts) -> Guard | None:
    """The first guard (in declared order) that applies and does not hold."""
    for guard in guards:
        if guard.applies(facts) and not guard.holds(facts):
            return guard
    return None


# --- refusals that depend on the state found ---------------------------------

def _status_refusal(facts: Facts) -> Reason:
    try:
        next_status(facts.action, facts.item.status)
    except TransitionRefused as refused:
        return refused.reason
    return Reason.wrong_stage


def _bag_closed(facts: Facts) -> Reason:
    return Reason.bag_sealed if facts.bag.state == BagState.sealed else Reason.bag_not_open


def _bag_state_refusal(facts: Facts) -> Reason:
    try:
        next_bag_state(facts.action, facts.bag.state)
    except TransitionRefused as refused:
        return refused.reason
    return Reason.wrong_stage


def _waybill_ok(facts: Facts) -> bool:
    waybill = context_waybill(facts.context)
    return not waybill or is_valid_s10(waybill) or is_domestic_waybill(waybill)


# --- the guards ---------------------------------------------------------------

STATION_MAY = Guard("station_may", Reason.not_allowed_here,
                    check=lambda f: f.action in f.station_actions)
BAG_IN_CONTEXT = Guard("bag_in_context", Reason.missing_context, check=lambda f: bool(f.ctx("bag")))
BAG_KNOWN = Guard("bag_known", Reason.unknown_code, check=lambda f: f.bag is not None, needs="rows")
ITEM_KNOWN = Guard("item_known",
                   lambda f: Reason.invalid_waybill if f.code_kind == "invalid_waybill" else Reason.unknown_code,
                   check=lambda f: f.item is not None, needs="rows")


def _not_a_bag(facts: Facts) -> Reason:
    if facts.code_kind == "invalid_waybill":
        return Reason.invalid_waybill
    # an item scanned where a bag is expected: name it for the operator
    return Reason.unknown_code if facts.item is None else Reason.wrong_stage


CODE_IS_BAG = Guard("code_is_bag", _not_a_bag, check=lambda f: f.code_kind == "bag", needs="rows")
NOT_REVOKED = Guard("not_revoked", Reason.revoked, cond=Cond("item", "revoked", "eq", False))
NOT_HELD = Guard("not_held", Reason.on_hold, cond=Cond("item", "hold", "eq", False))
PULL_REVOKED = Guard("revoked_to_pull", Reason.wrong_stage, cond=Cond("item", "revoked", "eq", True))
WAYBILL_VALID = Guard("waybill_valid", Reason.invalid_waybill, check=_waybill_ok)
WAYBILL_FREE = Guard("waybill_free", Reason.waybill_in_use,
                     check=lambda f: f.waybill_owner is None or (f.item is not None and f.waybill_owner == f.item.id),
                     needs="lookup")
BAG_OPEN = Guard("bag_open", _bag_closed, cond=Cond("bag", "state", "eq", BagState.open.value))
SAME_ROUTE = Guard("same_route", Reason.wrong_route, cond=Cond("item", "route", "same", ("bag", "route")))
IN_THIS_BAG = Guard("in_this_bag", Reason.wrong_stage, cond=Cond("item", "bag_id", "same", ("bag", "id")))


def _source(action: str) -> Guard:
    sources = frozenset(s.value for s in TRANSITIONS[action].sources)
    return Guard(f"{action}_source", _status_refusal, cond=Cond("item", "status", "in", sources))


def _item_guards(action: str, *middle: Guard, flags: tuple[Guard, ...] = (NOT_REVOKED, NOT_HELD)) -> tuple[Guard, ...]:
    bag_first = (BAG_IN_CONTEXT, BAG_KNOWN) if action in (Action.bag, Action.unbag) else ()
    return (STATION_MAY, *bag_first, ITEM_KNOWN, *flags, _source(action), *middle)


# Item actions, in the order the locked path names refusals.
ITEM_GUARDS: dict[str, tuple[Guard, ...]] = {
    Action.handover: _item_guards(Action.handover),
    Action.capture: _item_guards(Action.capture, WAYBILL_VALID, WAYBILL_FREE),
    Action.accept: _item_guards(Action.accept),
    Action.bag: _item_guards(Action.bag, BAG_OPEN, SAME_ROUTE),
    Action.unbag: _item_guards(Action.unbag, IN_THIS_BAG, BAG_OPEN),
    # a revoked item is pulled whatever its hold; out of its bag only while the bag is open
    Action.pull: _item_guards(Action.pull, Guard("pull_bag_open", _bag_closed, check=lambda f: f.bag.state == BagState.open,
                                                 when=lambda f: f.bag is not None, needs="rows"),
                              flags=(PULL_REVOKED,)),
}


# --- bag actions (seal, load, arrive): the locked path only --------------------

def _bag_state_guard(action: str) -> Guard:
    source, _target = BAG_TRANSITIONS[action]
    return Guard(f"{action}_bag_state", _bag_state_refusal, cond=Cond("bag", "state", "eq", source.value))


def _needs(key: str) -> Guard:
    return Guard(f"{key}_in_context", Reason.missing_context, check=lambda f: bool(f.ctx(key)))


BAG_GUARDS: dict[str, tuple[Guard, ...]] = {
    Action.seal: (
        STATION_MAY, CODE_IS_BAG, _needs("seal"), BAG_KNOWN, _bag_state_guard(Action.seal),
        Guard("bag_not_empty", Reason.wrong_stage, check=lambda f: f.bag.item_count > 0, needs="rows"),
        # the same physical seal cannot close two bags
        Guard("seal_unused", Reason.seal_mismatch, check=lambda f: f.seal_owner is None, needs="rows"),
        Guard("no_revoked_inside", Reason.revoked, check=lambda f: not (f.bag_blocked and f.bag_blocked[0]), needs="rows"),
        Guard("no_held_inside", Reason.on_hold, check=lambda f: not f.bag_blocked, needs="rows"),
    ),
    Action.load: (
        STATION_MAY, CODE_IS_BAG, _needs("trip"), BAG_KNOWN,
        Guard("trip_known", Reason.unknown_code, check=lambda f: f.trip is not None, needs="rows"),
        # a bag already on another trip is not "already done" for this one
        Guard("not_on_another_trip", Reason.wrong_stage,
              check=lambda f: f.bag.trip_id in (None, f.trip.id), needs="rows"),
        _bag_state_guard(Action.load),
        Guard("trip_loading", Reason.trip_not_loading, check=lambda f: f.trip.state == "loading", needs="rows"),
    ),
    Action.arrive: (
        STATION_MAY, CODE_IS_BAG, _needs("seal"), BAG_KNOWN, _bag_state_guard(Action.arrive),
        Guard("seal_matches", Reason.seal_mismatch,
              check=lambda f: f.ctx("seal").upper() == (f.bag.seal_no or "").upper(), needs="rows"),
    ),
}

GUARDS: dict[str, tuple[Guard, ...]] = {**ITEM_GUARDS, **BAG_GUARDS}


def sql_conditions(action: str, subject: str, guards: Mapping[str, tuple[Guard, ...]] | None = None
                   ) -> tuple[Cond, ...]:
    """The stored-column conditions of `action` on `subject` ("item" or "bag"):
    what the fast path's conditional UPDATE of that row must require."""
    return tuple(g.cond for g in (guards or GUARDS)[action]
                 if g.cond is not None and g.when is None and g.cond.subject == subject)


def checks(action: str, needs: str) -> tuple[Guard, ...]:
    """The guards of `action` that are checks (not stored-column conditions)
    reading `needs` ("request", "lookup" or "rows"): the fast path evaluates
    the first two before it writes and the last on the rows its UPDATEs
    return."""
    return tuple(g for g in GUARDS[action] if g.check is not None and g.needs == needs)


@dataclass
class Effects:
    """What an accepted item scan writes besides the status."""

    values: dict[str, Any] = field(default_factory=dict)  # item columns
    details: dict[str, Any] = field(default_factory=dict)  # event details
    bag_delta: int = 0
    needs_waybill: bool = False  # capture without a waybill: allocate one


def item_effects(action: str, facts: Facts, *, default_weight_g: int | None) -> Effects:
    """The columns an accepted item scan sets (beyond status), the same for
    both paths."""
    out = Effects()
    if action == Action.capture:
        waybill = context_waybill(facts.context)
        if waybill:
            out.values["waybill_no"] = out.details["waybill"] = waybill
        else:
            out.needs_waybill = True
    elif action == Action.accept:
        weight = (facts.context or {}).get("weight_g")
        out.values["weight_g"] = out.details["weight_g"] = (
            int(weight) if weight not in (None, "") else default_weight_g)
    elif action == Action.bag:
        out.values["bag_id"], out.bag_delta = facts.bag.id, 1
    elif action == Action.unbag:
        out.values["bag_id"], out.bag_delta = None, -1
    elif action == Action.pull and facts.bag is not None:
        out.values["bag_id"], out.bag_delta = None, -1
    return out
