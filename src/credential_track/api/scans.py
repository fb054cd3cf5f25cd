"""POST /api/v1/scans and the bag/trip endpoints."""
from __future__ import annotations

from flask import current_app, jsonify

from ..db import get_db, get_engine, writer
from ..vocabulary import scan_message
from ..security import api_require, current_actor
from ..services import dispatch, scan as scans
from . import BadRequest, bp
from .parse import json_body, obj, text, timestamp


@bp.post("/scans")
@api_require("scan")
def post_scan():
    data = json_body()
    actor = current_actor()
    action = text(data, "action", max_len=16)
    if action not in scans.SCAN_ACTIONS:
        raise BadRequest("action", f"action must be one of {', '.join(sorted(scans.SCAN_ACTIONS))}")
    context = obj(data, "context")
    for key, value in context.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise BadRequest(f"context.{key}", f"context.{key} must be a string or number")
    weight = context.get("weight_g")
    if weight not in (None, ""):
        if isinstance(weight, bool) or not isinstance(weight, (int, str)) or not str(weight).isdigit():
            raise BadRequest("context.weight_g", "context.weight_g must be a whole number of grams")
    station = text(data, "station", required=actor.station is None, max_len=16) or actor.station
    req = scans.ScanRequest(
        code=text(data, "code", max_len=64), action=action, station=station,
        nonce=text(data, "nonce", max_len=64), context=context,
        scanned_at=timestamp(data, "scanned_at"), user_id=actor.user_id,
    )
    # a connection, not an ORM session: the scan speaks Core (services/scan/)
    with writer(get_engine()).connect() as conn:
        outcome = scans.scan(conn, req, acting_station=actor.station,
                             default_weight_g=current_app.config["DEFAULT_WEIGHT_G"])
        conn.commit()
    body = outcome.as_dict()
    body["message"] = scan_message(action, outcome.result, outcome.reason, outcome.detail)
    return jsonify(body)


@bp.post("/bags")
@api_require("dispatch")
def post_bag():
    data = json_body()
    actor = current_actor()
    station = text(data, "station", required=actor.station is None, max_len=16) or actor.station
    db = get_db()
    bag = dispatch.open_bag(db, route=text(data, "route", max_len=8), station=station, user_id=actor.user_id)
    db.commit()
    return jsonify(code=bag.code, route=bag.route, state=bag.state, item_count=bag.item_count), 201


@bp.post("/trips")
@api_require("dispatch")
def post_trip():
    data = json_body()
    actor = current_actor()
    escorts = data.get("escorts") or []
    if isinstance(escorts, str):
        escorts = [e for e in escorts.replace("、", ",").split(",")]
    if not isinstance(escorts, list) or not all(isinstance(e, str) for e in escorts):
        raise BadRequest("escorts", "escorts must be a list of names")
    db = get_db()
    trip = dispatch.create_trip(
        db, vehicle=text(data, "vehicle", max_len=32), driver=text(data, "driver", max_len=64),
        escorts=escorts, origin=text(data, "origin", max_len=100),
        destination=text(data, "destination", max_len=100),
        station=actor.station or text(data, "station", required=False, max_len=16), user_id=actor.user_id,
    )
    db.commit()
    return jsonify(dispatch.trip_summary(db, trip)), 201


@bp.post("/trips/<code>/depart")
@api_require("dispatch")
def post_depart(code: str):
    actor = current_actor()
    db = get_db()
    trip = dispatch.depart_trip(db, code=code, station=actor.station, user_id=actor.user_id)
    db.commit()
    return jsonify(dispatch.trip_summary(db, trip))
