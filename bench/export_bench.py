"""Status export benchmark.

Builds a SQLite database with N credentials (imported from a generated
manifest) and a realistic spread of events (every item received, half
captured, a tenth delivered), then exports the status of all of them to CSV
and to XLSX (the product's writer, XlsxWriter in constant-memory mode; with
--compare also openpyxl's write-only mode on the same rows), each in a child
process, and prints the times and peak memory. Exits non-zero when CSV takes
longer than --max-seconds (10), XLSX than --max-xlsx-seconds (60), or either
peaks above --max-mb.

    python bench/export_bench.py                  # 500,000 credentials
    python bench/export_bench.py --rows 20000     # CI smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import CHILD_PROLOGUE, generate, template_db  # noqa: E402

CHILD = CHILD_PROLOGUE + r"""
from credential_track.db import make_engine
from credential_track.services import exports
engine = make_engine(sys.argv[1])
t0 = time.perf_counter()
if sys.argv[5] == "csv":
    with open(sys.argv[2], "w", newline="", encoding="utf-8-sig") as f:
        n = exports.write_csv(engine, f, exports.StatusFilter(), personal=sys.argv[4] == "1")
elif sys.argv[5] == "xlsx":
    n = exports.write_xlsx(engine, sys.argv[2], exports.StatusFilter(), personal=sys.argv[4] == "1")
else:  # the alternative measured beside it: openpyxl's write-only mode, the same rows, the same safety
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("status")
    ws.append(exports.header(sys.argv[4] == "1", None))
    n = 0
    for row in exports.rows(engine, exports.StatusFilter(), personal=sys.argv[4] == "1"):
        cells = []
        for v in row:
            if v.__class__ is str:
                c = WriteOnlyCell(ws, value=v)
                c.data_type = "s"
                v = c
            cells.append(v)
        ws.append(cells)
        n += 1
    wb.save(sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": n,
                  "peak_mb": peak_mb()}))
"""


def build(work: Path, rows: int) -> Path:
    from sqlalchemy import text

    from credential_track.db import make_engine, writer
    from credential_track.services.imports import import_manifest

    manifest = work / "manifest.csv"
    generate(manifest, rows)
    db = work / "export.db"
    template_db(db)
    engine = make_engine(f"sqlite:///{db}")
    assert import_manifest(engine, manifest, batch="bench").committed
    with writer(engine).begin() as conn:
        for action, to, where in (("handover", "received", "1 = 1"), ("capture", "captured", "id % 2 = 0"),
                                  ("delivered", "delivered", "id % 10 = 0")):
            conn.execute(text(
                "INSERT INTO event (credential_id, action, result, to_status, at, details) "
                f"SELECT id, :a, 'ok', :t, '2026-11-20 08:00:00.000000', "
                f"CASE WHEN :a = 'delivered' THEN '{{\"event\": \"EMI\", \"location\": \"上海\"}}' END "
                f"FROM credential WHERE {where}"), {"a": action, "t": to})
            conn.execute(text(f"UPDATE credential SET status = :t WHERE {where}"), {"t": to})
    engine.dispose()
    return db


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=500_000, help="credentials (default 500000)")
    ap.add_argument("--max-seconds", type=float, default=10.0, help="CSV target (s)")
    ap.add_argument("--max-xlsx-seconds", type=float, default=60.0, help="XLSX target (s)")
    ap.add_argument("--compare", action="store_true", help="also time openpyxl's write-only mode on the same rows")
    ap.add_argument("--max-mb", type=float, default=300.0)
    ap.add_argument("--personal", action="store_true", help="include the personal columns")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="export-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    db = build(work, args.rows)
    print(f"built {args.rows:,} credentials with events in {time.perf_counter() - t0:.1f}s")
    print(f"load average {os.getloadavg()[0]:.2f}")
    ok = True
    figures = {}
    for fmt, suffix, limit in (("csv", "csv", args.max_seconds), ("xlsx", "xlsx", args.max_xlsx_seconds),
                               ("openpyxl", "xlsx", None)):
        if fmt == "openpyxl" and not args.compare:
            continue
        out = work / f"status-{fmt}.{suffix}"
        res = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{db}", str(out), str(ROOT / "src"),
                              "1" if args.personal else "0", fmt], check=True, capture_output=True, text=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        figures[fmt] = r["seconds"]
        figures[f"{fmt}_peak_mb"] = round(r["peak_mb"])
        print(f"export to {fmt}: {r['rows']:,} rows in {r['seconds']:.2f}s "
              f"({r['rows'] / r['seconds']:,.0f} rows/s), {out.stat().st_size / 1e6:.1f} MB, "
              f"peak {r['peak_mb']:.0f} MB" + (f" (target < {limit:.0f} s at any size)" if limit else ""))
        ok = ok and r["rows"] == args.rows and r["peak_mb"] < args.max_mb and (limit is None or r["seconds"] < limit)
    if "openpyxl" in figures:
        print(f"XlsxWriter (constant memory) / openpyxl (write-only): {figures['xlsx'] / figures['openpyxl']:.2f}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    print(json.dumps({"name": "export", "metrics": {"rows": args.rows, **{
        (k if k.endswith("_mb") else f"{k}_s"): round(v, 2) for k, v in figures.items()}}, "targets_met": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
