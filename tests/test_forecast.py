"""The forecaster on synthetic histories whose answer is known: constant
station rates and fixed dwell times, worked out by hand."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from credential_track.domain import forecast as F
from credential_track.domain import forecast_campaign as C

UTC = UTC
# 12:00 in Shanghai
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
HOURS = F.parse_site_hours("PCS=08:00-20:00;RCC=08:00-20:00")
SITES = {"WS-01": "RCC", "WS-02": "RCC", "WS-03": "PCS", "WS-04": "PCS", "WS-06": "PCS", "WS-07": "PCS"}
CHAIN = [("handover", "registered", "received"), ("capture", "received", "captured"),
         ("accept", "captured", "accepted"), ("bag", "accepted", "bagged")]


def settings(**kw) -> F.ForecastSettings:
    return F.ForecastSettings(site_hours=HOURS, **kw)


def steady(rates: dict[str, dict[str, int]], hours: int = 72) -> list[F.Flow]:
    """Every open hour of the last `hours`, each station moves its items."""
    st = settings()
    out = []
    now_h = F.epoch_hour(NOW)
    for h in range(now_h - hours, now_h):
        for stage, frm, to in CHAIN:
            for station, n in rates.get(stage, {}).items():
                if st.open_fraction(SITES[station], h) > 0:
                    out.append(F.Flow(h, stage, station, frm, to, n))
    return out


FIXED_DWELL = {"bagged": 2, "dispatched": 3, "in_transit": 1, "arrived": 5, "out_for_delivery": 4}


def measured(counts, rates=None, dwell=None, held=None, trips=None, now=NOW) -> F.Measured:
    rates = rates or {"handover": {"WS-01": 10}, "capture": {"WS-03": 10}, "accept": {"WS-06": 10},
                      "bag": {"WS-07": 10}}
    dwell = {("BJ", s): {h: 100} for s, h in FIXED_DWELL.items()} if dwell is None else dwell
    return F.Measured(now=now, flows=steady(rates), counts=counts, held=held or {}, station_site=SITES,
                      dwell=dwell, dwell_all=dwell, trips_per_day=trips or {})


def local(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=F.ForecastSettings().tz).astimezone(UTC)


def test_a_backlog_at_a_steady_rate_clears_after_its_working_hours():
    # 1,000 waiting for handover at 10 an hour, 08:00–20:00: 80 today (12:00–20:00),
    # 120 a day for seven days, the last 80 on the eighth from 08:00: done at 16:00
    fc = F.Forecast(measured({"registered": 1000, "received": 500}), settings())
    assert fc.caps["handover"].per_open_hour() == pytest.approx(10)
    assert fc.caps["handover"].saturated
    assert fc.clear_time("handover") == local(2026, 11, 28, 16)
    # capture then has 1,500 at 10 an hour: 80 + 12 × 120 = 1,520 → 18:00 on the 12th day
    assert fc.clear_time("capture") == local(2026, 12, 2, 18)


def test_an_items_rank_sets_when_it_leaves_each_stage():
    fc = F.Forecast(measured({"received": 500}), settings())
    e = fc.for_queue("received", 10, "BJ")
    # the 10th at 10 an hour from 12:00: 13:00. What a stage finishes reaches the
    # next half within the hour, half the hour after: accept gets 5 in 12:00–13:00
    # and 5 + 5 in 13:00–14:00, so its 10th leaves at 13:30; bag gets 2.5, then
    # 2.5 + 5 = 7.5 at 13:00, so its 10th leaves at 14:00; then the fixed dwells
    assert e.stages["capture"] == local(2026, 11, 20, 13)
    assert e.stages["accept"] == local(2026, 11, 20, 13, 30)
    assert e.stages["bag"] == local(2026, 11, 20, 14)
    medians = [h + 0.5 for h in FIXED_DWELL.values()]  # the middle of each whole-hour bin
    assert e.likely == local(2026, 11, 20, 14) + timedelta(hours=sum(medians))
    assert e.stages["delivered"] == e.likely
    assert e.early < e.likely < e.late


def test_the_time_already_waited_shortens_what_is_left():
    fc = F.Forecast(measured({"arrived": 1}), settings())
    e = fc.for_dwell("arrived", "BJ", NOW - timedelta(hours=2))
    # arrived lasts 5–6 h: 5.5 − 2 = 3.5 h left, then out for delivery 4.5 h
    assert e.likely == NOW + timedelta(hours=3.5 + 4.5)
    assert set(e.stages) == {"out_for_delivery", "delivered"}


def test_waiting_longer_than_any_item_measured_is_flagged_not_dated_in_the_past():
    fc = F.Forecast(measured({"arrived": 1}), settings())
    e = fc.for_dwell("arrived", "BJ", NOW - timedelta(hours=30))
    assert e.overdue and e.likely >= NOW


def test_items_still_waiting_lengthen_the_dwell_estimate():
    # observed so far: 30 trips of 2 hours; but 70 more have been on the road
    # for 10 hours already: the median cannot be 2.5 hours
    done = {2: 30}
    plain = F.Histogram(done).quantile(0.5)
    censored = F.Histogram(done, {10: 70}).quantile(0.5)
    assert plain == pytest.approx(2.5)
    assert censored > 10


def test_a_route_with_few_measurements_borrows_from_all_routes():
    dwell = {("BJ", s): {h: 100} for s, h in FIXED_DWELL.items()}
    dwell[("XZ", "arrived")] = {50: 3}  # three items only
    model = F.DwellModel(dwell, dwell)
    hist, pooled = model.histogram("XZ", "arrived")
    assert pooled and hist.quantile(0.5) == pytest.approx(5.5, abs=0.2)
    hist, pooled = model.histogram("BJ", "arrived")
    assert not pooled


def test_no_throughput_at_a_stage_gives_no_date_and_counts_as_missing_opening_day():
    rates = {"handover": {"WS-01": 10}, "capture": {}, "accept": {"WS-06": 10}, "bag": {"WS-07": 10}}
    fc = F.Forecast(measured({"received": 50}, rates=rates), settings(opening=date(2026, 11, 25)))
    e = fc.for_queue("received", 1, "BJ")
    assert isinstance(e, F.Unknown) and e.reason == "no_throughput:capture" and e.verdict == "will_miss"
    fc = F.Forecast(measured({"received": 50}, rates=rates), settings())
    assert fc.for_queue("received", 1, "BJ").verdict is None


def test_one_more_person_at_the_bottleneck_from_tomorrow_8_shortens_it_by_their_share():
    rates = {"capture": {"WS-03": 10, "WS-04": 10}, "accept": {"WS-06": 50}, "bag": {"WS-07": 50}}
    counts = {"received": 1000}
    base = F.Forecast(measured(counts, rates=rates), settings())
    start = local(2026, 11, 21, 8)
    more = F.Forecast(measured(counts, rates=rates), settings(), operators=[F.ExtraOperators("capture", 1, start)])
    # today 12:00–20:00 at 20/h: 160; then 240 a day, or 360 with a third person:
    # 840 left → 3.5 days (clears 11-24 14:00) or 2.33 days (11-23 12:00)
    assert base.clear_time("capture") == local(2026, 11, 24, 14)
    assert more.clear_time("capture") == local(2026, 11, 23, 12)
    assert C.bottleneck(base) == "capture"


def test_a_second_trip_a_day_halves_the_wait_for_departure():
    base = F.Forecast(measured({"dispatched": 1}, trips={"BJ": 1.0}), settings())
    more = F.Forecast(measured({"dispatched": 1}, trips={"BJ": 1.0}), settings(),
                      trips=[F.ExtraTrips("BJ", 1, NOW)])
    a = base.for_dwell("dispatched", "BJ", NOW)
    b = more.for_dwell("dispatched", "BJ", NOW)
    # dispatched lasts 3.5 h: halved, 1.75 h sooner
    assert (a.likely - b.likely) == timedelta(hours=1.75)


def test_the_outlook_counts_each_route_by_its_rank_against_opening_day():
    # 500 waiting for capture at 10 an hour; BJ's dwell after bagging is 17.5 h.
    # Opening day 11-24 00:00 local: bagged by 11-23 06:30 local to make it likely.
    fc = F.Forecast(measured({"received": 500}), settings(opening=date(2026, 11, 24)))
    order = ["BJ"] * 500
    o = C.outlook(fc, queues={"received": order}, groups=[], finals={"BJ": {"total": 500}})
    r = o.routes["BJ"]
    assert r.on_time + r.at_risk + r.will_miss == 500
    late, likely = o.queue_ranks[("received", "BJ")]
    assert fc.for_queue("received", likely, "BJ").likely < fc.deadline <= fc.for_queue("received", likely + 1,
                                                                                       "BJ").likely
    assert fc.for_queue("received", late, "BJ").late < fc.deadline <= fc.for_queue("received", late + 1, "BJ").late
    assert (r.on_time, r.at_risk + r.on_time) == (late, likely)


def test_moving_a_person_from_an_idle_stage_to_the_bottleneck_helps_and_the_reverse_hurts():
    rates = {"handover": {"WS-01": 30, "WS-02": 30}, "capture": {"WS-03": 10, "WS-04": 10},
             "accept": {"WS-06": 100}, "bag": {"WS-07": 100}}
    fc = F.Forecast(measured({"received": 1000, "registered": 0}, rates=rates), settings())
    moves = {(m.from_stage, m.to_stage): m for m in C.moves(fc, local(2026, 11, 21, 8))}
    assert moves[("handover", "capture")].gain_hours > 0
    assert moves[("capture", "handover")].gain_hours < 0


def test_a_stage_that_kept_up_is_measured_by_its_busier_hours():
    # accept only ever had what capture sent it: no queue, so its rate is a lower bound
    fc = F.Forecast(measured({"received": 1000, "captured": 0}), settings())
    assert fc.caps["capture"].saturated and not fc.caps["accept"].saturated


def test_a_few_hours_with_work_waiting_do_not_make_a_stage_the_bottleneck():
    # acceptance moves 10 an hour, 2 in one hour of four; five items always wait
    # between trays: only the slow hours look "saturated", and they are too few
    # to stand for its rate, which is then its busier hours'
    st = settings()
    now_h = F.epoch_hour(NOW)
    flows, k = [], 0
    for h in range(now_h - 72, now_h):
        if st.open_fraction("PCS", h) > 0:
            n = 2 if k % 4 == 0 else 10
            k += 1
            flows += [F.Flow(h, "capture", "WS-03", "received", "captured", n),
                      F.Flow(h, "accept", "WS-06", "captured", "accepted", n)]
    m = F.Measured(now=NOW, flows=flows, counts={"received": 1000, "captured": 5}, held={}, station_site=SITES,
                   dwell={}, dwell_all={})
    cap = F.Forecast(m, settings()).caps["accept"]
    assert not cap.saturated and cap.per_open_hour() == pytest.approx(10)


def test_backlog_series_undoes_the_later_moves():
    flows = [F.Flow(100, "capture", "WS-03", "received", "captured", 5), F.Flow(101, "capture", "WS-03",
                                                                                "received", "captured", 7)]
    s = F.backlog_series(flows, {"received": 10, "captured": 12}, 100, 102)
    assert s["received"] == [22, 17, 10] and s["captured"] == [0, 5, 12]


@pytest.mark.parametrize("config, key", [
    ({"OPENING_DATE": "12/09/2026"}, "OPENING_DATE"), ({"SITE_HOURS": "PCS=8-20"}, "SITE_HOURS"),
    ({"SITE_HOURS": "PCS=20:00-08:00"}, "SITE_HOURS"), ({"SITE_HOURS": "PCS"}, "SITE_HOURS"),
    ({"FORECAST_WINDOW_HOURS": "three"}, "FORECAST_WINDOW_HOURS"), ({"FORECAST_WINDOW_HOURS": 2},
                                                                    "FORECAST_WINDOW_HOURS"),
])
def test_a_setting_that_cannot_be_read_is_refused_naming_it(config, key):
    with pytest.raises(F.ForecastConfigError, match=key):
        F.ForecastSettings.from_config(config)


def test_site_hours_count_part_hours():
    st = F.ForecastSettings(site_hours=F.parse_site_hours("RCC=09:30-18:00"))
    assert st.open_fraction("RCC", F.epoch_hour(local(2026, 11, 20, 9))) == 0.5
    assert st.open_fraction("RCC", F.epoch_hour(local(2026, 11, 20, 18))) == 0.0
    assert st.open_fraction("ELSEWHERE", 0) == 1.0


def test_accuracy_figures():
    t = NOW
    pairs = [("capture", t, t + timedelta(hours=2)), ("capture", t, t - timedelta(hours=4)), ("bag", t, None)]
    bands = [(t, t + timedelta(hours=1), t + timedelta(hours=2), t + timedelta(hours=1.5)),
             (t, t + timedelta(hours=1), t + timedelta(hours=2), t + timedelta(hours=3))]
    a = C.accuracy(pairs, bands)
    assert a.mae_hours["capture"] == 3.0 and a.bias_hours["capture"] == 1.0
    assert a.pending["bag"] == 1 and a.mae_hours["bag"] is None
    assert (a.inside_band, a.before_late, a.before_likely) == (0.5, 0.5, 0.0)
