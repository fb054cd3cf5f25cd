"""Shared pieces of the benchmark scripts: databases, servers, HTTP clients,
figures, and the one-JSON-line result convention (see bench/README.md)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SRC = REPO / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# --------------------------------------------------------------- environment

def cli_env(db_url: str, instance: Path) -> dict:
    """Environment for `python -m credential_track …` on this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["DATABASE_URL"] = db_url
    env["CREDTRACK_INSTANCE_PATH"] = str(instance)
    return env


def credtrack(args: list[str], db_url: str, instance: Path, check: bool = True,
              quiet: bool = False) -> subprocess.CompletedProcess:
    """Run one `credtrack` command from this checkout."""
    res = subprocess.run([sys.executable, "-m", "credential_track", *args], env=cli_env(db_url, instance),
                         capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit(f"credtrack {' '.join(args)} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    if not quiet and res.stdout.strip():
        print(res.stdout.strip().splitlines()[-2 if len(res.stdout.strip().splitlines()) > 1 else -1])
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_cpu_seconds() -> float:
    """CPU time (user + system) of this process so far: the load clients."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def database(kind: str, db_url: str | None = None, workdir: Path | None = None) -> Iterator[tuple[str, bool]]:
    """(url, created): the given URL as it is, or a fresh database of `kind`
    (sqlite file in `workdir`, or a PostgreSQL database created here and
    dropped on exit)."""
    if db_url:
        yield db_url, False
        return
    if kind == "sqlite":
        path = (workdir or Path(tempfile.mkdtemp(prefix="credtrack-bench-"))) / "credtrack.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        yield f"sqlite:///{path}", True
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("CREDTRACK_BENCH_PG", PG_DEFAULT)
    name = f"credtrack_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False), True
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backend_of(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


def count_credentials(db_url: str) -> int:
    from sqlalchemy import inspect, text

    from credential_track.db import make_engine

    engine = make_engine(db_url)
    try:
        if "credential" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM credential")).scalar()
    finally:
        engine.dispose()


def ensure_demo(db_url: str, instance: Path, credentials: int) -> float:
    """Build the demo data set unless the database already has items;
    returns the seconds it took (0 when it was there)."""
    if count_credentials(db_url) > 0:
        return 0.0
    started = time.monotonic()
    credtrack(["demo", "--credentials", str(credentials)], db_url, instance)
    return time.monotonic() - started


# ------------------------------------------------------------------- servers

class Server:
    """A server process group we started (gunicorn master and workers)."""

    def __init__(self, argv: list[str], env: dict, port: int, log: Path):
        self.argv, self.env, self.port, self.log = argv, env, port, log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=str(REPO))
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited ({self.proc.returncode}); see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/stations")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"server did not answer on port {self.port} within {timeout}s; see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the live processes of the
        server's process group (Linux /proc; 0.0 elsewhere)."""
        if not self.proc:
            return 0.0
        total = 0
        for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # process group id
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and every worker."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def credtrack_server(db_url: str, instance: Path, port: int, workers: int, threads: int | None,
                     log: Path) -> Server:
    argv = [sys.executable, "-m", "credential_track", "serve", "--port", str(port), "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    return Server(argv, cli_env(db_url, instance), port, log)


def baseline_server(db_url: str, instance: Path, port: int, workers: int, threads: int | None,
                    log: Path) -> Server:
    argv = [sys.executable, str(BENCH_DIR / "baseline_app.py"), "--db-url", db_url, "--port", str(port),
            "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    return Server(argv, cli_env(db_url, instance), port, log)


# --------------------------------------------------------------- HTTP client

class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 with JSON in and out.
    Connection errors are retried with the identical request until
    `retry_until` (a monotonic deadline), so a restarted server gets the
    same nonce again."""

    def __init__(self, port: int, token: str | None = None, retry_for: float = 0.0):
        self.port, self.token, self.retry_for = port, token, retry_for
        self.conn: http.client.HTTPConnection | None = None
        self.retries = 0

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.conn

    def post(self, path: str, body: dict, token: str | None = None) -> tuple[int, dict, float]:
        """(status, json, seconds) of one POST; retried on connection loss."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        tok = token or self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        deadline = time.monotonic() + self.retry_for
        while True:
            started = time.perf_counter()
            reused = self.conn is not None
            try:
                conn = self._connect()
                conn.request("POST", path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                elapsed = time.perf_counter() - started
                try:
                    payload = json.loads(raw) if raw else {}
                except ValueError:
                    payload = {"raw": raw[:200].decode(errors="replace")}
                return resp.status, payload, elapsed
            except (OSError, http.client.HTTPException):
                self.close()
                if reused:
                    # the server closed an idle keep-alive connection: send
                    # again on a new one (scans are idempotent by nonce)
                    continue
                if time.monotonic() >= deadline:
                    raise
                self.retries += 1
                time.sleep(0.05)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ------------------------------------------------------------------- figures

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def result_line(name: str, metrics: dict, targets_met: bool, **extra) -> str:
    """The final line of every benchmark: one JSON object (bench/README.md)."""
    return json.dumps({"name": name, "metrics": metrics, "targets_met": bool(targets_met), **extra},
                      ensure_ascii=False)
