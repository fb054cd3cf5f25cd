"""An import never stops the stations: a file is checked before anything is
written, the rows go in short transactions, and an interrupted import —
Ctrl-C, an error, a killed process — leaves the database as it was."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import Credential, Event, HandoverBatch, ImportRun
from credential_track.services import imports
from credential_track.services.imports import import_manifest, recover

from .factories import do_scan, make_credential, reload
from .test_import_manifest import EN, count, row, write_csv

ROOT = Path(__file__).resolve().parents[1]


def _state(engine) -> dict:
    """What a user could see of the data: items, batches, events other than
    the record of an undo."""
    with Session(engine) as s:
        return {
            "items": sorted((c.credential_no, c.address, c.status) for c in s.exec(select(Credential))),
            "batches": sorted((b.name, b.expected) for b in s.exec(select(HandoverBatch))),
            "events": sorted((e.id, e.action, e.credential_id) for e in s.exec(
                select(Event).where(Event.action != "import_undone"))),
        }


def _interrupt_after_written(total_rows: int, written: int, then=None):
    """A progress callback that raises KeyboardInterrupt once `written` rows
    are in the database (progress counts each row checked, then written)."""
    seen = [0]

    def progress(n):
        seen[0] += n
        if seen[0] >= total_rows + written:
            if then:
                then()
            raise KeyboardInterrupt

    return progress


@pytest.fixture
def earlier(engine, tmp_path):
    """A database with data: an earlier batch, and an item scanned already."""
    path = write_csv(tmp_path / "earlier.csv", EN, [row(f"E{i}") for i in range(30)])
    assert import_manifest(engine, path, batch="earlier").committed
    do_scan(engine, "E1", "handover", "WS-01")
    return _state(engine)


def test_ctrl_c_while_rows_are_being_written_leaves_the_database_as_it_was(engine, tmp_path, earlier):
    path = write_csv(tmp_path / "big.csv", EN, [row(f"K{i}") for i in range(6000)])
    with pytest.raises(KeyboardInterrupt):
        import_manifest(engine, path, batch="big", progress=_interrupt_after_written(6000, 2500))
    assert _state(engine) == earlier
    with Session(engine) as s:
        undone = s.exec(select(Event).where(Event.action == "import_undone")).one()
        assert s.exec(select(ImportRun)).all() == [s.exec(select(ImportRun)).first()]  # only the earlier run
    details = json.loads(undone.details)
    assert details["batch"] == "big" and details["removed"] >= 2500 and details["batch_removed"]
    assert import_manifest(engine, path, batch="big").new == 6000  # and it imports cleanly afterwards


def test_an_interrupted_update_gets_the_old_data_back(engine, tmp_path, earlier):
    changed = [row(f"E{i}", addr="新地址路1号") for i in range(30)] + [row(f"N{i}") for i in range(3000)]
    path = write_csv(tmp_path / "fix.csv", EN, changed)
    with pytest.raises(KeyboardInterrupt):
        import_manifest(engine, path, batch="earlier", update=True,
                        progress=_interrupt_after_written(3030, 1000))
    assert _state(engine) == earlier
    assert reload(engine, "E2").address == "世纪大道100号8楼"
    result = import_manifest(engine, path, batch="earlier", update=True)
    assert (result.new, result.updated) == (3000, 30)


def test_an_item_a_station_scanned_during_the_import_is_kept_by_the_undo(engine, tmp_path, earlier):
    path = write_csv(tmp_path / "busy.csv", EN, [row(f"B{i}") for i in range(3000)])

    def scan_one():
        assert do_scan(engine, "B5", "handover", "WS-01").result == "ok"

    with pytest.raises(KeyboardInterrupt):
        import_manifest(engine, path, batch="busy", progress=_interrupt_after_written(3000, 1000, scan_one))
    assert count(engine, Credential, Credential.batch_id.is_not(None), Credential.credential_no.like("B%")) == 1
    assert reload(engine, "B5").status == "received"
    with Session(engine) as s:
        details = json.loads(s.exec(select(Event.details).where(Event.action == "import_undone")).one())
    assert details["kept"] == ["B5"] and "batch_removed" not in details


CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[3])
from credential_track.db import make_engine
from credential_track.services.imports import import_manifest
seen = [0]
def progress(n):
    seen[0] += n
    if seen[0] >= int(sys.argv[4]):
        os.kill(os.getpid(), signal.SIGKILL)
import_manifest(make_engine(sys.argv[1]), sys.argv[2], batch="killed", progress=progress)
"""


def test_a_killed_import_is_undone_by_the_next_one(engine, db_url, tmp_path, earlier, runner):
    path = write_csv(tmp_path / "killed.csv", EN, [row(f"X{i}") for i in range(4000)])
    proc = subprocess.run([sys.executable, "-c", CHILD, db_url, str(path), str(ROOT / "src"), str(4000 + 2000)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert count(engine, Credential, Credential.credential_no.like("X%")) >= 2000  # half-written, visible
    with Session(engine) as s:
        assert s.exec(select(ImportRun.state).where(ImportRun.id == 2)).one() == "writing"
    undone = recover(engine)  # what the next import does first
    assert [d["batch"] for d in undone] == ["killed"]
    assert _state(engine) == earlier
    assert recover(engine) == []


def test_credtrack_import_recover_undoes_a_killed_import(engine, db_url, tmp_path, earlier, runner):
    path = write_csv(tmp_path / "killed.csv", EN, [row(f"Y{i}") for i in range(3000)])
    subprocess.run([sys.executable, "-c", CHILD, db_url, str(path), str(ROOT / "src"), str(3000 + 1000)],
                   capture_output=True, text=True, timeout=120)
    out = runner.invoke(args=["import", "recover"], env={"LC_ALL": "en_US.UTF-8", "LANG": "en_US.UTF-8"})
    assert out.exit_code == 0 and "interrupted import into batch killed undone" in out.output, out.output
    assert _state(engine) == earlier
    again = runner.invoke(args=["import", "recover"], env={"LC_ALL": "en_US.UTF-8", "LANG": "en_US.UTF-8"})
    assert "no interrupted import to undo" in again.output


def test_a_running_import_in_another_process_is_not_undone(engine, tmp_path, earlier):
    with write_session(engine) as s:
        batch = s.exec(select(HandoverBatch).where(HandoverBatch.name == "earlier")).one()
        s.add(ImportRun(batch_id=batch.id, owner=f"elsewhere:{os.getpid()}", first_credential_id=10 ** 6))
    assert recover(engine) == []
    path = write_csv(tmp_path / "same.csv", EN, [row("S1")])
    with pytest.raises(imports.ServiceError, match="Another import into the handover batch “earlier”"):
        import_manifest(engine, path, batch="earlier")


def test_a_file_that_will_be_refused_is_checked_without_taking_the_write_lock(engine, tmp_path, monkeypatch):
    rows = [row(f"A{i}") for i in range(3000)] + [row("A9999", post="12")]
    path = write_csv(tmp_path / "bad.csv", EN, rows)

    def no_writes(*_a, **_k):
        raise AssertionError("a refused file must not open a write transaction")

    monkeypatch.setattr(imports, "writer", no_writes)
    monkeypatch.setattr(imports, "write_session", no_writes)
    result = import_manifest(engine, path)
    assert not result.committed and result.rejected == 1 and result.rows == 3001
    assert count(engine) == 0 and count(engine, HandoverBatch) == 0


def test_stations_keep_scanning_while_a_large_import_is_written(engine, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("the one-writer database; PostgreSQL writers do not wait on each other here")
    with write_session(engine) as s:
        items = [make_credential(s, status="registered").credential_no for _ in range(400)]
    path = write_csv(tmp_path / "large.csv", EN, [row(f"L{i:06d}") for i in range(20000)])
    done = threading.Event()
    waits = []

    def scanning():
        for no in items:
            if done.is_set():
                return
            during, t0 = writing[0], time.monotonic()
            assert do_scan(engine, no, "handover", "WS-01").result == "ok"
            if during:
                waits.append(time.monotonic() - t0)
            time.sleep(0.02)

    writing = [False]

    def progress(n, seen=[0]):
        seen[0] += n
        writing[0] = seen[0] > 20000

    station = threading.Thread(target=scanning, daemon=True)
    station.start()
    result = import_manifest(engine, path, batch="large", progress=progress)
    done.set()
    station.join(10)
    assert result.committed and result.new == 20000
    assert len(waits) >= 5 and max(waits) < 1.0, (len(waits), max(waits))
