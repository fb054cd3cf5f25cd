"""Slow clients: does a legitimate client still get answers while 200 TCP
connections sit open and silent?

Starts `credtrack serve` (gunicorn, gthread, the settings of
`cli.gunicorn_settings`) on a fresh SQLite database, opens --silent
connections that send nothing (or, with --trickle, one header byte every
few seconds, as a slowloris client does), and sends --requests requests of
a legitimate client one after another (GET /login, 5 s timeout each). Then
the same behind nginx configured with deploy/nginx-credtrack.conf (the
configuration docs/OPERATIONS.md shows), when nginx is installed. Prints
each success rate; the target is that every legitimate request is answered
behind nginx.

    python bench/slow_clients.py                 # 200 silent connections, 40 requests
    python bench/slow_clients.py --smoke         # 50 silent connections, 10 requests
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from common import REPO, credtrack, credtrack_server, free_port  # noqa: E402

NGINX_CONF = REPO / "deploy" / "nginx-credtrack.conf"


def nginx_config(workdir: Path, listen: int, upstream: int) -> Path:
    """A complete nginx.conf for this run: the shipped server block, with
    its ports changed, inside a main block that keeps everything in `workdir`."""
    site = NGINX_CONF.read_text(encoding="utf-8")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("    listen 80;", f"    listen 127.0.0.1:{listen};")
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / d).mkdir(parents=True, exist_ok=True)
        os.chmod(workdir / d, 0o777)
    conf = workdir / "nginx.conf"
    conf.write_text(f"""worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
{site}
}}
""", encoding="utf-8")
    return conf


class Silent:
    """`n` connections that connect and then say nothing (or trickle)."""

    def __init__(self, port: int, n: int, trickle: bool):
        self.socks: list[socket.socket] = []
        self.stop = threading.Event()
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            self.socks.append(s)
        if trickle:
            threading.Thread(target=self._trickle, daemon=True).start()

    def _trickle(self):
        payload = b"GET /login HTTP/1.1\r\nHost: x\r\nX-a: " + b"a" * 10_000
        i = 0
        while not self.stop.wait(2.0):
            for s in self.socks:
                try:
                    s.send(payload[i:i + 1])
                except OSError:
                    pass
            i += 1

    def close(self):
        self.stop.set()
        for s in self.socks:
            s.close()


def legitimate(port: int, n: int, timeout: float) -> tuple[int, list[float]]:
    ok, times = 0, []
    for _ in range(n):
        t0 = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("GET", "/login", headers={"Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                ok += 1
                times.append(time.monotonic() - t0)
        except OSError:
            pass
    return ok, times


def measure(port: int, silent: int, requests: int, trickle: bool, timeout: float) -> dict:
    hold = Silent(port, silent, trickle)
    try:
        time.sleep(1.0)
        ok, times = legitimate(port, requests, timeout)
    finally:
        hold.close()
    return {"ok": ok, "requests": requests, "rate": ok / requests,
            "p50_ms": round(1000 * sorted(times)[len(times) // 2], 1) if times else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--silent", type=int, default=200)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds a legitimate request may take")
    ap.add_argument("--trickle", action="store_true", help="the silent clients send a header byte every 2 s")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--nginx-only", action="store_true", help="skip the direct measurement (its failures wait out "
                                                                 "the timeout)")
    ap.add_argument("--scale", type=int, default=None, help="(bench convention) the number of silent connections")
    ap.add_argument("--db-url", default=None, help="(bench convention) ignored: a fresh database is used")
    args = ap.parse_args()
    if args.scale:
        args.silent = args.scale if args.scale <= 1000 else 200
    if args.smoke:
        args.silent, args.requests, args.timeout = min(args.silent, 50), 10, 2.0

    work = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    db_url = f"sqlite:///{work / 'credtrack.db'}"
    credtrack(["init"], db_url, work, quiet=True)
    port = free_port()
    server = credtrack_server(db_url, work, port, args.workers, args.threads, work / "server.log").start()
    results, nginx = {}, None
    try:
        if not args.nginx_only:
            results["direct"] = measure(port, args.silent, args.requests, args.trickle, args.timeout)
        if shutil.which("nginx"):
            listen = free_port()
            conf = nginx_config(work / "nginx", listen, port)
            nginx = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            results["nginx"] = measure(listen, args.silent, args.requests, args.trickle, args.timeout)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        server.stop()
    load = os.getloadavg()[0]
    kind = "trickling" if args.trickle else "silent"
    for name, r in results.items():
        print(f"{name:>6}: {r['ok']}/{r['requests']} legitimate requests answered with {args.silent} {kind} "
              f"connections open (p50 {r['p50_ms']} ms)")
    if "nginx" not in results:
        print("nginx is not installed (Debian: apt-get install nginx): only the direct figure")
    ok = "nginx" in results and results["nginx"]["rate"] == 1.0
    metrics = {"silent": args.silent, "trickle": int(args.trickle), "requests": args.requests,
               "direct_rate": round(results["direct"]["rate"], 3) if "direct" in results else -1,
               "nginx_rate": round(results["nginx"]["rate"], 3) if "nginx" in results else -1,
               "workers": args.workers, "threads": args.threads, "load_avg": round(load, 2)}
    print(json.dumps({"name": "slow_clients", "metrics": metrics, "targets_met": ok}))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
