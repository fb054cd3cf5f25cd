"""Authentication (sessions and API tokens), permission checks, CSRF and
security headers — enforced here, once, for pages and API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import abort, g, jsonify, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from .db import SAFE_METHODS, get_db, get_engine, write_session
from .models import ApiToken, Station, User
from .models.base import utcnow
from .permissions import allowed
from .services import accounts

login_manager = LoginManager()
csrf = CSRFProtect()
# per-client limits (login attempts, public tracking); storage from RATELIMIT_STORAGE_URI
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@dataclass
class Actor:
    """Who makes the request: a user (session or user token) or a station token."""

    user_id: int | None
    role: str
    station: str | None  # set when a station token acts
    via_token: bool


@login_manager.user_loader
def _load_user(user_id: str):
    user = get_db().get(User, int(user_id))
    if user is None or not user.active:
        return None
    if session.get("sv") != user.session_version:
        return None  # logged out everywhere
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
        token = accounts.token_for_secret(get_db(), secret)
        if token is not None:
            station = None
            if token.station_id is not None:
                st = get_db().get(Station, token.station_id)
                station = st.code if st else None
            _touch_token(token)
            actor = Actor(token.user_id, token.role, station, True)
    elif current_user.is_authenticated:
        actor = Actor(current_user.id, current_user.role, None, False)
    g.actor = actor
    return actor


def _touch_token(token: ApiToken) -> None:
    """Record when a token was last used (at most once a minute per token).

    A state-changing request already holds the write transaction (g.db) and
    saves it with its own commit; a read-only one writes it on the side."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < timedelta(minutes=1):
        return
    if request.method not in SAFE_METHODS:
        token.last_used_at = now
        get_db().add(token)
        return
    with write_session(get_engine()) as s:
        tok = s.get(ApiToken, token.id)
        tok.last_used_at = now
        s.add(tok)


def api_require(permission: str):
    """API decorator: 401 without credentials, 403 without the permission."""
    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return jsonify(error="authentication required", field="Authorization"), 401
            if not allowed(actor.role, permission):
                return jsonify(error=f"role {actor.role} may not {permission}"), 403
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


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _csrf_unless_token():
    # API calls with a bearer token carry no cookie, so CSRF does not apply
    if request.blueprint == "api" and _bearer_secret():
        return
    csrf.protect()


def init_app(app) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(lambda: _csrf_unless_token() if request.method not in ("GET", "HEAD", "OPTIONS") else None)
    app.after_request(_security_headers)
    app.permanent_session_lifetime = timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])

    @app.before_request
    def _idle_timeout():
        # a permanent session with a lifetime: each request renews it, so an
        # idle desk or station is logged out after IDLE_TIMEOUT_MINUTES
        session.permanent = True


def set_session_version(user: User) -> None:
    session["sv"] = user.session_version
