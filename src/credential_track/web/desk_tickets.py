"""Desk pages for tickets, saved replies and intercept requests (routes on
the desk blueprint)."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import settings
from ..security import page_require
from ..services import lookup, tickets
from ..services.errors import ServiceError
from ..unit_of_work import flash_refusal, get_db, refused_to
from .desk import _desk, _reveal_minutes, _usernames, bp

# ---- tickets ------------------------------------------------------------------

@bp.get("/tickets")
@page_require("desk")
def ticket_list():
    view = request.args.get("view", "mine")
    db = get_db()
    try:
        rows = tickets.ticket_queue(db, view=view, user_id=current_user.id, desk=_desk())
    except ServiceError as exc:
        flash_refusal(exc)
        return redirect(url_for("desk.ticket_list"))
    return render_template("desk/tickets.html", tickets=rows, view=view, desk=_desk(),
                           counts=tickets.queue_counts(db, user_id=current_user.id),
                           users=_usernames(db, {t.assignee_id for t in rows}),
                           now=datetime.now(UTC), is_overdue=tickets.is_overdue)


@bp.get("/tickets/new")
@page_require("desk")
def ticket_new():
    return render_template("desk/ticket_new.html", credential_no=request.args.get("credential_no", ""),
                           categories=tickets.CATEGORIES, priorities=tickets.PRIORITIES, desk=_desk())


def _typed_numbers() -> list[str]:
    return [n for n in request.form.get("credential_nos", "").replace(",", " ").split() if n]


@bp.post("/tickets")
@refused_to(lambda: url_for("desk.ticket_new", credential_no=" ".join(_typed_numbers())))
@page_require("desk")
def ticket_create():
    t = tickets.open_ticket(
        get_db(), category=request.form.get("category", ""), subject=request.form.get("subject", ""),
        priority=request.form.get("priority", "normal"), created_by=current_user.id, desk=_desk(),
        caller_number=request.form.get("caller_number", ""), credential_nos=_typed_numbers(),
        note=request.form.get("note", ""), settings=tickets.TicketSettings.from_settings(settings.current()))
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
    items = tickets.ticket_items(db, t.id)
    shown = lookup.shown_ids(db, role=current_user.role, user_id=current_user.id,
                             credential_ids=[i.id for i in items], minutes=_reveal_minutes())
    return render_template(
        "desk/ticket.html", t=t, items=[lookup.lookup_item(i, show_pii=i.id in shown) for i in items],
        notes=tickets.notes(db, t.id), replies=tickets.saved_replies(db), overdue=tickets.is_overdue(t),
        next_states=sorted(tickets.STATE_CHANGES[t.state]), users=_usernames(db, {t.assignee_id}),
        priorities=tickets.PRIORITIES)


def _ticket_post(ticket_id: int, work) -> object:
    message = work(get_db())
    if message:
        flash(message, "ok")
    return redirect(url_for("desk.ticket", ticket_id=ticket_id))


def _back_to_ticket(ticket_id: int) -> str:
    return url_for("desk.ticket", ticket_id=ticket_id)


@bp.post("/tickets/<int:ticket_id>/note")
@refused_to(_back_to_ticket)
@page_require("desk")
def ticket_note(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.add_note(
        db, ticket_id=tickets.get_ticket(db, ticket_id).id, user_id=current_user.id,
        body=request.form.get("body", "")) and None)


@bp.post("/tickets/<int:ticket_id>/state")
@refused_to(_back_to_ticket)
@page_require("desk")
def ticket_state(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.set_state(
        db, ticket_id=ticket_id, state=request.form.get("state", ""), user_id=current_user.id) and None)


@bp.post("/tickets/<int:ticket_id>/assign")
@refused_to(_back_to_ticket)
@page_require("desk")
def ticket_assign(ticket_id: int):
    return _ticket_post(ticket_id, lambda db: tickets.assign(
        db, ticket_id=ticket_id, assignee=request.form.get("assignee", "").strip() or None,
        desk=request.form.get("desk", "").strip() or None, user_id=current_user.id) and None)


@bp.post("/tickets/<int:ticket_id>/items")
@refused_to(_back_to_ticket)
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
@refused_to(_back_to_ticket)
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
            out = tickets.release(db, reason=request.form.get("reason", ""), **common)
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


# saved replies are managed by whoever may decide intercepts (supervisors, admins)
@bp.post("/replies")
@refused_to(lambda: url_for("desk.replies"))
@page_require("intercept")
def reply_add():
    r = tickets.add_saved_reply(get_db(), title=request.form.get("title", ""),
                                body_zh=request.form.get("body_zh", ""), body_en=request.form.get("body_en", ""))
    flash(_("Saved reply “%(title)s” added.", title=r.title), "ok")
    return redirect(url_for("desk.replies"))


@bp.post("/replies/<int:reply_id>")
@refused_to(lambda **_kw: url_for("desk.replies"))
@page_require("intercept")
def reply_edit(reply_id: int):
    r = tickets.update_saved_reply(get_db(), reply_id=reply_id, title=request.form.get("title", ""),
                                   body_zh=request.form.get("body_zh", ""), body_en=request.form.get("body_en", ""))
    flash(_("Saved reply “%(title)s” changed.", title=r.title), "ok")
    return redirect(url_for("desk.replies"))


@bp.post("/replies/<int:reply_id>/delete")
@refused_to(lambda **_kw: url_for("desk.replies"))
@page_require("intercept")
def reply_delete(reply_id: int):
    title = tickets.delete_saved_reply(get_db(), reply_id=reply_id)
    flash(_("Saved reply “%(title)s” removed.", title=title), "ok")
    return redirect(url_for("desk.replies"))


# ---- intercept requests -------------------------------------------------------------

@bp.get("/intercepts")
@page_require("intercept")
def intercepts():
    db = get_db()
    rows = tickets.intercept_requests(db, state=request.args.get("state", "open"))
    return render_template("desk/intercepts.html", rows=rows,
                           users=_usernames(db, {r.requested_by for r, _i in rows}))


@bp.post("/intercepts/<int:request_id>")
@refused_to(lambda **_kw: url_for("desk.intercepts"))
@page_require("intercept")
def intercept_decide(request_id: int):
    tickets.decide_intercept(get_db(), request_id=request_id, done=request.form.get("decision") == "done",
                             user_id=current_user.id, note=request.form.get("note", ""), station=_desk())
    return redirect(url_for("desk.intercepts"))
