"""The public self-service tracking page: credential number + the phone's
last four digits → status, waybill and timeline, nothing personal."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlmodel import select

from .. import settings
from ..models import Credential
from ..security import limiter
from ..services import forecast, lookup
from ..unit_of_work import get_db, get_engine

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
    # the forecast first, apart: this POST's own session takes the write lock
    cur = forecast.current_apart(get_engine(), current_app.config)
    db = get_db()
    result = lookup.track(db, credential_no=no, last4=request.form.get("last4", ""))
    expected = None
    if result is not None:  # the holder sees a date, not the forecast's workings
        item = db.exec(select(Credential).where(Credential.credential_no == result["credential_no"])).one()
        expected = forecast.expected_delivery(db, current_app.config, item, cur=cur)
    return render_template("track/index.html", no=no, result=result, asked=True, expected=expected,
                           hotline=settings.current().service_hotline)
