"""Backups taken while stations scan, and restores from them."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from credential_track import create_app
from credential_track.db import make_engine, write_session
from credential_track.domain.regions import route_for
from credential_track.models import Credential
from credential_track.services import backup as backups
from credential_track.services.errors import ServiceError

from .factories import do_scan

N_ITEMS = 3000


def _fill(engine, n: int) -> list[str]:
    numbers = [f"BK{i:07d}" for i in range(n)]
    rows = [dict(credential_no=no, credential_type="exhibitor", holder_name="张伟", organization="",
                 recipient_name="张伟", recipient_phone="13812345678", phone_last4="5678", province="上海市",
                 city="上海市", district="浦东新区", address="世纪大道100号8楼", postcode="200120",
                 route=route_for("上海市", "浦东新区"), status="registered") for no in numbers]
    with write_session(engine) as s:
        s.execute(insert(Credential), rows)
    return numbers


class Scanner(threading.Thread):
    """A station scanning item after item; remembers when each scan was acknowledged."""

    def __init__(self, engine, numbers):
        super().__init__(daemon=True)
        self.engine, self.numbers = engine, numbers
        self.acked: list[tuple[float, int, str]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            for no in self.numbers:
                if self.stop.is_set():
                    return
                out = do_scan(self.engine, no, "handover", "WS-01")
                assert out.result == "ok", out
                self.acked.append((time.monotonic(), out.event_id, no))
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def _wait_for(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.fixture
def sqlite_engine(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite backup API; PostgreSQL is covered by the pg_dump test")
    return engine


def test_a_backup_taken_while_a_station_scans_holds_every_acknowledged_scan(sqlite_engine, tmp_path, db_url):
    numbers = _fill(sqlite_engine, N_ITEMS)
    scanner = Scanner(sqlite_engine, numbers)
    scanner.start()
    _wait_for(lambda: len(scanner.acked) >= 50)
    started = time.monotonic()
    result = backups.backup(sqlite_engine, tmp_path / "copy.db")
    finished = time.monotonic()
    acked_before = [a for a in scanner.acked if a[0] < started]
    _wait_for(lambda: any(a[0] > finished for a in scanner.acked))  # scanning carried on
    scanner.stop.set()
    scanner.join(30)
    assert scanner.error is None

    assert backups.integrity_check(tmp_path / "copy.db") == "ok"
    con = sqlite3.connect(tmp_path / "copy.db")
    try:
        ids = {r[0] for r in con.execute("SELECT id FROM event WHERE action = 'handover' AND result = 'ok'")}
        received = {r[0] for r in con.execute("SELECT credential_no FROM credential WHERE status = 'received'")}
    finally:
        con.close()
    assert len(acked_before) >= 50
    assert {a[1] for a in acked_before} <= ids
    assert {a[2] for a in acked_before} <= received
    assert len(ids) == len(received)  # a consistent snapshot: every event with its status change
    assert result.tables["credential"] >= N_ITEMS

    # restore into another installation and find the same data there
    target = tmp_path / "restored.db"
    shutil.copy(make_url(db_url).database, target)
    other = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{target}", "SECRET_KEY": "t"})
    try:
        out = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "copy.db"), "--yes"])
        assert out.exit_code == 0, out.output
        assert "restored" in out.output
    finally:
        other.extensions["credtrack_engine"].dispose()
    assert backups.integrity_check(target) == "ok"
    restored = make_engine(f"sqlite:///{target}")
    try:
        with restored.connect() as conn:
            got = set(conn.execute(text("SELECT id FROM event WHERE action = 'handover' AND result = 'ok'")).scalars())
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
            restores = conn.execute(text("SELECT count(*) FROM event WHERE action = 'db_restore'")).scalar()
    finally:
        restored.dispose()
    assert got == ids and mode == "wal" and restores == 1


def test_the_backup_command_prints_a_summary_and_refuses_to_overwrite(sqlite_engine, runner, tmp_path):
    out = runner.invoke(args=["backup", str(tmp_path / "b.db")])
    assert out.exit_code == 0 and "integrity ok" in out.output
    again = runner.invoke(args=["backup", str(tmp_path / "b.db")])
    assert again.exit_code != 0 and "exists already" in again.output
    assert runner.invoke(args=["backup", str(tmp_path / "b.db"), "--force"]).exit_code == 0
    assert runner.invoke(args=["backup", str(tmp_path / "no-such-dir" / "b.db")]).exit_code != 0


def test_restore_refuses_a_file_that_is_not_a_backup_and_needs_confirmation(sqlite_engine, runner, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all")
    assert runner.invoke(args=["restore", str(junk)]).exit_code != 0  # no --yes
    out = runner.invoke(args=["restore", str(junk), "--yes"])
    assert out.exit_code != 0 and "not an SQLite database" in out.output
    with pytest.raises(ServiceError):
        backups.restore(sqlite_engine, tmp_path / "missing.db")


def test_postgresql_backup_and_restore_with_pg_dump(engine, tmp_path):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    numbers = _fill(engine, 50)
    for no in numbers[:10]:
        do_scan(engine, no, "handover", "WS-01")
    dump = tmp_path / "pg.dump"
    result = backups.backup(engine, dump)
    assert result.method.startswith("pg_dump") and dump.stat().st_size > 0
    name = f"credtrack_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = make_engine(engine.url.set(database=name).render_as_string(hide_password=False))
    try:
        backups.restore(target, dump)
        with target.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM credential WHERE status = 'received'")).scalar() == 10
            assert conn.execute(text("SELECT count(*) FROM event WHERE action = 'handover'")).scalar() == 10
    finally:
        target.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
