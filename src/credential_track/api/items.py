"""Items, stations and statistics."""
from __future__ import annotations

from flask import current_app, jsonify
from sqlmodel import select

from .. import clock
from ..models import Credential
from ..security import api_require
from ..services import forecast, queries
from ..unit_of_work import get_db
from .blueprint import bp
from .models import items as m
from .validation import contract

TAG = "items"


@bp.get("/credentials/<credential_no>")
@api_require("view_items")
@contract(answer=m.CredentialDetail, tag=TAG, summary="An item with its timeline",
          description="The item (route, flags, bag) and every event about it, oldest first: scans, refused "
          "scans (marked `refused`, with `reason`, `station` and `at`), holds, corrections, delivery events.")
def get_credential(credential_no: str):
    db = get_db()
    item = db.exec(select(Credential).where(Credential.credential_no == credential_no)).first()
    expected = forecast.expected_delivery(db, current_app.config, item) if item is not None else None
    out = queries.credential_detail(db, credential_no)  # 404 for an unknown number
    out["expected_delivery"] = expected
    return jsonify(out)


@bp.get("/credentials")
@api_require("view_items")
@contract(query=m.CredentialQuery, answer=m.CredentialPage, tag=TAG, summary="A page of items",
          description="In id order; `next` is the cursor of the following page (null after the last).")
def list_credentials(query: m.CredentialQuery):
    return jsonify(queries.credential_page(
        get_db(), status=query.status.value if query.status else None, route=query.route,
        limit=query.limit, after=query.after,
    ))


@bp.get("/stations")
@api_require("view_items")
@contract(answer=m.StationList, tag=TAG, summary="Stations with kind, site and allowed actions")
def list_stations():
    return jsonify({"stations": queries.stations(get_db())})


@bp.get("/stats")
@api_require("stats")
@contract(answer=m.Stats, tag=TAG, summary="Counts by status, route and credential type")
def get_stats():
    return jsonify(queries.stats(get_db()))


@bp.get("/forecast")
@api_require("stats")
@contract(answer=m.Forecast, tag=TAG, summary="The campaign forecast against opening day")
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
