"""The full-scale run: build the demo data set, run every benchmark in
bench/ against it, print one table.

For each database (SQLite, PostgreSQL or both) it builds the demo with
`credtrack demo --credentials SCALE` (timed), then runs

  * every bench/*_bench.py (import, export, printing, lookup, dashboard, …)
    by the convention of bench/README.md: `--db-url URL --scale SCALE`;
  * bench/load.py (scan throughput against the same-run baseline, with the
    consistency check), then bench/crash.py (SIGKILL mid-run);
  * bench/consistency.py over the whole database at the end.

Each script's last JSON line {"name", "metrics", "targets_met"} becomes a
row of the table. The exit status is 1 when any script misses a target.

    python bench/full_scale.py                         # 500,000 items, SQLite and PostgreSQL
    python bench/full_scale.py --db sqlite --scale 500000
    python bench/full_scale.py --smoke                  # seconds: what .ci/run calls (via smoke.sh)
    python bench/full_scale.py --db-url URL --scale 500000   # a database already holding the demo
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SIZE_FLAGS = ("--scale", "--rows", "--count", "--items", "--credentials")


def discover(only: str | None, exclude: str | None = None) -> list[Path]:
    found = sorted(common.BENCH_DIR.glob("*_bench.py"))
    if only:
        found = [p for p in found if re.search(only, p.name)]
    if exclude:
        found = [p for p in found if not re.search(exclude, p.name)]
    return found


def flags_of(script: Path) -> str:
    res = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                         env=common.cli_env(os.environ.get("DATABASE_URL", ""), common.REPO / "instance"))
    return res.stdout if res.returncode == 0 else ""


def bench_argv(script: Path, db_url: str, scale: int, smoke: bool) -> list[str]:
    """The conventional arguments, as far as the script takes them (a script
    not yet following the convention gets its own size flag, or none)."""
    helptext = flags_of(script)
    argv = [sys.executable, str(script)]
    if "--db-url" in helptext:
        argv += ["--db-url", db_url]
    for flag in SIZE_FLAGS:
        if re.search(rf"{re.escape(flag)}\b", helptext):
            argv += [flag, str(scale)]
            break
    if smoke and "--smoke" in helptext:
        argv.append("--smoke")
    return argv


def last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def run_one(label: str, argv: list[str], env: dict, log: Path, timeout: float) -> dict:
    started = time.monotonic()
    try:
        res = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(common.REPO))
        out, code = res.stdout, res.returncode
        err = res.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, code = f"timed out after {timeout:.0f}s", -1
    seconds = time.monotonic() - started
    with open(log, "a") as f:
        f.write(f"$ {' '.join(argv)}\n{out}\n{err}\n(exit {code}, {seconds:.1f}s)\n\n")
    parsed = last_json(out)
    if parsed is None or "targets_met" not in parsed:
        metrics = parsed or {}
        parsed = {"name": label, "metrics": metrics, "targets_met": code == 0 and bool(out.strip())}
    parsed.setdefault("name", label)
    parsed["targets_met"] = bool(parsed["targets_met"]) and code == 0
    parsed["exit"] = code
    parsed["seconds"] = round(seconds, 1)
    if code != 0:
        tail = (err or out).strip().splitlines()[-3:]
        parsed["note"] = " | ".join(tail)[:300]
    print(f"  {label}: {'ok' if parsed['targets_met'] else 'MISSED'} in {seconds:.0f}s", flush=True)
    return parsed


def fmt_metrics(metrics: dict, width: int = 110) -> str:
    parts = []
    for k, v in metrics.items():
        if k in ("backend",) or isinstance(v, (dict, list)):
            continue
        if isinstance(v, float):
            v = f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
        elif isinstance(v, int) and not isinstance(v, bool):
            v = f"{v:,}"
        parts.append(f"{k}={v}")
    text = " ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--db-url", help="a prepared database holding the demo (no build; --db ignored)")
    ap.add_argument("--scale", type=int, help="demo items (default 500000; 3000 with --smoke)")
    ap.add_argument("--smoke", action="store_true", help="small and short: the CI run")
    ap.add_argument("--only", help="regular expression: run only the *_bench.py scripts it matches")
    ap.add_argument("--exclude", help="regular expression: skip the *_bench.py scripts it matches")
    ap.add_argument("--skip-others", action="store_true", help="only load, crash and consistency")
    ap.add_argument("--load-duration", type=float, help="seconds of scanning in load.py (default 30; smoke 4)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per script")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    scale = args.scale or (3000 if args.smoke else 500_000)
    load_s = args.load_duration or (4 if args.smoke else 30)
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if args.db_url:
        backends = [common.backend_of(args.db_url)]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="credtrack-full-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "full_scale.log"
    rows: list[tuple[str, dict]] = []
    started = time.monotonic()
    print(f"full-scale run: {scale:,} items on {', '.join(backends)}; log {log}")
    try:
        for backend in backends:
            bdir = workdir / backend
            bdir.mkdir(exist_ok=True)
            with common.database(backend, args.db_url, bdir) as (db_url, _created):
                env = common.cli_env(db_url, bdir)
                if args.db_url:
                    print(f"  demo: prepared database with {common.count_credentials(db_url):,} items")
                else:
                    t0 = time.monotonic()
                    demo = run_one("demo", [sys.executable, "-m", "credential_track", "demo", "--credentials",
                                            str(scale)], env, log, args.timeout)
                    built = time.monotonic() - t0
                    demo["metrics"] = {"items": scale, "seconds": round(built, 1),
                                       "items_per_s": round(scale / built)}
                    rows.append((backend, demo))
                if not args.skip_others:
                    for script in discover(args.only, args.exclude):
                        rows.append((backend, run_one(script.stem, bench_argv(script, db_url, scale, args.smoke),
                                                      env, log, args.timeout)))
                mine = [
                    ("load", ["load.py", "--db-url", db_url, "--workdir", str(bdir / "load"),
                              "--duration", str(load_s), "--baseline-duration", str(max(2, load_s / 2))]
                     + (["--smoke"] if args.smoke else [])),
                    ("crash", ["crash.py", "--db-url", db_url, "--workdir", str(bdir / "crash"),
                               "--duration", str(6 if args.smoke else 20)]),
                    ("consistency", ["consistency.py", "--db-url", db_url]),
                ]
                for label, cmd in mine:
                    rows.append((backend, run_one(label, [sys.executable, str(common.BENCH_DIR / cmd[0]), *cmd[1:]],
                                                  env, log, args.timeout)))
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'database':<10} {'benchmark':<20} {'targets':<8} {'seconds':>8}  figures")
    print("-" * 140)
    for backend, row in rows:
        print(f"{backend:<10} {row['name']:<20} {'met' if row['targets_met'] else 'MISSED':<8} "
              f"{row['seconds']:>8.1f}  {fmt_metrics(row.get('metrics', {}))}")
        if not row["targets_met"] and row.get("note"):
            print(f"{'':<50}{row['note'][:90]}")
    missed = [f"{b}/{r['name']}" for b, r in rows if not r["targets_met"]]
    print("-" * 140)
    print(f"{len(rows)} runs in {time.monotonic() - started:.0f}s; "
          + ("every target met" if not missed else "MISSED: " + ", ".join(missed)))
    print(common.result_line("full_scale", {"runs": len(rows), "missed": missed, "scale": scale}, not missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
