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


def _received(engine, n: int, prefix: str) -> list[str]:
    from .factories import make_credential

    with write_session(engine) as s:
        return [make_credential(s, credential_no=f"{prefix}{i:04d}", status="received").credential_no
                for i in range(n)]


def _capture(engine, numbers) -> list[str]:
    """Capture at WS-03 with a number allocated from its range: the label's waybill."""
    out = []
    for no in numbers:
        r = do_scan(engine, no, "capture", "WS-03")
        assert r.result == "ok", r
        out.append(r.item["waybill_no"])
    return out


def test_backup_scan_restore_capture_never_reissues_a_waybill(engine, tmp_path, runner):
    if engine.dialect.name == "postgresql" and (shutil.which("pg_dump") is None or shutil.which("pg_restore") is None):
        pytest.skip("pg_dump/pg_restore not installed")
    numbers = _received(engine, 21, "WB")
    _capture(engine, numbers[:3])
    copy = tmp_path / ("backup.dump" if engine.dialect.name == "postgresql" else "backup.db")
    backups.backup(engine, copy)
    printed = _capture(engine, numbers[3:12])  # labels printed after the backup, on the items' way now
    out = runner.invoke(args=["restore", str(copy), "--yes"])
    assert out.exit_code == 0, out.output
    assert "WS-03" in out.output and "20000012" in out.output  # the move is reported, from the replaced position
    # the items captured after the backup are "received" again: re-captured, and 9 more
    again = _capture(engine, numbers[3:21])
    assert set(again).isdisjoint(printed)
    assert len(set(again)) == len(again)
    with engine.connect() as conn:
        details = conn.execute(text("SELECT details FROM event WHERE action = 'db_restore'")).scalar()
    assert '"waybill_gap": 20000' in details and '"live_next": 20000012' in details


def test_a_restore_onto_a_new_installation_skips_a_safety_gap(sqlite_engine, tmp_path, db_url):
    numbers = _received(sqlite_engine, 5, "NW")
    _capture(sqlite_engine, numbers[:2])
    backups.backup(sqlite_engine, tmp_path / "copy.db")
    printed = _capture(sqlite_engine, numbers[2:5])  # the old machine is lost after these
    target = tmp_path / "new-machine.db"
    shutil.copy(make_url(db_url).database, target)  # a fresh install would be seeded the same way
    fresh = make_engine(f"sqlite:///{target}")
    with write_session(fresh) as s:
        s.execute(text("UPDATE waybill_range SET next = first"))  # nothing allocated on the new machine
        s.execute(text("DELETE FROM event"))
        s.execute(text("DELETE FROM credential"))
    try:
        result = backups.restore(fresh, tmp_path / "copy.db", waybill_gap=500)
        ws03 = next(m for m in result.waybill_moves if m.station == "WS-03")
        assert (ws03.backup_next, ws03.live_next, ws03.next) == (20000002, 20000000, 20000502)
        again = _capture(fresh, numbers[2:5])
        assert set(again).isdisjoint(printed) and min(int(w[2:10]) for w in again) >= 20000502
    finally:
        fresh.dispose()
