"""Upload a manifest (with progress and an error report) and download the status export."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..domain.manifest import HEADERS
from ..domain.masking import mask_field
from ..domain.status import Status
from ..i18n import current_lang
from ..permissions import PiiAccess, PiiPath, personal_data_access
from ..security import page_require
from ..services import disclosure, exports, handover, import_jobs
from ..services.errors import Forbidden, ServiceError
from ..tasks import exports as task_exports
from ..tasks import imports as task_imports
from ..tasks import records
from ..unit_of_work import get_db, get_engine
from ..vocabulary import error_text, problem_text

bp = Blueprint("imports", __name__)

def _jobs_root() -> Path:
    return task_imports.jobs_root()


def row_message(err: dict) -> str:
    """A row error or warning of domain.manifest in the page's language."""
    return problem_text(err.get("key"), err.get("params", {}), default=err.get("message", ""))


@bp.get("/imports/")
@page_require("import")
def upload_page():
    return render_template("imports/upload.html", batches=handover.list_batches(get_db(), limit=20),
                           manifest_headers=HEADERS)


@bp.post("/imports/")
@page_require("import")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a manifest file (CSV or XLSX)."), "error")
        return redirect(url_for("imports.upload_page"))
    # the import runs on the task queue, in transactions of its own
    try:
        job = task_imports.submit(
            filename=file.filename, stream=file.stream, batch=(request.form.get("batch") or "").strip() or None,
            skip_invalid=bool(request.form.get("skip_invalid")), update=bool(request.form.get("update")),
            user_id=current_user.id, lang=current_lang())
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("imports.upload_page"))
    return redirect(url_for("imports.job_page", job=job))


def _job_or_404(job: str) -> dict:
    state = records.get(job) if len(job) == 32 else None
    if state is None or state.get("kind") != task_imports.KIND:
        abort(404)
    return {**state, "file": state["title"]}


@bp.get("/imports/jobs/<job>")
@page_require("import")
def job_page(job: str):
    state = dict(_job_or_404(job))
    if state.get("error_key") == records.WORKER_LOST:
        state["error"] = task_error_text(state)
    elif state.get("error_key"):
        state["error"] = problem_text(state["error_key"], state.get("error_params") or {},
                                      default=state.get("error", ""), html=True)
    full = personal_data_access(current_user.role, PiiPath.lookup) == PiiAccess.full

    def shown_value(err: dict) -> str:
        """A rejected value as this user may see it: personal fields masked
        for roles that see personal data masked."""
        value = err.get("value", "")
        return value if full else mask_field(err.get("column", ""), value)

    return render_template("imports/job.html", job=job, state=state, row_message=row_message,
                           shown_value=shown_value, can_retry=task_imports.can_retry(state))


@bp.post("/imports/jobs/<job>/retry")
@page_require("import")
def job_retry(job: str):
    _job_or_404(job)
    task_imports.retry(job)  # a refusal is flashed by the unit of work
    flash(_("The import is queued again."), "ok")
    return redirect(url_for("imports.job_page", job=job))


@bp.get("/imports/jobs/<job>.json")
@page_require("import")
def job_json(job: str):
    state = _job_or_404(job)
    return jsonify({k: state.get(k) for k in ("state", "done", "total", "error")})


task_error_text = records.failure_text


@bp.get("/imports/jobs/<job>/rejects.csv")
@page_require("import")
def job_rejects(job: str):
    path = import_jobs.rejects_path(_jobs_root(), job)
    if path is None:
        abort(404)
    # rejected values of personal columns (names, phone, address) are masked
    # unless personal data is asked for (and allowed)
    personal = bool(request.args.get("personal"))
    _authorise(kind="import_rejects", personal_data=personal, fmt="csv", filters={"job": job})
    return Response(stream_with_context(import_jobs.rejects_csv(path, personal=personal)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="rejects-{job[:8]}.csv"'})


def _filters() -> exports.StatusFilter:
    return _filters_from(request.args)


def _filters_from(values) -> exports.StatusFilter:
    statuses = [s for s in values.getlist("status") if s in Status.__members__]
    return exports.StatusFilter(
        statuses=statuses, routes=[r for r in values.getlist("route") if r],
        types=[t for t in values.getlist("type") if t], batch=values.get("batch") or None)


def _authorise(**kw) -> None:
    """disclosure.authorise_export for the signed-in user; 403 when refused."""
    try:
        disclosure.authorise_export(get_engine(), user_id=current_user.id, role=current_user.role, **kw)
    except Forbidden:
        abort(403)


@bp.get("/exports/")
@page_require("export")
def export_page():
    mine = [j for j in records.all_jobs(task_exports.KIND) if j.get("user_id") == current_user.id][:10]
    return render_template("imports/export.html", statuses=list(Status),
                           batches=handover.list_batches(get_db(), limit=50), jobs=mine)


@bp.get("/exports/status")
@page_require("export")
def export_status():
    filters = _filters()
    personal = bool(request.args.get("personal"))
    fmt = request.args.get("format", "csv")
    engine = get_engine()
    rows = exports.count(engine, filters)
    _authorise(kind="status", personal_data=personal, fmt=fmt, rows=rows, filters=filters.as_dict())
    if fmt == "xlsx" and rows > exports.XLSX_WHILE_YOU_WAIT:
        # minutes of work: prepared on the queue, its progress and download on its page
        job = task_exports.submit(filters=filters, fmt=fmt, personal=personal, rows=rows, user_id=current_user.id,
                                  lang=current_lang())
        return redirect(url_for("imports.export_job_page", job=job))
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


@bp.post("/exports/jobs")
@page_require("export")
def export_job_start():
    """Queue a status export (any size, CSV or XLSX): authorised and recorded
    now, written by a worker, downloaded from its page."""
    filters = _filters_from(request.form)
    personal = bool(request.form.get("personal"))
    fmt = request.form.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    engine = get_engine()
    rows = exports.count(engine, filters)
    _authorise(kind="status", personal_data=personal, fmt=fmt, rows=rows, filters=filters.as_dict())
    job = task_exports.submit(filters=filters, fmt=fmt, personal=personal, rows=rows, user_id=current_user.id,
                              lang=current_lang())
    return redirect(url_for("imports.export_job_page", job=job))


def _export_job_or_404(job: str) -> dict:
    state = records.get(job) if len(job) == 32 else None
    # an export is its requester's (it may hold personal data they were allowed)
    if state is None or state.get("kind") != task_exports.KIND or state.get("user_id") != current_user.id:
        abort(404)
    return state


@bp.get("/exports/jobs/<job>")
@page_require("export")
def export_job_page(job: str):
    state = dict(_export_job_or_404(job))
    if state["state"] == "failed":
        state["error"] = records.failure_text(state, html=True)
    return render_template("imports/export_job.html", job=job, state=state)


@bp.get("/exports/jobs/<job>.json")
@page_require("export")
def export_job_json(job: str):
    state = _export_job_or_404(job)
    return jsonify({k: state.get(k) for k in ("state", "done", "total")})


@bp.post("/exports/jobs/<job>/retry")
@page_require("export")
def export_job_retry(job: str):
    if _export_job_or_404(job)["state"] == "failed":
        task_exports.retry(job)
    return redirect(url_for("imports.export_job_page", job=job))


@bp.get("/exports/jobs/<job>/file")
@page_require("export")
def export_job_file(job: str):
    state = _export_job_or_404(job)
    if state["state"] != "done":
        abort(404)
    # personal data only while the role still sees it in full (the request was recorded when queued)
    if state["params"]["personal"] and personal_data_access(current_user.role, PiiPath.export) != PiiAccess.full:
        abort(403)
    path = task_exports.export_file(state)
    if not path.exists():
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name)


@bp.app_context_processor
def _permission_helper():
    from ..permissions import allowed

    def may(permission: str) -> bool:
        return bool(current_user.is_authenticated and allowed(current_user.role, permission))

    def sees_in_full(path: str) -> bool:
        """Whether to offer the personal-data variant of a page or export
        (the view asks again when it is requested)."""
        return bool(current_user.is_authenticated
                    and personal_data_access(current_user.role, path) == PiiAccess.full)

    return {"may": may, "sees_in_full": sees_in_full}
