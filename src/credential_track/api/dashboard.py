"""The change feed and the dashboard's data as JSON."""
from __future__ import annotations

import json

from flask import Response, jsonify

from ..unit_of_work import get_db
from ..security import api_require
from ..services.dashboard import data, feed, summary
from . import bp
from .parse import cursor_arg, int_arg


@bp.get("/changes")
@api_require("stats")
def get_changes():
    page = feed.changes(get_db(), after=cursor_arg("after"), limit=int_arg("limit", 1000))
    # plain json.dumps: pages are large and key order is fixed already
    return Response(json.dumps(page, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


@bp.get("/dashboard")
@api_require("stats")
def get_dashboard():
    return jsonify(data.dashboard(summary.refreshed(get_db())))
