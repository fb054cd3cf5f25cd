"""Administration pages: users (supervisors: their site's; admins: all),
API tokens, stations and configuration (admins)."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from .. import settings
from ..domain.numbers import whole_number
from ..models import Site
from ..permissions import ROLES
from ..security import page_require
from ..services import queries, station_admin, tokens, users
from ..services.errors import ServiceError
from ..services.scan import SCAN_ACTIONS
from ..unit_of_work import get_db, refused_to

bp = Blueprint("admin", __name__, url_prefix="/admin")


def manager() -> users.Manager:
    return users.Manager(current_user.id, current_user.role, current_user.user.site_id)


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
@refused_to(lambda: url_for("admin.users_page"))
@page_require("manage_users")
def users_create():
    f = request.form
    user = users.add_user(get_db(), manager(), username=f.get("username", ""), password=f.get("password", ""),
                          role=f.get("role", ""), display_name=f.get("display_name", "").strip(),
                          site_code=f.get("site") or None)
    flash(_("User %(name)s added.", name=user.username), "ok")
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
@refused_to(lambda **_kw: url_for("admin.users_page"))
@page_require("manage_users")
def users_change(user_id: int, op: str):
    if op not in USER_OPS:
        return render_template("errors/404.html"), 404
    user = USER_OPS[op](get_db(), manager(), user_id, request.form)
    flash(_("User %(name)s changed.", name=user.username), "ok")
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
@refused_to(lambda: url_for("admin.tokens_page"))
@page_require("admin")
def tokens_create():
    f = request.form
    owner = f.get("owner", "")
    kind, _sep, name = owner.partition(":")
    days = f.get("days", "").strip()
    if days and whole_number(days) is None:
        raise ServiceError(_("days must be a whole number"), field="days")
    issued = tokens.issue_token(
        get_db(), station_code=name if kind == "station" else None, username=name if kind == "user" else None,
        role=f.get("role") or None, name=f.get("name", ""), days=int(days) if days else None,
        by=current_user.id,
    )
    resp = current_app.make_response(render_template("admin/token_created.html", issued=issued, owner=owner))
    resp.headers["Cache-Control"] = "no-store"  # the secret must not linger in a cache
    return resp


@bp.post("/tokens/<int:token_id>/<op>")
@refused_to(lambda **_kw: url_for("admin.tokens_page"))
@page_require("admin")
def tokens_change(token_id: int, op: str):
    if op not in ("revoke", "expire"):
        return render_template("errors/404.html"), 404
    change = tokens.revoke_token if op == "revoke" else tokens.expire_token
    t = change(get_db(), token_id, by=current_user.id)
    flash(_("Token %(prefix)s… changed.", prefix=t.prefix), "ok")
    return redirect(url_for("admin.tokens_page"))


@bp.get("/stations")
@page_require("admin")
def stations_page():
    return render_template("admin/stations.html", stations=queries.stations(get_db()),
                           actions=sorted(SCAN_ACTIONS), formats=station_admin.LABEL_FORMATS)


@bp.post("/stations/<code>")
@refused_to(lambda **_kw: url_for("admin.stations_page"))
@page_require("admin")
def stations_change(code: str):
    station_admin.update_station(get_db(), code, actions=request.form.getlist("actions"),
                                 label_format=request.form.get("label_format", ""), by=current_user.id)
    flash(_("Station %(code)s changed.", code=code), "ok")
    return redirect(url_for("admin.stations_page"))


@bp.get("/config")
@page_require("admin")
def config_page():
    conf = settings.current()
    shown = [(settings.env_name(f.name), _redact(f.name, getattr(conf, f.name)))
             for f in dataclasses.fields(conf) if f.name != "secret_key"]
    return render_template("admin/config.html", settings=shown)


def _redact(name: str, value):
    if name == "database_url" and value:
        from sqlalchemy.engine import make_url

        return make_url(str(value)).render_as_string(hide_password=True)
    return value
