"""Hotline lookup and outreach sweep benchmark.

Builds (or reuses) a demo database of N items, then measures in-process:

* lookup p50/p99 by waybill, credential number and full phone (target p99 < 10 ms);
* lookup p99 by name and by last-4-digits + name (target p99 < 50 ms);
* organization substring (reported, no target);
* the raw baseline: one indexed SELECT of the same row through the same
  engine, without the service (so the ratio shows what the service costs);
* the outreach sweep over all items (target < 10 s), and a second sweep
  that finds nothing new.

    python bench/service_lookup_bench.py --count 500000 --db /tmp/lookup500k.db
    python bench/service_lookup_bench.py --count 2000          # CI smoke, seconds

Exits non-zero when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import func, select, text, update  # noqa: E402
from sqlmodel import Session  # noqa: E402

from credential_track import migrate  # noqa: E402
from credential_track.db import make_engine, write_session  # noqa: E402
from credential_track.models import Credential, OutreachTask  # noqa: E402
from credential_track.services import lookup, outreach  # noqa: E402
from credential_track.services.demo import build_demo  # noqa: E402
from credential_track.services.seed import load_seed  # noqa: E402

TARGETS_MS = {"waybill": 10, "credential_no": 10, "phone": 10, "name": 50, "last4_name": 50}
SWEEP_TARGET_S = 10.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def build(engine, count: int) -> None:
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Credential)) if _has_schema(engine) else 0
    if have:
        print(f"reusing {have:,} items")
        return
    migrate.upgrade(engine)
    with write_session(engine) as s:
        load_seed(s)
    t = time.monotonic()
    build_demo(engine, credentials=count)
    print(f"built {count:,} demo items in {time.monotonic() - t:.1f}s")
    rng = random.Random(7)
    with write_session(engine) as s:
        ids = s.scalars(select(Credential.id)).all()
        problems = rng.sample(ids, max(1, len(ids) // 100))
        s.execute(update(Credential).where(Credential.id.in_(problems[:30000]))
                  .values(contact_problem="phone number has too few digits"))
        s.execute(update(Credential).where(Credential.status == "in_transit", Credential.id % 500 == 0)
                  .values(revoked=True, intercept=True))
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        # VACUUM also merges the GIN pending lists a bulk insert leaves (autovacuum
        # does this in production); without it trigram searches read them linearly
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def _has_schema(engine) -> bool:
    from sqlalchemy import inspect
    return inspect(engine).has_table("credential")


def samples(engine, n: int, seed: int = 11) -> dict[str, list[str]]:
    rng = random.Random(seed)
    with Session(engine) as s:
        max_id = s.scalar(select(func.max(Credential.id)))
        ids = [rng.randint(1, max_id) for _ in range(n * 3)]
        rows = s.execute(select(Credential.credential_no, Credential.waybill_no, Credential.recipient_phone,
                                Credential.phone_last4, Credential.recipient_name, Credential.organization)
                         .where(Credential.id.in_(ids))).all()
    rng.shuffle(rows)
    with_waybill = [r for r in rows if r.waybill_no][:n]
    rows = rows[:n]
    return {
        "waybill": [r.waybill_no for r in with_waybill],
        "credential_no": [r.credential_no for r in rows],
        "phone": [r.recipient_phone for r in rows],
        "name": [r.recipient_name for r in rows],
        "last4_name": [f"{r.phone_last4} {r.recipient_name}" for r in rows],
        "organization": [r.organization[:4] for r in rows if len(r.organization) >= 4],
    }


def bench_agent(engine) -> int:
    """The id of the desk agent the lookups are made by (its searches by
    phone or name are recorded as events naming it)."""
    from credential_track.models import User

    with write_session(engine) as s:
        user = s.scalars(select(User).where(User.username == "bench-agent")).first()
        if user is None:
            user = User(username="bench-agent", role="agent", password_hash="!")
            s.add(user)
            s.flush()
        return user.id


def time_lookups(engine, queries: list[str]) -> tuple[list[float], list[float], int]:
    """Wall-clock and CPU (user + system of this process) milliseconds per
    lookup: on a shared machine the wall clock also counts the time the
    process waited for a core."""
    times, cpu, hits = [], [], 0
    agent = bench_agent(engine)
    with Session(engine) as s:
        for q in queries:
            c, t = time.process_time(), time.perf_counter()
            # an agent sees masked data: each search by phone or name is recorded
            # (timed here); the hourly limit is off, a benchmark searches far more
            res = lookup.lookup(s, q, role="agent", user_id=agent, personal_searches_per_hour=None)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            hits += bool(res["results"])
    return times, cpu, hits


def time_raw(engine, credential_nos: list[str]) -> list[float]:
    times = []
    stmt = text("SELECT * FROM credential WHERE credential_no = :no")
    with engine.connect() as conn:
        for no in credential_nos:
            t = time.perf_counter()
            conn.execute(stmt, {"no": no}).first()
            times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=500_000, help="items in the demo database (default 500000)")
    ap.add_argument("--db", default=None, help="SQLite file to build or reuse (default: a temp file)")
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database instead of SQLite")
    ap.add_argument("--db-url", default=None,
                    help="a database holding the demo already (bench/README.md convention): reused as it is, "
                         "and the sweep's tasks are left in it as the periodic sweep would leave them")
    ap.add_argument("--queries", type=int, default=500, help="lookups per key (default 500)")
    ap.add_argument("--no-sweep", action="store_true", help="skip the outreach sweep")
    ap.add_argument("--judge", choices=("wall", "cpu"), default="wall",
                    help="hold the p99 targets against wall-clock (default) or CPU time")
    ap.add_argument("--scale", type=int, default=None, help="the same as --count (bench/README.md convention)")
    ap.add_argument("--smoke", action="store_true",
                    help="a CI run: p99 judged on CPU time (the wall clock of a busy CI machine is noise); "
                         "as many lookups per key as the full run, so that the first lookup of a key "
                         "(statement compiled, pages read) is not the p99 by itself")
    args = ap.parse_args()
    if args.scale:
        args.count = args.scale
    if args.smoke:
        args.judge = "cpu"
    metrics: dict = {"items": args.count}

    if args.db_url:
        url = args.db_url
    elif args.database_url:
        url = args.database_url
    else:
        path = Path(args.db) if args.db else Path("/tmp") / f"service_lookup_{args.count}.db"
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    print(f"database: {engine.dialect.name}, {args.count:,} items requested")
    build(engine, args.count)

    failed = []
    qs = samples(engine, args.queries)
    raw = time_raw(engine, qs["credential_no"])
    raw_p99 = percentile(raw, 99)
    print(f"{'key':<14}{'n':>6}{'hits':>7}{'p50 ms':>9}{'p99 ms':>9}{'cpu p99':>9}{'target':>8}"
          f"{'x raw p50':>11}")
    print(f"{'raw SELECT':<14}{len(raw):>6}{'':>7}{statistics.median(raw):>9.2f}{raw_p99:>9.2f}")
    raw_p50 = statistics.median(raw)
    for key in ("waybill", "credential_no", "phone", "name", "last4_name", "organization"):
        times, cpu, hits = time_lookups(engine, qs[key])
        p50, p99, cpu99 = statistics.median(times), percentile(times, 99), percentile(cpu, 99)
        target = TARGETS_MS.get(key)
        judged = cpu99 if args.judge == "cpu" else p99
        ok = target is None or judged < target
        if not ok:
            failed.append(f"{key} {args.judge} p99 {judged:.1f} ms >= {target} ms")
        if key != "organization" and hits < len(times):
            failed.append(f"{key}: {len(times) - hits} of {len(times)} lookups found nothing")
        metrics[f"{key}_p99_ms"] = round(p99, 2)
        print(f"{key:<14}{len(times):>6}{hits:>7}{p50:>9.2f}{p99:>9.2f}{cpu99:>9.2f}{(target or '-'):>8}"
              f"{p50 / raw_p50:>11.1f}{'' if ok else '  MISSED'}")

    if not args.no_sweep:
        for run in (1, 2):
            t = time.monotonic()
            with write_session(engine) as s:
                result = outreach.sweep(s)
            took = time.monotonic() - t
            print(f"sweep {run}: {took:.2f}s, created {result['created']}, closed {result['closed']}, "
                  f"notifications queued {result['notifications_queued']}")
            metrics[f"sweep{run}_s"] = round(took, 2)
            if took >= SWEEP_TARGET_S:
                failed.append(f"sweep {run} took {took:.1f}s >= {SWEEP_TARGET_S}s")
        with Session(engine) as s:
            n = s.scalar(select(func.count()).select_from(OutreachTask))
        print(f"outreach tasks in all: {n:,}")
        # reset so that a reused database measures the first sweep again next
        # time (not in a shared demo database: other benchmarks read its tasks)
        if not args.db_url:
            with write_session(engine) as s:
                s.execute(text("DELETE FROM outreach_task"))
                s.execute(text("DELETE FROM notification"))

    if failed:
        print("MISSED: " + "; ".join(failed))
    else:
        print("all targets met")
    print(json.dumps({"name": "service_lookup", "metrics": metrics, "targets_met": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
