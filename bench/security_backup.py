"""Online backup while a station scans: does scanning carry on, and is the copy complete?

    python bench/security_backup.py --credentials 100000
    python bench/security_backup.py --credentials 2000 --seconds 1   # CI smoke run

Builds a demo database (SQLite, WAL) in a temporary folder, measures the scan
rate and latency of one scanning thread alone (the baseline), then again
while `services.backup.backup` copies the live database. Prints the figures
and exits non-zero when the copy fails its integrity check, misses a scan
acknowledged before the backup began, or scanning during the backup falls
below --min-ratio of the baseline rate or a scan waits longer than --max-wait.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from credential_track import migrate  # noqa: E402
from credential_track.db import make_engine, write_session  # noqa: E402
from credential_track.models import Credential  # noqa: E402
from credential_track.services import backup as backups  # noqa: E402
from credential_track.services import scan as scans  # noqa: E402
from credential_track.services.demo import build_demo  # noqa: E402
from credential_track.services.seed import load_seed  # noqa: E402


class Scanner(threading.Thread):
    def __init__(self, engine, codes):
        super().__init__(daemon=True)
        self.engine, self.codes = engine, iter(codes)
        self.acks: list[tuple[float, float, int]] = []  # (start, end, event id)
        self.stop = threading.Event()

    def run(self):
        for code in self.codes:
            if self.stop.is_set():
                return
            t0 = time.monotonic()
            with write_session(self.engine) as s:
                out = scans.scan(s, scans.ScanRequest(code=code, action="handover", station="WS-01",
                                                      nonce=uuid.uuid4().hex, context={}))
            if out.result == "ok":
                self.acks.append((t0, time.monotonic(), out.event_id))


def window(acks, start, end):
    inside = [a for a in acks if a[1] >= start and a[0] <= end]
    return len(inside), [a[1] - a[0] for a in inside]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--credentials", type=int, default=100_000, help="demo data set size (default 100000)")
    ap.add_argument("--seconds", type=float, default=3.0, help="baseline measuring time (default 3)")
    ap.add_argument("--min-ratio", type=float, default=0.3, help="scan rate during backup / baseline (default 0.3)")
    ap.add_argument("--max-wait", type=float, default=2.0, help="longest acceptable scan during the backup, s")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ct-backup-bench-"))
    engine = make_engine(f"sqlite:///{tmp / 'live.db'}")
    migrate.upgrade(engine)
    with write_session(engine) as s:
        load_seed(s)
    t = time.monotonic()
    build_demo(engine, credentials=args.credentials, seed=2026)
    print(f"demo data: {args.credentials:,} credentials in {time.monotonic() - t:.1f}s")
    with Session(engine) as s:
        codes = list(s.execute(select(Credential.credential_no).where(Credential.status == "registered")).scalars())

    idle = backups.backup(engine, tmp / "idle-copy.db")  # the same backup with no one scanning
    (tmp / "idle-copy.db").unlink()

    scanner = Scanner(engine, codes)
    scanner.start()
    time.sleep(0.5)  # warm up
    b0 = time.monotonic()
    time.sleep(args.seconds)
    b1 = time.monotonic()
    base_n, base_lat = window(scanner.acks, b0, b1)
    base_rate = base_n / (b1 - b0)

    # raw baseline: a plain file copy of the same size (not consistent while scanning; I/O only)
    r0 = time.monotonic()
    shutil.copyfile(tmp / "live.db", tmp / "raw-copy.db")
    raw_seconds = time.monotonic() - r0
    (tmp / "raw-copy.db").unlink()

    out = tmp / "copy.db"
    start = time.monotonic()
    acked_before = {a[2] for a in scanner.acks if a[1] < start}
    result = backups.backup(engine, out)
    end = time.monotonic()
    time.sleep(0.3)
    scanner.stop.set()
    scanner.join(30)
    during_n, during_lat = window(scanner.acks, start, end)
    during_rate = during_n / max(end - start, 1e-9)

    con = sqlite3.connect(out)
    ids = {r[0] for r in con.execute("SELECT id FROM event WHERE action='handover' AND result='ok'")}
    con.close()
    missing = acked_before - ids
    integrity = backups.integrity_check(out)
    ratio = during_rate / base_rate if base_rate else 0.0
    worst = max(during_lat) if during_lat else 0.0

    print(f"database {result.bytes / 2**20:,.1f} MiB, {result.tables.get('event', 0):,} events")
    print(f"baseline scanning: {base_rate:,.0f} scans/s, median {statistics.median(base_lat) * 1000:.1f} ms, "
          f"max {max(base_lat) * 1000:.1f} ms")
    print(f"backup: {result.seconds:.2f}s of which integrity check {result.check_seconds:.2f}s, "
          f"integrity {integrity}; with no scanning {idle.seconds:.2f}s (ratio {result.seconds / max(idle.seconds, 1e-9):.1f}); copy step {result.seconds - result.check_seconds:.2f}s, "
          f"raw file copy {raw_seconds:.2f}s (ratio {(result.seconds - result.check_seconds) / max(raw_seconds, 1e-9):.1f})")
    print(f"during backup: {during_n} scans, {during_rate:,.0f} scans/s (ratio {ratio:.2f} vs baseline), "
          f"longest scan {worst * 1000:.1f} ms")
    print(f"acknowledged before the backup: {len(acked_before):,}; missing from the copy: {len(missing)}")
    ok = integrity == "ok" and not missing and worst <= args.max_wait and (ratio >= args.min_ratio or during_n == 0
                                                                           and result.seconds < 0.05)
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
