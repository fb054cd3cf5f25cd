"""The change feed and the dashboard's data as JSON."""
from __future__ import annotations

from flask import jsonify, request

from ..db import get_db
from ..security import api_require
from ..services.dashboard import data, feed, summary
from . import bp
from .parse import int_arg


@bp.get("/changes")
@api_require("stats")
def get_changes():
    return jsonify(feed.changes(get_db(), after=request.args.get("after"), limit=int_arg("limit", 1000)))


@bp.get("/dashboard")
@api_require("stats")
def get_dashboard():
    return jsonify(data.dashboard(summary.refreshed(get_db())))
