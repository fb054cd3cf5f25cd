"""POST /api/v1/scans and the bag/trip endpoints."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from .. import settings
from ..security import api_require, current_actor
from ..services import dispatch
from ..services import scan as scans
from ..unit_of_work import get_db, get_engine
from ..vocabulary import scan_message
from .blueprint import BadRequest, bp
from .models import scans as m
from .validation import contract

TAG = "scans"


@bp.post("/scans")
@api_require("scan")
@contract(body=m.ScanIn, answer=m.ScanAnswer, errors=(409,), tag=TAG, summary="Record one scan",
          description="HTTP 200 for every decided scan, accepted or refused (`result`, `reason`). The same "
          "`nonce` again for the same code, action and station answers the first answer with `replayed` true "
          "and writes nothing; for another code, action or station it is a 409 naming `nonce`. A refused scan "
          "is recorded too (it is in the item's timeline and the change feed) and changes nothing else.",
          examples={"accept": {"code": "EE471108151FR", "action": "accept", "station": "WS-05",
                               "nonce": "9b2c41d0", "context": {"weight_g": 45},
                               "scanned_at": "2026-11-05T09:12:03+08:00"}})
def post_scan(body: m.ScanIn):
    actor = current_actor()
    station = body.station or actor.station
    if station is None:
        raise BadRequest("station", _("%(field)s is required", field="station"))
    req = scans.ScanRequest(
        code=body.code, action=body.action.value, station=station, nonce=body.nonce,
        context=body.context.as_dict() if body.context is not None else {},
        scanned_at=body.scanned_at, user_id=actor.user_id,
    )
    outcome = scans.scan_on(get_engine(), req, acting_station=actor.station,
                            default_weight_g=settings.current().default_weight_g)
    answer = outcome.as_dict()
    answer["message"] = scan_message(req.action, outcome.result, outcome.reason, outcome.detail)
    return jsonify(answer)


@bp.post("/bags")
@api_require("dispatch")
@contract(body=m.BagIn, answer=m.BagCreated, status=201, tag=TAG, summary="Open a dispatch bag for a route")
def post_bag(body: m.BagIn):
    actor = current_actor()
    station = body.station or actor.station
    if station is None:
        raise BadRequest("station", _("%(field)s is required", field="station"))
    bag = dispatch.open_bag(get_db(), route=body.route, station=station, user_id=actor.user_id)
    return jsonify(code=bag.code, route=bag.route, state=bag.state, item_count=bag.item_count), 201


@bp.post("/trips")
@api_require("dispatch")
@contract(body=m.TripIn, answer=m.TripAnswer, status=201, tag=TAG, summary="Create an escorted vehicle trip",
          description="At least two escorts. The trip starts `loading`.")
def post_trip(body: m.TripIn):
    actor = current_actor()
    db = get_db()
    trip = dispatch.create_trip(
        db, vehicle=body.vehicle, driver=body.driver, escorts=body.escorts, origin=body.origin,
        destination=body.destination, station=actor.station or body.station, user_id=actor.user_id,
    )
    return jsonify(dispatch.trip_summary(db, trip)), 201


@bp.post("/trips/<code>/depart")
@api_require("dispatch")
@contract(answer=m.TripAnswer, errors=(409,), tag=TAG, summary="A trip departs",
          description="Its loaded bags and their items go `in_transit` (one event per item).")
def post_depart(code: str):
    actor = current_actor()
    db = get_db()
    trip = dispatch.depart_trip(db, code=code, station=actor.station, user_id=actor.user_id)
    return jsonify(dispatch.trip_summary(db, trip))
