"""The handover station: pick a batch, scan credentials into it or receive
it as a whole, close it and see what is missing or extra."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..vocabulary import error_text
from ..db import get_db
from ..domain.status import Action
from ..security import page_require
from ..services import handover, queries
from ..services.errors import ServiceError

bp = Blueprint("handover", __name__, url_prefix="/handover")


def _handover_stations() -> list[dict]:
    return [s for s in queries.stations(get_db()) if s["kind"] == "work" and Action.handover in s["actions"]]


@bp.get("/")
@page_require("handover")
def index():
    return render_template("handover/index.html", batches=handover.list_batches(get_db()))


@bp.get("/<int:batch_id>")
@page_require("handover")
def batch_page(batch_id: int):
    db = get_db()
    try:
        batch = handover.get_batch(db, batch_id)
    except ServiceError:
        abort(404)
    stations = _handover_stations()
    wanted = request.args.get("station") or session.get("station")
    station = next((s for s in stations if s["code"] == wanted), None)
    if station is not None:
        session["station"] = station["code"]
    return render_template("handover/batch.html", batch=handover.summary(db, batch, with_lists=True),
                           station=station, stations=stations)


@bp.post("/<int:batch_id>/receive")
@page_require("handover")
def receive(batch_id: int):
    raw = (request.form.get("counted") or "").strip()
    if not raw.isdigit():
        flash(_("Enter the counted quantity as a whole number."), "error")
        return redirect(url_for("handover.batch_page", batch_id=batch_id))
    db = get_db()
    try:
        out = handover.receive_batch(db, batch_id, counted=int(raw), user_id=current_user.id,
                                     station=session.get("station"))
        db.commit()
    except ServiceError as exc:
        db.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("handover.batch_page", batch_id=batch_id))
    if out["difference"]:
        flash(_("Received %(moved)s items; counted %(counted)s against %(expected)s expected (difference %(diff)s).",
                moved=out["moved"], counted=out["counted"], expected=out["expected"], diff=out["difference"]),
              "error")
    else:
        flash(_("Received %(moved)s items; the count matches the manifest.", moved=out["moved"]))
    return redirect(url_for("handover.batch_page", batch_id=batch_id))


@bp.post("/<int:batch_id>/close")
@page_require("handover")
def close(batch_id: int):
    db = get_db()
    try:
        out = handover.close_batch(db, batch_id, user_id=current_user.id)
        db.commit()
    except ServiceError as exc:
        db.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("handover.batch_page", batch_id=batch_id))
    flash(_("Batch closed: %(missing)s missing, %(extra)s extra.", missing=out["missing"], extra=out["extra"]))
    return redirect(url_for("handover.batch_page", batch_id=batch_id))
