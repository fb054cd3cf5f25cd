"""What each index on `credential` and `event` costs a write.

For the migrated, seeded schema it measures, in the same run, on SQLite (in memory:
the CPU cost, without the disk's noise):

  * insert: executemany of N manifest rows into `credential` and one
    `import` event per row into `event`, one transaction;
  * status change: N/4 scan-like changes, one row per statement
    (`UPDATE credential SET status, updated_at` plus one event with a station),
    one transaction;

once with every index, then once per index with only that index dropped
(the search triggers count as one "index": `credential_fts`). The cost of
an index is the difference, in microseconds per row; each variant is run
--repeat times and the fastest taken (the machine is shared). docs/SCHEMA.md
records a run.

    python bench/index_cost.py                # 20,000 rows
    python bench/index_cost.py --rows 50000 --json
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (puts src on the path)
import import_bench  # noqa: E402


def rows_of(manifest: Path, types: dict) -> list[tuple]:
    from credential_track.domain.manifest import Manifest, Validator

    at = "2026-11-28 10:00:00.000000"
    with Manifest(manifest) as m:
        v = Validator(types, m.columns)
        return [v.check(n, cells)[0] + (1, "registered", "zh", 0, 0, 0, 0, at, at) for n, cells in m.rows()]


def indexes(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    found = [(tbl, name) for tbl, name in con.execute(
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('credential', 'event') "
        "AND sql IS NOT NULL ORDER BY tbl_name, name")]
    con.close()
    return found + [("credential", "credential_fts")]


def measure(template: Path, rows: list[tuple], drop: str | None) -> tuple[float, float]:
    from credential_track.services.imports import INSERT_COLUMNS

    # in memory: the CPU cost of keeping each index, without the disk's noise
    con = sqlite3.connect(":memory:", isolation_level=None)
    src = sqlite3.connect(template)
    src.backup(con)
    src.close()
    con.execute("PRAGMA foreign_keys=ON")
    if drop == "credential_fts":
        for (trig,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                   "AND name LIKE 'credential_fts_%'").fetchall():
            con.execute(f"DROP TRIGGER {trig}")
    elif drop:
        con.execute(f"DROP INDEX {drop}")
    at = "2026-11-28 10:00:00.000000"
    con.execute("INSERT INTO handover_batch (name, source_file, expected, state, created_at) "
                "VALUES ('cost', '', 0, 'open', ?)", (at,))
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany(f"INSERT INTO credential ({', '.join(INSERT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(INSERT_COLUMNS))})", rows)
    con.executemany("INSERT INTO event (credential_id, action, result, to_status, at) "
                    "VALUES (?, 'import', 'ok', 'registered', ?)", ((i, at) for i in range(1, len(rows) + 1)))
    con.execute("COMMIT")
    insert_s = time.perf_counter() - t0
    ids = random.Random(3).sample(range(1, len(rows) + 1), len(rows) // 4)
    later = "2026-11-29 09:00:00.000000"
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for i in ids:
        con.execute("UPDATE credential SET status = 'received', updated_at = ? WHERE id = ? AND status = 'registered'",
                    (later, i))
        con.execute("INSERT INTO event (credential_id, action, result, from_status, to_status, station, user_id, at) "
                    "VALUES (?, 'handover', 'ok', 'registered', 'received', 'WS-01', NULL, ?)", (i, later))
    con.execute("COMMIT")
    change_s = time.perf_counter() - t0
    con.close()
    return insert_s / len(rows) * 1e6, change_s / len(ids) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="index-cost-"))
    try:
        manifest = work / "m.csv"
        import_bench.generate(manifest, args.rows)
        template = work / "t.db"
        import_bench.template_db(template)
        con = sqlite3.connect(template)
        types = {c: c for (c,) in con.execute("SELECT code FROM credentialtype")}
        types.update({zh: c for c, zh in con.execute("SELECT code, name_zh FROM credentialtype")})
        con.close()
        rows = rows_of(manifest, types)

        def best(drop):
            runs = [measure(template, rows, drop) for _ in range(args.repeat)]
            return min(r[0] for r in runs), min(r[1] for r in runs)

        measure(template, rows, None)  # warm-up: the files and the page cache
        full_ins, full_chg = best(None)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.rows:,} rows, best of {args.repeat}")
        print(f"every index: insert {full_ins:.1f} µs/row (credential + its event), "
              f"status change {full_chg:.1f} µs/change")
        print(f"{'table':<11} {'index':<36} {'insert µs':>10} {'change µs':>10}")
        out = {"rows": args.rows, "insert_us": round(full_ins, 2), "change_us": round(full_chg, 2), "indexes": {}}
        for tbl, name in indexes(template):
            ins, chg = best(name)
            out["indexes"][name] = [round(full_ins - ins, 2), round(full_chg - chg, 2)]
            print(f"{tbl:<11} {name:<36} {full_ins - ins:>10.1f} {full_chg - chg:>10.1f}")
        if args.json:
            print(json.dumps(out))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
