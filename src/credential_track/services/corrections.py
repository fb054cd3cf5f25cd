"""Corrections: recipient data fixed at capture, and the supervisor's
compensating actions (undo a wrong scan, reopen a sealed bag, release a
hold).

Nothing here deletes or rewrites an event: every correction is a new event
that says what it changed, who did it and why."""
from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlmodel import Session, select

from ..domain.address_change import AddressChange, address_change
from ..domain.codes import CodeKind, classify
from ..domain.recipient import RECIPIENT_FIELDS, check_changes
from ..domain.status import Action, BagState, Status, SystemAction, TransitionRefused, TripState, next_bag_state
from ..models import Bag, Credential, Event, Trip
from ..models.base import utcnow
from ..vocabulary import action_text, field_label, label, status_text
from . import events, holds
from .errors import Conflict, NotFound, ServiceError, field_error, no_credential
from .scan import move_items
from .tickets import apply_recipient_changes, request_intercept

# scans a supervisor may undo; a seal is undone by reopening the bag
UNDOABLE = frozenset({Action.handover, Action.capture, Action.accept, Action.bag, Action.unbag,
                      Action.pull, Action.load})


def _lock_item(session: Session, code: str) -> Credential:
    c = classify(code)
    if c.kind == CodeKind.waybill:
        stmt = select(Credential).where(Credential.waybill_no == c.code)
    elif c.kind == CodeKind.credential:
        stmt = select(Credential).where(Credential.credential_no == c.code)
    else:
        raise no_credential(code, "code")
    item = session.exec(stmt.with_for_update()).first()
    if item is None:
        raise no_credential(code, "code")
    return item


def correct_recipient(session: Session, *, code: str, changes: dict, station: str | None = None,
                      user_id: int | None = None) -> tuple[Credential, Event | None]:
    """Correct an item's recipient data (at capture) with one `correct` event
    naming every changed field with its old and new value.

    The data is checked by the manifest import's rule (`domain.recipient`);
    the route follows the new province/district. When and how follow the
    desk's rule (domain.address_change): before acceptance the change is
    applied; from acceptance on it becomes an intercept request for a
    supervisor (an `intercept` event; the item is not changed);
    delivered or withdrawn items are refused. Returns the item and the
    event (None when nothing changed)."""
    unknown = set(changes) - set(RECIPIENT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ServiceError(_("%(field)s cannot be corrected here.", field=field_label(name)), field=name)
    item = _lock_item(session, code)
    how = address_change(item.status)
    if how == AddressChange.refused:
        raise Conflict(_("Item %(no)s is %(status)s: its address can no longer be corrected.",
                         no=item.credential_no, status=status_text(item.status)), field="code")
    for name, raw in changes.items():
        if raw is not None and not isinstance(raw, str):
            raise ServiceError(_("%(field)s must be text.", field=field_label(name)), field=name)
    rec, errors = check_changes({name: getattr(item, name) or "" for name in RECIPIENT_FIELDS}, changes)
    if errors:
        raise field_error(errors[0])
    new = {name: value for name, value in rec.values.items() if value != (getattr(item, name) or "")}
    if not new:
        return item, None
    if how == AddressChange.intercept:
        # the item is on its way with an EMS label: a supervisor decides
        _req, ev = request_intercept(session, item=item, kind="readdress", details=new, user_id=user_id,
                                     station=station)
        return item, ev
    route_before = item.route
    old = apply_recipient_changes(session, item, new, rec)
    details: dict = {"fields": {name: {"from": old[name], "to": getattr(item, name)} for name in new}}
    if item.route != route_before:
        details["route"] = {"from": route_before, "to": item.route}
    if item.label_reprint and item.waybill_no:
        details["label_reprint"] = True  # the printed label shows the old data
    ev = events.record(session, action=SystemAction.correct, credential_id=item.id,
                       from_status=item.status, to_status=item.status, code=item.credential_no,
                       station=station, user_id=user_id, details=details)
    return item, ev


def _latest_status_event_id(session: Session, credential_id: int) -> int | None:
    """The item's latest status change that still stands (undo events and
    the events they undid skipped)."""
    rows = session.exec(
        select(Event.id, Event.action, Event.details).where(
            Event.credential_id == credential_id, Event.result == "ok",
            Event.from_status.is_not(None), Event.to_status.is_not(None),
            Event.from_status != Event.to_status,
        ).order_by(Event.id.desc())
    ).all()
    undone: set[int] = set()
    for ev_id, action, details in rows:
        if action == SystemAction.undo:
            undone.add(json.loads(details or "{}").get("undoes"))
            continue
        if ev_id not in undone:
            return ev_id
    return None


def undo_scan(session: Session, *, event_id: int, reason: str, station: str | None = None,
              user_id: int | None = None) -> Event:
    """Undo an accepted scan with a compensating `undo` event; the original
    event stays. Only the latest status change of an item can be undone (undo
    the later ones first); a seal is undone by reopening the bag."""
    reason = holds.checked_reason(reason)
    ev = session.get(Event, event_id)
    if ev is None:
        raise NotFound(_("There is no event %(id)s.", id=event_id), field="event_id")
    if ev.result != "ok":
        raise Conflict(_("Event %(id)s is a refused scan: it changed nothing.", id=event_id), field="event_id")
    if ev.action == Action.seal:
        raise Conflict(_("A seal is undone by reopening the bag."), field="event_id")
    if ev.action not in UNDOABLE:
        raise Conflict(_("A “%(action)s” event cannot be undone here.", action=action_text(ev.action)),
                       field="event_id")
    if ev.action == Action.load:
        return _undo_load(session, ev, reason, station, user_id)
    item = session.exec(select(Credential).where(Credential.id == ev.credential_id).with_for_update()).one()
    latest = _latest_status_event_id(session, item.id)
    if latest != ev.id or item.status != ev.to_status:
        raise Conflict(_("Item %(no)s has changed since event %(id)s (it is %(status)s now): undo the later "
                         "change first.", no=item.credential_no, id=event_id, status=status_text(item.status)),
                       field="event_id")
    bag = session.exec(select(Bag).where(Bag.id == ev.bag_id).with_for_update()).first() if ev.bag_id else None
    if ev.action == Action.capture:
        item.waybill_no = None
    elif ev.action == Action.accept:
        item.weight_g = None
    elif ev.action == Action.bag:
        _require_open(bag)
        item.bag_id = None
        bag.item_count -= 1
    elif ev.action == Action.unbag or (ev.action == Action.pull and bag is not None):
        _require_open(bag)
        item.bag_id = bag.id
        bag.item_count += 1
    restored = ev.from_status
    current = item.status
    item.status = restored
    item.updated_at = utcnow()
    session.add(item)
    if bag is not None:
        session.add(bag)
    return events.record(
        session, action=SystemAction.undo, credential_id=item.id, bag_id=bag.id if bag else None,
        from_status=current, to_status=restored, code=item.credential_no, station=station, user_id=user_id,
        details={"undoes": ev.id, "undone_action": ev.action, "reason": reason},
    )


def _require_open(bag: Bag | None) -> None:
    if bag is None:
        raise Conflict(_("The bag of this scan no longer exists."), field="event_id")
    if bag.state != BagState.open:
        raise Conflict(_("Bag %(code)s is %(state)s: reopen it first.", code=bag.code,
                         state=label("bag_state", bag.state)), field="event_id")


def _undo_load(session: Session, ev: Event, reason: str, station: str | None, user_id: int | None) -> Event:
    bag = session.exec(select(Bag).where(Bag.id == ev.bag_id).with_for_update()).one()
    trip = session.exec(select(Trip).where(Trip.id == ev.trip_id).with_for_update()).first()
    try:
        target = next_bag_state("unload", bag.state)  # the bag state machine: loaded → sealed
    except TransitionRefused:
        target = None
    if target is None or bag.trip_id != ev.trip_id:
        raise Conflict(_("Bag %(code)s is %(state)s now: this load cannot be undone.", code=bag.code,
                         state=label("bag_state", bag.state)), field="event_id")
    if trip is None or trip.state != TripState.loading:
        raise Conflict(_("The trip has departed: a load cannot be undone after departure."), field="event_id")
    bag.state = target
    bag.trip_id = None
    session.add(bag)
    return events.record(
        session, action=SystemAction.undo, bag_id=bag.id, trip_id=trip.id, from_status=BagState.loaded.value,
        to_status=BagState.sealed.value, code=bag.code, station=station, user_id=user_id,
        details={"undoes": ev.id, "undone_action": ev.action, "reason": reason, "trip": trip.code},
    )


def reopen_bag(session: Session, *, code: str, reason: str, station: str | None = None,
               user_id: int | None = None) -> Bag:
    """Reopen a sealed (not yet loaded) bag: the seal is cut, the bag is open
    again and its items go back from `dispatched` to `bagged`."""
    reason = holds.checked_reason(reason)
    bag = session.exec(select(Bag).where(Bag.code == (code or "").strip().upper()).with_for_update()).first()
    if bag is None:
        raise NotFound(_("There is no bag %(code)s.", code=code), field="bag")
    try:
        target = next_bag_state(SystemAction.reopen, bag.state)  # the bag state machine: sealed → open
    except TransitionRefused:
        if bag.state == BagState.open:
            raise Conflict(_("Bag %(code)s is open already.", code=bag.code), field="bag") from None
        if bag.state == BagState.loaded:
            raise Conflict(_("Bag %(code)s is loaded on a trip: undo the load first.", code=bag.code),
                           field="bag") from None
        raise Conflict(_("Bag %(code)s is %(state)s: it can no longer be reopened.", code=bag.code,
                         state=label("bag_state", bag.state)), field="bag") from None
    now = utcnow()
    moved = move_items(session, where=(Credential.bag_id == bag.id), action=SystemAction.reopen,
                       source=Status.dispatched, target=Status.bagged, station=station, user_id=user_id,
                       bag_id=bag.id, at=now)
    old_seal = bag.seal_no
    bag.state = target
    bag.seal_no = None
    bag.sealed_at = None
    bag.sealed_by = None
    session.add(bag)
    session.flush()
    events.record(session, action=SystemAction.reopen, bag_id=bag.id, from_status=BagState.sealed.value,
                  to_status=BagState.open.value, code=bag.code, station=station, user_id=user_id,
                  details={"reason": reason, "seal": old_seal, "items": moved}, at=now)
    return bag


def release_hold(session: Session, *, code: str, reason: str, station: str | None = None,
                 user_id: int | None = None) -> Credential:
    """Clear an item's hold so that stations take it again (services/holds.py's
    rule: the release reason and the hold reason go into the `release` event)."""
    item = _lock_item(session, code)
    holds.release(session, item, reason=reason, user_id=user_id, station=station)
    return item
