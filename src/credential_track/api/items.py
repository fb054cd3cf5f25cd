"""Items, stations and statistics."""
from __future__ import annotations

from flask import jsonify, request

from ..unit_of_work import get_db
from ..security import api_require
from ..services import queries
from . import bp
from .parse import cursor_arg, int_arg


@bp.get("/credentials/<credential_no>")
@api_require("view_items")
def get_credential(credential_no: str):
    return jsonify(queries.credential_detail(get_db(), credential_no))


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
