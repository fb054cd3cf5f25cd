"""Dashboard benchmark: summary folding, dashboard data, daily report, change feed.

Builds a demo data set (``credtrack demo``'s generator) in a fresh database and
measures, in the same run:

* the dashboard's data from the summary tables vs. the same figures as
  indexed aggregates over the credential and event tables (the raw baseline);
* folding events into the summaries: the whole history once, then the
  events of N new scans; and, for comparison, the cost per scan of keeping a
  counter row up to date in the scan's own transaction;
* the daily report (data + PDF) for the busiest past day;
* paging through every event with the change feed (service), and through
  the first pages over HTTP (JSON).

Targets: dashboard data < 50 ms and the daily report (data + PDF) < 3 s at
500,000 items (the stricter targets of 2026-12-02; 100 ms and 10 s before),
feed > 20,000 events/s. Exits 1 when one is missed; the last line is the
JSON of bench/README.md. ``--credentials 3000`` is a smoke run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import common  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from credential_track import migrate  # noqa: E402
from credential_track.db import make_engine, write_session  # noqa: E402
from credential_track.models import Credential, DashFlow, DashItems, Event, User  # noqa: E402
from credential_track.services import accounts  # noqa: E402
from credential_track.services import scan as scans
from credential_track.services.dashboard import data, feed, report, summary  # noqa: E402
from credential_track.services.dashboard.summary import _upsert  # noqa: E402
from credential_track.services.demo import build_demo  # noqa: E402
from credential_track.services.seed import load_seed  # noqa: E402

TARGET_DASHBOARD_MS = 50
TARGET_REPORT_S = 3
TARGET_FEED_RATE = 20_000


def timed(fn, repeat: int = 1):
    """(median seconds, last result) over `repeat` runs."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def indexed_dashboard(session: Session) -> dict:
    """The dashboard's main figures straight from the tables (no summaries)."""
    c = Credential
    out = {}
    for name, cols in (("by_status", [c.status]), ("by_route", [c.route, c.status]),
                       ("by_province", [c.province, c.status]), ("by_type", [c.credential_type, c.status])):
        out[name] = session.execute(select(*cols, func.count()).group_by(*cols)).all()
    since = datetime.fromtimestamp(time.time() - 14 * 86400, UTC)
    out["throughput"] = session.execute(
        select(Event.action, func.count()).where(Event.at >= since)
        .where(Event.result == "ok").group_by(Event.action)).all()
    return out


def scan_batch(engine, codes, *, counter: bool) -> float:
    """Handover scans of `codes`; with `counter`, also keep a counter row right
    in the scan's transaction (the alternative to folding). Seconds per scan."""
    t = time.perf_counter()
    for code in codes:
        with write_session(engine) as s:
            out = scans.scan(s, scans.ScanRequest(code=code, action="handover", station="WS-01",
                                                  nonce=uuid.uuid4().hex))
            if counter and out.result == "ok":
                item = s.execute(select(Credential.province, Credential.route, Credential.credential_type)
                                 .where(Credential.credential_no == code)).one()
                key = {"province": item[0], "route": item[1], "credential_type": item[2]}
                _upsert(s, DashItems, ["province", "route", "credential_type", "status"],
                        [{**key, "status": "registered", "n": -1}, {**key, "status": "received", "n": 1}])
    return (time.perf_counter() - t) / max(1, len(codes))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--credentials", "--scale", type=int, default=500_000, help="demo items (default 500,000)")
    ap.add_argument("--database-url", "--db-url", help="the database to use (default: a temporary SQLite file); one that "
                    "holds a demo data set already is reused: no build, the summaries are rebuilt")
    ap.add_argument("--scans", type=int, default=500, help="new scans for the incremental fold (default 500)")
    ap.add_argument("--feed-page", type=int, default=10_000, help="change feed page size (default 10,000)")
    args = ap.parse_args()

    tmp = None
    url = args.database_url
    if not url:
        tmp = tempfile.mkdtemp(prefix="dashbench-")
        url = f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as s:
        existing = s.execute(select(func.count()).select_from(Credential)).scalar()
        n_events = s.execute(select(func.count()).select_from(Event)).scalar()
    if existing:
        print(f"database: {engine.dialect.name}, reusing {existing:,} credentials, {n_events:,} events")
    else:
        print(f"database: {engine.dialect.name}, {args.credentials:,} credentials")
        with write_session(engine) as s:
            load_seed(s)
        t, res = timed(lambda: build_demo(engine, credentials=args.credentials))
        print(f"demo build: {res['events']:,} events in {t:.1f}s")
        n_events = res["events"]
    with write_session(engine) as s:
        if s.execute(select(User.id).where(User.username == "bench")).first() is None:
            accounts.create_user(s, username="bench", password="bench-password-1", role="admin")

    t_fold, folded = timed(lambda: summary.rebuild(engine))
    print(f"fold whole history into summaries: {folded:,} events in {t_fold:.1f}s "
          f"({folded / t_fold:,.0f} events/s)")

    with Session(engine) as s:
        t_first, _ = timed(lambda: data.dashboard(s))
        t_sum, d = timed(lambda: data.dashboard(s), repeat=7)
        s.rollback()
        t_idx, _ = timed(lambda: indexed_dashboard(s), repeat=3)
        s.rollback()
    print(f"dashboard data from summaries: {t_sum * 1000:.1f} ms (median of 7; first call, counting "
          f"'stuck' afresh: {t_first * 1000:.1f} ms)")
    print(f"same figures as indexed aggregates (raw baseline): {t_idx * 1000:.1f} ms (median of 3); "
          f"ratio {t_idx / t_sum:.0f}x")

    with Session(engine) as s:
        codes = s.execute(select(Credential.credential_no).where(Credential.status == "registered")
                          .limit(2 * args.scans)).scalars().all()
    half = len(codes) // 2
    per_plain = scan_batch(engine, codes[:half], counter=False)
    t_inc, n_inc = timed(lambda: summary.refresh(engine))
    per_counter = scan_batch(engine, codes[half:], counter=True)
    print(f"scan alone: {per_plain * 1000:.2f} ms/scan; scan + counter upsert in its transaction: "
          f"{per_counter * 1000:.2f} ms/scan ({(per_counter / per_plain - 1) * 100:+.0f}%)")
    print(f"incremental fold of {n_inc:,} new events: {t_inc * 1000:.1f} ms "
          f"({t_inc * 1000 / max(1, n_inc):.3f} ms/event)")
    if existing:
        # the counter upserts above counted their scans twice: a shared demo
        # database gets its summaries right again for whoever reads it next
        summary.rebuild(engine)
    else:
        summary.refresh(engine)

    with Session(engine) as s:
        hours = s.execute(select(DashFlow.hour, DashFlow.n).where(DashFlow.item == 1)).all()
        per_day = Counter()
        for h, n in hours:
            per_day[summary.local_day(h)] += n
        busiest = max(per_day, key=per_day.get)
        day = date(busiest // 10000, busiest // 100 % 100, busiest % 100)

        def make_report():
            rep = report.report_data(s, day)
            return rep, report.build_pdf(rep, organizer="bench")

        t_rep, (rep, pdf) = timed(make_report)
        s.rollback()
    print(f"daily report {day} ({sum(rep['moves'].values()):,} moves, {len(rep['appendix']):,} exception rows): "
          f"{t_rep:.2f}s, {len(pdf) / 1024:.0f} KiB PDF")

    with Session(engine) as s:
        def page_all():
            cursor, n = None, 0
            while True:
                page = feed.changes(s, after=cursor, limit=args.feed_page)
                if not page["events"]:
                    return n
                n += len(page["events"])
                cursor = page["next"]
        t_feed, n_feed = timed(page_all)
        s.rollback()
    rate = n_feed / t_feed
    print(f"change feed (service): {n_feed:,} events in {t_feed:.1f}s = {rate:,.0f} events/s")

    os.environ.setdefault("SECRET_KEY", "bench")
    from credential_track import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        with write_session(engine) as s:
            issued = accounts.create_token(s, username="bench")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issued.secret}"}
    cursor, n_http, t = "", 0, time.perf_counter()
    while n_http < min(n_feed, 200_000):
        body = client.get(f"/api/v1/changes?after={cursor}&limit={args.feed_page}", headers=headers).get_json()
        if not body["events"]:
            break
        n_http += len(body["events"])
        cursor = body["next"]
    t_http = time.perf_counter() - t
    http_rate = n_http / t_http
    print(f"change feed (HTTP, JSON): {n_http:,} events in {t_http:.1f}s = {http_rate:,.0f} events/s")
    t_api, _ = timed(lambda: client.get("/api/v1/dashboard", headers=headers), repeat=5)
    print(f"GET /api/v1/dashboard (refresh check + data + JSON): {t_api * 1000:.1f} ms")
    app.extensions["credtrack_engine"].dispose()
    engine.dispose()
    print(f"events in database: {n_events + n_inc:,}")

    failed = []
    if t_sum * 1000 > TARGET_DASHBOARD_MS:
        failed.append(f"dashboard data {t_sum * 1000:.0f} ms > {TARGET_DASHBOARD_MS} ms")
    if t_rep > TARGET_REPORT_S:
        failed.append(f"report {t_rep:.1f} s > {TARGET_REPORT_S} s")
    if min(rate, http_rate) < TARGET_FEED_RATE:
        failed.append(f"feed {min(rate, http_rate):,.0f} events/s < {TARGET_FEED_RATE:,}")
    print("targets: " + ("all met" if not failed else "MISSED: " + "; ".join(failed)))
    print(common.result_line("dashboard", {
        "backend": engine.dialect.name, "events": n_events + n_inc, "dashboard_ms": round(t_sum * 1000, 1),
        "dashboard_first_ms": round(t_first * 1000, 1), "raw_aggregates_ms": round(t_idx * 1000, 1),
        "ratio_raw": round(t_idx / t_sum, 1), "api_dashboard_ms": round(t_api * 1000, 1),
        "report_s": round(t_rep, 2), "feed_per_s": round(rate), "feed_http_per_s": round(http_rate)}, not failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
