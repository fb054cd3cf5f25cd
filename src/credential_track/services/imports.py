"""Manifest imports: a stream of checked rows into the credential table,
in one transaction, set-based.

The whole import is one database transaction: an invalid row (without
``skip_invalid``), an exception or Ctrl-C rolls everything back. Rows are
read, checked and written in chunks so that memory stays flat; rows are
inserted with the driver's executemany (SQLite) or COPY (PostgreSQL), and the
``import`` events of the new items are written with one INSERT … SELECT.
"""
from __future__ import annotations

import csv
import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, TextIO

from flask_babel import gettext as _
from sqlalchemy.engine import Connection, Engine

from .. import vocabulary
from ..db import analyze, writer
from ..domain.manifest import (
    COMPARED_FIELDS, RECORD_FIELDS, Manifest, ManifestError, RowError, Validator,
)
from ..domain.status import Status
from ..models.base import utcnow
from . import events
from .errors import ServiceError

CHUNK = 2000
SQLITE_CACHE_KIB = 96 * 1024
# items whose data may still be changed by a corrected manifest
UPDATABLE = (Status.registered.value, Status.received.value)
INSERT_COLUMNS = RECORD_FIELDS + (
    "batch_id", "status", "language", "hold", "revoked", "intercept", "label_reprint", "created_at", "updated_at",
)


@dataclass
class Conflict:
    row: int
    credential_no: str
    status: str
    fields: list[str]

    @property
    def message(self) -> str:
        return (f"differs from the stored item in {', '.join(self.fields)}; item is {self.status}, "
                "not updated")


@dataclass
class ImportResult:
    batch: str
    batch_id: int | None = None
    rows: int = 0
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    rejected: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    first_errors: list[RowError] = field(default_factory=list)
    error_count: int = 0  # row errors in all (only the first `keep_errors` are kept in first_errors)
    warned: int = 0  # rows imported with a warning (names the label fonts cannot print)
    first_warnings: list[RowError] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0
    encoding: str | None = None

    def summary(self) -> str:
        """The one-line summary of the CLI and the upload page."""
        text = _("%(new)s new, %(unchanged)s unchanged, %(updated)s updated, %(conflicts)s conflicts, "
                 "%(rejected)s rejected, %(warned)s with warnings in %(seconds)s s (batch %(batch)s)",
                 new=f"{self.new:,}", unchanged=f"{self.unchanged:,}", updated=f"{self.updated:,}",
                 conflicts=f"{len(self.conflicts):,}", rejected=f"{self.rejected:,}", warned=f"{self.warned:,}",
                 seconds=f"{self.seconds:.1f}", batch=self.batch)
        return text if self.committed else text + _(" — nothing imported")

    def as_dict(self) -> dict:
        return {
            "batch": self.batch, "batch_id": self.batch_id, "rows": self.rows, "new": self.new,
            "unchanged": self.unchanged, "updated": self.updated, "rejected": self.rejected,
            "conflicts": [{"row": c.row, "credential_no": c.credential_no, "status": c.status,
                           "fields": c.fields, "message": c.message} for c in self.conflicts[:200]],
            "conflict_count": len(self.conflicts),
            "errors": [_row_dict(e) for e in self.first_errors],
            "error_count": self.error_count, "warned": self.warned,
            "warnings": [_row_dict(e) for e in self.first_warnings],
            "committed": self.committed, "seconds": round(self.seconds, 2), "summary": self.summary(),
        }


def _row_dict(e: RowError) -> dict:
    return {"row": e.row, "column": e.column, "value": e.value, "key": e.key, "params": e.params,
            "message": e.message}


def credential_type_names(conn: Connection) -> dict[str, str]:
    """Every accepted spelling of a credential type → its code."""
    out = {}
    for code, zh, en in conn.exec_driver_sql("SELECT code, name_zh, name_en FROM credentialtype"):
        out[code] = code
        out[zh] = code
        out[en] = code
    return out


def _db_time(conn: Connection, at: datetime):
    if conn.dialect.name == "sqlite":
        # the text form SQLAlchemy's DateTime stores on SQLite (naive UTC)
        return at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


def _ph(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def import_manifest(
    engine: Engine, path: str | Path, *, batch: str | None = None, skip_invalid: bool = False,
    update: bool = False, user_id: int | None = None, rejects: TextIO | None = None,
    progress: Callable[[int], None] | None = None, on_total: Callable[[int], None] | None = None,
    keep_errors: int = 50, lang: str | None = None,
) -> ImportResult:
    """Import a manifest file as handover batch `batch` (default: the file
    name). Raises ManifestError when the file cannot be read as a manifest.
    Returns counts; `committed` is False when invalid rows stopped the import
    (all or nothing) — then nothing was written. The rejects file is written
    for people reading `lang` (vocabulary.REJECTS_COLUMNS)."""
    started = time.monotonic()
    path = Path(path)
    result = ImportResult(batch=(batch or path.name)[:200])
    # every row error goes to the rejects file, by way of a spool on disk: a
    # file of 400,000 invalid rows must not hold 400,000 errors in memory
    error_rows = tempfile.TemporaryFile("w+", newline="", encoding="utf-8") if rejects is not None else None
    spool = csv.writer(error_rows) if error_rows is not None else None

    def on_error(errs: list[RowError]) -> None:
        result.rejected += 1
        for e in errs:
            result.error_count += 1
            if len(result.first_errors) < keep_errors:
                result.first_errors.append(e)
            if spool is not None:
                spool.writerow([e.row, e.column, e.value, e.key, json.dumps(e.params, ensure_ascii=False)])

    def on_warning(warns: list[RowError]) -> None:
        result.warned += 1
        for e in warns:
            if len(result.first_warnings) < keep_errors:
                result.first_warnings.append(e)

    try:
        _import(engine, path, result, skip_invalid=skip_invalid, update=update, user_id=user_id,
                on_error=on_error, on_warning=on_warning, progress=progress, on_total=on_total,
                rejects=rejects, error_rows=error_rows)
        if rejects is not None:
            _write_all_rejects(rejects, error_rows, result.conflicts, lang)
    finally:
        if error_rows is not None:
            error_rows.close()
    result.seconds = time.monotonic() - started
    return result


def _import(engine: Engine, path: Path, result: ImportResult, *, skip_invalid, update, user_id, on_error,
            on_warning, progress, on_total, rejects, error_rows) -> None:
    with Manifest(path) as manifest:
        result.encoding = manifest.encoding
        if on_total:
            on_total(manifest.estimated_rows)
        with writer(engine).connect() as conn:
            if conn.dialect.name == "sqlite":
                # a bigger page cache while ~12 indexes grow at random places;
                # reset below, as the connection goes back to the pool
                conn.connection.driver_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            trans = conn.begin()
            try:
                _run(conn, manifest, result, skip_invalid=skip_invalid, update=update, user_id=user_id,
                     on_error=on_error, on_warning=on_warning, progress=progress)
                if result.rejected and not skip_invalid:
                    trans.rollback()
                else:
                    trans.commit()
                    result.committed = True
            except BaseException:
                trans.rollback()
                raise
            finally:
                if conn.dialect.name == "sqlite":
                    conn.connection.driver_connection.execute("PRAGMA cache_size = -2000")
    if result.committed and result.new:
        analyze(engine, "credential")


def _write_all_rejects(out: TextIO, spool, conflicts: list[Conflict], lang: str | None = None) -> None:
    """The rejects file: every row error (from the spool), then the
    conflicts; in words of `lang`, with the column's code kept."""
    w = csv.writer(out)
    w.writerow(vocabulary.rejects_header(lang))
    spool.seek(0)
    for row, column, value, key, params in csv.reader(spool):
        w.writerow([row, vocabulary.field_label(column, lang), column, value,
                    vocabulary.problem_text(key, json.loads(params), lang)])
    for c in conflicts:
        w.writerow([c.row, vocabulary.field_label("credential_no", lang), "credential_no", c.credential_no,
                    vocabulary.conflict_text(c.fields, c.status, lang)])


def _run(conn: Connection, manifest: Manifest, result: ImportResult, *, skip_invalid, update, user_id,
         on_error, on_warning, progress) -> None:
    ph = _ph(conn)
    now = utcnow()
    at = _db_time(conn, now)
    validator = Validator(credential_type_names(conn), manifest.columns)
    batch_id = _batch_id(conn, result.batch, manifest.path.name, user_id, at)
    result.batch_id = batch_id
    max_before = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM credential").scalar()
    db_empty = max_before == 0
    extra = (batch_id, Status.registered.value, "zh", False, False, False, False, at, at)
    insert_sql = (f"INSERT INTO credential ({', '.join(INSERT_COLUMNS)}) "
                  f"VALUES ({', '.join([ph] * len(INSERT_COLUMNS))})")
    stop_writing = False  # all-or-nothing after the first invalid row: only check the rest

    chunk: list[tuple[int, tuple]] = []

    def flush() -> None:
        nonlocal chunk
        if chunk and not stop_writing:
            _write_chunk(conn, chunk, result, db_empty=db_empty, update=update, user_id=user_id,
                         insert_sql=insert_sql, extra=extra, at=at, ph=ph)
        chunk = []

    for rownum, cells in manifest.rows():
        result.rows += 1
        record, errors = validator.check(rownum, cells)
        if validator.warnings:
            on_warning(validator.warnings)
        if errors:
            on_error(errors)
            if not skip_invalid:
                stop_writing = True
                chunk = []
        elif not stop_writing:
            chunk.append((rownum, record))
            if len(chunk) >= CHUNK:
                flush()
        if progress and result.rows % 1000 == 0:
            progress(1000)
    flush()
    if progress:
        progress(result.rows % 1000)
    if stop_writing:
        return
    # one import event per new item, set-based
    events.write_sql(
        conn,
        "INSERT INTO event (credential_id, action, result, to_status, user_id, at) "
        f"SELECT id, 'import', 'ok', 'registered', {ph}, {ph} FROM credential "
        f"WHERE batch_id = {ph} AND id > {ph} ORDER BY id",
        (user_id, at, batch_id, max_before), actions=["import"],
    )
    conn.exec_driver_sql(
        f"UPDATE handover_batch SET expected = (SELECT COUNT(*) FROM credential WHERE batch_id = {ph}) "
        f"WHERE id = {ph}", (batch_id, batch_id))


def _batch_id(conn: Connection, name: str, source_file: str, user_id, at) -> int:
    ph = _ph(conn)
    row = conn.exec_driver_sql(f"SELECT id, state FROM handover_batch WHERE name = {ph}", (name,)).first()
    if row is not None:
        if row[1] == "closed":
            raise ServiceError(_("The handover batch “%(batch)s” is closed; import under another batch name.",
                                 batch=name), field="batch")
        return row[0]
    conn.exec_driver_sql(
        f"INSERT INTO handover_batch (name, source_file, expected, state, created_at, created_by) "
        f"VALUES ({ph}, {ph}, 0, 'open', {ph}, {ph})", (name, source_file[:500], at, user_id))
    return conn.exec_driver_sql(f"SELECT id FROM handover_batch WHERE name = {ph}", (name,)).scalar()


def _write_chunk(conn: Connection, chunk, result: ImportResult, *, db_empty, update, user_id,
                 insert_sql, extra, at, ph) -> None:
    if db_empty:
        new = [rec for _n, rec in chunk]
    else:
        nos = [rec[0] for _n, rec in chunk]
        cols = ", ".join(COMPARED_FIELDS)
        stored = {
            r[1]: r for r in conn.exec_driver_sql(
                f"SELECT id, {cols}, status FROM credential WHERE credential_no IN ({', '.join([ph] * len(nos))})",
                tuple(nos))
        }
        new, updates = [], []
        for rownum, rec in chunk:
            old = stored.get(rec[0])
            if old is None:
                new.append(rec)
                continue
            changed = [f for i, f in enumerate(COMPARED_FIELDS) if (old[i + 1] or "") != (rec[i] or "")]
            if not changed:
                result.unchanged += 1
            elif update and old[-1] in UPDATABLE:
                updates.append((old[0], old[-1], rec, changed))
            else:
                result.conflicts.append(Conflict(rownum, rec[0], old[-1], changed))
        if updates:
            _apply_updates(conn, updates, user_id=user_id, at=at, ph=ph)
            result.updated += len(updates)
    if new:
        _insert(conn, insert_sql, [rec + extra for rec in new])
        result.new += len(new)


def _insert(conn: Connection, insert_sql: str, rows: list[tuple]) -> None:
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY credential ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    conn.exec_driver_sql(insert_sql, rows)


def _apply_updates(conn: Connection, updates, *, user_id, at, ph) -> None:
    fields = [f for f in RECORD_FIELDS if f != "credential_no"]
    sets = ", ".join(f"{f} = {ph}" for f in fields)
    conn.exec_driver_sql(
        f"UPDATE credential SET {sets}, updated_at = {ph} WHERE id = {ph}",
        [tuple(rec[1:]) + (at, item_id) for item_id, _status, rec, _changed in updates],
    )
    events.write_sql(
        conn,
        "INSERT INTO event (credential_id, action, result, from_status, to_status, user_id, at, details) "
        f"VALUES ({ph}, 'update', 'ok', {ph}, {ph}, {ph}, {ph}, {ph})",
        [(item_id, status, status, user_id, at, json.dumps({"fields": changed}))
         for item_id, status, _rec, changed in updates], actions=["update"],
    )


__all__ = ["ImportResult", "Conflict", "ManifestError", "import_manifest", "credential_type_names"]
