"""The home page: what each role does first."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..db import get_db
from ..services import queries

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
    return render_template("home/index.html", role=role, stats=stats)
