"""The dashboard's numbers, drill-down lists, daily report and pages, checked
against counts computed directly from the events of a generated data set."""
from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import Session

from credential_track import clock
from credential_track.db import write_session
from credential_track.models import Credential, Event
from credential_track.services import queries
from credential_track.services.dashboard import data, lists, report, summary
from credential_track.services.demo import build_demo
from credential_track.settings import Settings

from .factories import do_scan

# 20:00 in Shanghai on 10 November: every demo event falls on or before that day
DEMO_NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DEMO_DAY = date(2026, 11, 10)


@pytest.fixture
def demo(engine):
    build_demo(engine, credentials=400, seed=7, now=DEMO_NOW)
    return engine


def _events(engine) -> list:
    with Session(engine) as s:
        return s.execute(select(Event.id, Event.credential_id, Event.action, Event.result, Event.from_status,
                                Event.to_status, Event.at).order_by(Event.id)).all()


def _items(engine) -> dict[int, Credential]:
    with Session(engine) as s:
        return {c.id: c for c in s.execute(select(Credential)).scalars()}


def _status_from_events(events) -> dict[int, str]:
    """Each item's status: the target of its last accepted status change."""
    status = {}
    for ev in events:
        if ev.credential_id and ev.result == "ok" and ev.to_status and ev.from_status != ev.to_status:
            status[ev.credential_id] = ev.to_status
    return status


def _nearest_rank(values: list[int], q: float) -> int:
    values = sorted(values)
    return values[max(1, math.ceil(q * len(values))) - 1]


def test_dashboard_numbers_equal_counts_computed_from_the_events(demo, db):
    engine = demo
    with write_session(engine) as s:
        registered = s.execute(select(Credential.credential_no).where(
            Credential.status == "registered", Credential.hold == False, Credential.revoked == False)  # noqa: E712
            .order_by(Credential.id).limit(5)).scalars().all()
    for code in registered:
        do_scan(engine, code, "handover", "WS-01")
        do_scan(engine, code, "handover", "WS-01")  # refused
    # folded in small chunks, as new events trickle in
    assert summary.refresh(engine, chunk=997) == len(_events(engine))
    now = datetime.now(UTC)
    d = data.dashboard(db, now=now)

    events, items = _events(engine), _items(engine)
    status = _status_from_events(events)
    assert d["by_status"] == dict(Counter(status.values()))
    assert d["by_status"] == queries.stats(db)["by_status"]  # the status cache agrees
    assert d["total"] == len(items)

    def breakdown(attr):
        acc = defaultdict(lambda: [0, 0])
        for cid, st in status.items():
            acc[getattr(items[cid], attr)][0] += 1
            acc[getattr(items[cid], attr)][1] += st == "delivered"
        return {k: tuple(v) for k, v in acc.items()}

    for key, attr in (("by_route", "route"), ("by_type", "credential_type"), ("by_province", "province")):
        assert {r["key"]: (r["total"], r["delivered"]) for r in d[key]} == breakdown(attr)

    per_day = defaultdict(Counter)
    first_day = (now - timedelta(days=14)).replace(minute=0, second=0, microsecond=0)
    for ev in events:
        if ev.credential_id and ev.result == "ok" and ev.action in data.STAGES and ev.at >= first_day:
            per_day[clock.local_day(ev.at).isoformat()][ev.action] += 1
    assert {x["day"]: {k: v for k, v in x.items() if k != "day"} for x in d["throughput_daily"] if len(x) > 1} \
        == {k: dict(v) for k, v in per_day.items()}
    assert sum(h.get("handover", 0) for h in d["throughput_hourly"]) == len(registered)

    handed = {ev.credential_id: ev.at for ev in events if ev.action == "handover" and ev.result == "ok"}
    hours = defaultdict(list)
    for ev in events:
        if ev.action == "delivered" and ev.result == "ok":
            h = int((ev.at - handed[ev.credential_id]).total_seconds() // 3600)
            hours[items[ev.credential_id].route].append(h)
            hours["*"].append(h)
    assert {r["route"]: (r["delivered"], r["median_h"], r["p90_h"]) for r in d["lead_time"]} == \
        {k: (len(v), _nearest_rank(v, .5), _nearest_rank(v, .9)) for k, v in hours.items()}

    ex = d["exceptions"]
    assert ex["delivery_failed"] == sum(1 for s in status.values() if s == "delivery_failed")
    assert ex["returned"] == sum(1 for s in status.values() if s == "returned")
    assert ex["held"] == sum(1 for c in items.values() if c.hold)
    assert ex["revoked"] == sum(1 for c in items.values() if c.revoked)
    # stuck: the outreach rule's hours per status, neither held nor revoked
    limits = Settings().outreach_stuck_hours
    assert d["stuck_hours_by_status"] == limits and d["stuck_hours"] == min(limits.values())
    assert ex["stuck"] == sum(1 for cid, c in items.items()
                              if c.status in limits and not c.hold and not c.revoked
                              and c.updated_at < now - timedelta(hours=limits[c.status])) > 0

    # a full rebuild gives the same numbers as the incremental folds
    summary.rebuild(engine)
    db.rollback()  # a new read transaction sees the new events
    again = data.dashboard(db, now=now)
    assert {k: again[k] for k in ("by_status", "by_route", "by_type", "lead_time", "throughput_daily")} == \
        {k: d[k] for k in ("by_status", "by_route", "by_type", "lead_time", "throughput_daily")}


def test_past_day_report_equals_the_dashboard_as_it_was_that_day(demo, db, monkeypatch):
    engine = demo
    with Session(engine) as s:
        registered = s.execute(select(Credential.credential_no).where(
            Credential.status == "registered", Credential.hold == False, Credential.revoked == False)  # noqa: E712
            .order_by(Credential.id).limit(12)).scalars().all()
    # scans late on the day of the report (21:30 in Shanghai)...
    late = DEMO_NOW + timedelta(hours=1, minutes=30)
    monkeypatch.setattr("credential_track.services.scan.model.utcnow", lambda: late)
    for code in registered[:6]:
        do_scan(engine, code, "handover", "WS-01")
    refused = do_scan(engine, registered[0], "handover", "WS-01")
    assert refused.reason == "already_done"
    monkeypatch.undo()
    summary.refresh(engine)
    then = data.dashboard(db, now=late)
    # ...and the next days go on: more scans after the day of the report
    for code in registered[6:]:
        do_scan(engine, code, "handover", "WS-01")
    summary.refresh(engine)
    db.rollback()  # a new read transaction sees the new events
    assert data.dashboard(db)["by_status"] != then["by_status"]

    rep = report.report_data(db, DEMO_DAY)
    for key in ("total", "by_status", "funnel", "delivered", "share_delivered", "by_route", "by_type",
                "lead_time"):
        assert rep[key] == then[key], key
    for key in ("delivery_failed", "returned"):
        assert rep["exceptions"][key] == then["exceptions"][key]
    that_day = [x for x in then["throughput_daily"] if x["day"] == DEMO_DAY.isoformat()][0]
    assert rep["moves"] == {s: that_day.get(s, 0) for s in data.STAGES}
    assert rep["moves"]["handover"] >= 6
    assert [(kind, code) for _at, kind, code, *_ in rep["appendix"] if kind == "already_done"] == \
        [("already_done", registered[0])]


def test_report_pdf_contains_the_chinese_headings_and_the_numbers(demo, db, tmp_path, runner):
    summary.refresh(demo)
    rep = report.report_data(db, DEMO_DAY)
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "daily", "--date", DEMO_DAY.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    for heading in ("证件寄递每日反馈报告", "当日各环节处理量", "累计进度", "按路向", "异常情况", "交接至妥投时长",
                    report.HEADINGS["service"], "附录"):
        assert heading in text, heading
    assert f"{rep['total']:,}" in text and f"{rep['delivered']:,}" in text
    assert f"{rep['moves']['delivered']:,}" in text
    fonts = [f.get_object() for f in PdfReader(out).pages[0]["/Resources"]["/Font"].values()]
    embedded = [f for f in fonts if "/FontFile2" in f.get("/FontDescriptor", {})]
    assert embedded, "the CJK TrueType font is embedded"
    from openpyxl import load_workbook

    wb = load_workbook(out.with_suffix(".xlsx"), read_only=True)
    rows = {r[1]: r[2] for r in wb["funnel"].iter_rows(min_row=2, values_only=True)}
    assert rows == {f["status"]: f["n"] for f in rep["funnel"]}
    assert next(wb["funnel"].iter_rows(min_row=2, values_only=True))[0] == "已登记 registered"
    wb.close()


def test_report_command_refuses_a_bad_date(runner, tmp_path):
    result = runner.invoke(args=["report", "daily", "--date", "10/11/2026", "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code != 0 and "--date" in result.output


def test_drill_down_lists_match_their_counts(demo, db):
    summary.refresh(demo)
    now = datetime.now(UTC)
    d = data.dashboard(db, now=now)
    for key in ("missing_at_handover", "held", "revoked", "intercept", "delivery_failed", "returned", "stuck"):
        f = lists.ItemFilter(exception=key)
        assert lists.count_items(db, f, now=now) == d["exceptions"][key], key
    for st, n in d["by_status"].items():
        assert lists.count_items(db, lists.ItemFilter(status=st)) == n
    for r in d["by_route"][:3]:
        f = lists.ItemFilter(route=r["key"], status="delivered")
        assert lists.count_items(db, f) == r["delivered"]
        seen, page = [], 1
        while True:
            p = lists.item_page(db, f, page=page, per_page=7, sort="updated", desc=True)
            seen += [it["credential_no"] for it in p["items"]]
            if page >= p["pages"]:
                break
            page += 1
        assert len(seen) == len(set(seen)) == r["delivered"]
        rows = list(csv.reader(io.StringIO("".join(lists.csv_stream(lists.iter_items(db, f))).lstrip("\ufeff"))))
        assert rows[0] == lists.COLUMNS and len(rows) - 1 == r["delivered"]


def test_drill_down_by_station_and_date_lists_the_items_scanned_there(engine, db):
    from .factories import make_credential

    with write_session(engine) as s:
        codes = [make_credential(s).credential_no for _ in range(3)]
    for code in codes[:2]:
        do_scan(engine, code, "handover", "WS-01")
    today = clock.today()
    f = lists.ItemFilter(station="WS-01", date=today)
    page = lists.item_page(db, f)
    assert page["total"] == 2 and {i["credential_no"] for i in page["items"]} == set(codes[:2])
    assert lists.count_items(db, lists.ItemFilter(station="WS-01", date=today - timedelta(days=1))) == 0


def test_item_filter_names_the_bad_field():
    from credential_track.services.errors import ServiceError

    for args, field in (({"status": "lost"}, "status"), ({"batch": "x"}, "batch"), ({"date": "2026-13-01"}, "date"),
                        ({"exception": "nope"}, "exception")):
        with pytest.raises(ServiceError) as exc:
            lists.ItemFilter.from_args(args)
        assert exc.value.field == field


def test_organizer_sees_dashboard_lists_exports_and_report(demo, client, auth):
    auth.login("organizer")
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "/dashboard/items?exception=delivery_failed" in html
    assert client.get("/dashboard/panel").status_code == 200
    listing = client.get("/dashboard/items?status=delivered&sort=route&dir=desc")
    assert listing.status_code == 200
    csv_resp = client.get("/dashboard/items.csv?status=delivered")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    n_delivered = client.get("/api/v1/dashboard").get_json()["by_status"]["delivered"]
    assert len(csv_resp.get_data(as_text=True).strip().splitlines()) == n_delivered + 1
    xlsx = client.get("/dashboard/items.xlsx?route=BJ")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    xlsx.close()  # the server closes the temporary file when the response ends
    pdf = client.get(f"/dashboard/report.pdf?date={DEMO_DAY.isoformat()}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/dashboard/items?sort=nope").status_code == 400
    with Session(demo) as s:
        details = s.execute(select(Event.details).where(Event.action == "export").order_by(Event.id)).scalars()
        kinds = [json.loads(d)["kind"] for d in details]
    assert kinds == ["dashboard_items_csv", "dashboard_items_xlsx", "daily_report_pdf"]  # the audit log
    assert client.get("/dashboard/stations").status_code == 403


def test_supervisor_station_view_shows_scans_refusals_and_people(engine, client, auth):
    from credential_track.services import scan as scans

    from .factories import make_credential, nonce

    with write_session(engine) as s:
        code = make_credential(s).credential_no
    auth.login("supervisor")
    with Session(engine) as s:
        from credential_track.models import User
        uid = s.execute(select(User.id).where(User.username == "test-supervisor")).scalar_one()
    for _ in range(2):
        with write_session(engine) as s:
            scans.scan(s, scans.ScanRequest(code=code, action="handover", station="WS-01", nonce=nonce(),
                                            user_id=uid))
    page = client.get("/dashboard/stations")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the refusal reason in words, not its code
    assert "WS-01" in html and "已处理过" in html and "already_done" not in html and "test-supervisor" in html
    from credential_track.services.dashboard import staff

    with Session(engine) as s:
        v = staff.station_view(s)
    assert v["refusals"] == {"already_done": 1}
    assert [st["total"] for st in v["stations"] if st["station"] == "WS-01"] == [2]
    assert [(p["station"], p["scans"], p["current"]) for p in v["people"]] == [("WS-01", 2, True)]


def test_throughput_bars_link_to_the_items_moved_that_day(demo, db):
    summary.refresh(demo)
    busiest = max(((x["day"], s, x.get(s, 0)) for x in data.dashboard(db, now=DEMO_NOW)["throughput_daily"]
                   for s in ("seal", "capture")), key=lambda t: t[2])
    day, stage, n = busiest
    assert n > 0
    f = lists.ItemFilter.from_args({"action": stage, "date": day})
    # one accepted seal/capture per item: the items behind a bar are as many as the bar says
    assert lists.count_items(db, f) == n


def test_seal_mismatch_lists_the_items_in_the_bag_that_came_with_a_wrong_seal(engine, db):
    from .factories import make_credential, make_trip, open_bag

    with write_session(engine) as s:
        codes = [make_credential(s).credential_no for _ in range(2)]
    route = _items(engine)[1].route
    bag = open_bag(engine, route)
    for code in codes:
        for action, station in (("handover", "WS-01"), ("capture", "WS-03"), ("accept", "WS-05")):
            do_scan(engine, code, action, station)
        assert do_scan(engine, code, "bag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-0001").result == "ok"
    trip = make_trip(engine)
    assert do_scan(engine, bag, "load", "WS-09", trip=trip).result == "ok"
    from credential_track.services import dispatch

    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    out = do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-9999")
    assert (out.result, out.reason) == ("rejected", "seal_mismatch")
    summary.refresh(engine)
    d = data.dashboard(db)
    assert d["exceptions"]["seal_mismatch"] == 2
    page = lists.item_page(db, lists.ItemFilter(exception="seal_mismatch"))
    assert page["total"] == 2 and {i["credential_no"] for i in page["items"]} == set(codes)


def test_the_dashboard_and_the_report_of_the_same_moment_agree_on_every_exception(demo, db):
    summary.refresh(demo)
    now = DEMO_NOW
    d = data.dashboard(db, now=now)
    assert d["exceptions"]["held"] > 0 and d["exceptions"]["revoked"] > 0
    # a hold replaced by another (self-pickup does that) is still one held item
    from credential_track.services import holds

    with write_session(demo) as s:
        item = s.exec(select(Credential).where(Credential.hold == True).limit(1)).scalars().one()  # noqa: E712
        ev = holds.put_on_hold(s, item, reason="本人自取", user_id=None, station=None, replace=True)
        ev.at = DEMO_NOW - timedelta(minutes=5)  # before the moment compared
    summary.refresh(demo)
    db.rollback()
    d = data.dashboard(db, now=now)
    rep = report.report_data(db, DEMO_DAY)  # no later day: the same moment
    for key in rep["exceptions"]:
        assert rep["exceptions"][key] == d["exceptions"][key], key
    for key in ("held", "revoked"):  # and the drill-down list holds as many
        assert lists.count_items(db, lists.ItemFilter(exception=key), now=now) == d["exceptions"][key], key


def test_missing_at_handover_counts_closed_batches_only_not_an_open_batchs_backlog(engine, db):
    from credential_track.models import HandoverBatch
    from credential_track.services import events, handover

    from .factories import make_credential

    with write_session(engine) as s:
        batch = HandoverBatch(name="开放批次", expected=3)
        s.add(batch)
        s.flush()
        batch_id = batch.id
        items = [make_credential(s, batch_id=batch_id) for _ in range(3)]
        for it in items:  # imported, as the manifest import records them
            events.record(s, action="import", credential_id=it.id, to_status="registered", code=it.credential_no)
        nos = [it.credential_no for it in items]
    do_scan(engine, nos[0], "handover", "WS-01", batch=str(batch_id))  # scanning in has begun
    summary.refresh(engine)
    d = data.dashboard(db)
    assert d["exceptions"]["missing_at_handover"] == 0  # two still to scan: the backlog
    assert lists.count_items(db, lists.ItemFilter(exception="missing_at_handover")) == 0
    with write_session(engine) as s:
        handover.close_batch(s, batch_id)
    summary.refresh(engine)
    db.rollback()
    assert data.dashboard(db)["exceptions"]["missing_at_handover"] == 2
    assert lists.count_items(db, lists.ItemFilter(exception="missing_at_handover")) == 2
