"""Crash test: SIGKILL the server in the middle of a load run, restart it,
finish the run, then check that nothing acknowledged was lost.

The load is bench/load.py's scan chain (16 clients by default). Part-way
through, every process of the server (gunicorn master and workers) gets
SIGKILL; after --down seconds the server is started again on the same
database. Clients that lose their connection send the identical request
(same nonce) again until the server answers, as a station's scanner would.

Checks, each of which fails the run:
  * every scan answered before the kill has its event, with the answer the client got;
  * SQLite: `PRAGMA integrity_check` says ok (PostgreSQL: its own WAL recovery;
    the server must come back and the checks below must hold);
  * bench/consistency.py's checks on the records and the whole database.

    python bench/crash.py --scale 3000 --duration 8          # smoke, SQLite
    python bench/crash.py --db postgres --scale 20000        # PostgreSQL
    python bench/crash.py --db-url sqlite:////tmp/full/credtrack.db

The last line printed is a JSON object {"name", "metrics", "targets_met"}.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import load  # noqa: E402


def integrity(db_url: str) -> str:
    from sqlalchemy import text

    from credential_track.db import make_engine

    if common.backend_of(db_url) != "sqlite":
        return "n/a"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
    engine.dispose()
    return "; ".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--db-url", help="a prepared database (demo built when it has no items)")
    ap.add_argument("--scale", type=int, default=20_000, help="demo items when the database is built here")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--duration", type=float, default=20, help="seconds of scanning, downtime included")
    ap.add_argument("--kill-at", type=float, default=0.4, help="fraction of the duration at which to kill")
    ap.add_argument("--down", type=float, default=1.0, help="seconds the server stays down")
    ap.add_argument("--bag-size", type=int, default=10)
    ap.add_argument("--trip-bags", type=int, default=2)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="credtrack-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with common.database(args.db, args.db_url, workdir) as (db_url, _created):
            return run(args, db_url, workdir)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, db_url: str, workdir: Path) -> int:
    from consistency import check_run

    backend = common.backend_of(db_url)
    tokens, work = load.prepare(args, db_url, workdir)
    port = common.free_port()
    srv = common.credtrack_server(db_url, workdir, port, args.workers, args.threads, workdir / "server.log")
    srv.start()
    kill = {}

    def killer(shared) -> None:
        time.sleep(args.duration * args.kill_at)
        kill["t"] = time.time()
        kill["pid"] = srv.proc.pid
        srv.kill()
        time.sleep(args.down)
        started = time.monotonic()
        srv.start()
        kill["restart_s"] = round(time.monotonic() - started, 2)

    print(f"crash: {backend}, {args.clients} clients, kill at {args.duration * args.kill_at:.0f}s "
          f"of {args.duration:.0f}s, down {args.down}s")
    try:
        records, fig = load.run_scans(port, tokens, work, clients=args.clients, duration=args.duration,
                                      bag_size=args.bag_size, trip_bags=args.trip_bags, seed=args.seed,
                                      retry_for=120, during=killer)
    finally:
        srv.stop()
    with open(workdir / "records.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    misses = []
    if "t" not in kill:
        misses.append("the server was never killed (run too short?)")
    before = [r for r in records if r["k"] == "scan" and r["status"] == 200 and r["t"] < kill.get("t", 0)]
    after = [r for r in records if r["k"] == "scan" and r["status"] == 200 and r["t"] >= kill.get("t", 0)]
    if not before or not after:
        misses.append(f"{len(before)} scans answered before the kill and {len(after)} after: "
                      "the kill did not fall in the middle of the run")
    check = integrity(db_url)
    if check not in ("ok", "n/a"):
        misses.append(f"integrity_check: {check}")
    problems, stats = check_run(db_url, records)
    lost = [p for p in problems if "no event has that nonce" in p]
    before_nonces = {r["nonce"] for r in before}
    lost_before = [p for p in lost if any(n in p for n in before_nonces)]
    if problems:
        misses.append(f"{len(problems)} consistency failures ({len(lost_before)} acknowledged scans lost)")
    if fig["unexpected_answers"]:
        misses.append(f"{fig['unexpected_answers']} unexpected answers")
    print(f"kill at +{args.duration * args.kill_at:.0f}s, server back after {kill.get('restart_s')}s; "
          f"{len(before):,} scans answered before the kill, {len(after):,} after; "
          f"{fig['scans_per_s']:,.0f} scans/s overall, p99 {fig['p99_ms']} ms (max {fig['max_ms']} ms)")
    print(f"integrity_check: {check}")
    print(f"consistency: {stats}")
    for p in problems[:20]:
        print("  FAIL", p)
    print("targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    metrics = {"backend": backend, "acked_before_kill": len(before), "answered_after": len(after),
               "lost": len(lost_before), "integrity": check, "consistency_failures": len(problems),
               "restart_s": kill.get("restart_s"), "scans_per_s": fig["scans_per_s"], "max_ms": fig["max_ms"]}
    print(common.result_line("crash", metrics, not misses))
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
