"""How fast the station scan loop takes a burst of scans, end to end.

Two figures in the same run, on fresh SQLite databases:

* raw: the scan API called in-process (Flask test client), one scan after
  the other: the server's own cost per scan;
* loop: the same number of scans typed by keyboard into the acceptance page
  in headless Chromium against a real HTTP server (werkzeug, threaded), until
  every scan has come back.

Prints scans per second for both and their ratio; exits non-zero when the
loop is slower than --target scans/s (a hand-held scanner does about 1 a
second; a burst must never back up).

    python bench/stations_scan_loop_bench.py --count 200
    python bench/stations_scan_loop_bench.py --smoke      # CI: 20 scans, seconds

In the benchmark harness (bench/full_scale.py) --scale is accepted and caps
nothing beyond --count (a burst at a station is hundreds of scans, not the
whole data set), and --db-url is accepted but not used: the loop needs its
own fresh databases and a server it starts itself. The last line is the
harness's JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from credential_track import create_app, migrate  # noqa: E402
from credential_track.db import make_engine, write_session  # noqa: E402
from credential_track.domain.codes import make_s10  # noqa: E402
from credential_track.models import Credential  # noqa: E402
from credential_track.services import accounts  # noqa: E402
from credential_track.services.seed import load_seed  # noqa: E402

PASSWORD = "bench-password-2026"
CHROMIUM = os.environ.get("CREDTRACK_CHROMIUM", "/usr/bin/chromium")


def build_db(path: Path, count: int) -> list[str]:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    codes = [make_s10("EE", 50000000 + i) for i in range(count)]
    with write_session(engine) as s:
        load_seed(s)
        accounts.create_user(s, username="bench", password=PASSWORD, role="operator")
        for i, code in enumerate(codes):
            s.add(Credential(credential_no=f"B{i:07d}", credential_type="exhibitor", holder_name="张伟",
                             recipient_name="张伟", recipient_phone="13812345678", phone_last4="5678",
                             province="上海市", city="上海市", district="浦东新区", address="世纪大道100号",
                             route="SH-E", status="captured", waybill_no=code))
    engine.dispose()
    return codes


def app_for(path: Path):
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench"})


def raw(path: Path, codes: list[str]) -> float:
    app = app_for(path)
    client = app.test_client()
    import re
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/station/").get_data(as_text=True)).group(1)
    t0 = time.perf_counter()
    for i, code in enumerate(codes):
        r = client.post("/api/v1/scans", json={"code": code, "action": "accept", "station": "WS-06",
                                               "nonce": f"raw-{i}"}, headers={"X-CSRFToken": token})
        assert r.json["result"] == "ok", r.json
    return time.perf_counter() - t0


class _Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_request(self, *a, **k):
        pass


def loop(path: Path, codes: list[str], fresh: list[str]) -> tuple[float, float, float]:
    from playwright.sync_api import sync_playwright

    app = app_for(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(locale="en-US")
            page.goto(url + "/login")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(lambda u: "/login" not in u)
            page.goto(url + "/station/?change=1")
            page.click("#pick-WS-06")
            page.wait_for_url("**/station/home")
            page.goto(url + "/station/scan?action=accept")
            t0 = time.perf_counter()
            for code in codes:
                page.keyboard.type(code)
                page.keyboard.press("Enter")
            typed = time.perf_counter() - t0
            page.wait_for_function(
                f"() => document.getElementById('count-ok').textContent === '{len(codes)}' && "
                "document.getElementById('count-pending').textContent === '0'", timeout=600_000)
            total = time.perf_counter() - t0
            # the same again on fresh items, all submitted in one tick: how
            # fast the loop drains its queue when typing is not the limit
            page.goto(url + "/station/scan?action=accept")
            t1 = time.perf_counter()
            page.evaluate("""(codes) => {
                const input = document.getElementById('scan-input');
                const form = document.getElementById('scan-form');
                for (const c of codes) { input.value = c; form.requestSubmit(); }
            }""", fresh)
            page.wait_for_function(
                f"() => document.getElementById('count-ok').textContent === '{2 * len(codes)}' && "
                "document.getElementById('count-pending').textContent === '0'", timeout=600_000)
            drain = time.perf_counter() - t1
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return typed, total, drain


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200, help="scans in the burst (default 200)")
    ap.add_argument("--scale", type=int, default=None, help="harness size; the burst is min(--scale, --count)")
    ap.add_argument("--smoke", action="store_true", help="CI run: a burst of 20")
    ap.add_argument("--db-url", default=None, help="accepted for the harness, not used (see above)")
    ap.add_argument("--target", type=float, default=5.0, help="minimum scans/s through the browser loop")
    args = ap.parse_args(argv)
    if args.scale is not None:
        args.count = min(args.count, args.scale)
    if args.smoke:
        args.count = min(args.count, 20)
    if args.count < 1:
        ap.error("--count must be at least 1")
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (set CREDTRACK_CHROMIUM)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "raw.db", Path(tmp) / "loop.db"
        codes = build_db(a, args.count)
        both = build_db(b, 2 * args.count)
        raw_s = raw(a, codes)
        typed_s, loop_s, drain_s = loop(b, both[:args.count], both[args.count:])
    n = args.count
    print(f"scans: {n}")
    print(f"raw API, in-process, sequential: {raw_s:.2f} s, {n / raw_s:.1f} scans/s, {raw_s / n * 1000:.1f} ms/scan")
    print(f"browser loop, typed by keyboard: typing {typed_s:.2f} s; all answered after {loop_s:.2f} s, "
          f"{n / loop_s:.1f} scans/s, {loop_s / n * 1000:.1f} ms/scan")
    print(f"backlog after the last keystroke: {loop_s - typed_s:.2f} s")
    print(f"burst submitted in one tick: drained in {drain_s:.2f} s, {n / drain_s:.1f} scans/s, "
          f"{drain_s / n * 1000:.1f} ms/scan, ratio to raw {drain_s / raw_s:.2f}")
    print(f"ratio loop/raw time: {loop_s / raw_s:.2f}")
    met = n / drain_s >= args.target and n / loop_s >= args.target
    if not met:
        print(f"MISSED: {min(n / drain_s, n / loop_s):.1f} scans/s < target {args.target}", file=sys.stderr)
    print(json.dumps({"name": "stations_scan_loop", "metrics": {
        "scans": n, "raw_scans_per_s": round(n / raw_s, 1), "typed_scans_per_s": round(n / loop_s, 1),
        "backlog_after_typing_s": round(loop_s - typed_s, 2), "drain_scans_per_s": round(n / drain_s, 1),
        "ratio_drain_to_raw": round(drain_s / raw_s, 2), "ratio_typed_to_raw": round(loop_s / raw_s, 2)},
        "targets_met": met}))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
