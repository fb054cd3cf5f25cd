"""The manifest import task (the upload page): the file is kept in the
jobs folder, the task imports it all or nothing (services/imports.py) and
reports its progress to its record.

A worker killed in the middle leaves the import run `writing`; the next
worker undoes it when it starts (`worker.recover`), the next import does so
before it writes, and the record reads as failed (records.WORKER_LOST) with
the upload still there, so that it can be retried."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..domain.manifest import ManifestError
from ..services import import_jobs
from ..services.errors import ServiceError
from . import records
from .queue import huey, in_app

KIND = "import"


def jobs_root(app=None) -> Path:
    """Where uploads and their reports live (IMPORT_JOBS_DIR, else
    instance/imports); with workers on several machines, a folder they share."""
    app = app or current_app
    cfg = app.extensions["credtrack_settings"]
    return Path(cfg.import_jobs_dir or Path(app.instance_path) / "imports")


@huey.task(name="import_manifest")
def import_manifest_task(job_id: str) -> None:
    with in_app() as app:
        job = records.get(job_id)
        if job is None:
            return
        p = job["params"]
        engine = app.extensions["credtrack_engine"]
        try:
            with records.running(job_id) as progress:
                progress.job["result"] = import_jobs.run_import(
                    engine, jobs_root(app), job_id, name=p["name"], filename=p["filename"], batch=p.get("batch"),
                    skip_invalid=p.get("skip_invalid", False), update=p.get("update", False),
                    user_id=job.get("user_id"), lang=p.get("lang"), on_total=progress.set_total,
                    progress=progress.add)
        except (ManifestError, ServiceError):
            pass  # the file cannot be imported: the record says why; nothing to retry


def submit(*, filename: str, stream, batch: str | None, skip_invalid: bool, update: bool, user_id: int | None,
           lang: str | None) -> str:
    """Keep the upload and queue its import; returns the task record's id."""
    job_id, name = import_jobs.save_upload(jobs_root(), filename=filename, stream=stream)
    records.new(KIND, title=filename, user_id=user_id, job_id=job_id,
                params={"name": name, "filename": filename, "batch": batch, "skip_invalid": skip_invalid,
                        "update": update, "lang": lang})
    import_manifest_task(job_id)
    return job_id


def can_retry(job: dict) -> bool:
    """A failed import whose upload is still kept (a crash, a lost worker)."""
    return (job["state"] == "failed" and job.get("kind") == KIND
            and import_jobs.upload_path(jobs_root(), job["id"], job["params"].get("name", "")) is not None)


def retry(job_id: str) -> None:
    """Queue a failed task again: an import (its earlier run, if it wrote
    anything, is undone before the new one writes) or an export."""
    job = records.get(job_id)
    if job is not None and job["kind"] == "export" and job["state"] == "failed":
        from . import exports

        exports.retry(job_id)
        return
    if job is None or not can_retry(job):
        raise ServiceError(_("Only a failed task can be retried (an import only while its file is kept)."), field="job")
    records.requeue(job_id)
    import_manifest_task(job_id)
