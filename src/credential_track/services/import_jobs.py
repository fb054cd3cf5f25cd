"""Manifest imports started from the upload page: a background thread per
upload, its progress and result kept in a JSON file in the instance folder
(readable from any app process, and written without touching the database:
the progress of an import is no business of the stations' write lock)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from ..domain.manifest import ManifestError
from ..domain.masking import mask_field
from ..files import private_dir, private_open
from .errors import ServiceError
from .imports import import_manifest

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)
_JOB = re.compile(r"^[0-9a-f]{32}$")


def jobs_dir(root: str | Path) -> Path:
    """The folder of upload jobs (mode 0700: uploads, rejects and states
    hold personal data; each file in it is made 0600 too)."""
    return private_dir(root)


def _write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    with private_open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False))
    os.replace(tmp, path)


def job_state(root: str | Path, job: str) -> dict | None:
    """The state of a job: running (done/total rows), done (result) or failed (error)."""
    if not _JOB.match(job):
        return None
    path = jobs_dir(root) / job / "state.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def rejects_path(root: str | Path, job: str) -> Path | None:
    if not _JOB.match(job):
        return None
    path = jobs_dir(root) / job / "rejects.csv"
    return path if path.exists() else None


def rejects_csv(path: Path, *, personal: bool) -> Iterator[str]:
    """The rejects file (row, column, column code, value, message:
    vocabulary.REJECTS_COLUMNS) as CSV text chunks for a download: the
    values of personal columns (names, phone, address) masked unless
    `personal` (an export authorised to hold personal data)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf)
        for i, row in enumerate(csv.reader(f)):
            if i > 0 and not personal and len(row) >= 4:
                row[3] = mask_field(row[2], row[3]) or ""
            w.writerow(row)
            if i % 2000 == 1999:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()


def start_import(engine: Engine, root: str | Path, *, filename: str, stream, batch: str | None,
                 skip_invalid: bool, update: bool, user_id: int | None, wait: bool = False,
                 lang: str | None = None) -> str:
    """Save the uploaded file and import it in a background thread; return
    the job id. Its rejected-rows file is written in `lang` (the uploader's)."""
    name = _SAFE.sub("_", Path(filename or "manifest.csv").name).strip("._") or "manifest.csv"
    if Path(name).suffix.lower() not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ServiceError(_("Upload a CSV or XLSX file."), field="file")
    job = uuid.uuid4().hex
    folder = jobs_dir(root) / job
    folder.mkdir(mode=0o700)
    path = folder / name
    with private_open(path, "wb") as f:
        while chunk := stream.read(1 << 20):
            f.write(chunk)
    state_file = folder / "state.json"
    state = {"state": "running", "file": filename, "done": 0, "total": 0, "started": time.time(),
             "user_id": user_id}
    _write(state_file, state)

    def run() -> None:
        last = [0.0]

        def on_total(n: int) -> None:
            state["total"] = n
            _write(state_file, state)

        def progress(n: int) -> None:
            state["done"] += n
            now = time.monotonic()
            if now - last[0] > 0.5:
                last[0] = now
                _write(state_file, state)

        try:
            with private_open(folder / "rejects.csv", "w", newline="", encoding="utf-8-sig") as rejects:
                result = import_manifest(engine, path, batch=batch or filename, skip_invalid=skip_invalid,
                                         update=update, user_id=user_id, rejects=rejects, progress=progress,
                                         on_total=on_total, keep_errors=200, lang=lang)
            state.update(state="done", result=result.as_dict())
        except (ManifestError, ServiceError) as exc:
            state.update(state="failed", error=str(getattr(exc, "message", exc)),
                         error_key=getattr(exc, "key", None), error_params=getattr(exc, "params", {}))
        except Exception as exc:  # noqa: BLE001 — reported on the page; the transaction rolled back
            state.update(state="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            path.unlink(missing_ok=True)  # the manifest holds personal data: keep only the report
            _write(state_file, state)

    thread = threading.Thread(target=run, name=f"import-{job}", daemon=True)
    thread.start()
    if wait:
        thread.join()
    return job
