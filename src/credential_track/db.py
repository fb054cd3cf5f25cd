"""Engines and sessions.

SQLite is the embedded default: WAL, foreign keys on, a busy timeout, and
write transactions that start with ``BEGIN IMMEDIATE`` so that two writers
never deadlock on a lock upgrade. PostgreSQL (psycopg 3) when DATABASE_URL
says so.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import current_app, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from . import event_order

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    engine = create_engine(url, **kw)
    event_order.install(engine)
    return engine


def is_sqlite(engine_or_session) -> bool:
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "sqlite"


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


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


def get_engine() -> Engine:
    return current_app.extensions["credtrack_engine"]


def get_db() -> Session:
    """The request's session. State-changing requests get a write session."""
    if "db" not in g:
        engine = get_engine()
        try:
            writes = request.method not in SAFE_METHODS
        except RuntimeError:  # outside a request (CLI): writes allowed
            writes = True
        g.db = Session(writer(engine) if writes else engine, expire_on_commit=False)
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


def init_app(app) -> None:
    app.extensions["credtrack_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db)
