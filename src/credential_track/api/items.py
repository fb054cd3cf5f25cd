"""Items, stations and statistics."""
from __future__ import annotations

from flask import current_app, jsonify, request
from sqlmodel import select

from .. import clock
from ..models import Credential
from ..unit_of_work import get_db
from ..security import api_require
from ..services import forecast, queries
from . import bp
from .parse import cursor_arg, int_arg


@bp.get("/credentials/<credential_no>")
@api_require("view_items")
def get_credential(credential_no: str):
    db = get_db()
    item = db.exec(select(Credential).where(Credential.credential_no == credential_no)).first()
    expected = forecast.expected_delivery(db, current_app.config, item) if item is not None else None
    out = queries.credential_detail(db, credential_no)  # 404 for an unknown number
    out["expected_delivery"] = expected
    return jsonify(out)


@bp.get("/credentials")
@api_require("view_items")
def list_credentials():
    return jsonify(queries.credential_page(
        get_db(), status=request.args.get("status"), route=request.args.get("route"),
        limit=int_arg("limit", 100), after=cursor_arg("after"),
    ))


@bp.get("/stations")
@api_require("view_items")
def list_stations():
    return jsonify({"stations": queries.stations(get_db())})


@bp.get("/stats")
@api_require("stats")
def get_stats():
    return jsonify(queries.stats(get_db()))


@bp.get("/forecast")
@api_require("stats")
def get_forecast():
    """The campaign forecast: stages, routes against opening day, totals."""
    from ..services.forecast import campaign

    v = campaign.view(forecast.current(get_db(), current_app.config))
    tz = clock.local_zone()

    def iso(value):
        if hasattr(value, "astimezone") and hasattr(value, "hour"):
            return value.astimezone(tz).isoformat(timespec="minutes")
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return iso(x)

    return jsonify(clean(v))
