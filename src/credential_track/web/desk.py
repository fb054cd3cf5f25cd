"""The hotline desk: search, item with timeline and reveal, call log,
tickets, the outreach queue, intercept requests for supervisors."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlmodel import select

from ..db import get_db
from ..models import Call, OutreachTask, Ticket, TicketItem, User
from ..permissions import allowed
from ..security import page_require
from ..service_text import JINJA_GLOBALS
from ..services import lookup, outreach, queries, tickets
from ..services.errors import ServiceError

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.app_context_processor
def _service_words():
    return JINJA_GLOBALS


def _fail(exc: ServiceError) -> None:
    flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")


def _desk() -> str:
    return session.get("desk", "CS-1")


def _line() -> str:
    return session.get("line", "HL-1")


def _reveal_minutes() -> int:
    return int(current_app.config.get("REVEAL_MINUTES", lookup.REVEAL_MINUTES))


def _back(default: str):
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


@bp.get("/")
@page_require("desk")
def index():
    q = request.args.get("q", "").strip()
    found = None
    if q:
        try:
            found = lookup.lookup(get_db(), q, role=current_user.role, user_id=current_user.id,
                                  reveal_minutes=_reveal_minutes())
        except ServiceError as exc:
            _fail(exc)
    stations = queries.stations(get_db())
    db = get_db()
    return render_template(
        "desk/index.html", q=q, found=found, desk=_desk(), line=_line(),
        desks=[s["code"] for s in stations if s["kind"] == "desk"],
        lines=[s["code"] for s in stations if s["kind"] == "hotline"],
        counts=tickets.queue_counts(db, user_id=current_user.id), outreach_counts=outreach.counts(db),
    )


@bp.post("/position")
@page_require("desk")
def set_position():
    codes = {s["code"]: s["kind"] for s in queries.stations(get_db())}
    if codes.get(request.form.get("desk")) == "desk":
        session["desk"] = request.form["desk"]
    if codes.get(request.form.get("line")) == "hotline":
        session["line"] = request.form["line"]
    return redirect(url_for("desk.index"))


@bp.get("/item/<credential_no>")
@page_require("desk")
def item(credential_no: str):
    db = get_db()
    try:
        detail = queries.credential_detail(db, credential_no)
    except ServiceError:
        flash(_("No item with this credential number."), "error")
        return redirect(url_for("desk.index"))
    row = lookup.item_by_no(db, credential_no)
    shown = lookup.may_see_pii(current_user.role) or bool(
        lookup.revealed_ids(db, user_id=current_user.id, credential_ids=[row.id], minutes=_reveal_minutes()))
    linked = db.exec(select(Ticket).join(TicketItem, TicketItem.ticket_id == Ticket.id)
                     .where(TicketItem.credential_id == row.id).order_by(Ticket.id.desc())).all()
    tasks = db.exec(select(OutreachTask).where(OutreachTask.credential_id == row.id)
                    .order_by(OutreachTask.id.desc())).all()
    return render_template("desk/item.html", item=lookup.lookup_item(row, show_pii=shown), detail=detail,
                           tickets=linked, tasks=tasks, desk=_desk(), line=_line(),
                           categories=tickets.CATEGORIES, may_reveal=allowed(current_user.role, "reveal"))


@bp.post("/item/<credential_no>/reveal")
@page_require("reveal")
def reveal(credential_no: str):
    db = get_db()
    try:
        lookup.reveal(db, credential_no=credential_no, user_id=current_user.id,
                      reason=request.form.get("reason", ""), station=_desk())
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
    return redirect(url_for("desk.item", credential_no=credential_no))


def _int(name: str, default: int = 0) -> int:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ServiceError(_("%(name)s must be a whole number", name=name), field=name)
    return int(raw)


@bp.post("/calls")
@page_require("desk")
def log_call():
    db = get_db()
    no = request.form.get("credential_no", "").strip() or None
    try:
        minutes, seconds = _int("minutes"), _int("seconds")
        call = tickets.log_call(
            db, line=request.form.get("line") or _line(), desk=request.form.get("desk") or _desk(),
            agent_id=current_user.id, category=request.form.get("category", ""),
            caller_number=request.form.get("caller_number", ""), credential_no=no,
            outcome=request.form.get("outcome", ""), duration_s=minutes * 60 + seconds)
        ticket = None
        if request.form.get("open_ticket"):
            ticket = tickets.open_ticket(
                db, category=call.category, subject=request.form.get("subject") or call.outcome or call.category,
                priority=request.form.get("priority", "normal"), created_by=current_user.id, desk=call.desk,
                caller_number=call.caller_number, credential_nos=[no] if no else [], call_id=call.id,
                settings=tickets.TicketSettings.from_config(current_app.config))
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
        return _back(url_for("desk.index"))
    flash(_("Call logged."), "ok")
    if ticket is not None:
        return redirect(url_for("desk.ticket", ticket_id=ticket.id))
    return _back(url_for("desk.index"))


@bp.get("/calls")
@page_require("desk")
def calls():
    mine = request.args.get("all") is None
    db = get_db()
    rows = tickets.recent_calls(db, agent_id=current_user.id if mine else None, limit=100)
    return render_template("desk/calls.html", calls=rows, mine=mine, names=_item_numbers(db, rows),
                           users=_usernames(db, {c.agent_id for c in rows}))


def _item_numbers(db, calls: list[Call]) -> dict[int, str]:
    from ..models import Credential

    ids = {c.credential_id for c in calls if c.credential_id}
    if not ids:
        return {}
    return dict(db.exec(select(Credential.id, Credential.credential_no).where(Credential.id.in_(ids))).all())


def _usernames(db, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.exec(select(User.id, User.username).where(User.id.in_(ids))).all())


# ---- tickets ------------------------------------------------------------------

@bp.get("/tickets")
@page_require("desk")
def ticket_list():
    view = request.args.get("view", "mine")
    db = get_db()
    try:
        rows = tickets.ticket_queue(db, view=view, user_id=current_user.id, desk=_desk())
    except ServiceError as exc:
        _fail(exc)
        return redirect(url_for("desk.ticket_list"))
    return render_template("desk/tickets.html", tickets=rows, view=view, desk=_desk(),
                           counts=tickets.queue_counts(db, user_id=current_user.id),
                           users=_usernames(db, {t.assignee_id for t in rows}),
                           now=datetime.now(timezone.utc), is_overdue=tickets.is_overdue)


@bp.get("/tickets/new")
@page_require("desk")
def ticket_new():
    return render_template("desk/ticket_new.html", credential_no=request.args.get("credential_no", ""),
                           categories=tickets.CATEGORIES, priorities=tickets.PRIORITIES, desk=_desk())


@bp.post("/tickets")
@page_require("desk")
def ticket_create():
    db = get_db()
    nos = [n for n in request.form.get("credential_nos", "").replace(",", " ").split() if n]
    try:
        t = tickets.open_ticket(
            db, category=request.form.get("category", ""), subject=request.form.get("subject", ""),
            priority=request.form.get("priority", "normal"), created_by=current_user.id, desk=_desk(),
            caller_number=request.form.get("caller_number", ""), credential_nos=nos,
            note=request.form.get("note", ""), settings=tickets.TicketSettings.from_config(current_app.config))
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
        return redirect(url_for("desk.ticket_new", credential_no=" ".join(nos)))
    return redirect(url_for("desk.ticket", ticket_id=t.id))


@bp.get("/tickets/<int:ticket_id>")
@page_require("desk")
def ticket(ticket_id: int):
    db = get_db()
    try:
        t = tickets.get_ticket(db, ticket_id)
    except ServiceError:
        flash(_("No such ticket."), "error")
        return redirect(url_for("desk.ticket_list"))
    full = lookup.may_see_pii(current_user.role)
    items = tickets.ticket_items(db, t.id)
    shown = set(i.id for i in items) if full else lookup.revealed_ids(
        db, user_id=current_user.id, credential_ids=[i.id for i in items], minutes=_reveal_minutes())
    return render_template(
        "desk/ticket.html", t=t, items=[lookup.lookup_item(i, show_pii=i.id in shown) for i in items],
        notes=tickets.notes(db, t.id), replies=tickets.saved_replies(db), overdue=tickets.is_overdue(t),
        next_states=sorted(tickets.STATE_CHANGES[t.state]), users=_usernames(db, {t.assignee_id}),
        priorities=tickets.PRIORITIES)


def _ticket_post(ticket_id: int, work) -> object:
    db = get_db()
    try:
        message = work(db)
        db.commit()
        if message:
            flash(message, "ok")
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
    return redirect(url_for("desk.ticket", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/note")
@page_require("desk")
def ticket_note(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.add_note(
        db, ticket_id=tickets.get_ticket(db, ticket_id).id, user_id=current_user.id,
        body=request.form.get("body", "")) and None)


@bp.post("/tickets/<int:ticket_id>/state")
@page_require("desk")
def ticket_state(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.set_state(
        db, ticket_id=ticket_id, state=request.form.get("state", ""), user_id=current_user.id) and None)


@bp.post("/tickets/<int:ticket_id>/assign")
@page_require("desk")
def ticket_assign(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.assign(
        db, ticket_id=ticket_id, assignee=request.form.get("assignee", "").strip() or None,
        desk=request.form.get("desk", "").strip() or None, user_id=current_user.id) and None)


@bp.post("/tickets/<int:ticket_id>/items")
@page_require("desk")
def ticket_link(ticket_id: int):
    def work(db):
        tickets.get_ticket(db, ticket_id)
        tickets.link_item(db, ticket_id=ticket_id, credential_no=request.form.get("credential_no", ""))
    return _ticket_post(ticket_id, work)


ACTION_DONE = {
    "updated": _l("Address changed; the label is flagged for reprint if one was printed."),
    "intercept_requested": _l("The item is on its way: an intercept request went to the supervisors."),
    "held": _l("The item is on hold."),
    "released": _l("The item is released."),
    "held_for_pickup": _l("The item is held for self-pickup."),
}


@bp.post("/tickets/<int:ticket_id>/action")
@page_require("desk")
def ticket_action(ticket_id: int):
    action = request.form.get("action", "")
    no = request.form.get("credential_no", "")
    common = dict(ticket_id=ticket_id, credential_no=no, user_id=current_user.id, station=_desk())

    def work(db):
        if action == "change_address":
            fields = {k: request.form.get(k, "") for k in tickets.ADDRESS_FIELDS}
            out = tickets.change_address(db, fields=fields, **common)
        elif action == "hold":
            out = tickets.hold(db, reason=request.form.get("reason", ""), **common)
        elif action == "release":
            out = tickets.release(db, **common)
        elif action == "self_pickup":
            out = tickets.arrange_self_pickup(db, **common)
        else:
            raise ServiceError(_("Unknown action."), field="action")
        return str(ACTION_DONE[out["result"]])
    return _ticket_post(ticket_id, work)


@bp.get("/replies")
@page_require("desk")
def replies():
    return render_template("desk/replies.html", replies=tickets.saved_replies(get_db()))


@bp.post("/replies")
@page_require("intercept")
def reply_add():
    db = get_db()
    try:
        tickets.add_saved_reply(db, title=request.form.get("title", ""), body_zh=request.form.get("body_zh", ""),
                                body_en=request.form.get("body_en", ""))
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
    return redirect(url_for("desk.replies"))


# ---- outreach -------------------------------------------------------------------

@bp.get("/outreach")
@page_require("desk")
def outreach_queue():
    state = request.args.get("state", "open")
    rule = request.args.get("rule") or None
    db = get_db()
    try:
        rows = outreach.queue(db, state=state, rule=rule, user_id=current_user.id)
    except ServiceError as exc:
        _fail(exc)
        return redirect(url_for("desk.outreach_queue"))
    return render_template("desk/outreach.html", rows=rows, state=state, rule=rule, rules=outreach.RULES,
                           outcomes=outreach.OUTCOMES, counts=outreach.counts(db),
                           users=_usernames(db, {t.claimed_by for t, _i in rows}),
                           now=datetime.now(timezone.utc))


def _outreach_post(work):
    db = get_db()
    try:
        work(db)
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
    return _back(url_for("desk.outreach_queue"))


@bp.post("/outreach/<int:task_id>/claim")
@page_require("desk")
def outreach_claim(task_id: int):
    return _outreach_post(lambda db: outreach.claim(db, task_id=task_id, user_id=current_user.id))


@bp.post("/outreach/<int:task_id>/outcome")
@page_require("desk")
def outreach_outcome(task_id: int):
    def work(db):
        retry = None
        raw = request.form.get("retry_at", "").strip()
        if raw:
            try:
                retry = datetime.fromisoformat(raw)
            except ValueError:
                raise ServiceError(_("The retry time is not a date and time."), field="retry_at") from None
            if retry.tzinfo is None:  # the form's local time: China
                from datetime import timedelta
                retry = retry.replace(tzinfo=timezone(timedelta(hours=8)))
        outreach.record_outcome(db, task_id=task_id, user_id=current_user.id,
                                outcome=request.form.get("outcome", ""), note=request.form.get("note", ""),
                                retry_at=retry, settings=outreach.OutreachSettings.from_config(current_app.config))
    return _outreach_post(work)


# ---- intercept requests -------------------------------------------------------------

@bp.get("/intercepts")
@page_require("intercept")
def intercepts():
    db = get_db()
    rows = tickets.intercept_requests(db, state=request.args.get("state", "open"))
    return render_template("desk/intercepts.html", rows=rows,
                           users=_usernames(db, {r.requested_by for r, _i in rows}))


@bp.post("/intercepts/<int:request_id>")
@page_require("intercept")
def intercept_decide(request_id: int):
    db = get_db()
    try:
        tickets.decide_intercept(db, request_id=request_id, done=request.form.get("decision") == "done",
                                 user_id=current_user.id, note=request.form.get("note", ""), station=_desk())
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _fail(exc)
    return redirect(url_for("desk.intercepts"))
