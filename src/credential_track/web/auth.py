"""Log in, log out, switch language."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from .. import clock
from ..db import get_db
from ..security import LoginUser, limiter, set_session_version
from ..services import logins
from . import safe_next

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if request.method == "POST":
        db = get_db()
        attempt = logins.attempt_login(
            db, request.form.get("username", ""), request.form.get("password", ""),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        db.commit()  # the failure count is kept even though the login fails
        user = attempt.user
        if user is None:
            if attempt.locked_until is not None:
                flash(_("Too many wrong passwords: this account is locked until %(time)s.",
                        time=clock.format_time(attempt.locked_until)), "error")
                return render_template("auth/login.html"), 429
            flash(_("Wrong user name or password."), "error")
            return render_template("auth/login.html"), 401
        session.clear()
        login_user(LoginUser(user))
        set_session_version(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.pop("station", None)
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
