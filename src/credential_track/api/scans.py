"""POST /api/v1/scans and the bag/trip endpoints."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from .. import settings
from ..models import Bag, Trip
from ..unit_of_work import get_db, get_engine
from ..vocabulary import scan_message
from ..security import api_require, current_actor
from ..services import dispatch, scan as scans
from . import BadRequest, bp
from .parse import MAX_WEIGHT_G, column_length, json_body, obj, text, timestamp, whole


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
    seal = context.get("seal")
    if seal is not None and len(str(seal).strip()) > column_length(Bag.seal_no):
        raise BadRequest("context.seal", _("context.seal is longer than %(n)d characters",
                                           n=column_length(Bag.seal_no)))
    weight = whole(context, "weight_g", lo=1, hi=MAX_WEIGHT_G, field="context.weight_g", digits_ok=True)
    if weight is not None:
        context = {**context, "weight_g": weight}
    station = text(data, "station", required=actor.station is None, max_len=16) or actor.station
    req = scans.ScanRequest(
        code=text(data, "code", max_len=64), action=action, station=station,
        nonce=text(data, "nonce", max_len=64), context=context,
        scanned_at=timestamp(data, "scanned_at"), user_id=actor.user_id,
    )
    outcome = scans.scan_on(get_engine(), req, acting_station=actor.station,
                            default_weight_g=settings.current().default_weight_g)
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
    limit = column_length(Trip.escorts)
    if len("、".join(e.strip() for e in escorts if e.strip())) > limit:  # stored joined by "、"
        raise BadRequest("escorts", _("escorts are longer than %(n)d characters together", n=limit))
    db = get_db()
    trip = dispatch.create_trip(
        db, vehicle=text(data, "vehicle", max_len=32), driver=text(data, "driver", max_len=64),
        escorts=escorts, origin=text(data, "origin", max_len=100),
        destination=text(data, "destination", max_len=100),
        station=actor.station or text(data, "station", required=False, max_len=16), user_id=actor.user_id,
    )
    return jsonify(dispatch.trip_summary(db, trip)), 201


@bp.post("/trips/<code>/depart")
@api_require("dispatch")
def post_depart(code: str):
    actor = current_actor()
    db = get_db()
    trip = dispatch.depart_trip(db, code=code, station=actor.station, user_id=actor.user_id)
    return jsonify(dispatch.trip_summary(db, trip))
