"""The campaign as a whole, from a forecast (domain/forecast.py): every item
against opening day route by route, the bottleneck, where one person moved
would shorten the campaign most, and the backtest's accuracy figures.

Plain Python, like the forecaster.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .forecast import (
    ALL_STAGES,
    HOUR,
    QUEUE_STATUSES,
    STAGES,
    Expected,
    ExtraOperators,
    Forecast,
    StationFlow,
    Unknown,
    epoch_hour,
    hour_start,
)


def rank_threshold(fn: Callable[[int], datetime | None], n: int, deadline: datetime) -> int:
    """The largest rank r in 0..n with fn(r) < deadline, for a
    non-decreasing fn (None counts as after the deadline)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        t = fn(mid)
        if t is not None and t < deadline:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass
class RouteOutlook:
    """One route against opening day: items, delivered, and the rest by verdict."""

    route: str
    total: int = 0
    delivered: int = 0
    on_time: int = 0  # likely and late date before opening day
    at_risk: int = 0  # likely before, late date on or after opening day
    will_miss: int = 0  # likely date on or after opening day (or none within the horizon)
    no_date: int = 0  # on hold, or nothing measured to estimate from
    returned: int = 0
    withdrawn: int = 0  # pulled after revocation, or revoked: not to be delivered

    @property
    def to_deliver(self) -> int:
        return self.total - self.withdrawn

    @property
    def share_expected(self) -> float:
        """Delivered or likely delivered before opening day, of the items to deliver."""
        n = self.to_deliver
        return (self.delivered + self.on_time + self.at_risk) / n if n else 1.0


@dataclass
class Outlook:
    """The campaign against opening day, route by route. `queue_ranks`:
    per (status, route) the last rank still on time and the last rank still
    likely in time (the at-risk list and the outreach rule select by them);
    `dwell_hours`: per (status, route, verdict) the epoch hours of entry of
    the items with that verdict; `deliveries`: (early, likely, late, items)
    points of the expected deliveries, for the burn-down."""

    routes: dict[str, RouteOutlook]
    queue_ranks: dict[tuple[str, str], tuple[int, int]]
    dwell_hours: dict[tuple[str, str, str], list[int]]
    deliveries: list[tuple[datetime, datetime, datetime, float]]

    def totals(self) -> RouteOutlook:
        out = RouteOutlook("*")
        for r in self.routes.values():
            for f in ("total", "delivered", "on_time", "at_risk", "will_miss", "no_date", "returned", "withdrawn"):
                setattr(out, f, getattr(out, f) + getattr(r, f))
        return out


SAMPLES_PER_ROUTE = 12


def outlook(fc: Forecast, *, queues: Mapping[str, list[str]],
            groups: Iterable[tuple[str, str, int, int]],
            finals: Mapping[str, Mapping[str, int]]) -> Outlook:
    """Every item not yet final, against opening day. `queues`: per station
    queue status the routes of its free items in rank order; `groups`:
    (status, route, epoch hour of entry, items) of the free items past the
    stations; `finals`: per route the counts `total`, `delivered`,
    `returned`, `withdrawn`, `held` (not final, on hold) and `revoked` (not
    final, revoked)."""
    routes = {r: RouteOutlook(r, total=f.get("total", 0), delivered=f.get("delivered", 0),
                              returned=f.get("returned", 0),
                              withdrawn=f.get("withdrawn", 0) + f.get("revoked", 0), no_date=f.get("held", 0))
              for r, f in finals.items()}
    deadline = fc.deadline
    ranks: dict[tuple[str, str], tuple[int, int]] = {}
    deliveries: list[tuple[datetime, datetime, datetime, float]] = []
    for status, order in queues.items():
        positions: dict[str, list[int]] = {}
        for i, route in enumerate(order, 1):
            positions.setdefault(route, []).append(i)
        n = len(order)
        for route, pos in positions.items():
            ro = routes.setdefault(route, RouteOutlook(route, total=len(pos)))
            probe = fc.for_queue(status, 1, route)
            if isinstance(probe, Unknown) and not probe.reason.startswith("beyond"):
                if deadline is not None and probe.reason.startswith("no_throughput"):
                    ro.will_miss += len(pos)
                    ranks[(status, route)] = (0, 0)
                else:
                    ro.no_date += len(pos)
                continue
            if deadline is not None:
                def likely(r: int, route: str = route, status: str = status) -> datetime | None:
                    e = fc.for_queue(status, r, route, stages=False)
                    return e.likely if isinstance(e, Expected) else None

                def late(r: int, route: str = route, status: str = status) -> datetime | None:
                    e = fc.for_queue(status, r, route, stages=False)
                    return e.late if isinstance(e, Expected) else None

                chain = fc.dwell.chain(route, "bagged", 0.0)
                if chain is not None and not any(t.route == route for t in fc.trips):
                    # the likely date is the bagging time plus the route's dwell: invert the flow
                    cut = deadline - timedelta(hours=chain.likely)
                    got = fc.flows["mid"].departed_by(STAGES[-1], cut) - fc._ahead(status, STAGES[-1])
                    r_likely = min(n, max(0, math.ceil(got) - 1))
                    while r_likely > 0 and (likely(r_likely) or deadline) >= deadline:
                        r_likely -= 1
                    while r_likely < n and (likely(r_likely + 1) or deadline) < deadline:
                        r_likely += 1
                else:
                    r_likely = rank_threshold(likely, n, deadline)
                r_late = min(r_likely, rank_threshold(late, r_likely, deadline))
                ranks[(status, route)] = (r_late, r_likely)
                a, b = bisect_right(pos, r_late), bisect_right(pos, r_likely)
                ro.on_time += a
                ro.at_risk += b - a
                ro.will_miss += len(pos) - b
            step = max(1, len(pos) // SAMPLES_PER_ROUTE)
            for k in range(0, len(pos), step):
                e = fc.for_queue(status, pos[k], route, stages=False)
                if isinstance(e, Expected):
                    deliveries.append((e.early, e.likely, e.late, float(min(step, len(pos) - k))))
    dwell_hours: dict[tuple[str, str, str], list[int]] = {}
    for status, route, hour, n in groups:
        ro = routes.setdefault(route, RouteOutlook(route, total=n))
        e = fc.for_dwell(status, route, hour_start(hour) + HOUR / 2)
        verdict: str | None
        if isinstance(e, Unknown):
            ro.no_date += n
            verdict = "no_date"
        else:
            deliveries.append((e.early, e.likely, e.late, float(n)))
            verdict = e.verdict
            if verdict:
                setattr(ro, verdict, getattr(ro, verdict) + n)
        if verdict:
            dwell_hours.setdefault((status, route, verdict), []).append(hour)
    return Outlook(routes, ranks, dwell_hours, deliveries)


def stage_load(fc: Forecast, stage: str) -> float | None:
    """Days the stage alone needs for the work waiting at or before it now,
    at its capacity per day (None when it has no staffed capacity)."""
    i = STAGES.index(stage)
    work = sum(fc.free[QUEUE_STATUSES[k]] for k in range(i + 1))
    cap = fc.caps.get(stage)
    if not work:
        return 0.0
    if cap is None or not cap.staffed:
        return None
    h0 = epoch_hour(fc.now)
    per_day = sum(s.rate * fc.settings.open_fraction(s.site, h) for s in cap.staffed for h in range(h0, h0 + 24))
    return work / per_day if per_day else None


def bottleneck(fc: Forecast) -> str | None:
    """The station stage that holds the campaign back: among the stages
    where work was waiting (saturated), the one that needs the longest, on
    its own, for the work waiting at or before it; a stage with nobody
    working at it while work waits comes first (None when nothing waits)."""
    loads = {s: stage_load(fc, s) for s in STAGES}
    stuck = [s for s, v in loads.items() if v is None]
    if stuck:
        return stuck[0]
    known = {s: v for s, v in loads.items() if v is not None}  # every stage: none is stuck
    queued = [s for s in STAGES if fc.caps.get(s) and fc.caps[s].saturated and known[s] > 0]
    pool = queued or [s for s in STAGES if known[s] > 0]
    return max(pool, key=lambda s: known[s]) if pool else None


@dataclass
class Move:
    """One person moved from one stage to another at `start`, and the
    campaign's station end (the last waiting item bagged) with it."""

    from_stage: str
    to_stage: str
    start: datetime
    end: datetime | None
    gain_hours: float | None


def _station_end(fc: Forecast, operators: Iterable[ExtraOperators]) -> datetime | None:
    flow = StationFlow(fc.caps, fc.free, fc.now, fc.settings, operators=operators)
    n = sum(fc.free.values())
    return flow.clears(STAGES[-1], n) if n else fc.now


def moves(fc: Forecast, start: datetime) -> list[Move]:
    """Every move of one person between two station stages (a stage keeps
    at least one person), either at `start` or once the stage they leave
    has cleared its backlog (whichever is better), best first; and one more
    person at each stage from `start`, for comparison (from_stage "")."""
    base = fc.campaign_end()

    def gain(end: datetime | None) -> float | None:
        return round((base - end).total_seconds() / 3600, 1) if base and end else None

    out: list[Move] = []
    for a in STAGES:
        cap_a = fc.caps.get(a)
        for b in STAGES:
            if a == b or cap_a is None or len(cap_a.staffed) < 2 or not fc.caps.get(b):
                continue
            best: Move | None = None
            for at in (start, max(start, fc.clear_time(a) or start)):
                ops = fc.operators + (ExtraOperators(a, -1, at), ExtraOperators(b, 1, at))
                end = _station_end(fc, ops)
                move = Move(a, b, at, end, gain(end))
                if best is None or (move.gain_hours or -1e9) > (best.gain_hours or -1e9):
                    best = move
            assert best is not None  # the loop above runs twice and sets it the first time
            out.append(best)
    for b in STAGES:
        if fc.caps.get(b):
            end = _station_end(fc, fc.operators + (ExtraOperators(b, 1, start),))
            out.append(Move("", b, start, end, gain(end)))
    return sorted(out, key=lambda m: -(m.gain_hours if m.gain_hours is not None else -1e9))


# ---------------------------------------------------------------- accuracy

@dataclass
class Accuracy:
    """A backtest's figures: per stage the mean absolute error in hours over
    the items that passed it after the cut (and how many had not yet), and
    how often the actual delivery fell inside the band."""

    mae_hours: dict[str, float | None]
    bias_hours: dict[str, float | None]  # mean of predicted − actual: > 0 late, < 0 early
    compared: dict[str, int]
    pending: dict[str, int]
    delivered: int
    inside_band: float | None  # actual in [early, late]
    before_late: float | None  # actual before the late date (p90)
    before_likely: float | None  # actual before the likely date (p50)


def accuracy(pairs: Iterable[tuple[str, datetime, datetime | None]],
             bands: Iterable[tuple[datetime, datetime, datetime, datetime]]) -> Accuracy:
    """`pairs`: (stage, predicted, actual or None when it has not happened
    yet); `bands`: (early, likely, late, actual delivery) of the items
    delivered after the cut."""
    err: dict[str, list[float]] = {s: [] for s in ALL_STAGES}
    pending = {s: 0 for s in ALL_STAGES}
    for stage, predicted, actual in pairs:
        if actual is None:
            pending[stage] += 1
        else:
            err[stage].append((predicted - actual).total_seconds() / 3600)
    inside = late = likely_n = total = 0
    for early, likely, late_t, actual in bands:
        total += 1
        inside += early <= actual <= late_t
        late += actual <= late_t
        likely_n += actual <= likely

    def share(n: int) -> float | None:
        return round(n / total, 4) if total else None

    return Accuracy(
        mae_hours={s: (round(sum(abs(x) for x in v) / len(v), 2) if v else None) for s, v in err.items()},
        bias_hours={s: (round(sum(v) / len(v), 2) if v else None) for s, v in err.items()},
        compared={s: len(v) for s, v in err.items()}, pending=pending, delivered=total,
        inside_band=share(inside), before_late=share(late), before_likely=share(likely_n))
