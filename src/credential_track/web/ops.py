"""For the technical-support desks and the machines that watch the system:
`/healthz` (the process answers), `/readyz` (the database and the queue
answer), `/metrics` (Prometheus; to the addresses METRICS_ALLOWED_IPS names
or with the METRICS_TOKEN bearer token) and the tech-support page."""
from __future__ import annotations

import hmac
import re
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from .. import settings
from ..security import page_require
from ..services import operations
from ..tasks import imports as task_imports
from ..tasks import periodic, records
from ..tasks.queue import huey, queue_file, reachable
from ..unit_of_work import get_engine

bp = Blueprint("ops", __name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@bp.before_app_request
def _request_id() -> None:
    """The id of this request: the proxy's X-Request-ID when it sends a sane
    one, else a new one; answered in X-Request-ID and written in the access log."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex


@bp.after_app_request
def _answer_request_id(response):
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    return response


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {"database": operations.database_reachable(get_engine()), "queue": reachable()}
    body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
    return jsonify(body), 200 if all(checks.values()) else 503


def _metrics_allowed() -> bool:
    cfg = settings.current()
    header = request.headers.get("Authorization", "")
    if cfg.metrics_token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), cfg.metrics_token.encode())
    allowed = {a.strip() for a in cfg.metrics_allowed_ips.split(",") if a.strip()}
    return request.remote_addr in allowed


@bp.get("/metrics")
def metrics():
    if not _metrics_allowed():
        abort(403)
    from .. import metrics as m  # see metrics.py: imported after the server's workers have started

    return Response(m.exposition(), mimetype="text/plain; version=0.0.4")


@bp.get("/support/")
@page_require("support")
def support():
    cfg = settings.current()
    jobs = records.all_jobs()
    for job in jobs:
        job["reason"] = records.failure_text(job, html=True) if job["state"] == "failed" else ""
        job["retry"] = job["state"] == "failed" and (job["kind"] == "export" or task_imports.can_retry(job))
    runs = records.last_runs()
    for run in runs.values():
        run["at_dt"] = records.at(run["at"])
    engine = get_engine()
    return render_template(
        "ops/support.html", jobs=jobs[:100], pending=huey.pending_count(), runs=runs,
        periodic_names=list(periodic.PERIODIC), db_bytes=operations.database_bytes(engine),
        db_kind=engine.dialect.name, backup=operations.last_backup(),
        queue_redis=bool(cfg.redis_url), queue_path=str(queue_file(current_app)),
        ready={"database": operations.database_reachable(engine), "queue": reachable()})


@bp.post("/support/tasks/<job>/retry")
@page_require("support")
def support_retry(job: str):
    if records.get(job) is None:
        abort(404)
    task_imports.retry(job)  # a refusal is flashed by the unit of work
    flash(_("The task is queued again."), "ok")
    return redirect(url_for("ops.support"))
