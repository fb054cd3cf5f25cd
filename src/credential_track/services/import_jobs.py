"""Manifest imports started from the upload page: the upload kept in a
folder of its own until the import task (tasks/imports.py) has run it, and
the rejected-rows report it leaves. The task's state and progress live in
the queue's store (tasks/records.py), not in the database: the progress of
an import is no business of the stations' write lock."""
from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from ..domain.cells import csv_chunks
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
        reader = csv.reader(f)
        header = next(reader, None)

        def masked() -> Iterator[list[str]]:
            for row in reader:
                if not personal and len(row) >= 4:
                    row[3] = mask_field(row[2], row[3]) or ""
                yield row

        yield from csv_chunks(masked(), header=header)


def save_upload(root: str | Path, *, filename: str, stream) -> tuple[str, str]:
    """Keep an uploaded manifest in a folder of its own (mode 0700) for the
    import task; returns the job id and the file's safe name."""
    name = _SAFE.sub("_", Path(filename or "manifest.csv").name).strip("._") or "manifest.csv"
    if Path(name).suffix.lower() not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise ServiceError(_("Upload a CSV or XLSX file."), field="file")
    job = uuid.uuid4().hex
    folder = jobs_dir(root) / job
    folder.mkdir(mode=0o700)
    with private_open(folder / name, "wb") as f:
        while chunk := stream.read(1 << 20):
            f.write(chunk)
    return job, name


def upload_path(root: str | Path, job: str, name: str) -> Path | None:
    """The kept upload of a job (None once it is gone: after a finished import)."""
    if not _JOB.match(job):
        return None
    path = jobs_dir(root) / job / name
    return path if path.exists() else None


def run_import(engine: Engine, root: str | Path, job: str, *, name: str, filename: str, batch: str | None,
               skip_invalid: bool, update: bool, user_id: int | None, lang: str | None,
               on_total, progress) -> dict:
    """Import a kept upload (all or nothing, services.imports) and write its
    rejects file; returns the result as a dict. The upload is removed when
    the import has finished or the file cannot be imported (it holds
    personal data); after a crash it stays so that the task can be retried."""
    folder = jobs_dir(root) / job
    path = folder / name
    try:
        with private_open(folder / "rejects.csv", "w", newline="", encoding="utf-8-sig") as rejects:
            result = import_manifest(engine, path, batch=batch or filename, skip_invalid=skip_invalid,
                                     update=update, user_id=user_id, rejects=rejects, progress=progress,
                                     on_total=on_total, keep_errors=200, lang=lang)
    except (ManifestError, ServiceError):
        path.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    return result.as_dict()
