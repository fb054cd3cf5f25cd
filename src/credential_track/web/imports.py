"""Upload a manifest (with progress and an error report) and download the status export."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from ..db import get_db, get_engine
from ..domain.status import Status
from ..security import page_require
from ..services import exports, handover, import_jobs
from ..services.errors import ServiceError

bp = Blueprint("imports", __name__)

# the row-error messages of domain.manifest, for translation by key
ROW_MESSAGES = {
    "required": _l("is required"),
    "too_long": _l("is longer than {max} characters"),
    "bad_credential_no": _l("is not a credential number (it reads as a {kind} code)"),
    "duplicate_in_file": _l("appears twice in the file (first in row {first})"),
    "bad_phone": _l("is not a mainland mobile number (11 digits, 1[3-9]…) or a landline with area code"),
    "bad_postcode": _l("must be 6 digits"),
    "bad_province": _l("is not a province, municipality or region of China"),
    "bad_type": _l("is not a known credential type ({known})"),
}


def _jobs_root() -> Path:
    """Where uploads and their reports live (IMPORT_JOBS_DIR, else instance/imports)."""
    return Path(current_app.config.get("IMPORT_JOBS_DIR") or Path(current_app.instance_path) / "imports")


def row_message(err: dict) -> str:
    template = ROW_MESSAGES.get(err.get("key"))
    return str(template).format(**err.get("params", {})) if template else err.get("message", "")


@bp.get("/imports/")
@page_require("import")
def upload_page():
    return render_template("imports/upload.html", batches=handover.list_batches(get_db(), limit=20))


@bp.post("/imports/")
@page_require("import")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a manifest file (CSV or XLSX)."), "error")
        return redirect(url_for("imports.upload_page"))
    # the import writes in short transactions of its own: end this request's
    # (write) transaction first
    get_db().rollback()
    try:
        job = import_jobs.start_import(
            get_engine(), _jobs_root(), filename=file.filename, stream=file.stream,
            batch=(request.form.get("batch") or "").strip() or None,
            skip_invalid=bool(request.form.get("skip_invalid")), update=bool(request.form.get("update")),
            user_id=current_user.id, wait=current_app.config.get("IMPORT_WAIT", False))
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("imports.upload_page"))
    return redirect(url_for("imports.job_page", job=job))


def _job_or_404(job: str) -> dict:
    state = import_jobs.job_state(_jobs_root(), job)
    if state is None:
        abort(404)
    return state


@bp.get("/imports/jobs/<job>")
@page_require("import")
def job_page(job: str):
    state = _job_or_404(job)
    return render_template("imports/job.html", job=job, state=state, row_message=row_message)


@bp.get("/imports/jobs/<job>.json")
@page_require("import")
def job_json(job: str):
    state = _job_or_404(job)
    return jsonify({k: state.get(k) for k in ("state", "done", "total", "error")})


@bp.get("/imports/jobs/<job>/rejects.csv")
@page_require("import")
def job_rejects(job: str):
    path = import_jobs.rejects_path(_jobs_root(), job)
    if path is None:
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"rejects-{job[:8]}.csv")


def _filters() -> exports.StatusFilter:
    statuses = [s for s in request.args.getlist("status") if s in Status.__members__]
    return exports.StatusFilter(
        statuses=statuses, routes=[r for r in request.args.getlist("route") if r],
        types=[t for t in request.args.getlist("type") if t], batch=request.args.get("batch") or None)


@bp.get("/exports/")
@page_require("export")
def export_page():
    return render_template("imports/export.html", statuses=list(Status),
                           batches=handover.list_batches(get_db(), limit=50))


@bp.get("/exports/status")
@page_require("export")
def export_status():
    filters = _filters()
    personal = bool(request.args.get("personal"))
    fmt = request.args.get("format", "csv")
    engine = get_engine()
    if personal:
        exports.record_export(engine, rows=exports.count(engine, filters), filters=filters, fmt=fmt,
                              user_id=current_user.id)
    if fmt == "xlsx":
        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
        tmp.close()
        exports.write_xlsx(engine, tmp.name, filters, personal=personal)
        resp = send_file(tmp.name, as_attachment=True, download_name="credential-status.xlsx")
        resp.call_on_close(lambda: Path(tmp.name).unlink(missing_ok=True))
        return resp
    return Response(stream_with_context(exports.csv_chunks(engine, filters, personal=personal)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="credential-status.csv"'})


@bp.app_context_processor
def _permission_helper():
    from ..permissions import allowed

    def may(permission: str) -> bool:
        return bool(current_user.is_authenticated and allowed(current_user.role, permission))

    return {"may": may}
