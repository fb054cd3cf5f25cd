"""The change feed and the dashboard's data as JSON."""
from __future__ import annotations

import json

from flask import Response, jsonify

from ..security import api_require
from ..services.dashboard import data, feed, summary
from ..unit_of_work import get_db
from .blueprint import bp
from .models import dashboard as dm
from .models import items as m
from .validation import contract


@bp.get("/changes")
@api_require("stats")
@contract(query=m.ChangesQuery, answer=m.ChangesPage, tag="feed", summary="The event feed in commit order",
          description="For the organizer's systems: every event (refused scans included) after the cursor, "
          "oldest first. Stable cursors: no gaps, no repeats, even while stations write.")
def get_changes(query: m.ChangesQuery):
    page = feed.changes(get_db(), after=query.after, limit=query.limit)
    # plain json.dumps: pages are large and key order is fixed already
    return Response(json.dumps(page, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


@bp.get("/dashboard")
@api_require("stats")
@contract(answer=dm.Dashboard, tag="feed", summary="The dashboard's figures")
def get_dashboard():
    return jsonify(data.dashboard(summary.refreshed(get_db())))
