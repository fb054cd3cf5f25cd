"""The hotline desk: search, item with timeline and reveal, call log,
tickets, the outreach queue, intercept requests for supervisors."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from .. import clock, settings
from ..domain.numbers import MAX_INT32, whole_number
from ..models import Call, Credential, OutreachTask, Ticket, TicketItem, User
from ..permissions import allowed
from ..security import page_require
from ..services import forecast, lookup, outreach, queries, tickets
from ..services.errors import ServiceError
from ..unit_of_work import flash_refusal, get_db, refused_to
from ..vocabulary import label
from . import safe_next

bp = Blueprint("desk", __name__, url_prefix="/desk")


def _desk() -> str:
    return session.get("desk", "CS-1")


def _line() -> str:
    return session.get("line", "HL-1")


def _reveal_minutes() -> int:
    return settings.current().reveal_minutes


def _search(q: str):
    """The hotline search for the signed-in agent (None for an empty box)."""
    if not q:
        return None
    return lookup.lookup(get_db(), q, role=current_user.role, user_id=current_user.id,
                         reveal_minutes=_reveal_minutes(), personal_searches_per_hour=personal_searches_per_hour(),
                         station=_desk())


def personal_searches_per_hour() -> int:
    return settings.current().personal_searches_per_hour


def _back(default: str):
    return redirect(safe_next(request.form.get("next"), default))


@bp.get("/")
@page_require("desk")
def index():
    q = request.args.get("q", "").strip()
    found = None
    try:
        found = _search(q)
    except ServiceError as exc:
        flash_refusal(exc)
    stations = queries.stations(get_db())
    db = get_db()
    return render_template(
        "desk/index.html", q=q, found=found, hint=lookup.search_hint(q), desk=_desk(), line=_line(),
        desks=[s["code"] for s in stations if s["kind"] == "desk"],
        lines=[s["code"] for s in stations if s["kind"] == "hotline"],
        counts=tickets.queue_counts(db, user_id=current_user.id), outreach_counts=outreach.counts(db),
    )


@bp.get("/results")
@page_require("desk")
def results():
    """The result table alone, for the search box's search-as-you-type."""
    q = request.args.get("q", "").strip()
    error = None
    try:
        found = _search(q)
    except ServiceError as exc:
        found, error = None, exc.message if exc.status == 429 else None
    return render_template("desk/_results.html", q=q, found=found, error=error, hint=lookup.search_hint(q))


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
    # what the agent reads to the caller (first: the forecast may fold new events)
    expected = forecast.expected_delivery(db, current_app.config, row)
    shown = bool(lookup.shown_ids(db, role=current_user.role, user_id=current_user.id, credential_ids=[row.id],
                                  minutes=_reveal_minutes()))
    linked = db.exec(select(Ticket).join(TicketItem, TicketItem.ticket_id == Ticket.id)
                     .where(TicketItem.credential_id == row.id).order_by(Ticket.id.desc())).all()
    tasks = db.exec(select(OutreachTask).where(OutreachTask.credential_id == row.id)
                    .order_by(OutreachTask.id.desc())).all()
    return render_template("desk/item.html", item=lookup.lookup_item(row, show_pii=shown), detail=detail,
                           tickets=linked, tasks=tasks, desk=_desk(), line=_line(), expected=expected,
                           categories=tickets.CATEGORIES, may_reveal=allowed(current_user.role, "reveal"))


@bp.post("/item/<credential_no>/reveal")
@refused_to(lambda credential_no: url_for("desk.item", credential_no=credential_no))
@page_require("reveal")
def reveal(credential_no: str):
    lookup.reveal(get_db(), credential_no=credential_no, user_id=current_user.id,
                  reason=request.form.get("reason", ""), station=_desk())
    return redirect(url_for("desk.item", credential_no=credential_no))


def _int(name: str, default: int = 0) -> int:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    n = whole_number(raw, hi=MAX_INT32)
    if n is None:
        raise ServiceError(_("%(name)s must be a whole number", name=name), field=name)
    return n


def _form_next(default_endpoint: str):
    return lambda **_kw: safe_next(request.form.get("next"), url_for(default_endpoint))


@bp.post("/calls")
@refused_to(_form_next("desk.index"))
@page_require("desk")
def log_call():
    db = get_db()
    no = request.form.get("credential_no", "").strip() or None
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
            settings=tickets.TicketSettings.from_settings(settings.current()))
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


# ---- outreach -------------------------------------------------------------------

@bp.get("/outreach")
@page_require("desk")
def outreach_queue():
    state = request.args.get("state", "open")
    rule = request.args.get("rule") or None
    page = max(1, request.args.get("page", 1, type=int))
    db = get_db()
    try:
        total = outreach.queue_total(db, state=state, rule=rule, user_id=current_user.id)
        rows = outreach.queue(db, state=state, rule=rule, user_id=current_user.id, limit=OUTREACH_PER_PAGE,
                              offset=(page - 1) * OUTREACH_PER_PAGE)
    except ServiceError as exc:
        flash_refusal(exc)
        return redirect(url_for("desk.outreach_queue"))
    # who to call: the holder's name and phone as the lookup path gives them
    # to this role (masked for an agent until a recorded reveal)
    shown = lookup.shown_ids(db, role=current_user.role, user_id=current_user.id,
                             credential_ids=[i.id for _t, i in rows], minutes=_reveal_minutes())
    people = {i.id: lookup.lookup_item(i, show_pii=i.id in shown) for _t, i in rows}
    return render_template("desk/outreach.html", rows=rows, state=state, rule=rule, rules=outreach.RULES,
                           outcomes=outreach.OUTCOMES, counts=outreach.counts(db), people=people,
                           page=page, total=total, per_page=OUTREACH_PER_PAGE,
                           users=_usernames(db, {t.claimed_by for t, _i in rows}),
                           now=datetime.now(UTC))


OUTREACH_PER_PAGE = 25


def _outreach_post(work):
    work(get_db())
    return _back(url_for("desk.outreach_queue"))


@bp.post("/outreach/<int:task_id>/claim")
@refused_to(_form_next("desk.outreach_queue"))
@page_require("desk")
def outreach_claim(task_id: int):
    return _outreach_post(lambda db: outreach.claim(db, task_id=task_id, user_id=current_user.id))


@bp.post("/outreach/<int:task_id>/outcome")
@refused_to(_form_next("desk.outreach_queue"))
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
            retry = clock.from_local_input(retry)  # the form's time is on the configured clock
        task = outreach.record_outcome(db, task_id=task_id, user_id=current_user.id,
                                       outcome=request.form.get("outcome", ""), note=request.form.get("note", ""),
                                       retry_at=retry,
                                       settings=outreach.OutreachSettings.from_settings(settings.current()))
        no = db.get(Credential, task.credential_id).credential_no
        # say what became of the task: it leaves "mine" either way
        if task.state == "closed":
            flash(_("Recorded for %(no)s: %(outcome)s. The task is closed.", no=no,
                    outcome=label("outcome", task.outcome)), "ok")
        else:
            flash(_("Recorded for %(no)s: %(outcome)s. The task is back in the queue, due %(due)s.", no=no,
                    outcome=label("outcome", task.outcome), due=clock.format_datetime(task.due_at)), "ok")
    return _outreach_post(work)

