"""The web pages: one blueprint per area."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..permissions import allowed
from ..unit_of_work import typed_values


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy translated string
    permission: str


# The top navigation: one entry per area, shown to roles with its permission.
NAV: list[NavItem] = [
    NavItem("station.pick", _l("Stations"), "scan"),
    NavItem("station.supervisor", _l("Corrections"), "supervise"),
    NavItem("handover.index", _l("Handover"), "handover"),
    NavItem("imports.upload_page", _l("Import"), "import"),
    NavItem("imports.export_page", _l("Export"), "export"),
    NavItem("audit.index", _l("Audit log"), "audit"),
    NavItem("admin.users_page", _l("Users"), "manage_users"),
    NavItem("admin.tokens_page", _l("Tokens"), "admin"),
    NavItem("admin.stations_page", _l("Station settings"), "admin"),
    NavItem("admin.config_page", _l("Configuration"), "admin"),
    NavItem("desk.index", _l("Hotline desk"), "desk"),
    NavItem("desk.intercepts", _l("Intercepts"), "intercept"),
    NavItem("dashboard.index", _l("Dashboard"), "stats"),
    NavItem("forecast.index", _l("Forecast"), "stats"),
    NavItem("dashboard.stations", _l("Station staffing"), "staff"),
    NavItem("ops.support", _l("Technical support"), "support"),
]


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to after a form, else `default` (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return default


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [n for n in NAV if allowed(current_user.role, n.permission)]


def register(app: Flask) -> None:
    # desk_tickets: the ticket, saved-reply and intercept pages, on desk.bp
    from . import (  # noqa: F401
        admin,
        audit,
        auth,
        dashboard,
        desk,
        desk_tickets,
        forecast,
        handover,
        home,
        imports,
        ops,
        printing,
        station,
        track,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(station.bp)
    app.register_blueprint(printing.bp)
    app.register_blueprint(handover.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(track.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(forecast.bp)
    app.register_blueprint(ops.bp)
    app.jinja_env.globals["nav_items"] = nav_items
    # what a refused form had typed, filled in again by static/js/forms.js
    app.jinja_env.globals["refused_form"] = typed_values

    @app.errorhandler(403)
    def _forbidden(_e):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def _not_found(e):
        if request.path.startswith("/api/"):  # a path no API rule matches: JSON, as the API answers
            return jsonify(error=e.description, field=None), 404
        return render_template("errors/404.html"), 404
