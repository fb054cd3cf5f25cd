"""The handover station: pick a batch, scan credentials into it or receive
it as a whole, close it and see what is missing or extra."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..domain.numbers import MAX_INT32, whole_number
from ..domain.status import Action
from ..security import page_require
from ..services import disclosure, handover, queries
from ..services.errors import ServiceError
from ..unit_of_work import get_db, get_engine, refused_to

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


def _back_to_batch(batch_id: int) -> str:
    return url_for("handover.batch_page", batch_id=batch_id)


@bp.post("/<int:batch_id>/receive")
@refused_to(_back_to_batch)
@page_require("handover")
def receive(batch_id: int):
    raw = (request.form.get("counted") or "").strip()
    if whole_number(raw, hi=MAX_INT32) is None:
        raise ServiceError(_("Enter the counted quantity as a whole number."), field="counted")
    out = handover.receive_batch(get_db(), batch_id, counted=int(raw), user_id=current_user.id,
                                 station=session.get("station"))
    if out["difference"]:
        flash(_("Received %(moved)s items; counted %(counted)s against %(expected)s expected (difference %(diff)s).",
                moved=out["moved"], counted=out["counted"], expected=out["expected"], diff=out["difference"]),
              "error")
    else:
        flash(_("Received %(moved)s items; the count matches the manifest.", moved=out["moved"]))
    return redirect(url_for("handover.batch_page", batch_id=batch_id))


@bp.post("/<int:batch_id>/close")
@refused_to(_back_to_batch)
@page_require("handover")
def close(batch_id: int):
    out = handover.close_batch(get_db(), batch_id, user_id=current_user.id)
    flash(_("Batch closed: %(missing)s missing, %(extra)s extra.", missing=out["missing"], extra=out["extra"]))
    return redirect(url_for("handover.batch_page", batch_id=batch_id))


@bp.get("/<int:batch_id>/discrepancies.csv")
@page_require("handover")
def discrepancies(batch_id: int):
    """The batch's whole discrepancy list, for the operators at the handover
    desk as for the organizer: codes, types and routes, no personal data,
    formula-safe cells (handover.discrepancy_csv), recorded as an export."""
    db = get_db()
    try:
        batch = handover.get_batch(db, batch_id)
    except ServiceError:
        abort(404)
    disclosure.authorise_export(get_engine(), user_id=current_user.id, role=current_user.role,
                                kind="handover_discrepancies", personal_data=False, fmt="csv",
                                filters={"batch": batch.id})
    return Response(stream_with_context(handover.discrepancy_csv(db, batch)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="handover-{batch.id}-discrepancies.csv"'})
