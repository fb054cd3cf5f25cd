"""Manifest imports: checked completely first, then written in short
transactions that let the stations scan in between — all or nothing.

1. Check, with no write lock: every row is read, checked and normalised;
   the valid records are spooled to an unlinked temporary file. A file with
   an invalid row (without ``skip_invalid``) is refused here: nothing is
   written and no lock is ever taken.
2. Write: one short transaction records an ImportRun (its batch, the highest
   credential and event ids before it); then the records go in chunks, each
   its own transaction of about CHUNK_SECONDS (new rows with the driver's
   executemany or COPY, their ``import`` events set-based, updated rows with
   their previous values kept in ``import_undo``), and after each commit the
   import pauses so that waiting scans take the write lock. A last short
   transaction sets the batch's expected count and marks the run done: only
   then is the import committed.
3. Undo: an exception or Ctrl-C during the write phase removes what the run
   wrote, again in short transactions, and records an ``import_undone``
   event. A crash leaves the run ``writing``; the next import (or
   ``credtrack import recover``) undoes it once its process is gone. Items a
   station acted on while the import was being written stay (they are real:
   the station scanned them) and are named in the undo event.

On SQLite no transaction of an import holds the database for more than a
fraction of a second (see bench/import_scan_bench.py); on PostgreSQL the
short transactions also keep the event-order lock (event_order.py) short.
The one exception is the first load into an empty database (at least
BULK_ROWS rows): with no item to scan yet, it goes in one transaction and
builds the indexes after the rows (``_write_bulk``), stations wait for it.
"""
from __future__ import annotations

import csv
import json
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, TextIO

from flask_babel import gettext as _
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, func, select

from .. import liveness, vocabulary
from ..db import analyze, drop_secondary_indexes, write_session, write_tuples, writer
from ..domain.cells import csv_row
from ..domain.manifest import (
    COMPARED_FIELDS,
    RECORD_FIELDS,
    Manifest,
    ManifestError,
    RowError,
    Validator,
)
from ..domain.status import Status, SystemAction
from ..models import Credential, HandoverBatch, ImportRun
from ..models.base import utcnow
from . import events
from .errors import ServiceError

SPOOL_CHUNK = 1000  # records per pickled block of the spool
CHUNK_SECONDS = 0.15  # the length a write transaction aims at
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 500, 50, 5000
PAUSE_SECONDS = 0.005  # after each commit: waiting writers take the lock
STALE_SECONDS = 120  # a run not heard from for this long is dead, wherever it ran
UNDO_CHUNK = 1000
# a first load of at least this many rows into an empty database is written
# in one transaction with the indexes built afterwards (_write_bulk)
BULK_ROWS = 20_000
SQLITE_CACHE_KIB = 96 * 1024
# items whose data may still be changed by a corrected manifest
UPDATABLE = (Status.registered.value, Status.received.value)
INSERT_COLUMNS = RECORD_FIELDS + (
    "batch_id", "status", "language", "hold", "revoked", "intercept", "label_reprint", "created_at", "updated_at",
)
# what an update replaces (restored by an undo)
UPDATED_FIELDS = tuple(f for f in RECORD_FIELDS if f != "credential_no")

_ACTIVE: set[int] = set()  # runs this process is writing now


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
    (all or nothing) — then nothing was written. `progress` counts each row
    twice (checked, then written): `on_total` gets twice the rows. The
    rejects file is written for people reading `lang` (vocabulary.REJECTS_COLUMNS)."""
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

    from .. import metrics  # imported at first use: see metrics.py

    try:
        _import(engine, path, result, skip_invalid=skip_invalid, update=update, user_id=user_id,
                on_error=on_error, on_warning=on_warning, progress=progress, on_total=on_total,
                rejects=rejects, error_rows=error_rows)
        if rejects is not None:
            _write_all_rejects(rejects, error_rows, result.conflicts, lang)
    except BaseException:
        metrics.IMPORTS.labels(outcome="failed").inc()
        raise
    else:
        metrics.IMPORTS.labels(outcome="committed" if result.committed else "refused").inc()
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
            on_total(2 * manifest.estimated_rows)
        with engine.connect() as conn:  # reads: no write lock
            names = credential_type_names(conn)
            _refuse_closed(conn, result.batch)
            conn.rollback()
        spool = _check(manifest, result, names, skip_invalid=skip_invalid, on_error=on_error,
                       on_warning=on_warning, progress=progress)
    with spool:
        if not result.rejected or skip_invalid:
            recover(engine)
            _write(engine, spool, result, source_file=path.name, update=update, user_id=user_id,
                   progress=progress)
            result.committed = True
    if result.committed and result.new:
        analyze(engine, "credential")


def _refuse_closed(conn: Connection, name: str) -> None:
    row = conn.exec_driver_sql(f"SELECT state FROM handover_batch WHERE name = {_ph(conn)}", (name,)).first()
    if row is not None and row[0] == "closed":
        raise ServiceError(_("The handover batch “%(batch)s” is closed; import under another batch name.",
                             batch=name), field="batch")


def _check(manifest: Manifest, result: ImportResult, names: dict[str, str], *, skip_invalid: bool,
           on_error, on_warning, progress) -> IO[bytes]:
    """Read and check every row; the valid records, (row number, record),
    in pickled blocks on an unlinked temporary file (0600: personal data),
    positioned at its start. After the first invalid row without
    `skip_invalid` nothing more is kept: the rest is only checked."""
    validator = Validator(names, manifest.columns)
    spool = tempfile.TemporaryFile()
    block: list[tuple[int, tuple]] = []
    keep = True
    try:
        for rownum, cells in manifest.rows():
            result.rows += 1
            record, errors = validator.check(rownum, cells)
            if validator.warnings:
                on_warning(validator.warnings)
            if errors:
                on_error(errors)
                if not skip_invalid:
                    keep, block = False, []
            elif keep:
                block.append((rownum, record))
                if len(block) >= SPOOL_CHUNK:
                    pickle.dump(block, spool, protocol=pickle.HIGHEST_PROTOCOL)
                    block = []
            if progress and result.rows % 1000 == 0:
                progress(1000)
        if block and keep:
            pickle.dump(block, spool, protocol=pickle.HIGHEST_PROTOCOL)
        if progress:
            progress(result.rows % 1000)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _spooled(spool: IO[bytes]) -> Iterator[tuple[int, tuple]]:
    while True:
        try:
            block = pickle.load(spool)
        except EOFError:
            return
        yield from block


def _owner() -> str:
    return liveness.owner()


def _write(engine: Engine, spool: IO[bytes], result: ImportResult, *, source_file: str, update: bool,
           user_id: int | None, progress) -> None:
    """The write phase (see the module docstring); undoes itself on any
    exception, Ctrl-C included, and re-raises it."""
    run = _start_run(engine, result.batch, source_file, user_id)
    result.batch_id = run.batch_id
    _ACTIVE.add(run.id)
    try:
        with writer(engine).connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # a bigger page cache while ~12 indexes grow at random places;
                # reset below, as the connection goes back to the pool
                conn.connection.driver_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            try:
                _write_chunks(conn, run, spool, result, update=update, user_id=user_id, progress=progress)
            finally:
                if sqlite:
                    conn.connection.driver_connection.execute("PRAGMA cache_size = -2000")
    except BaseException:
        try:
            undo(engine, run.id)
        finally:
            _ACTIVE.discard(run.id)
        raise
    _ACTIVE.discard(run.id)


def _start_run(engine: Engine, name: str, source_file: str, user_id: int | None) -> ImportRun:
    """The batch (made if new) and the run, in one short transaction. One
    run at a time writes into a batch."""
    with write_session(engine) as s:
        batch = s.exec(select(HandoverBatch).where(HandoverBatch.name == name).with_for_update()).first()
        created = batch is None
        if created:
            batch = HandoverBatch(name=name, source_file=source_file[:500], expected=0, state="open",
                                  created_by=user_id)
            s.add(batch)
            s.flush()
        elif batch.state == "closed":
            raise ServiceError(_("The handover batch “%(batch)s” is closed; import under another batch name.",
                                 batch=name), field="batch")
        busy = s.exec(select(ImportRun.id).where(ImportRun.batch_id == batch.id,
                                                 ImportRun.state == "writing")).first()
        if busy is not None:
            raise ServiceError(_("Another import into the handover batch “%(batch)s” is being written (run %(run)s); "
                                 "wait until it has finished.", batch=name, run=busy), field="batch")
        conn = s.connection()
        run = ImportRun(
            batch_id=batch.id, batch_created=created, owner=_owner(), created_by=user_id,
            first_credential_id=conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM credential").scalar(),
            first_event_id=conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM event").scalar(),
        )
        s.add(run)
        s.flush()
        return run


def _write_chunks(conn: Connection, run: ImportRun, spool: IO[bytes], result: ImportResult, *, update: bool,
                  user_id: int | None, progress) -> None:
    ph = _ph(conn)
    at = _db_time(conn, utcnow())
    extra = (run.batch_id, Status.registered.value, "zh", False, False, False, False, at, at)
    db_empty = run.first_credential_id == 0
    records = _spooled(spool)
    if db_empty and result.rows - result.rejected >= BULK_ROWS:
        _write_bulk(conn, run, records, result, extra=extra, user_id=user_id, at=at, ph=ph, progress=progress)
        return
    last_id = run.first_credential_id  # the batch's highest credential id written so far
    size = FIRST_CHUNK
    while chunk := list(islice(records, size)):
        t0 = time.monotonic()
        with conn.begin():
            new = _write_chunk(conn, run, chunk, result, db_empty=db_empty, update=update, user_id=user_id,
                               extra=extra, at=at, ph=ph)
            if new:
                # one import event per new item, set-based
                events.write_sql(
                    conn, "INSERT INTO event (credential_id, action, result, to_status, user_id, at) "
                    f"SELECT id, 'import', 'ok', 'registered', {ph}, {ph} FROM credential "
                    f"WHERE batch_id = {ph} AND id > {ph} ORDER BY id", (user_id, at, run.batch_id, last_id),
                    actions=["import"])
                last_id = conn.exec_driver_sql(f"SELECT MAX(id) FROM credential WHERE batch_id = {ph}",
                                               (run.batch_id,)).scalar()
            conn.exec_driver_sql(f"UPDATE import_run SET rows = rows + {ph}, heartbeat_at = {ph} WHERE id = {ph}",
                                 (len(chunk), _db_time(conn, utcnow()), run.id))
        elapsed = time.monotonic() - t0
        size = max(MIN_CHUNK, min(MAX_CHUNK, int(size * CHUNK_SECONDS / max(elapsed, 1e-3))))
        if progress:
            progress(len(chunk))
        time.sleep(PAUSE_SECONDS)
    with conn.begin():
        conn.exec_driver_sql(
            f"UPDATE handover_batch SET expected = (SELECT COUNT(*) FROM credential WHERE batch_id = {ph}) "
            f"WHERE id = {ph}", (run.batch_id, run.batch_id))
        conn.exec_driver_sql(f"UPDATE import_run SET state = 'done', finished_at = {ph} WHERE id = {ph}",
                             (_db_time(conn, utcnow()), run.id))


def _write_bulk(conn: Connection, run: ImportRun, records, result: ImportResult, *, extra, user_id, at, ph,
                progress) -> None:
    """The first load into an empty database: one transaction in which the
    secondary indexes of `credential` and `event` (and on SQLite the search
    triggers) are dropped, the rows and their import events written, and the
    indexes (and the search table) built again from the loaded rows: sorting
    once instead of inserting at random places, about 3x faster at 500,000
    rows (docs/BENCHMARKS.md). All or nothing as any import; no station is
    kept waiting for an item, as there is none yet. The run's row is locked
    for the whole transaction, so that `undo` elsewhere waits and then finds
    it done (or, after a rollback, left `writing` with nothing written)."""
    with conn.begin():
        conn.exec_driver_sql(f"UPDATE import_run SET heartbeat_at = {ph} WHERE id = {ph}",
                             (_db_time(conn, utcnow()), run.id))
        rebuilt = drop_secondary_indexes(conn, ("credential", "event"))
        while chunk := list(islice(records, MAX_CHUNK)):
            write_tuples(conn, "credential", INSERT_COLUMNS, [rec + extra for _n, rec in chunk])
            result.new += len(chunk)
            if progress:
                progress(len(chunk) // 2)
        events.write_sql(
            conn, "INSERT INTO event (credential_id, action, result, to_status, user_id, at) "
            f"SELECT id, 'import', 'ok', 'registered', {ph}, {ph} FROM credential WHERE batch_id = {ph} ORDER BY id",
            (user_id, at, run.batch_id), actions=["import"])
        for statement in rebuilt:
            conn.exec_driver_sql(statement)
        if progress:
            progress(result.new - result.new // 2)
        conn.exec_driver_sql(
            f"UPDATE handover_batch SET expected = {ph} WHERE id = {ph}", (result.new, run.batch_id))
        conn.exec_driver_sql(
            f"UPDATE import_run SET rows = {ph}, state = 'done', finished_at = {ph}, heartbeat_at = {ph} "
            f"WHERE id = {ph}", (result.new, _db_time(conn, utcnow()), _db_time(conn, utcnow()), run.id))


def _write_all_rejects(out: TextIO, spool, conflicts: list[Conflict], lang: str | None = None) -> None:
    """The rejects file: every row error (from the spool), then the
    conflicts; in words of `lang`, with the column's code kept; no cell is
    ever run as a formula (domain/cells.py)."""
    w = csv.writer(out)
    w.writerow(vocabulary.rejects_header(lang))
    spool.seek(0)
    for row, column, value, key, params in csv.reader(spool):
        w.writerow(csv_row([row, vocabulary.field_label(column, lang), column, value,
                            vocabulary.problem_text(key, json.loads(params), lang)]))
    for c in conflicts:
        w.writerow(csv_row([c.row, vocabulary.field_label("credential_no", lang), "credential_no", c.credential_no,
                            vocabulary.conflict_text(c.fields, c.status, lang)]))


def _write_chunk(conn: Connection, run: ImportRun, chunk, result: ImportResult, *, db_empty, update, user_id,
                 extra, at, ph) -> int:
    """Compare a chunk with the stored items, insert the new ones and
    apply updates (their old values kept for an undo); returns how many
    were new."""
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
            _keep_old_values(conn, run.id, [u[0] for u in updates], ph)
            _apply_updates(conn, updates, user_id=user_id, at=at, ph=ph)
            result.updated += len(updates)
    if new:
        write_tuples(conn, "credential", INSERT_COLUMNS, [rec + extra for rec in new])
        result.new += len(new)
    return len(new)


def _keep_old_values(conn: Connection, run_id: int, ids: list[int], ph: str) -> None:
    cols = ", ".join(UPDATED_FIELDS)
    rows = conn.exec_driver_sql(f"SELECT id, {cols} FROM credential WHERE id IN ({', '.join([ph] * len(ids))})",
                                tuple(ids)).all()
    conn.exec_driver_sql(
        f"INSERT INTO import_undo (run_id, credential_id, old) VALUES ({ph}, {ph}, {ph})",
        [(run_id, r[0], json.dumps(dict(zip(UPDATED_FIELDS, r[1:])), ensure_ascii=False)) for r in rows])


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


# ---------------------------------------------------------------- undo


def undo(engine: Engine, run_id: int) -> dict | None:
    """Remove what an unfinished run wrote, in short transactions: its new
    items and their import events, its updates (the old values restored,
    their events removed), the batch if the run made it and it is empty
    again, and the run; record an `import_undone` event. Items a station
    acted on meanwhile are kept and named. Safe to run again after an
    interruption. Returns the undo event's details (None: nothing to undo)."""
    with write_session(engine) as s:
        # FOR UPDATE: a bulk load (_write_bulk) holds the row until it commits
        run = s.get(ImportRun, run_id, with_for_update=True)
        if run is None or run.state != "writing":
            return None
        run.owner, run.heartbeat_at = _owner(), utcnow()  # claimed: recover() elsewhere leaves it alone
        batch_id, first_id, first_event = run.batch_id, run.first_credential_id, run.first_event_id
        created = run.batch_created
        name = s.get(HandoverBatch, batch_id).name
    removed, kept, restored = 0, [], 0
    after = first_id
    while True:
        with writer(engine).begin() as conn:
            ph = _ph(conn)
            ids = [r[0] for r in conn.exec_driver_sql(
                f"SELECT id FROM credential WHERE batch_id = {ph} AND id > {ph} ORDER BY id LIMIT {UNDO_CHUNK}",
                (batch_id, after))]
            if not ids:
                break
            after = ids[-1]
            marks = ", ".join([ph] * len(ids))
            touched = {r[0]: r[1] for r in conn.exec_driver_sql(
                f"SELECT e.credential_id, c.credential_no FROM event e JOIN credential c ON c.id = e.credential_id "
                f"WHERE e.credential_id IN ({marks}) AND e.action <> 'import'", tuple(ids))}
            gone = [i for i in ids if i not in touched]
            kept += sorted(set(touched.values()))
            if gone:
                marks = ", ".join([ph] * len(gone))
                conn.exec_driver_sql(f"DELETE FROM event WHERE action = 'import' AND credential_id IN ({marks})",
                                     tuple(gone))
                conn.exec_driver_sql(f"DELETE FROM credential WHERE id IN ({marks})", tuple(gone))
                removed += len(gone)
        time.sleep(PAUSE_SECONDS)
    while True:
        with writer(engine).begin() as conn:
            ph = _ph(conn)
            rows = conn.exec_driver_sql(
                f"SELECT id, credential_id, old FROM import_undo WHERE run_id = {ph} ORDER BY id LIMIT {UNDO_CHUNK}",
                (run_id,)).all()
            if not rows:
                break
            sets = ", ".join(f"{f} = {ph}" for f in UPDATED_FIELDS)
            conn.exec_driver_sql(f"UPDATE credential SET {sets} WHERE id = {ph}",
                                 [tuple(json.loads(old)[f] for f in UPDATED_FIELDS) + (cid,) for _i, cid, old in rows])
            marks = ", ".join([ph] * len(rows))
            conn.exec_driver_sql(
                f"DELETE FROM event WHERE action = 'update' AND id > {ph} AND credential_id IN ({marks})",
                (first_event, *[cid for _i, cid, _o in rows]))
            conn.exec_driver_sql(f"DELETE FROM import_undo WHERE id IN ({marks})", tuple(i for i, _c, _o in rows))
            restored += len(rows)
    details = {"batch": name, "batch_id": batch_id, "removed": removed, "restored": restored,
               "kept": kept[:200], "kept_count": len(kept)}
    with write_session(engine) as s:
        run = s.get(ImportRun, run_id)
        by = run.created_by
        s.delete(run)
        s.flush()
        left = s.exec(select(func.count()).select_from(Credential).where(Credential.batch_id == batch_id)).one()
        if created and not left:
            s.delete(s.get(HandoverBatch, batch_id))
            details["batch_removed"] = True
        events.record(s, action=SystemAction.import_undone.value, user_id=by, details=details)
    return details


def _alive(run: ImportRun, now: datetime) -> bool:
    """Whether the process writing `run` may still be at it."""
    beat = run.heartbeat_at if run.heartbeat_at.tzinfo else run.heartbeat_at.replace(tzinfo=now.tzinfo)
    if beat < now - timedelta(seconds=STALE_SECONDS):
        return False
    if run.owner == liveness.owner():
        return run.id in _ACTIVE
    return liveness.owner_may_be_alive(run.owner)


def recover(engine: Engine) -> list[dict]:
    """Undo every run left `writing` by a process that is gone (a crash, a
    kill): called before each import and by `credtrack import recover`.
    Returns the undo events' details."""
    now = utcnow()
    with Session(engine) as s:
        runs = s.exec(select(ImportRun).where(ImportRun.state == "writing")).all()
    out = []
    for run in runs:
        if not _alive(run, now):
            details = undo(engine, run.id)
            if details is not None:
                out.append(details)
    return out


__all__ = ["ImportResult", "Conflict", "ManifestError", "import_manifest", "credential_type_names", "recover",
           "undo"]
