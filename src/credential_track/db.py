"""Engines and sessions, without Flask (the request's session and the unit
of work per request are in unit_of_work.py).

SQLite is the embedded default: WAL, foreign keys on, a busy timeout, and
write transactions that start with ``BEGIN IMMEDIATE`` so that two writers
never deadlock on a lock upgrade. PostgreSQL (psycopg 3) when DATABASE_URL
says so.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from . import event_order

WAIT_SECONDS = 30  # as long as SQLite's busy timeout


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kw) -> Engine:
    """An engine for `url` set up for this application's needs."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        _private_database_files(make_url(url).database)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kw
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # let SQLAlchemy, not the driver, decide when transactions begin
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        gate = WriteGate(make_url(url).database)

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode == "NONE":
                return  # reads one statement at a time, each its own snapshot
            if mode == "IMMEDIATE":
                gate.enter(conn)
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
            except BaseException:
                gate.leave(conn)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _on_end(conn):
            gate.leave(conn)

        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    engine = create_engine(url, **kw)
    event_order.install(engine)
    return engine


def _private_database_files(database: str | None) -> None:
    """The database file holds every recipient's data: create it mode 0600
    before SQLite does (SQLite gives its WAL, SHM and journal files the
    database file's mode), and narrow an existing file and its WAL/SHM."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if not os.path.isdir(os.path.dirname(os.path.abspath(database))):
        return  # SQLite will say that it cannot open the file
    from .files import make_private, touch_private

    try:
        touch_private(database)
        for suffix in ("-wal", "-shm", "-journal"):
            make_private(database + suffix)
    except PermissionError:
        pass  # a file of another owner: not ours to change


class WriteGate:
    """Queue SQLite writers instead of letting them poll.

    SQLite admits one writer; the others wait in its busy handler, which
    sleeps 1…100 ms between attempts, so under load the lock often sits free
    while every waiter sleeps, and unlucky writers wait for seconds. Writers
    of this process queue on a thread lock (handed on at once), and the
    processes of one server on an advisory file lock next to the database
    (polled every 0.2…5 ms). Both waits are bounded by the busy timeout;
    past it, or for writers that do not pass through here (another tool on
    the same file), SQLite's busy handler decides as before."""

    def __init__(self, database: str | None):
        self._thread_lock = threading.Lock()
        self._path = f"{database}-writelock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def enter(self, conn) -> None:
        if not self._thread_lock.acquire(timeout=WAIT_SECONDS):
            return  # fall back on SQLite's busy timeout
        try:
            fd = self._file()
            if fd is not None and not self._flock(fd):
                self._thread_lock.release()
                return  # a long writer elsewhere (an import): SQLite's busy timeout decides
        except BaseException:
            self._thread_lock.release()
            raise
        conn.info["write_gate"] = True

    @staticmethod
    def _flock(fd: int) -> bool:
        """The file lock, waiting at most WAIT_SECONDS (polling at 0.2…5 ms:
        far finer than SQLite's busy handler, and bounded like it)."""
        deadline = time.monotonic() + WAIT_SECONDS
        delay = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.005)

    def leave(self, conn) -> None:
        if not conn.info.pop("write_gate", False):
            return
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def is_sqlite(engine_or_session) -> bool:
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "sqlite"


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock up front.
    Its `credtrack_reader` is an engine for reads that stay outside any
    write transaction (the scan service's optimistic path); on SQLite it
    opens no transaction at all, each statement reading its own snapshot."""
    if engine.dialect.name != "sqlite":
        engine.credtrack_reader = engine
        return engine
    cached = engine.__dict__.get("credtrack_writer")
    if cached is None:
        cached = engine.execution_options(sqlite_begin="IMMEDIATE")
        cached.credtrack_reader = engine.execution_options(sqlite_begin="NONE")
        engine.credtrack_writer = cached
    return cached


def analyze(engine: Engine, *tables: str) -> None:
    """Give the query planner fresh statistics of `tables` after a bulk load.

    SQLite keeps none until told: without them it counts held or revoked
    items by scanning a covering index of the whole table instead of using
    the small partial indexes (milliseconds against a tenth of a second at
    500,000 items). About a second per 500,000 rows."""
    with writer(engine).begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def drop_secondary_indexes(conn, tables: tuple[str, ...]) -> list[str]:
    """For a bulk load into empty tables, inside its transaction: drop the
    indexes of `tables` that no constraint needs (and on SQLite their
    triggers, the search table's among them); return the statements that
    build them again, run after the rows (the search table rebuilt from its
    content). Sorting once is several times faster than inserting into
    every index at random places (docs/BENCHMARKS.md); the transaction
    makes it all or nothing. The one home of the rule for the demo build
    and the first import."""
    names = ", ".join(f"'{t}'" for t in tables)
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ({names}) "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name").all()
        found = [f for f in found if not f[2].upper().startswith("CREATE UNIQUE")]
        for kind, name, _sql in found:
            conn.exec_driver_sql(f"DROP {kind.upper()} {name}")
        again = [sql for _kind, _name, sql in found]
        if any(kind == "trigger" and name.startswith("credential_fts") for kind, name, _sql in found):
            again.append("INSERT INTO credential_fts(credential_fts) VALUES ('rebuild')")
        return again
    found = conn.exec_driver_sql(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        f"AND i.tablename IN ({names})").all()
    found = [f for f in found if not f[1].upper().startswith("CREATE UNIQUE")]
    for name, _sql in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


def insert_rows(conn, table, rows, *, event_writer: bool = False) -> None:
    """Insert many rows (dicts with the same columns) into `table` at the
    driver level (write_tuples: COPY on PostgreSQL, executemany on SQLite):
    bulk loads (the demo) without SQLAlchemy's per-row parameter processing.
    Times are written as the models' UTC type writes them. Events go through
    services/events.py only (`event_writer`)."""
    from .models.base import UTCDateTime

    if not rows:
        return
    columns = list(rows[0])
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"not columns of {table.name}: {unknown}")
    # the columns' Python-side defaults, as SQLAlchemy's insert would apply them
    # (a callable one, such as the time of creation, once for the whole batch)
    defaults = {c.name: (c.default.arg if c.default.is_scalar else c.default.arg(None))
                for c in table.columns if c.default is not None and c.name not in columns}
    names = columns + list(defaults)
    dialect = conn.dialect
    bind = UTCDateTime().process_bind_param  # the models' own UTC rule (naive UTC on SQLite)
    if dialect.name == "sqlite":
        def convert(value):  # then as SQLAlchemy's DateTime writes it there
            value = bind(value, dialect)
            return None if value is None else value.isoformat(" ", "microseconds")
    else:
        def convert(value):
            return bind(value, dialect)
    times = [i for i, c in enumerate(names) if isinstance(table.c[c].type, UTCDateTime)]
    tail = list(defaults.values())
    params = []
    for r in rows:
        values = [r[c] for c in columns] + tail
        for k in times:
            values[k] = convert(values[k])
        params.append(tuple(values))
    write_tuples(conn, table.name, names, params, event_writer=event_writer)


def write_tuples(conn, table: str, columns, rows: list[tuple], *, event_writer: bool = False) -> None:
    """Insert `rows` (tuples in the order of `columns`, values as the driver
    takes them) into `table`: COPY on PostgreSQL, one executemany on SQLite.
    The one bulk writer of the demo build, the event writer's batches and
    the manifest import. Events go through services/events.py only
    (`event_writer`)."""
    if table == "event" and not event_writer:
        raise ValueError("events are written through services/events.py")
    if not rows:
        return
    quoted = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join([mark] * len(columns))})', rows)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for one write transaction: commits on success, rolls back on
    any exception."""
    with Session(writer(engine), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
