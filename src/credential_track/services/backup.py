"""Online backups and restores.

SQLite: the SQLite online backup API copies the live database while stations
keep scanning. In WAL mode a reader never blocks writers, and the copy is
made in one step from one read snapshot, so it is consistent: it holds
exactly the transactions committed before the snapshot began.
PostgreSQL: pg_dump / pg_restore (custom format), which also take a
consistent snapshot without stopping the application.

A restore never lets a station reissue a waybill number. Numbers allocated
after the backup was taken are printed on labels already, but the restored
ranges point before them: every range is moved on to the highest position
known — its position in the database being replaced, when that can still be
read, and in the backup — plus a safety gap (WAYBILL_GAP numbers, for
allocations the replaced database no longer shows, e.g. a restore onto a
new machine). The moves are printed and recorded on the `db_restore` event.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from ..files import make_private, touch_private
from .errors import ServiceError


@dataclass
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    tables: dict[str, int]
    method: str
    check_seconds: float = 0.0  # of `seconds`, the integrity check of the copy
    waybill_moves: list[RangeMove] = field(default_factory=list)


# numbers skipped in every range at a restore, beyond the highest position
# known: about a day of one capture station's allocations
WAYBILL_GAP = 20_000


@dataclass
class RangeMove:
    """One allocation range moved on at a restore."""

    station: str | None
    prefix: str
    country: str
    first: int
    last: int
    backup_next: int  # where the backup left it
    live_next: int | None  # where the replaced database had it (None: unreadable or absent)
    next: int  # where it allocates from now

    @property
    def exhausted(self) -> bool:
        return self.next > self.last

    def as_dict(self) -> dict:
        return {"station": self.station, "prefix": self.prefix, "country": self.country, "first": self.first,
                "last": self.last, "backup_next": self.backup_next, "live_next": self.live_next,
                "next": self.next}


def sqlite_path(engine: Engine) -> Path:
    db = make_url(str(engine.url)).database
    if not db or db == ":memory:":
        raise ServiceError("an in-memory database cannot be backed up", field="database")
    return Path(db)


def integrity_check(path: Path) -> str:
    """`ok` or the problems PRAGMA integrity_check reports."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    return "; ".join(r[0] for r in rows)


def _counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def backup(engine: Engine, out: Path, *, overwrite: bool = False) -> BackupResult:
    """A consistent copy of the live database at `out` (SQLite file, or a
    pg_dump custom-format archive for PostgreSQL). Written to a temporary
    name and renamed when complete and checked."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise ServiceError(f"{out} exists already; choose another name or pass --force", field="out")
    if not out.parent.exists():
        raise ServiceError(f"folder {out.parent} does not exist", field="out")
    if engine.dialect.name == "postgresql":
        return _pg_dump(engine, out)
    src_path = sqlite_path(engine)
    if out.resolve() == src_path.resolve():
        raise ServiceError("the backup cannot overwrite the live database", field="out")
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    touch_private(tmp)  # a backup holds every recipient's data: mode 0600 (kept by the rename)
    started = time.monotonic()
    src = sqlite3.connect(str(src_path), timeout=30)
    dst = sqlite3.connect(str(tmp))
    try:
        src.execute("PRAGMA busy_timeout=30000")
        # pages=-1: the whole database in one step, from one read snapshot; a
        # step-wise copy would restart every time a station commits a scan
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        tables = _counts(dst)
    finally:
        dst.close()
        src.close()
    checked = time.monotonic()
    problems = integrity_check(tmp)
    if problems != "ok":
        tmp.unlink(missing_ok=True)
        raise ServiceError(f"the copy failed its integrity check: {problems}", field="out")
    os.replace(tmp, out)
    done = time.monotonic()
    return BackupResult(out, out.stat().st_size, done - started, tables, "sqlite backup API", done - checked)


def restore(engine: Engine, source: Path, *, waybill_gap: int = WAYBILL_GAP) -> BackupResult:
    """Replace the database's content with a backup taken by `backup`, then
    move every waybill allocation range past any number that may have been
    issued since (see the module docstring); `waybill_moves` says how.

    SQLite: the backup is integrity-checked, then copied page by page into
    the live file with the backup API (readers and writers wait on the lock;
    stop the app processes first so no one works on data about to vanish).
    PostgreSQL: pg_restore --clean into the configured database."""
    source = Path(source)
    if not source.is_file():
        raise ServiceError(f"{source} is not a file", field="backup")
    if waybill_gap < 0:
        raise ServiceError("the waybill gap cannot be negative", field="waybill_gap")
    if engine.dialect.name == "postgresql":
        live = _read_ranges(engine)
        result = _pg_restore(engine, source)
        result.waybill_moves = _move_ranges(engine, live, waybill_gap)
        _record_restore(engine, source, result.waybill_moves, waybill_gap)
        return result
    with open(source, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise ServiceError(f"{source} is not an SQLite database", field="backup")
    problems = integrity_check(source)
    if problems != "ok":
        raise ServiceError(f"{source} failed its integrity check: {problems}", field="backup")
    started = time.monotonic()
    live = _read_ranges(engine)
    engine.dispose()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(sqlite_path(engine)), timeout=30)
    try:
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")
        tables = _counts(dst)
    finally:
        src.close()
        dst.close()
    moves = _move_ranges(engine, live, waybill_gap)
    _record_restore(engine, source, moves, waybill_gap)
    path = sqlite_path(engine)
    return BackupResult(path, path.stat().st_size, time.monotonic() - started, tables, "sqlite backup API",
                        waybill_moves=moves)


_RANGES = text("SELECT r.prefix, r.country, r.first, r.last, r.next, s.code FROM waybill_range r "
               "LEFT JOIN station s ON s.id = r.station_id")


def _read_ranges(engine: Engine) -> dict[tuple, int] | None:
    """(prefix, country, first, last) → next, of the database about to be
    replaced; None when it cannot be read (no schema yet, damaged)."""
    try:
        with engine.connect() as conn:
            return {(p, c, f, la): n for p, c, f, la, n, _st in conn.execute(_RANGES)}
    except Exception:  # noqa: BLE001 — a database being replaced may well be broken: the gap still applies
        return None
    finally:
        engine.dispose()


def _move_ranges(engine: Engine, live: dict[tuple, int] | None, gap: int) -> list[RangeMove]:
    """Move each restored range past the highest position known plus `gap`,
    in one transaction."""
    from ..db import writer

    moves = []
    with writer(engine).begin() as conn:
        for prefix, country, first, last, backup_next, station in conn.execute(_RANGES).all():
            live_next = (live or {}).get((prefix, country, first, last))
            new_next = min(max(backup_next, live_next or 0) + gap, last + 1)
            conn.execute(text("UPDATE waybill_range SET next = :n WHERE prefix = :p AND country = :c "
                              "AND first = :f AND last = :l"),
                         {"n": new_next, "p": prefix, "c": country, "f": first, "l": last})
            moves.append(RangeMove(station, prefix, country, first, last, backup_next, live_next, new_next))
    return moves


def _record_restore(engine: Engine, source: Path, moves: list[RangeMove], gap: int) -> None:
    """The restored database remembers that it was restored, from what, and
    how its waybill ranges were moved on."""
    from ..db import write_session
    from . import events

    with write_session(engine) as s:
        events.record(s, action="db_restore", details={
            "source": str(source), "waybill_gap": gap, "waybill_ranges": [m.as_dict() for m in moves]})


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ServiceError(
            f"{tool} is not installed; install the PostgreSQL client tools (Debian: apt-get install "
            f"postgresql-client) or run {tool} on the database host, see docs/OPERATIONS.md", field="database")
    return path


def _pg_dump(engine: Engine, out: Path) -> BackupResult:
    tool = _need("pg_dump")
    tmp = out.with_name(out.name + ".part")
    touch_private(tmp)  # pg_dump writes into the existing file, keeping its mode 0600
    started = time.monotonic()
    proc = subprocess.run([tool, "--format=custom", "--no-owner", f"--file={tmp}", _libpq_url(engine)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ServiceError(f"pg_dump failed: {proc.stderr.strip()}", field="database")
    make_private(tmp)
    os.replace(tmp, out)
    return BackupResult(out, out.stat().st_size, time.monotonic() - started, {}, "pg_dump --format=custom")


def _pg_restore(engine: Engine, source: Path) -> BackupResult:
    tool = _need("pg_restore")
    started = time.monotonic()
    engine.dispose()
    proc = subprocess.run([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           f"--dbname={_libpq_url(engine)}", str(source)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ServiceError(f"pg_restore failed: {proc.stderr.strip()}", field="backup")
    return BackupResult(source, source.stat().st_size, time.monotonic() - started, {}, "pg_restore")
