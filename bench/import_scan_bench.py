"""Import while scanning: how long a station waits for an answer while a
large manifest is imported.

Station processes (``--stations``, each its own OS process, as gunicorn
workers are) scan `handover` one item after another through the scan
service, pausing ``--interval`` seconds between scans, and time every scan
from request to committed answer. Meanwhile this process imports an
N-row manifest with ``import_manifest`` (what ``credtrack import manifest``
and the upload page run). Reported: the import's time (check and write
phases), and the scan waits before and during the import — the longest is
the figure: the target is that no scan waits a second or more.

    python bench/import_scan_bench.py --scale 100000            # a fresh SQLite database
    python bench/import_scan_bench.py --db-url URL --scale N    # a database with the demo data
    python bench/import_scan_bench.py --smoke                   # CI: 3,000 rows, seconds

Follows bench/README.md: the last line is one JSON object; exit status 0
when the target is met.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from common import SRC, database  # noqa: E402
from import_bench import generate  # noqa: E402

TARGET_S = 1.0

STATION = r"""
import json, sys, time, uuid
sys.path.insert(0, sys.argv[1])
from credential_track.db import make_engine, writer
from credential_track.services import scan as scans
engine = make_engine(sys.argv[2])
index, stations, stop_file, interval = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
with engine.connect() as conn:
    # the items the benchmark imports (IS…) left out in Python: psycopg reads a literal % as a placeholder
    codes = [r[0] for r in conn.exec_driver_sql(
        "SELECT credential_no FROM credential WHERE status = 'registered' AND batch_id IS NOT NULL "
        "ORDER BY id") if not r[0].startswith("IS")]
codes = codes[index::stations]
out = []
print("ready", flush=True)
for code in codes:
    if __import__("os").path.exists(stop_file):
        break
    req = scans.ScanRequest(code=code, action="handover", station="WS-01", nonce=uuid.uuid4().hex, context={})
    t0 = time.time()
    try:
        with writer(engine).connect() as conn:
            result = scans.scan(conn, req, default_weight_g=45).result
            conn.commit()
    except Exception as exc:  # a 500 at the station: counted, with its wait
        result = type(exc).__name__
    out.append((t0, time.time() - t0, result))
    time.sleep(interval)
json.dump(out, open(stop_file + f".{index}", "w"))
"""


def prepare(db_url: str, items: int) -> None:
    """A migrated, seeded database with `items` registered items to scan
    (in a batch, as imported items are), unless it holds enough already."""
    from sqlalchemy import insert, inspect, text

    from credential_track import migrate
    from credential_track.db import make_engine, write_session
    from credential_track.domain.regions import route_for
    from credential_track.models import Credential, HandoverBatch
    from credential_track.models.base import utcnow
    from credential_track.services import events
    from credential_track.services.seed import load_seed

    engine = make_engine(db_url)
    try:
        if "credential" not in inspect(engine).get_table_names():
            migrate.upgrade(engine)
            with write_session(engine) as s:
                load_seed(s)
        with engine.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM credential WHERE status = 'registered' "
                                     "AND batch_id IS NOT NULL")).scalar()
        if have >= items:
            return
        with write_session(engine) as s:
            batch = HandoverBatch(name=f"bench-stations-{os.getpid()}", expected=items)
            s.add(batch)
            s.flush()
            route = route_for("上海市", "浦东新区")
            s.execute(insert(Credential), [dict(
                credential_no=f"ST{os.getpid()}-{i:06d}", credential_type="exhibitor", holder_name="张伟",
                organization="", recipient_name="张伟", recipient_phone="13812345678", phone_last4="5678",
                province="上海市", city="上海市", district="浦东新区", address="世纪大道100号8楼",
                postcode="200120", route=route, status="registered", batch_id=batch.id) for i in range(items)])
            # each with its import event, as an import writes it (the consistency check reads them)
            conn = s.connection()
            ph = "?" if conn.dialect.name == "sqlite" else "%s"
            events.write_sql(conn, "INSERT INTO event (credential_id, action, result, to_status, at) "
                             f"SELECT id, 'import', 'ok', 'registered', {ph} FROM credential "
                             f"WHERE batch_id = {ph} ORDER BY id", (utcnow(), batch.id), actions=["import"])
    finally:
        engine.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db-url", default=None, help="a database with the demo data (default: a fresh SQLite file)")
    ap.add_argument("--scale", type=int, default=100_000, help="manifest rows to import (default 100000)")
    ap.add_argument("--smoke", action="store_true", help="CI run: 3,000 rows unless --scale says otherwise")
    ap.add_argument("--stations", type=int, default=4, help="scanning station processes (default 4)")
    ap.add_argument("--interval", type=float, default=0.1, help="pause between a station's scans, s (default 0.1)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if args.smoke and "--scale" not in sys.argv:
        args.scale = 3000

    work = args.workdir or Path(tempfile.mkdtemp(prefix="import-scan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    manifest = work / "manifest.csv"
    prefix = f"IS{os.getpid() % 10000:04d}-"  # new numbers on every run, so that a database can be reused
    generate(manifest, args.scale, seed=int(time.time()) % 1000, prefix=prefix)
    load_before = os.getloadavg()
    with database("sqlite", args.db_url, work) as (db_url, _created):
        from credential_track.db import make_engine
        from credential_track.services.imports import import_manifest

        prepare(db_url, items=4000 * args.stations)
        stop = work / "stop"
        stop.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONPATH=str(SRC))
        procs = [subprocess.Popen([sys.executable, "-c", STATION, str(SRC), db_url, str(i), str(args.stations),
                                   str(stop), str(args.interval)], stdout=subprocess.PIPE, text=True, env=env)
                 for i in range(args.stations)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # scans before the import: the quiet baseline
        engine = make_engine(db_url)
        phases = {"start": time.time()}

        def progress(n, seen=[0]):
            seen[0] += n
            if seen[0] > args.scale and "write" not in phases:
                phases["write"] = time.time()

        result = import_manifest(engine, manifest, batch=f"bench-{os.getpid()}", progress=progress)
        phases["end"] = time.time()
        engine.dispose()
        time.sleep(1.0)
        stop.write_text("stop")
        scans_ = []
        for i, p in enumerate(procs):
            p.wait(timeout=120)
            scans_ += json.loads(Path(f"{stop}.{i}").read_text())
    load_after = os.getloadavg()
    before = [w for t, w, _r in scans_ if t < phases["start"]]
    during = [w for t, w, _r in scans_ if phases["start"] <= t < phases["end"]]
    writing = [w for t, w, _r in scans_ if phases.get("write", phases["end"]) <= t < phases["end"]]
    errors = [r for t, _w, r in scans_ if r not in ("ok", "rejected") and phases["start"] <= t < phases["end"]]
    longest = max(during) if during else 0.0
    seconds = phases["end"] - phases["start"]
    check_s = phases.get("write", phases["end"]) - phases["start"]
    print(f"machine: {platform.node()} {os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after")
    print(f"import {args.scale:,} rows: {seconds:.1f}s (check {check_s:.1f}s, write {seconds - check_s:.1f}s), "
          f"{result.new:,} new, committed {result.committed}")
    print(f"scans before the import: {len(before)}, p50 {1000 * pct(before, .5):.1f} ms, "
          f"max {1000 * max(before or [0]):.1f} ms")
    print(f"scans during the import: {len(during)} ({len(writing)} while rows were written), "
          f"p50 {1000 * pct(during, .5):.1f} ms, p99 {1000 * pct(during, .99):.1f} ms, "
          f"longest {1000 * longest:.1f} ms (target < {1000 * TARGET_S:.0f} ms), errors {len(errors)}")
    ok = result.committed and result.new == args.scale and longest < TARGET_S and not errors and len(writing) > 0
    metrics = {
        "rows": args.scale, "stations": args.stations, "import_s": round(seconds, 2), "check_s": round(check_s, 2),
        "write_s": round(seconds - check_s, 2), "rows_per_s": round(args.scale / seconds),
        "scans_during": len(during), "scans_while_writing": len(writing), "scan_errors": len(errors),
        "scan_wait_max_ms": round(1000 * longest, 1), "scan_wait_p99_ms": round(1000 * pct(during, .99), 1),
        "scan_wait_p50_ms": round(1000 * pct(during, .5), 1),
        "baseline_p50_ms": round(1000 * pct(before, .5), 1), "load_avg_before": round(load_before[0], 2),
        "load_avg_after": round(load_after[0], 2), "cores": os.cpu_count(),
        "backend": "sqlite" if db_url.startswith("sqlite") else "postgresql",
    }
    print(json.dumps({"name": "import_scan", "metrics": metrics, "targets_met": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
