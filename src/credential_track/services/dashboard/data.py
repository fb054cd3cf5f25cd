"""What the dashboard shows, read from the summary tables (summary.py).

`dashboard()` is the live view; `day_figures()` is the view as it was at the
end of a past local day, used by the daily report. Both read the same
summaries, which are derived from the events alone.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from ... import clock
from ...domain.status import Status
from ...models import Credential, DashBatch, DashDaily, DashFlow, DashItems, DashLeadTime, Event
from ...models.base import utcnow
from ..desk_summary import desk_summary
from ..outreach import configured_stuck_hours, stuck_condition
from . import lists, summary

# the main chain shown as the funnel, then the delivery outcomes
FUNNEL = [s.value for s in (
    Status.registered, Status.received, Status.captured, Status.accepted, Status.bagged, Status.dispatched,
    Status.in_transit, Status.arrived, Status.out_for_delivery, Status.delivered, Status.delivery_failed,
    Status.returned, Status.withdrawn)]
# the stages whose throughput is charted: the action that moves an item into it
STAGES = ["handover", "capture", "accept", "bag", "seal", "depart", "arrive", "out_for_delivery",
          "delivered"]
EXCEPTIONS = lists.EXCEPTIONS

# Open tickets and outreach tasks with SLA breaches come from the customer
# service tables. Set this to a function (session, until: datetime | None) ->
# {"open_tickets": int, "tickets_sla_breached": int, "outreach_open": int,
#  "outreach_sla_breached": int, "outreach_done": int} to show them; while it
# is None the dashboard and the report say the section is not connected.
service_source: Callable[[Session, datetime | None], dict] | None = desk_summary


def _service(session: Session, until: datetime | None) -> dict | None:
    return service_source(session, until) if service_source is not None else None


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _breakdown(rows) -> list[dict]:
    """[(key, status, n)] → per key: total, delivered, share delivered,
    sorted by total, largest first."""
    total: dict[str, int] = defaultdict(int)
    delivered: dict[str, int] = defaultdict(int)
    for key, status, n in rows:
        total[key] += n
        if status == "delivered":
            delivered[key] += n
    out = [{"key": k, "total": t, "delivered": delivered.get(k, 0), "share": _share(delivered.get(k, 0), t)}
           for k, t in total.items() if t]
    return sorted(out, key=lambda r: (-r["total"], r["key"]))


def percentile(hist: dict[int, int], q: float) -> int | None:
    """The q-quantile (0..1) of a histogram {value: count}, by nearest rank."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def lead_times(hist_rows) -> list[dict]:
    """[(route, hours, n)] → per route: delivered count, median and p90 hours."""
    by_route: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for route, hours, n in hist_rows:
        by_route[route][hours] += n
        by_route["*"][hours] += n
    return [{"route": r, "delivered": sum(h.values()), "median_h": percentile(h, 0.5),
             "p90_h": percentile(h, 0.9)}
            for r, h in sorted(by_route.items(), key=lambda kv: (kv[0] != "*", kv[0]))
            if sum(h.values())]


def dashboard(session: Session, *, now: datetime | None = None) -> dict:
    """The live dashboard: funnel, breakdowns, throughput, exceptions, lead
    times. Call summary.refresh() first to include the latest events."""
    cached = now is None
    now = now or utcnow()
    by_status = {s: int(n) for s, n in session.connection().execute(
        select(DashBatch.status, func.sum(DashBatch.n)).group_by(DashBatch.status)) if n}
    total = sum(by_status.values())
    missing = session.connection().execute(select(func.coalesce(func.sum(DashBatch.n), 0)).where(
        (DashBatch.status == Status.registered) & DashBatch.batch_id.in_(lists.missing_batches()))).scalar()
    exceptions = {
        "missing_at_handover": int(missing),
        **flag_counts(session),
        "intercept": _count(session, Credential.intercept == True),  # noqa: E712
        # items in bags whose seal did not match (few rows: indexed)
        "seal_mismatch": _count(session, Credential.bag_id.in_(lists.seal_mismatch_bags())),
        "delivery_failed": by_status.get(Status.delivery_failed, 0),
        "returned": by_status.get(Status.returned, 0),
        "stuck": _stuck(session, now, cached=cached),
    }
    # a few thousand rows: one read, three breakdowns
    dims = session.connection().execute(
        select(DashItems.province, DashItems.route, DashItems.credential_type, DashItems.status, DashItems.n)
        .where(DashItems.n != 0)).all()
    now_h = summary.epoch_hour(now)
    hourly = _throughput(session, now_h - 23, now_h + 1)
    days = _daily(session, now_h - 14 * 24, now_h + 1)
    return {
        "as_of": now.isoformat(), "events_folded": summary.high_water(session),
        "total": total, "by_status": by_status,
        "funnel": [{"status": s, "n": by_status.get(s, 0)} for s in FUNNEL],
        "delivered": by_status.get(Status.delivered, 0),
        "share_delivered": _share(by_status.get(Status.delivered, 0), total),
        "by_route": _breakdown((r[1], r[3], r[4]) for r in dims),
        "by_province": _breakdown((r[0], r[3], r[4]) for r in dims),
        "by_type": _breakdown((r[2], r[3], r[4]) for r in dims),
        "exceptions": exceptions, **stuck_limits(),
        "throughput_hourly": [{"hour": summary.hour_start(h).isoformat(), **hourly.get(h, {})}
                              for h in range(now_h - 23, now_h + 1)],
        "throughput_daily": [{"day": d, **days.get(d, {})} for d in _day_keys(now_h - 14 * 24, now_h)],
        "lead_time": lead_times(session.connection().execute(
            select(DashLeadTime.route, DashLeadTime.hours, DashLeadTime.n)).all()),
        "service": _service(session, None),
    }


def day_figures(session: Session, day: date) -> dict:
    """The figures of a past local day as they stood at its end: the day's
    moves per stage and refusals, the cumulative funnel, route and type
    breakdowns, exceptions and lead times, from the events alone."""
    start, end = summary.day_bounds(day)
    dn = summary.day_number(day)
    rows = session.connection().execute(
        select(DashDaily.route, DashDaily.credential_type, DashDaily.from_status, DashDaily.to_status,
               func.sum(DashDaily.n))
        .where(DashDaily.day <= dn)
        .group_by(DashDaily.route, DashDaily.credential_type, DashDaily.from_status,
                  DashDaily.to_status)).all()
    by_status: dict[str, int] = defaultdict(int)
    dims: dict[tuple, int] = defaultdict(int)
    for route, ctype, frm, to, n in rows:
        if to:
            by_status[to] += n
            dims[(route, ctype, to)] += n
        if frm:
            by_status[frm] -= n
            dims[(route, ctype, frm)] -= n
    by_status = {s: n for s, n in by_status.items() if n}
    total = sum(by_status.values())
    h0, h1 = summary.epoch_hour(start), summary.epoch_hour(end)
    day_moves = _throughput(session, h0, h1)
    moves = defaultdict(int)
    for per_hour in day_moves.values():
        for stage, n in per_hour.items():
            moves[stage] += n
    refusals = {r: int(n) for r, n in session.connection().execute(
        select(DashFlow.reason, func.sum(DashFlow.n))
        .where((DashFlow.hour >= h0) & (DashFlow.hour < h1) & (DashFlow.result == "rejected"))
        .group_by(DashFlow.reason).order_by(func.sum(DashFlow.n).desc()))}
    flags = {a: _flow_sum(session, (DashFlow.action == a) & (DashFlow.result == "ok") & (DashFlow.hour < h1))
             for a in ("intercept",)}
    return {
        "day": day.isoformat(), "until": end.isoformat(),
        "total": total, "by_status": by_status,
        "funnel": [{"status": s, "n": by_status.get(s, 0)} for s in FUNNEL],
        "delivered": by_status.get(Status.delivered, 0),
        "share_delivered": _share(by_status.get(Status.delivered, 0), total),
        "by_route": _breakdown([(r, s, n) for (r, _t, s), n in dims.items()]),
        "by_type": _breakdown([(t, s, n) for (_r, t, s), n in dims.items()]),
        "moves": {s: moves.get(s, 0) for s in STAGES},
        "refusals": refusals,
        "exceptions": {
            **flag_counts(session, until=end),
            "intercept": flags["intercept"],
            "seal_mismatch": _flow_sum(session, (DashFlow.reason == "seal_mismatch") & (DashFlow.hour < h1)),
            "delivery_failed": by_status.get(Status.delivery_failed, 0),
            "returned": by_status.get(Status.returned, 0),
        },
        "lead_time": lead_times(lists.lead_time_rows(session, until=end)),
        "service": _service(session, end),
    }


def stuck_limits() -> dict:
    """The stuck rule's hours for the reader: per status, and (for v1 API
    clients) the shortest of them as `stuck_hours`."""
    hours = configured_stuck_hours()
    return {"stuck_hours": int(min(hours.values())) if hours else 0, "stuck_hours_by_status": hours}


# "stuck" counts many index entries (all items idle for two days): it is
# recounted at most once a minute per process and database
STUCK_TTL_SECONDS = 60
_stuck_cache: dict[str, tuple[float, int]] = {}


def _stuck(session: Session, now: datetime, *, cached: bool) -> int:
    key = f"{session.bind.url}#{summary.high_water(session)}"
    clock = time.monotonic()
    hit = _stuck_cache.get(key)
    if cached and hit is not None and clock - hit[0] < STUCK_TTL_SECONDS:
        return hit[1]
    n = _count(session, stuck_condition(Credential, now))
    _stuck_cache.clear()
    _stuck_cache[key] = (clock, n)
    return n


def flag_counts(session: Session, *, until: datetime | None = None) -> dict[str, int]:
    """Items on hold and revoked as they stood at `until` (now when None),
    from the events, the one computation of the live dashboard and the daily
    report: held = items whose last hold/release event is a hold (a hold
    replaced by another, as self-pickup does, counts once), revoked = items
    with a revoke event. Few events (index on action, result)."""
    at = [Event.at < until] if until is not None else []
    last = (select(Event.credential_id, func.max(Event.id).label("last_id"))
            .where(Event.action.in_(("hold", "release")), Event.result == "ok", Event.credential_id.is_not(None), *at)
            .group_by(Event.credential_id).subquery())
    held = session.connection().execute(
        select(func.count()).select_from(last).join(Event, Event.id == last.c.last_id)
        .where(Event.action == "hold")).scalar()
    revoked = session.connection().execute(
        select(func.count(func.distinct(Event.credential_id)))
        .where(Event.action == "revoke", Event.result == "ok", Event.credential_id.is_not(None), *at)).scalar()
    return {"held": int(held or 0), "revoked": int(revoked or 0)}


def _count(session: Session, cond) -> int:
    return session.connection().execute(select(func.count()).select_from(Credential).where(cond)).scalar()


def _flow_sum(session: Session, cond) -> int:
    return int(session.connection().execute(select(func.coalesce(func.sum(DashFlow.n), 0)).where(cond)).scalar())


def _throughput(session: Session, h0: int, h1: int) -> dict[int, dict[str, int]]:
    """{hour: {stage: items moved}} for hours in [h0, h1)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for hour, action, n in session.connection().execute(
            select(DashFlow.hour, DashFlow.action, func.sum(DashFlow.n))
            .where((DashFlow.hour >= h0) & (DashFlow.hour < h1) & (DashFlow.item == 1)
                   & (DashFlow.result == "ok") & DashFlow.action.in_(STAGES))
            .group_by(DashFlow.hour, DashFlow.action)):
        out[hour][action] = int(n)
    return out


def _day_keys(h0: int, h1: int) -> list[str]:
    """Every local day from the one of hour h0 to the one of hour h1."""
    first = clock.local_day(summary.hour_start(h0))
    last = clock.local_day(summary.hour_start(h1))
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _daily(session: Session, h0: int, h1: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for hour, per_stage in _throughput(session, h0, h1).items():
        d = summary.local_day(hour)
        key = f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"
        for stage, n in per_stage.items():
            out[key][stage] += n
    return {k: dict(v) for k, v in out.items()}
