"""What the station pages read and change besides scans: the capture view
and recipient corrections, bags, trips, the pull tray, and the supervisor's
corrections and incident list."""
from __future__ import annotations

from flask_babel import gettext as _
from flask import jsonify, request

from ..unit_of_work import get_db, get_engine
from ..domain.status import SystemAction
from ..security import api_require, current_actor
from ..services import capture, corrections, stations
from ..services.errors import NotFound
from . import BadRequest, bp
from .parse import int_arg, json_body, obj, text, whole


def _station(data: dict | None = None) -> str | None:
    """The acting station: the token's own, else the one the request names."""
    actor = current_actor()
    if actor.station:
        return actor.station
    if data is not None:
        return text(data, "station", required=False, max_len=16)
    return request.args.get("station") or None


@bp.get("/station/capture/<path:code>")
@api_require("scan")
def station_capture_view(code: str):
    """The capture view: recipient data only for a station that captures and
    an item at the capture step; each such read is a `recipient_read` event."""
    actor = current_actor()
    return jsonify(capture.read_for_capture(get_db(), get_engine(), code, station=_station(), role=actor.role,
                                            user_id=actor.user_id))


@bp.post("/station/recipient/<path:code>")
@api_require("scan")
def station_correct_recipient(code: str):
    """A correction at capture; from acceptance on, an intercept request for
    a supervisor (the desk's rule), answered with `result`."""
    data = json_body()
    changes = obj(data, "changes")
    if not changes:
        raise BadRequest("changes", "changes must name at least one field")
    actor = current_actor()
    db = get_db()
    station = capture.capturing_station(db, _station(data), role=actor.role).code
    _item, ev = corrections.correct_recipient(db, code=code, changes=changes, station=station,
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
def station_pull_tray(station: str):
    db = get_db()
    info = stations.station_info(db, station)
    if info is None:
        raise NotFound(_("There is no station %(station)s.", station=station), field="station")
    return jsonify(stations.pull_tray(db, site=info["site"], limit=int_arg("limit", 500)))


@bp.get("/station/<station>/bags")
@api_require("dispatch")
def station_open_bags(station: str):
    return jsonify({"bags": stations.open_bags(get_db(), station=station)})


@bp.get("/station/bags/<code>")
@api_require("dispatch")
def station_bag_detail(code: str):
    return jsonify(stations.bag_detail(get_db(), code))


@bp.get("/station/trips")
@api_require("dispatch")
def station_trips():
    states = tuple(request.args.getlist("state")) or ("loading", "departed")
    return jsonify({"trips": stations.trips(get_db(), states=states)})


@bp.get("/incidents")
@api_require("supervise")
def list_incidents():
    return jsonify({"incidents": stations.incidents(get_db(), limit=int_arg("limit", 100))})


@bp.get("/corrections/held")
@api_require("supervise")
def list_held():
    return jsonify({"items": stations.held_items(get_db())})


@bp.post("/corrections/undo")
@api_require("supervise")
def post_undo():
    data = json_body()
    event_id = whole(data, "event_id", lo=1, required=True)
    db = get_db()
    ev = corrections.undo_scan(db, event_id=event_id, reason=text(data, "reason", max_len=500),
                               station=_station(data), user_id=current_actor().user_id)
    return jsonify(event_id=ev.id, undoes=event_id, to_status=ev.to_status)


@bp.post("/corrections/reopen")
@api_require("supervise")
def post_reopen():
    data = json_body()
    db = get_db()
    bag = corrections.reopen_bag(db, code=text(data, "bag", max_len=20), reason=text(data, "reason", max_len=500),
                                 station=_station(data), user_id=current_actor().user_id)
    return jsonify(stations.bag_detail(db, bag.code))


@bp.post("/corrections/release")
@api_require("supervise")
def post_release():
    data = json_body()
    db = get_db()
    item = corrections.release_hold(db, code=text(data, "code", max_len=64),
                                    reason=text(data, "reason", max_len=500),
                                    station=_station(data), user_id=current_actor().user_id)
    return jsonify(credential_no=item.credential_no, hold=item.hold, status=item.status)
