"""The status export as a task (CSV or XLSX, any size): the file is written
by a worker into the jobs folder with its progress on its record, and
downloaded from the export's page when done. The export is authorised and
recorded (an `export` event) when it is asked for, as a direct download is."""
from __future__ import annotations

from pathlib import Path

from ..files import private_dir, private_open
from ..services import exports
from . import records
from .imports import jobs_root
from .queue import huey, in_app

KIND = "export"


def export_file(job: dict, app=None) -> Path:
    """Where the export of `job` is (or will be) written."""
    fmt = job["params"]["format"]
    return jobs_root(app) / "exports" / job["id"] / f"credential-status.{fmt}"


@huey.task(name="export_status")
def export_status_task(job_id: str) -> None:
    with in_app() as app:
        job = records.get(job_id)
        if job is None:
            return
        p = job["params"]
        engine = app.extensions["credtrack_engine"]
        filters = exports.StatusFilter(**p["filters"])
        path = export_file(job, app)
        private_dir(path.parent)
        part = path.with_name(path.name + ".part")
        with records.running(job_id) as progress:
            progress.set_total(p["rows"])
            if p["format"] == "xlsx":
                n = exports.write_xlsx(engine, part, filters, personal=p["personal"], lang=p.get("lang"),
                                       progress=progress.add)
            else:
                with private_open(part, "w", newline="", encoding="utf-8-sig") as out:
                    n = exports.write_csv(engine, out, filters, personal=p["personal"], lang=p.get("lang"),
                                          progress=progress.add)
            part.replace(path)
            progress.job["result"] = {"rows": n}


def submit(*, filters: exports.StatusFilter, fmt: str, personal: bool, rows: int, user_id: int | None,
           lang: str | None) -> str:
    """Queue a status export (already authorised and recorded); returns the record's id."""
    job = records.new(KIND, title=f"credential-status.{fmt}", user_id=user_id,
                      params={"filters": filters.as_dict(), "format": fmt, "personal": personal, "rows": rows,
                              "lang": lang})
    export_status_task(job["id"])
    return job["id"]


def retry(job_id: str) -> None:
    records.requeue(job_id)
    export_status_task(job_id)
