"""The audit log: every event, searchable, exportable as CSV; read only."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from .. import clock
from ..domain.numbers import whole_number
from ..security import page_require
from ..services import audit
from ..services.errors import Forbidden, ServiceError
from ..unit_of_work import get_db, get_engine

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filter() -> audit.AuditFilter:
    a = request.args
    return audit.AuditFilter(**{k: (a.get(k) or "").strip() or None
                                for k in ("item", "user", "station", "action", "result", "since", "until")})


@bp.get("/")
@page_require("audit")
def index():
    f = _filter()
    before = request.args.get("before", "")
    error = None
    page = {"events": [], "next": None}
    try:
        page = audit.search(get_db(), f, role=current_user.role,
                            before=whole_number(before))
    except ServiceError as exc:
        error = exc
    status = 400 if error else 200
    return render_template("audit/index.html", f=f, page=page, error=error,
                           args={k: v for k, v in f.as_dict().items()}), status


@bp.get("/export.csv")
@page_require("audit")
def export():
    f = _filter()
    try:
        lines = audit.export_csv(get_engine(), f, role=current_user.role, by=current_user.id,
                                 personal=bool(request.args.get("personal")))
    except Forbidden:
        abort(403)
    except ServiceError as exc:
        return render_template("audit/index.html", f=f, page={"events": [], "next": None}, error=exc,
                               args=f.as_dict()), 400
    name = f"audit-{clock.now():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
