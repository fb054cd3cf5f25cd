"""Hotline calls, tickets and the actions an agent takes from a ticket.

Every action on an item (change of address, hold, release, self-pickup)
goes through the domain rules and is recorded as an event; the ticket keeps
a note pointing at that event.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from ..domain.address_change import GONE, AddressChange, address_change
from ..domain.recipient import RECIPIENT_FIELDS, check_changes
from ..domain.status import Status, SystemAction, rank
from ..models import (
    Call,
    Credential,
    Event,
    InterceptRequest,
    Route,
    SavedReply,
    Station,
    Ticket,
    TicketItem,
    TicketNote,
    User,
)
from ..models.base import utcnow
from ..settings import Settings
from ..vocabulary import field_label, label, status_text, system_note
from . import events, holds, notify
from .errors import Conflict, NotFound, ServiceError, field_error, one_of, too_long
from .errors import required as required_error
from .lookup import item_by_no

CATEGORIES = ("where_is_it", "address_change", "wrong_data", "lost_damaged", "complaint", "other")
PRIORITIES = ("urgent", "high", "normal", "low")
STATES = ("open", "pending", "resolved", "closed")
# allowed state changes; resolved can be reopened, closed is final
STATE_CHANGES = {
    "open": {"pending", "resolved"},
    "pending": {"open", "resolved"},
    "resolved": {"open", "closed"},
    "closed": set(),
}
ACTIVE = ("open", "pending")
AT_SITE = {Status.received, Status.captured, Status.accepted, Status.bagged}
ADDRESS_FIELDS = RECIPIENT_FIELDS


@dataclass
class TicketSettings:
    """SLA per priority (hours until due): settings.py, TICKET_SLA_HOURS."""

    sla_hours: dict[str, float] = field(default_factory=lambda: dict(Settings().ticket_sla_hours))

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketSettings:
        return cls(sla_hours=dict(settings.ticket_sla_hours))


def _station(session: Session, code: str | None, kind: str, name: str) -> str:
    st = session.exec(select(Station).where(Station.code == (code or ""))).first()
    if st is None or st.kind != kind:
        raise ServiceError(_("%(field)s must be the code of a %(kind)s, not “%(value)s”", field=field_label(name),
                             kind=label("station_kind", kind), value=code or ""), field=name)
    return st.code


def _text(value: str | None, name: str, *, max_len: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise required_error(name)
    if len(value) > max_len:
        raise too_long(name, max_len)
    return value


# ---- calls ----------------------------------------------------------------

def log_call(session: Session, *, line: str, desk: str, agent_id: int | None, category: str,
             caller_number: str = "", credential_no: str | None = None, outcome: str = "",
             duration_s: int = 0, started_at: datetime | None = None) -> Call:
    """Log one hotline call (line, desk, agent, caller, item, category,
    outcome, duration)."""
    if category not in CATEGORIES:
        raise one_of("category", category, CATEGORIES, "category")
    if not isinstance(duration_s, int) or not 0 <= duration_s <= 24 * 3600:
        raise ServiceError(_("The duration must be between 0 and 24 hours."), field="duration_s")
    item = item_by_no(session, credential_no) if credential_no else None
    call = Call(line=_station(session, line, "hotline", "line"), desk=_station(session, desk, "desk", "desk"),
                agent_id=agent_id, caller_number=_text(caller_number, "caller_number", max_len=32),
                credential_id=item.id if item else None, category=category,
                outcome=_text(outcome, "outcome", max_len=500), duration_s=duration_s,
                started_at=started_at or utcnow())
    session.add(call)
    session.flush()
    return call


def recent_calls(session: Session, *, agent_id: int | None = None, limit: int = 50) -> list[Call]:
    stmt = select(Call)
    if agent_id is not None:
        stmt = stmt.where(Call.agent_id == agent_id)
    return list(session.exec(stmt.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)))


# ---- tickets --------------------------------------------------------------

def open_ticket(session: Session, *, category: str, subject: str, priority: str = "normal",
                created_by: int | None, desk: str | None = None, caller_number: str = "",
                credential_nos: list[str] | tuple[str, ...] = (), call_id: int | None = None,
                assignee_id: int | None = None, note: str = "", now: datetime | None = None,
                settings: TicketSettings | None = None) -> Ticket:
    """Open a ticket, due by the SLA of its priority; link items and the call."""
    if category not in CATEGORIES:
        raise one_of("category", category, CATEGORIES, "category")
    if priority not in PRIORITIES:
        raise one_of("priority", priority, PRIORITIES, "priority")
    settings = settings or TicketSettings()
    now = now or utcnow()
    ticket = Ticket(
        category=category, priority=priority, subject=_text(subject, "subject", max_len=200, required=True),
        caller_number=_text(caller_number, "caller_number", max_len=32),
        desk=_station(session, desk, "desk", "desk") if desk else None,
        assignee_id=assignee_id if assignee_id is not None else created_by, created_by=created_by,
        created_at=now, updated_at=now, due_at=now + timedelta(hours=settings.sla_hours[priority]),
    )
    session.add(ticket)
    session.flush()
    for no in credential_nos:
        link_item(session, ticket_id=ticket.id, credential_no=no)
    if call_id is not None:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFound(_("There is no call %(id)s.", id=call_id), field="call_id")
        call.ticket_id = ticket.id
        session.add(call)
    if note.strip():
        add_note(session, ticket_id=ticket.id, user_id=created_by, body=note)
    session.flush()
    return ticket


def get_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        stmt = stmt.with_for_update()
    ticket = session.exec(stmt).first()
    if ticket is None:
        raise NotFound(_("There is no ticket #%(id)s.", id=ticket_id), field="ticket")
    return ticket


def link_item(session: Session, *, ticket_id: int, credential_no: str) -> Credential:
    """Link an item to a ticket (once)."""
    item = item_by_no(session, credential_no.strip())
    have = session.exec(select(TicketItem.id).where(TicketItem.ticket_id == ticket_id,
                                                    TicketItem.credential_id == item.id)).first()
    if have is None:
        session.add(TicketItem(ticket_id=ticket_id, credential_id=item.id))
        session.flush()
    return item


def ticket_items(session: Session, ticket_id: int) -> list[Credential]:
    return list(session.exec(select(Credential).join(TicketItem, TicketItem.credential_id == Credential.id)
                             .where(TicketItem.ticket_id == ticket_id).order_by(Credential.id)))


def add_note(session: Session, *, ticket_id: int, user_id: int | None, body: str, kind: str = "note",
             event_id: int | None = None) -> TicketNote:
    """Append to a ticket's history."""
    body = _text(body, "note", max_len=4000, required=True)
    n = TicketNote(ticket_id=ticket_id, user_id=user_id, body=body, kind=kind, event_id=event_id)
    session.add(n)
    ticket = session.get(Ticket, ticket_id)
    ticket.updated_at = utcnow()
    session.add(ticket)
    session.flush()
    return n


def notes(session: Session, ticket_id: int) -> list[tuple[TicketNote, str | None]]:
    return list(session.exec(select(TicketNote, User.username).join(User, User.id == TicketNote.user_id,
                                                                    isouter=True)
                             .where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)))


def set_state(session: Session, *, ticket_id: int, state: str, user_id: int | None,
              now: datetime | None = None) -> Ticket:
    """Move a ticket open → pending → resolved → closed (resolved may be
    reopened; closed is final)."""
    if state not in STATES:
        raise one_of("state", state, STATES, "ticket_state")
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id, lock=True)
    if state not in STATE_CHANGES[ticket.state]:
        raise Conflict(_("A ticket that is “%(old)s” cannot become “%(new)s”.", old=label("ticket_state", ticket.state),
                         new=label("ticket_state", state)), field="state")
    old = ticket.state
    ticket.state = state
    ticket.updated_at = now
    if state == "resolved":
        ticket.resolved_at = now
    elif state == "closed":
        ticket.closed_at = now
    elif state == "open":
        ticket.resolved_at = None
    session.add(ticket)
    session.add(TicketNote(ticket_id=ticket.id, user_id=user_id, kind="state", body=f"{old} → {state}", at=now))
    session.flush()
    return ticket


def assign(session: Session, *, ticket_id: int, assignee: str | None, desk: str | None,
           user_id: int | None) -> Ticket:
    """Give a ticket to an agent (by user name) and/or a desk queue."""
    ticket = get_ticket(session, ticket_id, lock=True)
    if assignee:
        u = session.exec(select(User).where(User.username == assignee, User.active == True)).first()  # noqa: E712
        if u is None:
            raise ServiceError(_("There is no active user “%(name)s”.", name=assignee), field="assignee")
        ticket.assignee_id = u.id
    if desk:
        ticket.desk = _station(session, desk, "desk", "desk")
    session.add(ticket)
    session.add(TicketNote(ticket_id=ticket.id, user_id=user_id, kind="assign",
                           body=f"{assignee or '-'} @ {ticket.desk or '-'}"))
    session.flush()
    return ticket


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    return ticket.state in ACTIVE and ticket.due_at < (now or utcnow())


def ticket_queue(session: Session, *, view: str = "mine", user_id: int | None = None, desk: str | None = None,
                 limit: int = 200, now: datetime | None = None) -> list[Ticket]:
    """Tickets for a queue: `mine` (assigned to the user), `desk` (a desk's),
    `overdue` (past their SLA), `all` active, `done` (resolved/closed)."""
    now = now or utcnow()
    stmt = select(Ticket)
    if view == "done":
        stmt = stmt.where(Ticket.state.in_(("resolved", "closed"))).order_by(Ticket.updated_at.desc())
    else:
        stmt = stmt.where(Ticket.state.in_(ACTIVE))
        if view == "mine":
            stmt = stmt.where(Ticket.assignee_id == user_id)
        elif view == "desk":
            stmt = stmt.where(Ticket.desk == desk)
        elif view == "overdue":
            stmt = stmt.where(Ticket.due_at < now)
        elif view != "all":
            raise one_of("view", view, ("mine", "desk", "overdue", "all", "done"))
        stmt = stmt.order_by(Ticket.due_at, Ticket.id)
    return list(session.exec(stmt.limit(limit)))


def queue_counts(session: Session, *, user_id: int | None, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    active = Ticket.state.in_(ACTIVE)
    return {
        "mine": session.exec(select(func.count()).where(active, Ticket.assignee_id == user_id)).one(),
        "overdue": session.exec(select(func.count()).where(active, Ticket.due_at < now)).one(),
        "all": session.exec(select(func.count()).where(active)).one(),
    }


# ---- actions on items from a ticket ------------------------------------------

def _ticket_item(session: Session, ticket_id: int, credential_no: str) -> tuple[Ticket, Credential]:
    ticket = get_ticket(session, ticket_id)
    if ticket.state == "closed":
        raise Conflict(_("The ticket is closed."), field="ticket")
    link_item(session, ticket_id=ticket.id, credential_no=credential_no)
    return ticket, item_by_no(session, credential_no.strip(), lock=True)


def _action_note(session, ticket: Ticket, user_id, body: str, event_id: int) -> None:
    session.add(TicketNote(ticket_id=ticket.id, user_id=user_id, kind="action", body=body, event_id=event_id))
    ticket.updated_at = utcnow()
    session.add(ticket)


def _checked_address(item: Credential, fields: dict):
    """The new address fields, checked by the one recipient rule (the capture
    station's and the import's): the cleaned values that differ from the
    item's, and the checked data (phone, placement)."""
    given = {name: str(fields[name]) for name in ADDRESS_FIELDS
             if fields.get(name) is not None and str(fields[name]).strip() != ""}
    if not given:
        raise ServiceError(_("Give at least one field of the new address."), field="address")
    rec, errors = check_changes({name: getattr(item, name) or "" for name in ADDRESS_FIELDS}, given)
    if errors:
        raise field_error(errors[0])
    return {k: v for k, v in rec.values.items() if k in given or v != (getattr(item, k) or "")}, rec


def apply_recipient_changes(session: Session, item: Credential, changes: dict, rec) -> dict:
    """Write checked recipient data (`changes`, `rec` from check_changes) onto
    the item: the phone's last four and E.164 with the phone, the route of
    the new placement (which must have a route), the contact problem
    cleared, the label flagged for reprint once a waybill is bound. The one
    writer of new recipient data, for the desk's address change and a
    station's correction at capture. Returns the old values."""
    old = {k: getattr(item, k) for k in changes}
    for k, v in changes.items():
        setattr(item, k, v)
    if "recipient_phone" in changes:
        item.phone_last4 = rec.phone.last4
        item.recipient_phone_e164 = rec.phone.e164
    if rec.placement is not None:
        if session.get(Route, rec.route) is None:
            raise ServiceError(_("There is no route for %(place)s.", place=" ".join(p for p in (item.province, item.district) if p)),
                               field="province")
        item.route = rec.route
    item.contact_problem = None  # the holder just gave us their data
    if item.waybill_no:
        item.label_reprint = True
    item.updated_at = utcnow()
    session.add(item)
    return old


def change_address(session: Session, *, ticket_id: int, credential_no: str, fields: dict,
                   user_id: int | None, station: str | None = None) -> dict:
    """Change where an item goes. Before acceptance the item is updated (and
    its label flagged for reprint if one was printed): an `update` event.
    From acceptance on it is on its way: an intercept request for a
    supervisor and an `intercept` event. Delivered or withdrawn: refused."""
    ticket, item = _ticket_item(session, ticket_id, credential_no)
    changes, rec = _checked_address(item, fields)
    how = address_change(item.status)
    if how == AddressChange.refused:
        raise Conflict(_("The item is %(status)s: its address cannot change.", status=status_text(item.status)),
                       field="credential_no")
    if how == AddressChange.apply:
        old = apply_recipient_changes(session, item, changes, rec)
        ev = events.record(session, action=SystemAction.update.value, credential_id=item.id,
                           from_status=item.status, to_status=item.status, code=item.credential_no,
                           station=station, user_id=user_id,
                           details={"ticket": ticket.id, "changed": sorted(changes), "old": old,
                                    "label_reprint": item.label_reprint})
        _action_note(session, ticket, user_id,
                     system_note("address_changed_reprint" if item.label_reprint else "address_changed",
                                 fields=sorted(changes)), ev.id)
        session.flush()
        return {"result": "updated", "event_id": ev.id, "label_reprint": item.label_reprint}
    req, ev = request_intercept(session, item=item, kind="readdress", details=changes, user_id=user_id,
                                station=station, ticket=ticket)
    return {"result": "intercept_requested", "event_id": ev.id, "request_id": req.id}


def request_intercept(session: Session, *, item: Credential, kind: str, details: dict, user_id: int | None,
                      station: str | None, ticket: Ticket | None = None) -> tuple[InterceptRequest, Event]:
    """Ask a supervisor to stop an item on its way (`readdress` with the new
    recipient data in `details`, or `self_pickup`): an open intercept
    request, the item's intercept flag and an `intercept` event; a note on
    the ticket when it comes from one. The item must be locked by the caller."""
    req = InterceptRequest(credential_id=item.id, ticket_id=ticket.id if ticket else None, kind=kind,
                           details=json.dumps(details, ensure_ascii=False), requested_by=user_id)
    session.add(req)
    session.flush()
    item.intercept = True
    item.updated_at = utcnow()
    session.add(item)
    ev = events.record(session, action=SystemAction.intercept.value, credential_id=item.id,
                       from_status=item.status, to_status=item.status, code=item.credential_no,
                       station=station, user_id=user_id,
                       details={"ticket": ticket.id if ticket else None, "kind": kind, "request": req.id})
    if ticket is not None:
        _action_note(session, ticket, user_id, system_note("intercept_requested", kind=kind, request=req.id), ev.id)
    session.flush()
    return req, ev


def hold(session: Session, *, ticket_id: int, credential_no: str, reason: str, user_id: int | None,
         station: str | None = None) -> dict:
    """Put an item on hold from a ticket (refused at every station until
    released): services/holds.py's rule, noted on the ticket."""
    ticket, item = _ticket_item(session, ticket_id, credential_no)
    ev = holds.put_on_hold(session, item, reason=reason, user_id=user_id, station=station,
                           details={"ticket": ticket.id})
    _action_note(session, ticket, user_id, system_note("hold", reason=item.hold_reason), ev.id)
    session.flush()
    return {"result": "held", "event_id": ev.id}


def release(session: Session, *, ticket_id: int, credential_no: str, reason: str, user_id: int | None,
            station: str | None = None) -> dict:
    """Release a held item from a ticket, with a reason: services/holds.py's
    rule, noted on the ticket."""
    ticket, item = _ticket_item(session, ticket_id, credential_no)
    ev = holds.release(session, item, reason=reason, user_id=user_id, station=station,
                       details={"ticket": ticket.id})
    _action_note(session, ticket, user_id, system_note("released"), ev.id)
    session.flush()
    return {"result": "released", "event_id": ev.id}


PICKUP_REASON = "self_pickup"


def arrange_self_pickup(session: Session, *, ticket_id: int, credential_no: str, user_id: int | None,
                        station: str | None = None) -> dict:
    """The holder collects the item in person. Not yet dispatched: the item
    is held for pickup (a `hold` event) and, if it is at our site, the holder
    is told it is ready. Dispatched: an intercept request (pickup)."""
    ticket, item = _ticket_item(session, ticket_id, credential_no)
    status = Status(item.status)
    if status in GONE:
        raise Conflict(_("The item is %(status)s: it cannot be picked up.", status=status_text(status.value)),
                       field="credential_no")
    if item.revoked:
        raise Conflict(_("The credential is revoked."), field="credential_no")
    if rank(status) < rank(Status.dispatched):
        if item.hold and item.hold_reason == PICKUP_REASON:
            raise Conflict(_("Self-pickup is already arranged."), field="credential_no")
        ev = holds.put_on_hold(session, item, reason=PICKUP_REASON, user_id=user_id, station=station,
                               details={"ticket": ticket.id, "kind": PICKUP_REASON}, replace=True)
        _action_note(session, ticket, user_id, system_note("self_pickup"), ev.id)
        queued = 0
        if status in AT_SITE:
            queued = notify.queue(session, kind="ready_for_pickup", credential_ids=[item.id])
        session.flush()
        return {"result": "held_for_pickup", "event_id": ev.id, "notified": bool(queued)}
    req, ev = request_intercept(session, item=item, kind="self_pickup", details={}, user_id=user_id,
                                station=station, ticket=ticket)
    return {"result": "intercept_requested", "event_id": ev.id, "request_id": req.id}


# ---- intercept requests (supervisors) ------------------------------------------

def intercept_requests(session: Session, *, state: str = "open", limit: int = 200):
    return list(session.exec(select(InterceptRequest, Credential)
                             .join(Credential, Credential.id == InterceptRequest.credential_id)
                             .where(InterceptRequest.state == state)
                             .order_by(InterceptRequest.requested_at, InterceptRequest.id).limit(limit)))


def decide_intercept(session: Session, *, request_id: int, done: bool, user_id: int | None, note: str = "",
                     station: str | None = None) -> dict:
    """A supervisor closes an intercept request: `done` (the item was
    stopped; a re-address is applied to it) or refused. Either way the item's
    intercept flag is cleared with an `update` event, unless it is revoked."""
    req = session.exec(select(InterceptRequest).where(InterceptRequest.id == request_id)
                       .with_for_update()).first()
    if req is None:
        raise NotFound(_("There is no intercept request #%(id)s.", id=request_id), field="request")
    if req.state != "open":
        raise Conflict(_("This request has been decided already."), field="request")
    item = session.exec(select(Credential).where(Credential.id == req.credential_id).with_for_update()).one()
    details: dict = {"request": req.id, "decision": "done" if done else "refused"}
    if done and req.kind == "readdress":
        # checked again: the item may have changed since the request
        changes, rec = _checked_address(item, json.loads(req.details or "{}"))
        details["old"] = apply_recipient_changes(session, item, changes, rec)
        details["changed"] = sorted(changes)
    if not item.revoked:
        item.intercept = False
    item.updated_at = utcnow()
    session.add(item)
    ev = events.record(session, action=SystemAction.update.value, credential_id=item.id,
                       from_status=item.status, to_status=item.status, code=item.credential_no,
                       station=station, user_id=user_id, details=details)
    req.state = "done" if done else "refused"
    req.decided_by, req.decided_at = user_id, utcnow()
    req.decision_note = _text(note, "note", max_len=500)
    session.add(req)
    if req.ticket_id:
        _action_note(session, session.get(Ticket, req.ticket_id), user_id,
                     system_note("intercept_decided", request=req.id, state=req.state), ev.id)
    session.flush()
    return {"result": req.state, "event_id": ev.id}


# ---- saved replies --------------------------------------------------------------

def saved_replies(session: Session) -> list[SavedReply]:
    return list(session.exec(select(SavedReply).order_by(SavedReply.title)))


def _saved_reply(session: Session, reply_id: int) -> SavedReply:
    r = session.get(SavedReply, reply_id)
    if r is None:
        raise NotFound(_("There is no saved reply %(id)s.", id=reply_id), field="reply")
    return r


def update_saved_reply(session: Session, *, reply_id: int, title: str, body_zh: str,
                       body_en: str = "") -> SavedReply:
    """Change a saved reply's title and texts (the same checks as adding one)."""
    r = _saved_reply(session, reply_id)
    title = _text(title, "title", max_len=100, required=True)
    other = session.exec(select(SavedReply.id).where(SavedReply.title == title, SavedReply.id != r.id)).first()
    if other is not None:
        raise Conflict(_("A saved reply named “%(title)s” exists already.", title=title), field="title")
    r.title = title
    r.body_zh = _text(body_zh, "body_zh", max_len=2000, required=True)
    r.body_en = _text(body_en, "body_en", max_len=2000)
    session.add(r)
    session.flush()
    return r


def delete_saved_reply(session: Session, *, reply_id: int) -> str:
    """Remove a saved reply (notes that used it keep their text); its title."""
    r = _saved_reply(session, reply_id)
    title = r.title
    session.delete(r)
    session.flush()
    return title


def add_saved_reply(session: Session, *, title: str, body_zh: str, body_en: str = "") -> SavedReply:
    """A reusable answer agents can drop into a note."""
    title = _text(title, "title", max_len=100, required=True)
    if session.exec(select(SavedReply.id).where(SavedReply.title == title)).first() is not None:
        raise Conflict(_("A saved reply named “%(title)s” exists already.", title=title), field="title")
    r = SavedReply(title=title, body_zh=_text(body_zh, "body_zh", max_len=2000, required=True),
                   body_en=_text(body_en, "body_en", max_len=2000))
    session.add(r)
    session.flush()
    return r
