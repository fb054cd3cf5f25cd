"""The public self-service tracking page: credential number + the phone's
last four digits → status, waybill and timeline, nothing personal."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import settings
from ..unit_of_work import get_db
from ..security import limiter
from ..services import lookup

bp = Blueprint("track", __name__, url_prefix="/track")


def _limit() -> str:
    return settings.current().track_rate_limit


@bp.get("/")
def form():
    return render_template("track/index.html", no=request.args.get("no", ""), result=None, asked=False)


@bp.post("/")
@limiter.limit(_limit, methods=["POST"])
def answer():
    no = request.form.get("credential_no", "").strip()
    result = lookup.track(get_db(), credential_no=no, last4=request.form.get("last4", ""))
    return render_template("track/index.html", no=no, result=result, asked=True)
