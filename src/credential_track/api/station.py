"""What the station pages read and change besides scans: the capture view
and recipient corrections, bags, trips, the pull tray, and the supervisor's
corrections and incident list."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from ..domain.status import SystemAction
from ..security import api_require, current_actor
from ..services import capture, corrections, stations
from ..services.errors import NotFound
from ..unit_of_work import get_db, get_engine
from .blueprint import bp
from .models import station as m
from .validation import contract

TAG = "station"


def _station(named: str | None) -> str | None:
    """The acting station: the token's own, else the one the request names."""
    return current_actor().station or named


@bp.get("/station/capture/<path:code>")
@api_require("scan")
@contract(query=m.StationQuery, answer=m.CaptureView, tag=TAG, summary="The capture view of an item",
          description="Recipient data only for a station that captures and an item at the capture step; "
          "each such read is a `recipient_read` event.")
def station_capture_view(code: str, query: m.StationQuery):
    actor = current_actor()
    return jsonify(capture.read_for_capture(get_db(), get_engine(), code, station=_station(query.station),
                                            role=actor.role, user_id=actor.user_id))


@bp.post("/station/recipient/<path:code>")
@api_require("scan")
@contract(body=m.RecipientIn, answer=m.RecipientAnswer, errors=(409,), tag=TAG, summary="Correct recipient data at capture",
          description="From acceptance on, an intercept request for a supervisor (`result`).")
def station_correct_recipient(code: str, body: m.RecipientIn):
    actor = current_actor()
    db = get_db()
    station = capture.capturing_station(db, _station(body.station), role=actor.role).code
    _item, ev = corrections.correct_recipient(db, code=code, changes=body.changes, station=station,
                                              user_id=actor.user_id)
    if ev is None:  # nothing changed: the answer is a read like any other
        view = capture.read_for_capture(db, db, code, station=station, role=actor.role, user_id=actor.user_id)
    else:  # the correct or intercept event records who read what, where and when
        view = capture.capture_view(db, code)
    view["event_id"] = ev.id if ev else None
    view["result"] = ("intercept_requested" if ev is not None and ev.action == SystemAction.intercept
                      else "corrected" if ev is not None else "unchanged")
    return jsonify(view)


@bp.get("/station/<station>/pull-tray")
@api_require("scan")
@contract(query=m.LimitQuery, answer=m.PullTray, tag=TAG, summary="Revoked items to pull at a station's site")
def station_pull_tray(station: str, query: m.LimitQuery):
    db = get_db()
    info = stations.station_info(db, station)
    if info is None:
        raise NotFound(_("There is no station %(station)s.", station=station), field="station")
    return jsonify(stations.pull_tray(db, site=info["site"], limit=query.limit))


@bp.get("/station/<station>/bags")
@api_require("dispatch")
@contract(answer=m.OpenBags, tag=TAG, summary="The bags open at a station")
def station_open_bags(station: str):
    return jsonify({"bags": stations.open_bags(get_db(), station=station)})


@bp.get("/station/bags/<code>")
@api_require("dispatch")
@contract(answer=m.BagDetail, tag=TAG, summary="A bag with its items")
def station_bag_detail(code: str):
    return jsonify(stations.bag_detail(get_db(), code))


@bp.get("/station/trips")
@api_require("dispatch")
@contract(query=m.TripsQuery, answer=m.TripList, tag=TAG, summary="Trips loading or departed")
def station_trips(query: m.TripsQuery):
    states = tuple(query.state) or ("loading", "departed")
    return jsonify({"trips": stations.trips(get_db(), states=states)})


@bp.get("/incidents")
@api_require("supervise")
@contract(query=m.PageQuery, answer=m.IncidentPage, tag="supervisor", summary="Seal mismatches, newest first")
def list_incidents(query: m.PageQuery):
    return jsonify(stations.incidents_page(get_db(), limit=query.limit, after=query.after))


@bp.get("/corrections/held")
@api_require("supervise")
@contract(query=m.PageQuery, answer=m.HeldPage, tag="supervisor", summary="Items on hold")
def list_held(query: m.PageQuery):
    return jsonify(stations.held_page(get_db(), limit=query.limit, after=query.after))


@bp.post("/corrections/undo")
@api_require("supervise")
@contract(body=m.UndoIn, answer=m.UndoAnswer, errors=(404, 409), tag="supervisor", summary="Undo a scan")
def post_undo(body: m.UndoIn):
    ev = corrections.undo_scan(get_db(), event_id=body.event_id, reason=body.reason,
                               station=_station(body.station), user_id=current_actor().user_id)
    return jsonify(event_id=ev.id, undoes=body.event_id, to_status=ev.to_status)


@bp.post("/corrections/reopen")
@api_require("supervise")
@contract(body=m.ReopenIn, answer=m.BagDetail, errors=(404, 409), tag="supervisor", summary="Reopen a sealed bag")
def post_reopen(body: m.ReopenIn):
    db = get_db()
    bag = corrections.reopen_bag(db, code=body.bag, reason=body.reason, station=_station(body.station),
                                 user_id=current_actor().user_id)
    return jsonify(stations.bag_detail(db, bag.code))


@bp.post("/corrections/release")
@api_require("supervise")
@contract(body=m.ReleaseIn, answer=m.Released, errors=(404, 409), tag="supervisor", summary="Release a hold")
def post_release(body: m.ReleaseIn):
    item = corrections.release_hold(get_db(), code=body.code, reason=body.reason,
                                    station=_station(body.station), user_id=current_actor().user_id)
    return jsonify(credential_no=item.credential_no, hold=item.hold, status=item.status)
