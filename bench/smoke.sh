#!/bin/sh
# The benchmark harness at small scale (seconds to a minute), for .ci/run:
# demo build, every bench/*_bench.py, load + consistency, crash, on SQLite
# (CREDTRACK_BENCH_DB=both adds PostgreSQL). Exit status non-zero on any miss.
set -eu
cd "$(dirname "$0")/.."
exec python bench/full_scale.py --smoke --db "${CREDTRACK_BENCH_DB:-sqlite}" "$@"
