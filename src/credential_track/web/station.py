"""Station pages: pick the station you stand at, then scan."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from ..db import get_db
from ..security import page_require
from ..services import queries
from ..services.scans import SCAN_ACTIONS

bp = Blueprint("station", __name__, url_prefix="/station")


@bp.get("/")
@page_require("scan")
def pick():
    work = [s for s in queries.stations(get_db()) if s["kind"] == "work"]
    return render_template("station/pick.html", stations=work, current=session.get("station"))


@bp.post("/")
@page_require("scan")
def choose():
    code = request.form.get("station", "")
    if code not in {s["code"] for s in queries.stations(get_db()) if s["kind"] == "work"}:
        abort(400)
    session["station"] = code
    return redirect(url_for("station.scan_page"))


@bp.get("/scan")
@page_require("scan")
def scan_page():
    code = session.get("station")
    station = next((s for s in queries.stations(get_db()) if s["code"] == code), None)
    if station is None:
        return redirect(url_for("station.pick"))
    action = request.args.get("action") or (station["actions"][0] if station["actions"] else "")
    if action not in SCAN_ACTIONS or action not in station["actions"]:
        abort(404)
    return render_template("station/scan.html", station=station, action=action)
