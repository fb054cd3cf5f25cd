"""Administration pages: users (supervisors: their site's; admins: all),
API tokens, stations and configuration (admins)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from ..vocabulary import error_text
from ..db import get_db
from ..models import Site
from ..permissions import ROLES
from ..security import page_require
from ..services import queries, station_admin, tokens, users
from ..services.errors import ServiceError
from ..services.scan import SCAN_ACTIONS

bp = Blueprint("admin", __name__, url_prefix="/admin")

# settings shown on the configuration page; secrets are never shown
CONFIG_SHOWN = ("DATABASE_URL", "IDLE_TIMEOUT_MINUTES", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE",
                "SESSION_COOKIE_HTTPONLY", "PROXY_HOPS", "LOGIN_MAX_FAILURES", "LOGIN_LOCK_MINUTES",
                "LOGIN_RATE_LIMIT", "RATELIMIT_STORAGE_URI", "MAX_CONTENT_LENGTH", "DEFAULT_WEIGHT_G",
                "ORGANIZER_NAME", "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE")


def manager() -> users.Manager:
    return users.Manager(current_user.id, current_user.role, current_user.user.site_id)


def _flash_error(exc: ServiceError) -> None:
    flash(error_text(exc), "error")


@bp.get("/users")
@page_require("manage_users")
def users_page():
    q = request.args.get("q", "")
    db = get_db()
    sites = [s.code for s in db.exec(select(Site).order_by(Site.code))]
    roles = ROLES if current_user.role == "admin" else users.SUPERVISOR_MANAGES
    return render_template("admin/users.html", users=users.list_users(db, manager(), q=q), q=q,
                           roles=roles, all_roles=ROLES, sites=sites)


@bp.post("/users")
@page_require("manage_users")
def users_create():
    f = request.form
    db = get_db()
    try:
        user = users.add_user(db, manager(), username=f.get("username", ""), password=f.get("password", ""),
                              role=f.get("role", ""), display_name=f.get("display_name", "").strip(),
                              site_code=f.get("site") or None)
        db.commit()
        flash(_("User %(name)s added.", name=user.username), "ok")
    except ServiceError as exc:
        db.rollback()
        _flash_error(exc)
    return redirect(url_for("admin.users_page"))


USER_OPS = {
    "activate": lambda db, m, uid, f: users.set_active(db, m, uid, True),
    "deactivate": lambda db, m, uid, f: users.set_active(db, m, uid, False),
    "unlock": lambda db, m, uid, f: users.unlock(db, m, uid),
    "logout": lambda db, m, uid, f: users.logout_everywhere(db, m, uid),
    "password": lambda db, m, uid, f: users.reset_password(db, m, uid, f.get("password", "")),
    "role": lambda db, m, uid, f: users.set_role(db, m, uid, f.get("role", "")),
}


@bp.post("/users/<int:user_id>/<op>")
@page_require("manage_users")
def users_change(user_id: int, op: str):
    if op not in USER_OPS:
        return render_template("errors/404.html"), 404
    db = get_db()
    try:
        user = USER_OPS[op](db, manager(), user_id, request.form)
        db.commit()
        flash(_("User %(name)s changed.", name=user.username), "ok")
    except ServiceError as exc:
        db.rollback()
        _flash_error(exc)
    return redirect(url_for("admin.users_page"))


@bp.get("/tokens")
@page_require("admin")
def tokens_page():
    db = get_db()
    stations = [s["code"] for s in queries.stations(db)]
    usernames = [u["username"] for u in users.list_users(db, manager()) if u["active"]]
    return render_template("admin/tokens.html", tokens=tokens.list_tokens(db), stations=stations,
                           usernames=usernames, roles=ROLES)


@bp.post("/tokens")
@page_require("admin")
def tokens_create():
    f = request.form
    db = get_db()
    owner = f.get("owner", "")
    kind, _sep, name = owner.partition(":")
    days = f.get("days", "").strip()
    try:
        if days and not days.isdigit():
            raise ServiceError(_("days must be a whole number"), field="days")
        issued = tokens.issue_token(
            db, station_code=name if kind == "station" else None, username=name if kind == "user" else None,
            role=f.get("role") or None, name=f.get("name", ""), days=int(days) if days else None,
            by=current_user.id,
        )
        db.commit()
    except ServiceError as exc:
        db.rollback()
        _flash_error(exc)
        return redirect(url_for("admin.tokens_page"))
    resp = current_app.make_response(render_template("admin/token_created.html", issued=issued, owner=owner))
    resp.headers["Cache-Control"] = "no-store"  # the secret must not linger in a cache
    return resp


@bp.post("/tokens/<int:token_id>/<op>")
@page_require("admin")
def tokens_change(token_id: int, op: str):
    if op not in ("revoke", "expire"):
        return render_template("errors/404.html"), 404
    db = get_db()
    try:
        if op == "revoke":
            t = tokens.revoke_token(db, token_id, by=current_user.id)
        else:
            t = tokens.expire_token(db, token_id, by=current_user.id)
        db.commit()
        flash(_("Token %(prefix)s… changed.", prefix=t.prefix), "ok")
    except ServiceError as exc:
        db.rollback()
        _flash_error(exc)
    return redirect(url_for("admin.tokens_page"))


@bp.get("/stations")
@page_require("admin")
def stations_page():
    return render_template("admin/stations.html", stations=queries.stations(get_db()),
                           actions=sorted(SCAN_ACTIONS), formats=station_admin.LABEL_FORMATS)


@bp.post("/stations/<code>")
@page_require("admin")
def stations_change(code: str):
    db = get_db()
    try:
        station_admin.update_station(db, code, actions=request.form.getlist("actions"),
                                     label_format=request.form.get("label_format", ""), by=current_user.id)
        db.commit()
        flash(_("Station %(code)s changed.", code=code), "ok")
    except ServiceError as exc:
        db.rollback()
        _flash_error(exc)
    return redirect(url_for("admin.stations_page"))


@bp.get("/config")
@page_require("admin")
def config_page():
    cfg = current_app.config
    shown = [(k, _redact(k, cfg.get(k))) for k in CONFIG_SHOWN]
    return render_template("admin/config.html", settings=shown)


def _redact(key: str, value):
    if key == "DATABASE_URL" and value:
        from sqlalchemy.engine import make_url

        return make_url(str(value)).render_as_string(hide_password=True)
    return value
