"""Authentication: who is asking — a signed-in browser (Flask-Login, a
server-side login session, the idle clock) or an API token — and whether
that role may open a page or an endpoint (permissions.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import update

from .. import settings
from ..db import writer
from ..models import ApiToken, User
from ..models.base import utcnow
from ..permissions import allowed, role_within
from ..services import logins
from ..unit_of_work import get_engine, read_session

login_manager = LoginManager()


@dataclass
class Actor:
    """Who makes the request: a user (session or user token) or a station token."""

    user_id: int | None
    role: str
    station: str | None  # set when a station token acts
    via_token: bool


SESSION_KEY = "sid"  # the session's secret in the signed cookie (services/logins.py)


@login_manager.user_loader
def _load_user(user_id: str):
    # read outside the request's write transaction: on SQLite that one holds
    # the write lock, which authentication has no need of
    if not user_id.isascii() or not user_id.isdigit():
        return None
    with read_session() as rs:
        user = rs.get(User, int(user_id))
        if user is None or not user.active:
            return None
        if session.get("sv") != user.session_version:
            return None  # logged out everywhere, password or role changed
        if not logins.session_alive(rs, session.get(SESSION_KEY), user.id):
            return None  # logged out (a copy of the cookie included), or a cookie from before sessions
    return LoginUser(user)


class LoginUser:
    """Flask-Login's view of a user row."""

    def __init__(self, user: User):
        self.user = user
        self.id = user.id
        self.role = user.role
        self.username = user.username
        self.display_name = user.display_name or user.username

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


def is_token_request(req) -> bool:
    """Whether a request authenticates with a bearer token (no session)."""
    return req.headers.get("Authorization", "")[:7].lower() == "bearer "


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def current_actor() -> Actor | None:
    """The actor of this request, from a bearer token or the login session."""
    if "actor" in g:
        return g.actor
    actor = None
    secret = _bearer_secret()
    if secret:
        # authentication reads outside the request's write transaction, so a
        # scan holds SQLite's write lock only for the scan itself
        token = current_app.extensions["credtrack_tokens"].lookup(get_engine().connect, secret)
        if token is not None and token.user_id is not None and not (
                token.user_active and role_within(token.role, token.user_role)):
            # a user token acts only while its user is active and still holds
            # every permission of the token's role
            token = None
        if token is not None:
            _touch_token(token.token_id, token.last_used_at, secret)
            actor = Actor(token.user_id, token.role, token.station, True)
    elif current_user.is_authenticated:
        actor = Actor(current_user.id, current_user.role, None, False)
    g.actor = actor
    return actor


def _touch_token(token_id: int, last_used_at, secret: str) -> None:
    """Record when a token was last used (at most once a minute per token),
    in a short write transaction of its own, before the request's work."""
    now = utcnow()
    if last_used_at is not None and now - last_used_at < timedelta(minutes=1):
        return
    current_app.extensions["credtrack_tokens"].touched(secret, now)
    with writer(get_engine()).begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def api_require(permission: str):
    """API decorator: 401 without credentials, 403 without the permission."""
    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return jsonify(error=_("Sign in, or send a valid API token (Authorization: Bearer …)."),
                               field="Authorization"), 401
            if not allowed(actor.role, permission):
                from ..vocabulary import role_text

                return jsonify(error=_("The role %(role)s may not do this (permission %(permission)s).",
                                       role=role_text(actor.role), permission=permission), field=None), 403
            return view(*args, **kwargs)
        wrapped.permission = permission  # read by the permission-table tests
        return wrapped
    return deco


def page_require(permission: str):
    """Page decorator: to the login page without a session, 403 without the permission."""
    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user.role, permission):
                abort(403)
            return view(*args, **kwargs)
        wrapped.permission = permission  # read by the permission-table tests
        return wrapped
    return deco


IDLE_KEY = "seen"
# the idle clock in the cookie moves at most once a minute: an answer that
# changes nothing in the session sets no cookie, so a late answer to an
# earlier request (the favicon, an asset, a page kept for offline use)
# cannot put back the session as it was before a change made meanwhile
# (a station chosen, a flash shown)
IDLE_STEP_SECONDS = 60


def _idle_timeout():
    """Log a browser session out after IDLE_TIMEOUT_MINUTES without a request.

    The last-seen time lives in the signed session cookie, so every app
    process enforces it without shared state."""
    if request.endpoint == "static" or _bearer_secret():
        return None
    now = int(time.time())
    seen = session.get(IDLE_KEY)
    limit = settings.current().idle_timeout_minutes * 60
    if "_user_id" in session and seen is not None and now - int(seen) > limit:
        logins.end_session(get_engine(), session.get(SESSION_KEY), user_id=None, reason="idle")
        logout_user()
        session.clear()
        g.pop("actor", None)
        if request.blueprint == "api":
            return jsonify(error="session expired after inactivity; log in again", field="session"), 401
        flash(_("Your session ended after a period of inactivity. Please log in again."), "error")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if "_user_id" in session and (seen is None or now - int(seen) >= IDLE_STEP_SECONDS):
        session[IDLE_KEY] = now
    return None


def start_browser_session(user: User, secret: str) -> None:
    """Put a signed-in user into the cookie: Flask-Login's id, the user's
    session version, the server-side session's secret, the idle clock."""
    session.clear()
    login_user(LoginUser(user))
    session["sv"] = user.session_version
    session[SESSION_KEY] = secret
    session[IDLE_KEY] = int(time.time())


def end_browser_session(*, everywhere_done: bool = False) -> None:
    """Log the browser out and end its server-side session, so that a copy
    of the cookie is refused from now on."""
    if not everywhere_done:
        logins.end_session(get_engine(), session.get(SESSION_KEY),
                           user_id=current_user.id if current_user.is_authenticated else None)
    logout_user()
    for key in (SESSION_KEY, "sv", "station", IDLE_KEY):
        session.pop(key, None)


def init_app(app) -> None:
    """Sign-in for pages, and sessions that end when idle."""
    conf = app.extensions["credtrack_settings"]
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.localize_callback = str  # the lazy text, in the request's language
    app.permanent_session_lifetime = timedelta(minutes=conf.idle_timeout_minutes)
    # the cookie is set only by an answer that changed the session (the idle
    # clock's minute included), never re-sent as it was: see IDLE_STEP_SECONDS
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False

    @app.before_request
    def _renew_session():
        # a permanent session with a lifetime, renewed with the idle clock, so
        # an idle desk or station is logged out after IDLE_TIMEOUT_MINUTES.
        # Token requests carry no session and get no cookie.
        if not _bearer_secret() and not session.permanent:
            session.permanent = True

    app.before_request(_idle_timeout)
