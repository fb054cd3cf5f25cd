"""The forecast from the database: a synthetic history with a known answer
(one capture station at ten items an hour, fixed times after it), the
dwell summary folded from the events, the item's expected delivery in the
API, and the backtest against what happened."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from credential_track import clock
from credential_track.db import write_session
from credential_track.domain import forecast as F
from credential_track.domain import forecast_campaign as C
from credential_track.models import Credential
from credential_track.services import events, forecast
from credential_track.services.dashboard import summary
from credential_track.services.forecast import backtest, data

from .factories import make_credential

UTC = UTC
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
HOURS = "PCS=08:00-20:00;RCC=08:00-20:00"
CONFIG = {"SITE_HOURS": HOURS, "FORECAST_WINDOW_HOURS": 72, "OPENING_DATE": None}
BACKLOG = 100
# after capture, every item takes exactly this long to each next step (hours)
AFTER = [("accept", "captured", "accepted", 0.5, "WS-06"), ("bag", "accepted", "bagged", 0.5, "WS-07"),
         ("seal", "bagged", "dispatched", 0.5, "WS-07"), ("depart", "dispatched", "in_transit", 0.5, None),
         ("arrive", "in_transit", "arrived", 5.0, "WS-10"), ("out_for_delivery", "arrived", "out_for_delivery", 10.0,
                                                              None),
         ("delivered", "out_for_delivery", "delivered", 3.0, None)]


@pytest.fixture(autouse=True)
def _fresh_forecast():
    forecast.forget()
    yield
    forecast.forget()


def settings() -> F.ForecastSettings:
    return F.ForecastSettings.from_config(CONFIG, tz=clock.local_zone())


def capture_times(start: datetime, end: datetime, per_hour: int = 10) -> list[datetime]:
    """One capture every 60/per_hour minutes during PCS's hours."""
    st = settings()
    out, t = [], start
    while t < end:
        if st.open_fraction("PCS", F.epoch_hour(t)) > 0:
            out.append(t)
        t += timedelta(hours=1 / per_hour)
    return out


@pytest.fixture
def history(engine):
    """Two days of one capture station at 10 an hour (every six minutes),
    BACKLOG items still waiting for it now, and each captured item moving on
    at fixed times; one more waiting item is on hold."""
    start = NOW - timedelta(hours=48)
    times = capture_times(start, NOW)
    n = len(times) + BACKLOG
    handed = start - timedelta(hours=30)
    rows, items = [], []
    with write_session(engine) as s:
        for i in range(n + 1):
            entered = handed + timedelta(seconds=i)
            t = times[i] if i < len(times) else None
            status, last = "received", entered
            path = [("handover", "registered", "received", entered, "WS-01")]
            if t is not None:
                path.append(("capture", "received", "captured", t, "WS-03"))
                for action, frm, to, hours, station in AFTER:
                    t = t + timedelta(hours=hours)
                    if t > NOW:
                        break
                    path.append((action, frm, to, t, station))
            status, last = path[-1][2], path[-1][3]
            item = make_credential(s, status=status, updated_at=last, province="北京市", district="东城区",
                                   hold=i == n)
            items.append(item.credential_no)
            rows += [{"credential_id": item.id, "bag_id": None, "trip_id": None, "action": a, "result": "ok",
                      "from_status": f, "to_status": to, "station": st, "user_id": None, "at": at, "details": None}
                     for a, f, to, at, st in path]
        events.write_many(s.connection(), rows)
    summary.refresh(engine)
    return {"items": items, "captured": len(times)}


def test_a_constant_station_rate_is_measured_and_its_backlog_cleared_on_time(engine, history):
    with Session(engine) as s:
        cur = forecast.compute(s, settings(), now=NOW)
    fc = cur.forecast
    cap = fc.caps["capture"]
    assert cap.saturated and [st.station for st in cap.staffed] == ["WS-03"]
    assert cap.per_open_hour() == pytest.approx(10)
    assert fc.free["received"] == BACKLOG and fc.m.held["received"] == 1
    # 100 at 10 an hour from 12:00: 80 by 20:00, the last 20 the next day by 10:00
    expected = datetime(2026, 11, 21, 10, 0, tzinfo=clock.local_zone())
    assert fc.clear_time("capture") == expected
    assert C.bottleneck(fc) == "capture"


def test_the_dwell_summary_holds_the_hours_between_the_events(engine, history):
    with Session(engine) as s:
        dwell = data.dwell(s)
    assert set(dwell[("BJ", "in_transit")]) == {5} and set(dwell[("BJ", "arrived")]) == {10}
    assert set(dwell[("BJ", "out_for_delivery")]) == {3} and set(dwell[("BJ", "bagged")]) == {0}


def test_an_items_expected_delivery_is_in_the_api(engine, history, app, client, station_token):
    with write_session(engine) as s:
        on_road = make_credential(s, status="in_transit", updated_at=NOW - timedelta(hours=2), province="北京市",
                                  district="东城区", waybill_no=None)
    app.config.update(CONFIG)
    with Session(engine) as s:
        cur = forecast.compute(s, settings(), now=NOW)
        item = s.exec(select(Credential).where(Credential.credential_no == on_road.credential_no)).one()
        got = forecast.payload(forecast.expected_for(cur, s, item), cur, item)
    # 5.5 h in transit (2 gone), 10.5 h arrived, 3.5 h out for delivery: 17.5 h from now
    assert got["status"] == "estimated"
    assert got["likely"] == (NOW + timedelta(hours=17.5)).astimezone(clock.local_zone()).isoformat(timespec="minutes")
    assert got["likely_date"] == "2026-11-21" and got["verdict"] is None
    headers = station_token("WS-05")
    body = client.get(f"/api/v1/credentials/{on_road.credential_no}", headers=headers).get_json()
    e = body["expected_delivery"]
    assert e["status"] == "estimated" and e["likely"].endswith("+08:00") and e["early"] <= e["likely"] <= e["late"]
    held = client.get(f"/api/v1/credentials/{history['items'][-1]}", headers=headers).get_json()
    assert held["expected_delivery"]["status"] == "none" and held["expected_delivery"]["reason"] == "on_hold"
    done = client.get(f"/api/v1/credentials/{history['items'][0]}", headers=headers).get_json()
    assert done["expected_delivery"]["status"] == "delivered"


def test_the_backtest_of_a_constant_history_finds_the_capture_times_it_forecast(engine, history):
    with Session(engine) as s:
        # the dwell times of the days before the cut's day count: cut at local midnight
        result = backtest.run(s, settings(), NOW - timedelta(hours=11, minutes=30))
    a = result.accuracy
    assert result.cut == (NOW - timedelta(hours=12)).astimezone(clock.local_zone())  # the start of its hour
    assert result.no_date == 0
    assert a.compared["capture"] >= 39 and a.mae_hours["capture"] < 0.25
    # after capture every step takes a fixed time: the forecast is within the hour
    assert a.mae_hours["delivered"] is not None and a.mae_hours["delivered"] < 1.5
    assert a.delivered > 0 and a.before_late == 1.0
    assert a.pending["delivered"] > 0  # the items not delivered by now are counted, not dropped


def test_backtest_command(runner, engine, history):
    r = runner.invoke(args=["forecast", "backtest", "--at", (NOW - timedelta(hours=12)).isoformat()])
    assert r.exit_code == 0, r.output
    assert "MAE h" in r.output and "capture" in r.output and "inside the band" in r.output
    bad = runner.invoke(args=["forecast", "backtest", "--at", "yesterday"])
    assert bad.exit_code != 0 and "--at" in bad.output
    both = runner.invoke(args=["forecast", "backtest"])
    assert both.exit_code != 0 and "--hours-ago" in both.output
