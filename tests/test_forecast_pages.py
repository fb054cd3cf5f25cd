"""The forecast on the demo: the organizer's pages (verdict per route,
what-if side by side, staffing), the list of items at risk and its export,
the expected date on the desk and on the public tracking page, the outreach
rule "will miss opening day", and the demo's history itself."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, timedelta

import pytest
from sqlmodel import Session, func, select

from credential_track import clock
from credential_track.db import write_session
from credential_track.domain import forecast as F
from credential_track.models import Credential, Event, OutreachTask
from credential_track.services import forecast, outreach
from credential_track.services.dashboard import summary
from credential_track.services.demo import build_demo
from credential_track.services.forecast import campaign, verdicts

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _fresh_forecast():
    forecast.forget()
    yield
    forecast.forget()


@pytest.fixture
def demo(engine):
    result = build_demo(engine, credentials=600, seed=3)
    summary.refresh(engine)
    return result


def _current(app, engine):
    with Session(engine) as s:
        return forecast.current(s, app.config)


def test_organizer_sees_the_forecast_with_a_verdict_per_route_and_a_whatif_side_by_side(demo, app, engine, client,
                                                                                        auth):
    auth.login("organizer")
    page = client.get("/dashboard/forecast", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg class="chart burndown"') == len(F.STAGES) + 1
    assert "Routes against opening day" in html and "the demo data set" in html
    v = campaign.view(_current(app, engine))
    assert v["opening"] == demo["opening"]
    worst = v["routes"][0]
    assert worst["verdict"] in ("will_miss", "at_risk") and f"<td>{worst['route']} " in html  # the code beside its name
    assert sum(r["total"] for r in v["routes"]) == 600
    whatif = client.get("/dashboard/forecast?op_stage=capture&op_n=2", headers=EN).get_data(as_text=True)
    assert "With the change" in whatif and "Today’s forecast" in whatif
    alt = campaign.view(campaign.whatif(_current(app, engine), *campaign.parse_whatif(
        {"op_stage": "capture", "op_n": "2"}, _current(app, engine), [r["route"] for r in v["routes"]])))
    assert alt["totals"]["share_expected"] >= v["totals"]["share_expected"]
    assert alt["campaign_end"]["mid"] <= v["campaign_end"]["mid"]
    staffing = client.get("/dashboard/forecast/staffing", headers=EN).get_data(as_text=True)
    assert "WS-03" in staffing and "HL-1" in staffing and "is the bottleneck now" in staffing
    api = client.get("/api/v1/forecast").get_json()
    assert api["totals"] == v["totals"] and api["opening"] == demo["opening"].isoformat()


@pytest.mark.parametrize("args, field", [
    ("op_stage=capture&op_n=many", "op_n"), ("op_stage=lunch", "op_stage"), ("op_stage=capture&op_from=noon",
                                                                             "op_from"),
    ("trip_route=ZZ", "trip_route"), ("op_stage=capture&op_n=0", "op_n"),
])
def test_a_whatif_that_cannot_be_read_is_refused_naming_the_field(demo, client, auth, args, field):
    auth.login("supervisor")
    r = client.get(f"/dashboard/forecast?{args}", headers=EN)
    assert r.status_code == 400 and f"{field}:" in r.get_data(as_text=True)


def test_the_at_risk_list_its_export_and_the_counts_agree(demo, app, engine, client, auth):
    auth.login("organizer")
    v = campaign.view(_current(app, engine))
    at_risk = v["totals"]["at_risk"] + v["totals"]["will_miss"]
    assert at_risk > 0
    html = client.get("/dashboard/forecast/at-risk").get_data(as_text=True)
    assert re.search(r'id="items-total">([\d,]+)<', html).group(1) == f"{at_risk:,}"
    body = client.get("/dashboard/forecast/at-risk.csv").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    # in the reader's words (Chinese by default), the codes beside them
    assert table[0][:6] == ["证件号", "运单号", "证件类型", "证件类型代码", "路向", "路向代码"]
    assert table[0][9:11] == ["开幕日判断", "开幕日判断代码"]
    assert {r[10] for r in table[1:]} <= {"at_risk", "will_miss"} and "exhibitor" not in {r[2] for r in table[1:]}
    assert all(r[4].startswith(r[5] + " ") for r in table[1:])  # ZJ 浙江, not ZJ alone
    rows = [{"credential_no": r[0], "verdict": r[10]} for r in table[1:]]
    assert len(rows) == at_risk
    missing = [r for r in rows if r["verdict"] == "will_miss"]
    assert len(missing) == v["totals"]["will_miss"]
    # every listed item's own expected delivery says the same (its rank in its queue
    # counted by the item, the list's by the SQL window: one order)
    cur = _current(app, engine)
    with Session(engine) as s:
        for r in rows:
            item = s.exec(select(Credential).where(Credential.credential_no == r["credential_no"])).one()
            assert forecast.expected_for(cur, s, item).verdict == r["verdict"], r
    one = missing[0]
    page = client.get(f"/dashboard/item/{one['credential_no']}", headers=EN).get_data(as_text=True)
    assert "will miss opening day" in page and "Timeline" in page
    # type, route and province in words (English here), not as stored codes
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", page))
    assert facts["Type"] not in ("exhibitor", "buyer", "media", "staff", "guest"), facts
    assert re.fullmatch(r"[A-Z]{2}(-[A-Z])? \S.*", facts["Route"]) and not re.search(r"[\u4e00-\u9fff]", facts["Province"])
    with Session(engine) as s:
        kinds = [json.loads(d)["kind"] for d in s.exec(select(Event.details).where(Event.action == "export"))]
    assert kinds == ["forecast_at_risk_csv"]
    assert client.get("/dashboard/forecast/at-risk?verdict=lost").status_code == 400


def test_an_agent_reads_the_expected_date_to_a_caller(demo, engine, client, auth):
    with Session(engine) as s:
        item = s.exec(select(Credential).where(Credential.status == "received", Credential.hold == False,  # noqa: E712
                                               Credential.revoked == False).limit(1)).one()  # noqa: E712
    auth.login("agent")
    html = client.get(f"/desk/item/{item.credential_no}", headers=EN).get_data(as_text=True)
    m = re.search(r"<b>Expected delivery:</b> around ([^,]+, [^,]+ \d+, \d{4}), at the latest", html)
    assert m, html[:2000]
    assert "not a promise" in html


def test_the_public_tracking_page_shows_a_date_not_the_forecasts_workings(demo, engine, client):
    with Session(engine) as s:
        item = s.exec(select(Credential).where(Credential.status == "captured", Credential.hold == False)  # noqa: E712
                      .limit(1)).one()
    page = client.get("/track/", headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    html = client.post("/track/", headers=EN, data={"credential_no": item.credential_no,
                                                    "last4": item.phone_last4, "csrf_token": token}
                       ).get_data(as_text=True)
    assert "Expected delivery" in html and "not a promise" in html
    assert "between" not in html and "opening day" not in html


def test_the_sweep_queues_exactly_the_items_that_will_miss_and_closes_them_when_the_day_moves(demo, app, engine):
    with write_session(engine) as s:
        first = outreach.sweep(s, settings=outreach.OutreachSettings.from_settings(app.extensions["credtrack_settings"], app.config))
    cur = _current(app, engine)
    with Session(engine) as s:
        will_miss = verdicts.count(s, cur, ("will_miss",))
        open_tasks = s.exec(select(func.count()).select_from(OutreachTask)
                            .where(OutreachTask.rule == "miss_opening", OutreachTask.state == "open")).one()
    assert first["created"]["miss_opening"] == will_miss == open_tasks > 0
    # the same again: nothing new; then opening day moves three months later: all closed
    with write_session(engine) as s:
        assert outreach.sweep(s, settings=outreach.OutreachSettings.from_settings(app.extensions["credtrack_settings"], app.config)
                              )["created"]["miss_opening"] == 0
    app.config["OPENING_DATE"] = (cur.settings.opening + timedelta(days=90)).isoformat()
    forecast.forget()
    with write_session(engine) as s:
        later = outreach.sweep(s, settings=outreach.OutreachSettings.from_settings(app.extensions["credtrack_settings"], app.config))
    with Session(engine) as s:
        still = s.exec(select(func.count()).select_from(OutreachTask)
                       .where(OutreachTask.rule == "miss_opening", OutreachTask.state == "open")).one()
    assert later["created"]["miss_opening"] == 0 and still == 0 and later["closed"] >= will_miss


def test_without_an_opening_day_there_is_no_verdict_and_no_outreach(engine, app, client, auth):
    build_demo(engine, credentials=300, seed=5)
    from credential_track.models import DashState

    with write_session(engine) as s:  # a database that is not the demo's: no opening day of its own
        s.delete(s.get(DashState, "demo_opening"))
    with write_session(engine) as s:
        swept = outreach.sweep(s, settings=outreach.OutreachSettings.from_settings(app.extensions["credtrack_settings"], app.config))
    assert swept["created"]["miss_opening"] == 0
    auth.login("organizer")
    html = client.get("/dashboard/forecast", headers=EN).get_data(as_text=True)
    assert "No opening day is configured" in html
    assert campaign.view(_current(app, engine))["routes"][0]["verdict"] is None


def test_the_demo_history_spans_days_of_shifts_and_is_deterministic(engine, db_url, tmp_path):
    from datetime import datetime

    from credential_track import migrate
    from credential_track.db import make_engine
    from credential_track.services.seed import load_seed

    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    build_demo(engine, credentials=500, seed=11, now=now)
    hours = F.parse_site_hours("PCS=08:00-20:00;RCC=09:00-18:00")
    site = {"WS-01": "RCC", "WS-02": "RCC", "WS-03": "PCS", "WS-04": "PCS", "WS-05": "PCS", "WS-06": "PCS",
            "WS-07": "PCS", "WS-08": "PCS"}
    with Session(engine) as s:
        scans = s.exec(select(Event.station, Event.at).where(Event.station.in_(list(site)),
                                                              Event.action.in_(F.STAGES))).all()
        first = s.exec(select(Credential.credential_no, Credential.status, Credential.updated_at)
                       .order_by(Credential.id)).all()
    days = {at.astimezone(clock.local_zone()).date() for _st, at in scans}
    assert len(days) >= 9
    outside = [(st, at) for st, at in scans
               if F.ForecastSettings(site_hours=hours).open_fraction(site[st], F.epoch_hour(at)) == 0]
    assert outside == []
    # bags, trips and items agree with each other as the benchmarks' consistency check demands
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "consistency", Path(__file__).resolve().parents[1] / "bench" / "consistency.py")
    consistency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(consistency)
    with engine.connect() as conn:
        problems, _counts = consistency.check_database(conn)
    assert problems == []
    if not db_url.startswith("sqlite"):
        return
    other = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    migrate.upgrade(other)
    with write_session(other) as s:
        load_seed(s)
    build_demo(other, credentials=500, seed=11, now=now)
    with Session(other) as s:
        again = s.exec(select(Credential.credential_no, Credential.status, Credential.updated_at)
                       .order_by(Credential.id)).all()
    other.dispose()
    assert again == first


def test_forecast_show_command(demo, runner):
    r = runner.invoke(args=["forecast", "show"])
    assert r.exit_code == 0, r.output
    assert "bottleneck" in r.output and "expected before opening day" in r.output


def test_forecast_settings_come_from_the_environment(monkeypatch, tmp_path):
    from credential_track import config

    monkeypatch.setenv("CREDTRACK_FORECAST_WINDOW_HOURS", "48")
    monkeypatch.setenv("CREDTRACK_OPENING_DATE", "2026-11-05")
    monkeypatch.setenv("CREDTRACK_SITE_HOURS", "PCS=07:30-21:00;RCC=09:00-17:00")
    got = config.from_environment(tmp_path)
    st = F.ForecastSettings.from_config({**config.defaults(tmp_path), **got})
    assert (st.window_hours, st.opening.isoformat(), st.site_hours["PCS"]) == (48, "2026-11-05", (450, 1260))
