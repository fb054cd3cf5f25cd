"""The home page: what each role does first."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..domain.status import Status
from ..services import queries
from ..unit_of_work import get_db

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    role = current_user.role
    if role == "operator":
        return redirect(url_for("station.pick"))
    if role == "agent":
        return redirect(url_for("desk.index"))
    stats = queries.stats(get_db()) if role in ("organizer", "supervisor", "admin") else None
    # the chain's order, not the alphabet's
    by_status = [(s.value, stats["by_status"][s.value]) for s in Status if s.value in stats["by_status"]] \
        if stats else []
    return render_template("home/index.html", role=role, stats=stats, by_status=by_status)
