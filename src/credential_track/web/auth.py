"""Log in, log out (here or everywhere), the signed-in user's sessions, switch language."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock, settings
from ..models import User
from ..security import SESSION_KEY, end_browser_session, limiter, start_browser_session
from ..services import logins, users
from ..unit_of_work import get_db, get_engine
from . import safe_next

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: settings.current().login_rate_limit, methods=["POST"])
def login():
    if request.method == "POST":
        # the service runs its own short transactions: the password hash and
        # any slow-down wait happen outside the write lock
        attempt = logins.attempt_login(
            get_engine(), request.form.get("username", ""), request.form.get("password", ""),
            address=request.remote_addr, policy=logins.Policy.from_settings(settings.current()))
        user = attempt.user
        if user is None:
            if attempt.locked_until is not None:
                # the same words for a real and an unknown name
                flash(_("Too many failed logins with this user name from this address: locked until %(time)s.",
                        time=clock.format_time(attempt.locked_until)), "error")
                return render_template("auth/login.html"), 429
            flash(_("Wrong user name or password."), "error")
            return render_template("auth/login.html"), 401
        start_browser_session(user, attempt.session_secret)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.post("/logout")
@login_required
def logout():
    end_browser_session()
    return redirect(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    secret = session.get(SESSION_KEY)
    rows = [{"at": clock.format_datetime(r.created_at), "address": r.address,
             "current": logins.is_current(r, secret)} for r in logins.open_sessions(get_db(), current_user.id)]
    return render_template("auth/account.html", sessions=rows)


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """End every session of the signed-in user, on every device."""
    db = get_db()
    me = db.get(User, current_user.id)
    users.logout_everywhere(db, users.Manager(me.id, me.role, me.site_id), me.id)
    end_browser_session(everywhere_done=True)
    flash(_("You have been logged out on every device."), "ok")
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
