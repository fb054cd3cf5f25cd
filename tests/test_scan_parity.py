"""The two scan paths agree: every success and every refusal case, run once
with the fast path and once with every scan decided under lock, gives the
expected outcome and the same event row and item.

The guards live once, in domain/scan_rules.py; both paths derive from them.
This test is what catches a path that drops or misreads one."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlmodel import Session, select

from credential_track.db import write_session, writer
from credential_track.domain import scan_rules
from credential_track.domain.codes import make_s10
from credential_track.models import Bag, Credential, Event, Trip
from credential_track.services import scan as scans
from credential_track.services.scan import locked

from .factories import make_credential, make_trip, nonce, open_bag


@dataclass
class World:
    """What a case built: the code to scan and the context to send."""

    code: str
    context: dict = field(default_factory=dict)


def _item(engine, **columns) -> Credential:
    with write_session(engine) as s:
        item = make_credential(s)
        for key, value in columns.items():
            setattr(item, key, value)
        s.add(item)
        s.flush()
        s.expunge(item)
    return item


_serial = iter(range(60_000_000, 70_000_000))


def _seal() -> str:
    return f"SEAL-{nonce()[:8].upper()}"


def _waybill() -> str:
    return make_s10("EE", next(_serial))


def _bag(engine, route: str, *, state: str = "open", items: list[Credential] = (), trip: str | None = None,
         seal: str | None = None) -> str:
    code = open_bag(engine, route)
    with write_session(engine) as s:
        bag = s.exec(select(Bag).where(Bag.code == code)).one()
        for item in items:
            row = s.get(Credential, item.id)
            row.bag_id = bag.id
            s.add(row)
        bag.item_count = len(items)
        bag.state = state
        bag.seal_no = seal
        if trip:
            bag.trip_id = s.exec(select(Trip).where(Trip.code == trip)).one().id
        s.add(bag)
    return code


def _trip(engine, state: str = "loading") -> str:
    code = make_trip(engine)
    with write_session(engine) as s:
        trip = s.exec(select(Trip).where(Trip.code == code)).one()
        trip.state = state
        s.add(trip)
    return code


# --- the cases: (name, station, action, build, expected result/reason) -----

def handover_ok(e):
    return World(_item(e).credential_no)


def by_status(status, **flags):
    def build(e):
        return World(_item(e, status=status, **flags).credential_no)
    build.__name__ = f"{status}{''.join('_' + k for k in flags)}"
    return build


def by_waybill(status):
    def build(e):
        return World(_item(e, status=status, waybill_no=_waybill()).waybill_no)
    return build


def unknown(e):
    return World("NO-SUCH-ITEM-1")


def invalid_s10(e):
    return World("EE123456789CN")


def capture_given(e):
    return World(_item(e, status="received").credential_no, {"waybill": _waybill()})


def capture_lower_case_waybill(e):
    return World(_item(e, status="received").credential_no, {"waybill": _waybill().lower()})


def _bad_waybill() -> str:
    good = _waybill()
    return good[:10] + str((int(good[10]) + 1) % 10) + good[11:]  # the check digit off by one


def capture_invalid(e):
    return World(_item(e, status="received").credential_no, {"waybill": _bad_waybill()})


def capture_not_here_given(e):
    return World(_item(e, status="received").credential_no, {"waybill": _waybill()})


def capture_unknown(e):
    return World("NO-SUCH-ITEM-3", {"waybill": _waybill()})


def load_an_item(e):
    return World(_item(e, status="dispatched", waybill_no=_waybill()).waybill_no, {"trip": _trip(e)})


def arrive_an_item(e):
    return World(_item(e, status="in_transit", waybill_no=_waybill()).waybill_no, {"seal": _seal()})


def capture_taken(e):
    taken = _item(e, status="captured", waybill_no=_waybill())
    return World(_item(e, status="received").credential_no, {"waybill": taken.waybill_no})


def capture_allocated(e):
    return World(_item(e, status="received").credential_no)


def accept_weight(e):
    return World(_item(e, status="captured", waybill_no=_waybill()).waybill_no, {"weight_g": 60})


def bag_ok(e):
    item = _item(e, status="accepted", waybill_no=_waybill())
    return World(item.waybill_no, {"bag": _bag(e, item.route)})


def bag_lower_case_code(e):
    item = _item(e, status="accepted", waybill_no=_waybill())
    return World(item.waybill_no, {"bag": _bag(e, item.route).lower()})


def bag_wrong_route(e):
    item = _item(e, status="accepted", waybill_no=_waybill())
    return World(item.waybill_no, {"bag": _bag(e, "JS" if item.route != "JS" else "ZJ")})


def bag_into(state, status="accepted", **flags):
    def build(e):
        item = _item(e, status=status, waybill_no=_waybill(), **flags)
        return World(item.waybill_no, {"bag": _bag(e, item.route, state=state)})
    return build


def bag_missing(e):
    return World(_item(e, status="accepted", waybill_no=_waybill()).waybill_no)


def bag_unknown(e):
    return World(_item(e, status="accepted", waybill_no=_waybill()).waybill_no, {"bag": "BAG-999999"})


def bag_unknown_item(e):
    return World("NO-SUCH-ITEM-2", {"bag": _bag(e, "JS")})


def unbag_ok(e):
    item = _item(e, status="bagged", waybill_no=_waybill())
    return World(item.waybill_no, {"bag": _bag(e, item.route, items=[item])})


def unbag_other_bag(e):
    item = _item(e, status="bagged", waybill_no=_waybill())
    _bag(e, item.route, items=[item])
    return World(item.waybill_no, {"bag": _bag(e, item.route)})


def unbag_sealed(e):
    item = _item(e, status="bagged", waybill_no=_waybill())
    return World(item.waybill_no, {"bag": _bag(e, item.route, items=[item], state="sealed", seal=_seal())})


def pull_from(state):
    def build(e):
        item = _item(e, status="bagged", waybill_no=_waybill(), revoked=True)
        _bag(e, item.route, items=[item], state=state)
        return World(item.waybill_no)
    return build


def _bag_with_items(e, *, state="open", n=1, trip=None, seal=None, **flags) -> str:
    status = {"open": "bagged", "sealed": "dispatched", "loaded": "dispatched",
              "in_transit": "in_transit", "arrived": "arrived"}[state]
    items = [_item(e, status=status, waybill_no=_waybill(), route="JS", province="江苏省", district="",
                   **flags) for _ in range(n)]
    return _bag(e, "JS", state=state, items=items, trip=trip, seal=seal)


def seal_ok(e):
    return World(_bag_with_items(e), {"seal": _seal()})


def seal_empty(e):
    return World(_bag(e, "JS"), {"seal": _seal()})


def seal_sealed(e):
    return World(_bag_with_items(e, state="sealed", seal=_seal()), {"seal": _seal()})


def seal_no_seal(e):
    return World(_bag_with_items(e))


def seal_used(e):
    used = _seal()
    _bag_with_items(e, state="sealed", seal=used)
    return World(_bag_with_items(e), {"seal": used})


def seal_with(**flags):
    def build(e):
        return World(_bag_with_items(e, **flags), {"seal": _seal()})
    return build


def seal_an_item(e):
    return World(_item(e, status="bagged", waybill_no=_waybill()).waybill_no, {"seal": _seal()})


def seal_unknown(e):
    return World("BAG-999998", {"seal": _seal()})


def load(bag_state="sealed", trip_state="loading", same_trip=True, other_trip=False, no_trip=False,
         unknown_trip=False):
    def build(e):
        trip = _trip(e, trip_state)
        on = trip if (bag_state in ("loaded", "in_transit") and same_trip) else (
            _trip(e) if other_trip else None)
        bag = _bag_with_items(e, state=bag_state, trip=on, seal=_seal())
        if no_trip:
            return World(bag)
        return World(bag, {"trip": "TRIP-999999" if unknown_trip else trip})
    return build


def arrive(bag_state="in_transit", right_seal=True):
    def build(e):
        seal = _seal()
        trip = _trip(e, "departed")
        bag = _bag_with_items(e, state=bag_state, trip=trip, seal=seal)
        return World(bag, {"seal": seal if right_seal else "SEAL-00000000"})
    return build


CASES: list[tuple[str, str, str, Callable, tuple]] = [
    # handover
    ("handover_ok", "WS-01", "handover", handover_ok, ("ok", None)),
    ("handover_again", "WS-01", "handover", by_status("received"), ("rejected", "already_done")),
    ("handover_withdrawn", "WS-01", "handover", by_status("withdrawn", revoked=True), ("rejected", "revoked")),
    ("handover_revoked", "WS-01", "handover", by_status("registered", revoked=True), ("rejected", "revoked")),
    ("handover_held", "WS-01", "handover", by_status("registered", hold=True), ("rejected", "on_hold")),
    ("handover_not_here", "WS-03", "handover", handover_ok, ("rejected", "not_allowed_here")),
    ("handover_unknown", "WS-01", "handover", unknown, ("rejected", "unknown_code")),
    ("handover_invalid_s10", "WS-01", "handover", invalid_s10, ("rejected", "invalid_waybill")),
    ("handover_by_waybill_done", "WS-01", "handover", by_waybill("captured"), ("rejected", "already_done")),
    # capture
    ("capture_given", "WS-03", "capture", capture_given, ("ok", None)),
    ("capture_lower_case_waybill", "WS-03", "capture", capture_lower_case_waybill, ("ok", None)),
    ("capture_allocated", "WS-03", "capture", capture_allocated, ("ok", None)),
    ("capture_invalid", "WS-03", "capture", capture_invalid, ("rejected", "invalid_waybill")),
    ("capture_taken", "WS-03", "capture", capture_taken, ("rejected", "waybill_in_use")),
    ("capture_too_early", "WS-03", "capture", by_status("registered"), ("rejected", "wrong_stage")),
    ("capture_done", "WS-03", "capture", by_status("accepted"), ("rejected", "already_done")),
    ("capture_held", "WS-03", "capture", by_status("received", hold=True), ("rejected", "on_hold")),
    ("capture_revoked", "WS-03", "capture", by_status("received", revoked=True), ("rejected", "revoked")),
    ("capture_not_here", "WS-01", "capture", by_status("received"), ("rejected", "not_allowed_here")),
    ("capture_no_range", "WS-06", "capture", by_status("received"), ("rejected", "not_allowed_here")),
    ("capture_not_here_given", "WS-01", "capture", capture_not_here_given, ("rejected", "not_allowed_here")),
    ("capture_unknown", "WS-03", "capture", capture_unknown, ("rejected", "unknown_code")),
    # accept
    ("accept_weight", "WS-05", "accept", accept_weight, ("ok", None)),
    ("accept_default_weight", "WS-05", "accept", by_waybill("captured"), ("ok", None)),
    ("accept_done", "WS-05", "accept", by_waybill("bagged"), ("rejected", "already_done")),
    ("accept_too_early", "WS-05", "accept", by_status("received"), ("rejected", "wrong_stage")),
    ("accept_held", "WS-05", "accept", by_status("captured", hold=True), ("rejected", "on_hold")),
    ("accept_revoked", "WS-05", "accept", by_status("captured", revoked=True), ("rejected", "revoked")),
    ("accept_not_here", "WS-01", "accept", by_waybill("captured"), ("rejected", "not_allowed_here")),
    ("accept_unknown", "WS-05", "accept", unknown, ("rejected", "unknown_code")),
    # bag
    ("bag_ok", "WS-07", "bag", bag_ok, ("ok", None)),
    ("bag_lower_case_code", "WS-07", "bag", bag_lower_case_code, ("ok", None)),
    ("bag_wrong_route", "WS-07", "bag", bag_wrong_route, ("rejected", "wrong_route")),
    ("bag_sealed", "WS-07", "bag", bag_into("sealed"), ("rejected", "bag_sealed")),
    ("bag_loaded", "WS-07", "bag", bag_into("loaded"), ("rejected", "bag_not_open")),
    ("bag_missing", "WS-07", "bag", bag_missing, ("rejected", "missing_context")),
    ("bag_unknown_bag", "WS-07", "bag", bag_unknown, ("rejected", "unknown_code")),
    ("bag_unknown_item", "WS-07", "bag", bag_unknown_item, ("rejected", "unknown_code")),
    ("bag_too_early", "WS-07", "bag", bag_into("open", status="captured"), ("rejected", "wrong_stage")),
    ("bag_done", "WS-07", "bag", bag_into("open", status="dispatched"), ("rejected", "already_done")),
    ("bag_held", "WS-07", "bag", bag_into("open", hold=True), ("rejected", "on_hold")),
    ("bag_revoked", "WS-07", "bag", bag_into("open", revoked=True), ("rejected", "revoked")),
    ("bag_not_here", "WS-03", "bag", bag_ok, ("rejected", "not_allowed_here")),
    # unbag
    ("unbag_ok", "WS-07", "unbag", unbag_ok, ("ok", None)),
    ("unbag_other_bag", "WS-07", "unbag", unbag_other_bag, ("rejected", "wrong_stage")),
    ("unbag_sealed", "WS-07", "unbag", unbag_sealed, ("rejected", "bag_sealed")),
    ("unbag_done", "WS-07", "unbag", bag_into("open"), ("rejected", "already_done")),
    ("unbag_missing", "WS-07", "unbag", bag_missing, ("rejected", "missing_context")),
    ("unbag_unknown_bag", "WS-07", "unbag", bag_unknown, ("rejected", "unknown_code")),
    ("unbag_unknown_item", "WS-07", "unbag", bag_unknown_item, ("rejected", "unknown_code")),
    ("unbag_held", "WS-07", "unbag", bag_into("open", status="bagged", hold=True), ("rejected", "on_hold")),
    ("unbag_revoked", "WS-07", "unbag", bag_into("open", status="bagged", revoked=True), ("rejected", "revoked")),
    ("unbag_not_here", "WS-03", "unbag", unbag_ok, ("rejected", "not_allowed_here")),
    # pull
    ("pull_ok", "WS-01", "pull", by_status("received", revoked=True), ("ok", None)),
    ("pull_held_revoked", "WS-01", "pull", by_status("captured", revoked=True, hold=True), ("ok", None)),
    ("pull_from_open_bag", "WS-07", "pull", pull_from("open"), ("ok", None)),
    ("pull_from_sealed_bag", "WS-07", "pull", pull_from("sealed"), ("rejected", "bag_sealed")),
    ("pull_not_revoked", "WS-01", "pull", by_status("received"), ("rejected", "wrong_stage")),
    ("pull_done", "WS-01", "pull", by_status("withdrawn", revoked=True), ("rejected", "already_done")),
    ("pull_too_late", "WS-01", "pull", by_status("dispatched", revoked=True), ("rejected", "wrong_stage")),
    ("pull_unknown", "WS-01", "pull", unknown, ("rejected", "unknown_code")),
    ("pull_not_here", "WS-03", "pull", by_status("received", revoked=True), ("rejected", "not_allowed_here")),
    # seal
    ("seal_ok", "WS-07", "seal", seal_ok, ("ok", None)),
    ("seal_empty", "WS-07", "seal", seal_empty, ("rejected", "wrong_stage")),
    ("seal_again", "WS-07", "seal", seal_sealed, ("rejected", "already_done")),
    ("seal_no_seal", "WS-07", "seal", seal_no_seal, ("rejected", "missing_context")),
    ("seal_used", "WS-07", "seal", seal_used, ("rejected", "seal_mismatch")),
    ("seal_held_inside", "WS-07", "seal", seal_with(hold=True), ("rejected", "on_hold")),
    ("seal_revoked_inside", "WS-07", "seal", seal_with(revoked=True), ("rejected", "revoked")),
    ("seal_an_item", "WS-07", "seal", seal_an_item, ("rejected", "wrong_stage")),
    ("seal_unknown", "WS-07", "seal", seal_unknown, ("rejected", "unknown_code")),
    ("seal_invalid_s10", "WS-07", "seal", invalid_s10, ("rejected", "invalid_waybill")),
    ("seal_not_here", "WS-03", "seal", seal_ok, ("rejected", "not_allowed_here")),
    # load
    ("load_ok", "WS-09", "load", load(), ("ok", None)),
    ("load_no_trip", "WS-09", "load", load(no_trip=True), ("rejected", "missing_context")),
    ("load_unknown_trip", "WS-09", "load", load(unknown_trip=True), ("rejected", "unknown_code")),
    ("load_open_bag", "WS-09", "load", load(bag_state="open"), ("rejected", "wrong_stage")),
    ("load_again", "WS-09", "load", load(bag_state="loaded"), ("rejected", "already_done")),
    ("load_other_trip", "WS-09", "load", load(bag_state="loaded", same_trip=False, other_trip=True),
     ("rejected", "wrong_stage")),
    ("load_departed_trip", "WS-09", "load", load(trip_state="departed"), ("rejected", "trip_not_loading")),
    ("load_unknown_bag", "WS-09", "load", lambda e: World("BAG-999997", {"trip": _trip(e)}),
     ("rejected", "unknown_code")),
    ("load_not_here", "WS-07", "load", load(), ("rejected", "not_allowed_here")),
    ("load_an_item", "WS-09", "load", load_an_item, ("rejected", "wrong_stage")),
    # arrive
    ("arrive_ok", "WS-10", "arrive", arrive(), ("ok", None)),
    ("arrive_seal_mismatch", "WS-10", "arrive", arrive(right_seal=False), ("rejected", "seal_mismatch")),
    ("arrive_not_departed", "WS-10", "arrive", arrive(bag_state="loaded"), ("rejected", "wrong_stage")),
    ("arrive_again", "WS-10", "arrive", arrive(bag_state="arrived"), ("rejected", "already_done")),
    ("arrive_no_seal", "WS-10", "arrive", load(bag_state="in_transit", no_trip=True), ("rejected", "missing_context")),
    ("arrive_unknown_bag", "WS-10", "arrive", seal_unknown, ("rejected", "unknown_code")),
    ("arrive_not_here", "WS-07", "arrive", arrive(), ("rejected", "not_allowed_here")),
    ("arrive_an_item", "WS-10", "arrive", arrive_an_item, ("rejected", "wrong_stage")),
]


def _run(engine, station, action, build, *, fast_path: bool, monkeypatch):
    world = build(engine)
    locked_calls: list = []
    real = locked.decide

    def spy(*args, **kwargs):
        locked_calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(locked, "decide", spy)
    req = scans.ScanRequest(code=world.code, action=action, station=station, nonce=nonce(),
                            context=dict(world.context))
    with writer(engine).connect() as conn:
        out = scans.scan(conn, req, default_weight_g=45, fast_path=fast_path)
        conn.commit()
    monkeypatch.setattr(locked, "decide", real)
    with Session(engine) as s:
        ev = s.get(Event, out.event_id)
        item = s.get(Credential, ev.credential_id) if ev.credential_id else None
        bag = s.get(Bag, ev.bag_id) if ev.bag_id else None
        event = {k: getattr(ev, k) for k in ("action", "result", "reason", "from_status", "to_status",
                                             "station")}
        event["details"] = _comparable(json.loads(ev.details or "{}"))
        after = None if item is None else {k: getattr(item, k) for k in (
            "status", "weight_g", "hold", "revoked")} | {"in_bag": item.bag_id is not None,
                                                          "has_waybill": item.waybill_no is not None}
        bag_after = None if bag is None else {"state": bag.state, "item_count": bag.item_count}
    answer = (out.result, out.reason)
    return answer, event, after, bag_after, bool(locked_calls)


def _comparable(details: dict) -> dict:
    """Event details without the values that differ between two runs by
    construction (generated codes)."""
    return {k: ("<generated>" if k in ("waybill", "bag", "seal", "trip") else v) for k, v in details.items()}


@pytest.mark.parametrize("name,station,action,build,expected", CASES, ids=[c[0] for c in CASES])
def test_fast_and_locked_paths_agree(engine, monkeypatch, name, station, action, build, expected):
    fast = _run(engine, station, action, build, fast_path=True, monkeypatch=monkeypatch)
    slow = _run(engine, station, action, build, fast_path=False, monkeypatch=monkeypatch)
    assert fast[0] == expected, f"fast path: {fast[0]}"
    assert slow[0] == expected, f"locked path: {slow[0]}"
    assert fast[1:4] == slow[1:4]
    assert slow[4], "the locked run must be decided under lock"
    if expected[0] == "ok" and action in ("handover", "capture", "accept", "bag"):
        assert not fast[4], "a scan the fast path can write must not need the locked path"


def test_every_guard_of_every_action_has_a_case():
    """Each guard's refusal reason appears among the cases of its action, so
    that removing any single guard from either path fails a case above."""
    reasons = {(action, expected[1]) for _n, _s, action, _b, expected in CASES if expected[1]}
    for action, guards in scan_rules.GUARDS.items():
        for guard in guards:
            if callable(guard.refusal):
                continue  # reasons that depend on the state: covered by the cases by name
            assert (action, guard.refusal.value) in reasons, f"{action}: no case for guard {guard.name}"


def _cases_of(action):
    return [c for c in CASES if c[2] == action]


def _deviates(engine, monkeypatch, action, *, fast_path) -> bool:
    for _name, station, act, build, expected in _cases_of(action):
        try:
            answer = _run(engine, station, act, build, fast_path=fast_path, monkeypatch=monkeypatch)[0]
        except Exception:  # a path that crashes without the guard also shows it is needed
            return True
        if answer != expected:
            return True
    return False


def test_removing_any_guard_from_either_path_fails_a_case(engine, monkeypatch):
    """Mutation check of the parity cases: each guard, taken out of the
    locked path alone and (for the fast actions) out of the fast path alone,
    makes at least one case give the wrong answer."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the mutation sweep runs once, on SQLite")
    from credential_track.services.scan import fast, statements

    # on the fast path, existence is the UPDATE matching a row, and the bag is
    # found by the code in the context: no separate check there to take out
    structural = {scan_rules.ITEM_KNOWN.name, scan_rules.BAG_KNOWN.name, scan_rules.BAG_IN_CONTEXT.name}
    survivors = []
    for action, guards in scan_rules.GUARDS.items():
        for guard in guards:
            without = {**scan_rules.GUARDS, action: tuple(g for g in guards if g is not guard)}
            with monkeypatch.context() as m:
                m.setattr(locked, "GUARDS", without)
                if not _deviates(engine, m, action, fast_path=False):
                    survivors.append(("locked", action, guard.name))
            if action not in statements.FAST_ACTIONS or guard.name in structural:
                continue
            with monkeypatch.context() as m:
                if guard.cond is not None:
                    m.setattr(scan_rules, "GUARDS", without)
                    m.setattr(statements, "GUARDS", without, raising=False)
                    rebuilt = {a: dict(v) for a, v in statements.FAST.items()}
                    rebuilt[action] = {
                        "waybill": statements.fast_item_update(action, statements.C.c.waybill_no, without),
                        "credential": statements.fast_item_update(action, statements.C.c.credential_no, without),
                        "bag": statements.fast_bag_update(action, without),
                    }
                    m.setattr(fast, "FAST", rebuilt)
                else:
                    real_checks = fast.checks
                    m.setattr(fast, "checks", lambda a, needs, _g=guard: tuple(
                        g for g in real_checks(a, needs) if g is not _g))
                if not _deviates(engine, m, action, fast_path=True):
                    survivors.append(("fast", action, guard.name))
    assert survivors == [], survivors
