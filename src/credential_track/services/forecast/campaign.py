"""The campaign forecast as shown to the organizer and supervisors: per
station stage the backlog, throughput and when it clears; per route the
share expected before opening day; the burn-down series; the what-if
changes read from a form; the staffing view."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, time, timedelta

from flask_babel import gettext as _

from ...domain import forecast as F
from ...domain import forecast_campaign as C
from ...vocabulary import field_label, route_label
from ..errors import ServiceError, one_of
from . import Current, compute, data

MAX_EXTRA = 20  # people or trips a what-if may add (or remove)


def view(cur: Current) -> dict:
    """Plain figures of one forecast (the page, the what-if column, the API)."""
    fc, o = cur.forecast, cur.outlook()
    stages = []
    for stage in F.STAGES:
        cap = fc.caps.get(stage)
        waiting = F.WAITING[stage]
        staffed = cap.staffed if cap else []
        stages.append({
            "stage": stage, "status": waiting, "waiting": fc.free[waiting],
            "held": fc.m.held.get(waiting, 0),
            "stations": len(staffed), "per_station": round(cap.station_rate(), 1) if cap else 0.0,
            "per_hour": round(cap.per_open_hour(), 1) if cap else 0.0, "saturated": bool(cap and cap.saturated),
            "clears": {f: fc.clear_time(stage, f) for f in ("fast", "mid", "slow")},
            "load_days": C.stage_load(fc, stage),
        })
    routes = []
    for r in sorted(o.routes.values(), key=lambda r: (r.share_expected, r.route)):
        if not r.total:
            continue
        verdict = None
        if fc.deadline is not None:
            verdict = "will_miss" if r.will_miss else "at_risk" if r.at_risk else "on_time"
        routes.append({"route": r.route, "total": r.total, "delivered": r.delivered, "on_time": r.on_time,
                       "at_risk": r.at_risk, "will_miss": r.will_miss, "no_date": r.no_date,
                       "returned": r.returned, "withdrawn": r.withdrawn,
                       "share_expected": round(r.share_expected, 4), "verdict": verdict})
    t = o.totals()
    return {
        "as_of": fc.now, "opening": cur.settings.opening, "opening_source": cur.settings.opening_source,
        "deadline": fc.deadline, "stages": stages, "bottleneck": C.bottleneck(fc),
        "campaign_end": {f: fc.campaign_end(f) for f in ("fast", "mid", "slow")},
        "routes": routes,
        "totals": {"total": t.total, "delivered": t.delivered, "on_time": t.on_time, "at_risk": t.at_risk,
                   "will_miss": t.will_miss, "no_date": t.no_date, "returned": t.returned,
                   "withdrawn": t.withdrawn, "share_expected": round(t.share_expected, 4)},
        "changes": {"operators": [vars(x) for x in fc.operators], "trips": [vars(x) for x in fc.trips]},
    }


def burndown(cur: Current, *, days_after: int = 2) -> dict[str, dict]:
    """Per station stage and for "deliver" (not yet delivered): the items
    waiting at the start of each past hour of the chart, and for each
    future hour until everything clears (at most to opening day plus
    `days_after`) the early, likely and late count."""
    fc, o = cur.forecast, cur.outlook()
    now_h = F.epoch_hour(fc.now)
    h0 = now_h - data.CHART_DAYS * 24
    past = F.backlog_series(fc.m.flows, fc.m.counts, h0, now_h)
    ends = [fc.campaign_end("slow")] + [late for _e, _l, late, _n in o.deliveries]
    last = max([t for t in ends if t] or [fc.now])
    if fc.deadline:
        last = min(last, fc.deadline + timedelta(days=days_after)) if last > fc.deadline else \
            max(last, fc.deadline + timedelta(hours=12))
    h1 = max(now_h + 24, min(F.epoch_hour(last) + 2, now_h + 24 * fc.settings.horizon_days))
    future = list(range(now_h + 1, h1 + 1))
    out = {}
    ahead = {f: fc.backlog_ahead(f, future) for f in ("fast", "mid", "slow")}
    for stage in F.STAGES:
        status = F.WAITING[stage]
        held = fc.m.held.get(status, 0)
        series = past.get(status, [0] * (now_h - h0 + 1))
        out[stage] = {"past": [(h0 + i, max(0, v - held)) for i, v in enumerate(series)],
                      "future": [(h, ahead["fast"][stage][i], ahead["mid"][stage][i], ahead["slow"][stage][i])
                                 for i, h in enumerate(future)]}
    # not yet delivered: the past from the status counts, the future from the expected deliveries
    not_delivered_statuses = [s for s in past if s not in F.FINAL]
    past_total = [sum(past[s][i] for s in not_delivered_statuses) for i in range(now_h - h0 + 1)]
    held_all = sum(v for s, v in fc.m.held.items() if s not in F.FINAL)
    pending = sum(n for *_x, n in o.deliveries)
    unknown = max(0, past_total[-1] - held_all - pending)  # no date: left as they are
    # per band edge: delivery times sorted, with the items still to come after each
    edges = []
    for k in (0, 1, 2):
        pts = sorted((d[k].timestamp(), d[3]) for d in o.deliveries)
        times = [p[0] for p in pts]
        after = [0.0] * (len(pts) + 1)
        for i in range(len(pts) - 1, -1, -1):
            after[i] = after[i + 1] + pts[i][1]
        edges.append((times, after))
    fut = []
    for h in future:
        t = h * 3600
        left = [after[bisect_right(times, t)] for times, after in edges]
        fut.append((h, left[0] + unknown, left[1] + unknown, left[2] + unknown))
    out["deliver"] = {"past": [(h0 + i, max(0, v - held_all)) for i, v in enumerate(past_total)], "future": fut}
    return out


def _local_datetime(raw: str, field: str, tz) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ServiceError(_("%(field)s must be a date and time like 2026-11-05T08:00, not “%(value)s”",
                             field=field_label(field), value=raw), field=field) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)  # the form's times are the expo's local time
    return value


def _int(raw: str | None, field: str) -> int:
    try:
        n = int((raw or "").strip())
    except ValueError:
        raise ServiceError(_("%(field)s must be a whole number, not “%(value)s”", field=field_label(field),
                             value=raw), field=field) from None
    if not -MAX_EXTRA <= n <= MAX_EXTRA or n == 0:
        raise ServiceError(_("%(field)s must be between -%(max)s and %(max)s and not 0, not %(value)s",
                             field=field_label(field), max=MAX_EXTRA, value=n), field=field)
    return n


def default_start(cur: Current) -> datetime:
    """Tomorrow 08:00 in the expo's time zone."""
    tz = cur.settings.tz
    tomorrow = cur.as_of.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(8), tz)


def parse_whatif(args: Mapping[str, str], cur: Current, routes: list[str]) -> tuple[list, list]:
    """The what-if changes of the form: `op_stage`, `op_n`, `op_from`
    (people at a station stage from a local time) and `trip_route`,
    `trip_n`, `trip_from` (departures per day for a route). A bad value is
    a ServiceError naming the field."""
    tz = cur.settings.tz
    operators, trips = [], []
    if args.get("op_stage"):
        stage = args["op_stage"]
        if stage not in F.STAGES:
            raise one_of("op_stage", stage, F.STAGES, kind="stage")
        start = _local_datetime(args["op_from"], "op_from", tz) if args.get("op_from") else default_start(cur)
        operators.append(F.ExtraOperators(stage, _int(args.get("op_n", "1"), "op_n"), start))
    if args.get("trip_route"):
        route = args["trip_route"]
        if route not in routes:
            raise ServiceError(_("There is no route %(route)s.", route=route), field="trip_route")
        if cur.forecast.m.trips_per_day.get(route, 0) <= 0:
            raise ServiceError(_("No departures of route %(route)s were measured in the recent window.",
                                 route=route_label(route)), field="trip_route")
        start = _local_datetime(args["trip_from"], "trip_from", tz) if args.get("trip_from") else default_start(cur)
        trips.append(F.ExtraTrips(route, _int(args.get("trip_n", "1"), "trip_n"), start))
    return operators, trips


def whatif(cur: Current, operators: list, trips: list) -> Current:
    """The forecast with the changes, from the same measurements and items."""
    return compute(None, cur.settings, now=cur.as_of, operators=operators, trips=trips,
                   measured=cur.forecast.m, state=cur.state)


def staffing(cur: Current) -> dict:
    """Scans per station (the last full hour, this hour so far) against the
    best hour the station had in the recent window, calls per hotline
    against its best hour, the bottleneck and the moves of one person."""
    fc = cur.forecast
    m = fc.m
    now_h = F.epoch_hour(fc.now)
    w0 = now_h - cur.settings.window_hours
    per: dict[tuple[str, str], dict[int, int]] = {}
    for f in m.flows:
        if f.action in F.STAGES and f.station and f.from_status == F.WAITING[f.action] and f.hour >= w0:
            cell = per.setdefault((f.action, f.station), {})
            cell[f.hour] = cell.get(f.hour, 0) + f.n
    stations = []
    for stage in F.STAGES:
        cap = fc.caps.get(stage)
        rates = {s.station: s for s in (cap.stations if cap else [])}
        for (st_stage, station), hours in sorted(per.items()):
            if st_stage != stage:
                continue
            best = max(hours.values())
            last = hours.get(now_h - 1, 0)
            r = rates.get(station)
            stations.append({"stage": stage, "station": station, "site": m.station_site.get(station),
                             "last_hour": last, "this_hour": hours.get(now_h, 0), "best_hour": best,
                             "best_at": F.hour_start(max(hours, key=hours.get)),
                             "rate": round(r.rate, 1) if r else None, "staffed": bool(r and r.staffed),
                             "of_best": round(last / best, 3) if best else None})
    lines = []
    for line in m.hotlines:
        hours = {h: n for (ln, h), n in m.calls.items() if ln == line and h >= w0}
        best = max(hours.values()) if hours else 0
        busy = [n for h, n in hours.items() if h < now_h]
        lines.append({"line": line, "last_hour": hours.get(now_h - 1, 0), "this_hour": hours.get(now_h, 0),
                      "best_hour": best, "best_at": F.hour_start(max(hours, key=hours.get)) if hours else None,
                      "mean_busy_hour": round(sum(busy) / len(busy), 1) if busy else 0.0,
                      "of_best": round(hours.get(now_h - 1, 0) / best, 3) if best else None})
    start = default_start(cur)
    return {"as_of": fc.now, "stations": stations, "hotlines": lines, "bottleneck": C.bottleneck(fc),
            "loads": {s: C.stage_load(fc, s) for s in F.STAGES}, "campaign_end": fc.campaign_end(),
            "moves": C.moves(fc, start), "move_start": start}

