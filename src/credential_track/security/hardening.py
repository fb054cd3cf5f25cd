"""Web hardening: CSRF, security headers and Secure cookies, per-client
limits, refusal of malformed requests, checked uploads, and error pages that
never show a stack trace."""
from __future__ import annotations

import zipfile
from pathlib import PurePath

from flask import abort, current_app, jsonify, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..domain.numbers import MAX_INT32
from ..services import accounts, recent
from ..services.errors import ServiceError
from . import authentication
from .authentication import _bearer_secret, is_token_request

csrf = CSRFProtect()


# per-client limits (login attempts, public tracking); storage from RATELIMIT_STORAGE_URI
limiter = Limiter(key_func=get_remote_address, default_limits=[])


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
        if app.extensions["credtrack_settings"].cookie_secure:
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
    # (by path, not blueprint: a request no API rule matches has no blueprint
    # and is answered 404 or 405, not refused for a missing CSRF token)
    if _wants_json() and (_bearer_secret() or "_user_id" not in session):
        return
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


class _IdConverter(IntegerConverter):
    """`<int:…>` in URLs, bounded to the ids the database holds (integer
    columns on PostgreSQL): a larger id is a 404, not a driver error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT32)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    app.url_map.converters["int"] = _IdConverter
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    conf = app.extensions["credtrack_settings"]
    if conf.proxy_hops:
        # behind a reverse proxy: trust its X-Forwarded-For/-Proto/-Host so that
        # request.is_secure (Secure cookies) and the per-IP limits are right
        hops = conf.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = _SessionInterface()
    recent.SECONDS = conf.cache_seconds
    recent.share(conf.redis_url)
    if conf.redis_url and app.config.get("RATELIMIT_STORAGE_URI", "memory://") == "memory://":
        # several app processes or machines count one client's attempts together;
        # with Redis away logins still work (the lockout is in the database)
        app.config["RATELIMIT_STORAGE_URI"] = conf.redis_url
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.extensions["credtrack_tokens"] = accounts.TokenCache()
    _error_handlers(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # the API has no per-client limits (stations scan all day behind one
    # address); skipping the limiter there saves work on every scan
    from ..api import bp as api_bp

    limiter.exempt(api_bp)
    _skip_limiter_for(app, "api")
    authentication.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(lambda: _csrf_unless_token() if request.method not in ("GET", "HEAD", "OPTIONS") else None)
    app.after_request(_security_headers)


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
