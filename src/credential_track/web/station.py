"""Station pages: sign in at a station, the scan page of each action, the
pull tray, trips, and the supervisor's corrections.

Views load, check access, call one service and render; the scan loop itself
runs in the browser (static/js/scan.js) against POST /api/v1/scans."""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from .. import settings
from ..domain.numbers import whole_number
from ..domain.regions import all_routes
from ..permissions import allowed
from ..security import page_require
from ..services import capture, corrections, dispatch, queries, stations
from ..services.scan import SCAN_ACTIONS
from ..unit_of_work import get_db, refused_to
from ..vocabulary import route_label

bp = Blueprint("station", __name__, url_prefix="/station")

DEVICE_COOKIE = "credtrack_station"
# refusals that stop the line: the operator must deal with the item in hand
# and confirm before the next scan is taken
STOP_LINE_REASONS = ("wrong_route", "seal_mismatch", "revoked", "on_hold")


def _device_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="station-device")


def _bound_station() -> str | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        return _device_signer().loads(raw)
    except BadSignature:
        return None


def _work_stations() -> list[dict]:
    return [s for s in queries.stations(get_db()) if s["kind"] == "work"]


def _current_station() -> dict | None:
    code = session.get("station")
    return stations.station_info(get_db(), code) if code else None


@bp.get("/")
@page_require("scan")
def pick():
    bound = _bound_station()
    if bound and not session.get("station") and request.args.get("change") is None:
        if stations.station_info(get_db(), bound):
            session["station"] = bound
            return redirect(url_for("station.home"))
    return render_template("station/pick.html", stations=_work_stations(), current=session.get("station"),
                           bound=bound)


@bp.post("/")
@page_require("scan")
def choose():
    if request.form.get("unbind"):
        resp = make_response(redirect(url_for("station.pick", change=1)))
        resp.delete_cookie(DEVICE_COOKIE)
        return resp
    code = request.form.get("station", "")
    if code not in {s["code"] for s in _work_stations()}:
        abort(400)
    session["station"] = code
    resp = make_response(redirect(url_for("station.home")))
    if request.form.get("bind"):
        resp.set_cookie(DEVICE_COOKIE, _device_signer().dumps(code), max_age=365 * 86400,
                        httponly=True, samesite="Lax", secure=settings.current().cookie_secure)
    return resp


@bp.get("/home")
@page_require("scan")
def home():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    return render_template("station/home.html", station=station,
                           supervise=allowed(current_user.role, "supervise"))


@bp.get("/sw.js")
def service_worker():
    """The station pages' service worker (static/js/station-sw.js), served
    from /station/ so that its scope is the station pages. Public: it holds
    no data, and a signed-out device must still be able to update it."""
    path = Path(current_app.static_folder) / "js" / "station-sw.js"
    resp = make_response(path.read_text(encoding="utf-8"))
    resp.headers["Content-Type"] = "text/javascript; charset=utf-8"
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/station/"
    return resp


@bp.get("/manifest.webmanifest")
def web_manifest():
    """The station pages as an installable web app (start: the station's home)."""
    resp = jsonify({
        "name": _("Credential Track stations"), "short_name": _("Stations"),
        "start_url": url_for("station.home"), "scope": "/station/", "display": "standalone",
        "background_color": "#f4f6f8", "theme_color": "#0b5d3b",
        "icons": [{"src": url_for("static", filename="station-icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    })
    resp.headers["Content-Type"] = "application/manifest+json"
    return resp


@bp.get("/scan")
@page_require("scan")
def scan_page():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    action = request.args.get("action") or (station["actions"][0] if station["actions"] else "")
    if action not in SCAN_ACTIONS or action not in station["actions"]:
        abort(404)
    extra: dict = {}
    if action == "bag":
        extra["routes"] = all_routes()
        extra["open_bags"] = stations.open_bags(get_db(), station=station["code"])
    if action == "load":
        extra["trips"] = stations.trips(get_db(), states=("loading",))
    return render_template(
        "station/scan.html", station=station, action=action, stop_reasons=" ".join(STOP_LINE_REASONS),
        default_weight=settings.current().default_weight_g, preset_bag=request.args.get("bag", ""),
        preset_trip=request.args.get("trip", ""), **extra,
    )


@bp.post("/bags")
@refused_to(lambda: url_for("station.scan_page", action="bag"))
@page_require("dispatch")
def open_bag():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    bag = dispatch.open_bag(get_db(), route=request.form.get("route", ""), station=station["code"],
                            user_id=current_user.id)
    flash(_("Bag %(code)s opened for route %(route)s.", code=bag.code, route=route_label(bag.route)))
    return redirect(url_for("station.scan_page", action="bag", bag=bag.code))


@bp.get("/tray")
@page_require("scan")
def tray():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    return render_template("station/tray.html", station=station,
                           tray=stations.pull_tray(get_db(), site=station["site"]))


@bp.get("/trips")
@page_require("dispatch")
def trips():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    return render_template("station/trips.html", station=station,
                           loading=stations.trips(get_db(), states=("loading",)),
                           departed=stations.trips(get_db(), states=("departed",)),
                           form=request.args)


@bp.post("/trips")
@refused_to(lambda: url_for("station.trips"))
@page_require("dispatch")
def create_trip():
    station = _current_station()
    if station is None:
        return redirect(url_for("station.pick"))
    f = request.form
    trip = dispatch.create_trip(
        get_db(), vehicle=f.get("vehicle", ""), driver=f.get("driver", ""), escorts=f.getlist("escort"),
        origin=f.get("origin", "") or station["site_name_zh"], destination=f.get("destination", ""),
        station=station["code"], user_id=current_user.id,
    )
    flash(_("Trip %(code)s created: scan its sealed bags.", code=trip.code))
    if "load" in station["actions"]:
        return redirect(url_for("station.scan_page", action="load", trip=trip.code))
    return redirect(url_for("station.trips"))


@bp.post("/trips/<code>/depart")
@refused_to(lambda **_kw: url_for("station.trips"))
@page_require("dispatch")
def depart(code: str):
    station = _current_station()
    trip = dispatch.depart_trip(get_db(), code=code, station=station["code"] if station else None,
                                user_id=current_user.id)
    flash(_("Trip %(code)s departed.", code=trip.code))
    return redirect(url_for("station.trips"))


@bp.get("/supervisor")
@page_require("supervise")
def supervisor():
    db = get_db()
    code = (request.args.get("code") or "").strip()
    timeline = None
    if code:
        # a bag's own scans (load) or an item's
        timeline = stations.bag_timeline(db, code)
        item = capture.find_item(db, code) if timeline is None else None
        if item is not None:
            timeline = queries.credential_detail(db, item.credential_no)
        elif timeline is None:
            flash(_("No item with the code %(code)s.", code=code), "error")
    return render_template("station/supervisor.html", incidents=stations.incidents(db, limit=50),
                           held=stations.held_items(db), sealed=stations.sealed_bags(db), code=code,
                           timeline=timeline)


def _correction(fn, ok_message: str, **kwargs):
    fn(get_db(), station=session.get("station"), user_id=current_user.id, **kwargs)
    flash(ok_message)
    return redirect(_supervisor_page())


def _supervisor_page() -> str:
    return url_for("station.supervisor", code=request.form.get("back") or None)


@bp.post("/supervisor/undo")
@refused_to(_supervisor_page)
@page_require("supervise")
def undo():
    raw = request.form.get("event_id", "")
    if whole_number(raw) is None:
        abort(400)
    return _correction(corrections.undo_scan, _("Scan undone."), event_id=int(raw),
                       reason=request.form.get("reason", ""))


@bp.post("/supervisor/reopen")
@refused_to(_supervisor_page)
@page_require("supervise")
def reopen():
    return _correction(corrections.reopen_bag, _("Bag reopened: its items are back in the bag."),
                       code=request.form.get("bag", ""), reason=request.form.get("reason", ""))


@bp.post("/supervisor/release")
@refused_to(_supervisor_page)
@page_require("supervise")
def release():
    return _correction(corrections.release_hold, _("Hold released."), code=request.form.get("code", ""),
                       reason=request.form.get("reason", ""))
