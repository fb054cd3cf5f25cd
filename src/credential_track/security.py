"""Authentication (sessions and API tokens), permission checks, CSRF and
security headers — enforced here, once, for pages and API."""
from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from pathlib import PurePath

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _, lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import update
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from .db import get_engine, read_session, writer
from .models import ApiToken, User
from .models.base import utcnow
from .permissions import allowed, role_within
from .services import accounts, recent
from .services.errors import ServiceError

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
    # read outside the request's write transaction: on SQLite that one holds
    # the write lock, which authentication has no need of
    with read_session() as rs:
        user = rs.get(User, int(user_id))
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


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies are marked Secure when configured, and always when the
    request came over HTTPS (directly, or through a proxy trusted by ProxyFix)."""

    def get_cookie_secure(self, app) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        try:
            return request.is_secure
        except RuntimeError:  # outside a request
            return False

    def open_session(self, app, request):
        # a token request has no session (its answer sets no cookie): an
        # empty one, without reading or verifying any cookie
        if is_token_request(request):
            return self.session_class()
        return super().open_session(app, request)


IDLE_KEY = "seen"


def _idle_timeout():
    """Log a browser session out after IDLE_TIMEOUT_MINUTES without a request.

    The last-seen time lives in the signed session cookie, so every app
    process enforces it without shared state."""
    if request.endpoint == "static" or _bearer_secret():
        return None
    now = int(time.time())
    seen = session.get(IDLE_KEY)
    limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    if "_user_id" in session and seen is not None and now - int(seen) > limit:
        logout_user()
        session.clear()
        g.pop("actor", None)
        if request.blueprint == "api":
            return jsonify(error="session expired after inactivity; log in again", field="session"), 401
        flash(_("Your session ended after a period of inactivity. Please log in again."), "error")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if "_user_id" in session:
        session[IDLE_KEY] = now
    return None


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def _error_handlers(app) -> None:
    """No stack trace ever reaches a client outside debug: JSON for the API, a
    plain page for the web."""

    @app.errorhandler(InternalServerError)
    def _internal(exc):
        if _wants_json():
            return jsonify(error="internal error; it has been logged"), 500
        return render_template("errors/500.html"), 500

    for code in (400, 405, 413, 429):
        @app.errorhandler(code)
        def _plain(exc: HTTPException):
            if _wants_json():
                return jsonify(error=exc.description, field=_error_field(exc)), exc.code
            return render_template("errors/error.html", code=exc.code, description=exc.description), exc.code


def _error_field(exc: HTTPException) -> str | None:
    return {413: "body", 429: "rate"}.get(exc.code) or ("csrf_token" if "CSRF" in (exc.description or "") else None)


# What check_upload recognises: extensions per kind and a content sniffer.
UPLOAD_KINDS = {
    "csv": (".csv", ".txt"),
    "xlsx": (".xlsx",),
    "pdf": (".pdf",),
}


def check_upload(file, kinds=("csv", "xlsx"), *, max_bytes: int | None = None, field: str = "file") -> str:
    """Check an uploaded file (a werkzeug FileStorage) before anything reads it.

    Refuses (ServiceError naming `field`) a missing file, a name whose
    extension is not one of `kinds`, content that does not match the
    extension (an .xlsx that is not a zip workbook, a .csv with binary bytes,
    a .pdf without the PDF header) and a file larger than `max_bytes`
    (default UPLOAD_MAX_BYTES, else MAX_CONTENT_LENGTH). Returns the kind and
    leaves the stream rewound."""
    if file is None or not getattr(file, "filename", ""):
        raise ServiceError(_("Choose a file to upload."), field=field)
    name = PurePath(file.filename).name
    suffix = PurePath(name.lower()).suffix
    kind = next((k for k in kinds if suffix in UPLOAD_KINDS[k]), None)
    if kind is None:
        allowed_ext = ", ".join(e for k in kinds for e in UPLOAD_KINDS[k])
        raise ServiceError(_("%(name)s: the file type %(type)s is not accepted; use %(allowed)s", name=name,
                             type=suffix or "—", allowed=allowed_ext), field=field)
    stream = file.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if max_bytes is None:
        max_bytes = current_app.config.get("UPLOAD_MAX_BYTES") or current_app.config.get("MAX_CONTENT_LENGTH")
    if max_bytes and size > max_bytes:
        raise ServiceError(_("%(name)s: %(size)s bytes is larger than the limit of %(limit)s bytes", name=name,
                             size=f"{size:,}", limit=f"{max_bytes:,}"), field=field)
    if size == 0:
        raise ServiceError(_("%(name)s: the file is empty", name=name), field=field)
    head = stream.read(65536)
    stream.seek(0)
    if kind == "xlsx":
        ok = head.startswith(b"PK\x03\x04") and _is_workbook(stream)
        stream.seek(0)
    elif kind == "pdf":
        ok = head.startswith(b"%PDF-")
    else:
        ok = b"\x00" not in head and not head.startswith((b"PK\x03\x04", b"%PDF-", b"\xd0\xcf\x11\xe0"))
    if not ok:
        raise ServiceError(_("%(name)s: the content is not a %(kind)s file", name=name, kind=kind.upper()),
                           field=field)
    return kind


def _is_workbook(stream) -> bool:
    try:
        with zipfile.ZipFile(stream) as z:
            return "[Content_Types].xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul():
    """NUL in a query string or form field: PostgreSQL cannot store or compare
    it, so it is refused as malformed input before any view runs."""
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            if _wants_json():
                return jsonify(error=f"{key} contains a NUL character", field=key), 400
            abort(400, description=f"{key} contains a NUL character")
    has_form = request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in FORM_TYPES
    sources = [request.args] + ([request.form] if has_form else [])
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                message = f"{key.replace(chr(0), '')} contains a NUL character"
                if _wants_json():
                    return jsonify(error=message, field=key.replace("\x00", "")), 400
                abort(400, description=message)
    return None


def _csrf_unless_token():
    # API calls with a bearer token carry no cookie, so CSRF does not apply;
    # an API call without a logged-in session is answered 401 by api_require
    if request.blueprint == "api" and (_bearer_secret() or "_user_id" not in session):
        return
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def init_app(app) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("LOGIN_MAX_FAILURES", 5)
    app.config.setdefault("LOGIN_LOCK_MINUTES", 15)
    app.config.setdefault("LOGIN_RATE_LIMIT", "20 per minute")
    app.config.setdefault("PROXY_HOPS", 0)
    if app.config["PROXY_HOPS"]:
        # behind a reverse proxy: trust its X-Forwarded-For/-Proto/-Host so that
        # request.is_secure (Secure cookies) and the per-IP limits are right
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = _SessionInterface()
    recent.SECONDS = float(app.config["CACHE_SECONDS"])
    app.extensions["credtrack_tokens"] = accounts.TokenCache()
    _error_handlers(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # the API has no per-client limits (stations scan all day behind one
    # address); skipping the limiter there saves work on every scan
    from .api import bp as api_bp

    limiter.exempt(api_bp)
    _skip_limiter_for(app, "api")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.localize_callback = str  # the lazy text, in the request's language
    app.before_request(_refuse_nul)
    app.before_request(lambda: _csrf_unless_token() if request.method not in ("GET", "HEAD", "OPTIONS") else None)
    app.after_request(_security_headers)
    app.permanent_session_lifetime = timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])

    @app.before_request
    def _renew_session():
        # a permanent session with a lifetime: each request renews it, so an
        # idle desk or station is logged out after IDLE_TIMEOUT_MINUTES.
        # Token requests carry no session and get no cookie.
        if not _bearer_secret():
            session.permanent = True

    app.before_request(_idle_timeout)


def _skip_limiter_for(app, blueprint: str) -> None:
    """Let requests of an exempt blueprint pass the limiter's before-request
    check without it resolving and evaluating limits (a scan station sends
    hundreds of requests a minute). Left as it is if the limiter registers
    its check differently."""
    funcs = app.before_request_funcs.setdefault(None, [])
    check = getattr(limiter, "_check_request_limit", None)
    if check is None or check not in funcs:
        return

    def _check_unless_exempt():
        if request.blueprint != blueprint:
            return check()
        return None

    funcs[funcs.index(check)] = _check_unless_exempt


def set_session_version(user: User) -> None:
    session["sv"] = user.session_version
    session[IDLE_KEY] = int(time.time())
