"""The completion forecast: when will each item arrive, when does each stage
clear, and will the campaign make opening day.

Plain Python over what the events measured (services/forecast gathers it):

* **Station stages** (handover, capture, accept, bag) are queues served
  first in, first out by the stations during their site's working hours. A
  stage's capacity per open hour is the sum of its staffed stations' rates,
  each measured over the recent window in the hours when work was waiting
  (a stage that never had a queue only shows a lower bound). A fluid
  simulation hour by hour moves today's backlog through the stages; an item
  with rank r in its queue leaves a later stage when that stage's cumulative
  departures reach r plus everything queued between.
* **After the stations** an item waits in bagged, dispatched, in_transit,
  arrived and out_for_delivery; how long it stays in each status is read
  from the measured dwell times of its route (all routes pooled when its
  route has too few), conditioned on how long it has already waited.
* **Bands**: the likely date is the median path; the early and late dates
  (p10, p90) combine the stations' day-to-day spread of throughput (the
  simulation run at the fast and slow day's rate) with each dwell's spread,
  as independent spreads (root of the sum of squares).

Nothing here reads the database, the clock or Flask. forecast_dwell.py
holds the dwell times, forecast_campaign.py the campaign as a whole (every
item against opening day, bottleneck, moves, the backtest's figures).
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from .forecast_dwell import (  # noqa: F401  (part of the forecaster's vocabulary)
    DWELL_ACTION,
    DWELL_NEXT,
    MIN_SAMPLES,
    Chain,
    DwellModel,
    Histogram,
    waiting_from,
)

# Station stages in chain order, and the status an item waits in before each.
STAGES: tuple[str, ...] = ("handover", "capture", "accept", "bag")
WAITING: dict[str, str] = {"handover": "registered", "capture": "received", "accept": "captured",
                           "bag": "accepted"}
QUEUE_STATUSES: tuple[str, ...] = tuple(WAITING[s] for s in STAGES)
STAGE_OF: dict[str, str] = {v: k for k, v in WAITING.items()}
# After the stations (forecast_dwell.py): the status an item moves to from each, and the action that moves it.
DWELL_STATUSES: tuple[str, ...] = tuple(DWELL_NEXT)
# every stage an item passes from registration to delivery, in order (the backtest's columns)
ALL_STAGES: tuple[str, ...] = STAGES + ("seal", "depart", "arrive", "out_for_delivery", "delivered")
FINAL = frozenset({"delivered", "returned", "withdrawn"})
# the slow and fast day of the spread, and the band: p90 and p10
Z90 = 1.2816
VERDICTS = ("delivered", "on_time", "at_risk", "will_miss", "no_date", "returned")
HOUR = timedelta(hours=1)


class ForecastConfigError(ValueError):
    """A forecast setting that cannot be read; the message names it."""


# ---------------------------------------------------------------- settings

def parse_site_hours(value: str | Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """'PCS=08:00-20:00;RCC=09:00-18:00' (or a mapping site → '08:00-20:00')
    → {site: (opening minute, closing minute)} of the local day."""
    if isinstance(value, str):
        pairs = []
        for part in filter(None, (p.strip() for p in value.replace(",", ";").split(";"))):
            site, sep, span = part.partition("=")
            if not sep:
                raise ForecastConfigError(f"SITE_HOURS: expected SITE=HH:MM-HH:MM, got {part!r}")
            pairs.append((site.strip(), span.strip()))
    else:
        pairs = list(value.items())
    out = {}
    for site, span in pairs:
        start, sep, end = str(span).partition("-")
        try:
            if not sep or not site:
                raise ValueError
            a, b = (time.fromisoformat(x.strip()) for x in (start, end))
        except ValueError:
            raise ForecastConfigError(f"SITE_HOURS: expected {site or 'SITE'}=HH:MM-HH:MM, got {span!r}") from None
        lo, hi = a.hour * 60 + a.minute, b.hour * 60 + b.minute
        if hi <= lo:
            raise ForecastConfigError(f"SITE_HOURS: {site} closes before it opens ({span!r})")
        out[site] = (lo, hi)
    if not out:
        raise ForecastConfigError("SITE_HOURS: no site given")
    return out


@dataclass(frozen=True)
class ForecastSettings:
    """What the forecast is configured with (OPENING_DATE, SITE_HOURS,
    FORECAST_WINDOW_HOURS in the app config)."""

    opening: date | None = None
    # site → (opening, closing minute of the local day); a site not named works around the clock
    site_hours: dict[str, tuple[int, int]] = field(default_factory=dict)
    window_hours: int = 72
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    horizon_days: int = 60
    # where the opening date came from: "config", "demo" (the demo database's own) or None
    opening_source: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, tz: ZoneInfo | None = None) -> ForecastSettings:
        """Read and check the settings; a bad value raises ForecastConfigError
        naming the key and the value."""
        raw = config.get("OPENING_DATE")
        opening: date | None = None
        if raw:
            if isinstance(raw, date):
                opening = raw
            else:
                try:
                    opening = date.fromisoformat(str(raw).strip())
                except ValueError:
                    raise ForecastConfigError(f"OPENING_DATE: expected YYYY-MM-DD, got {raw!r}") from None
        try:
            window = int(config.get("FORECAST_WINDOW_HOURS") or 72)
        except (TypeError, ValueError):
            raise ForecastConfigError(
                f"FORECAST_WINDOW_HOURS: expected whole hours, got {config.get('FORECAST_WINDOW_HOURS')!r}") from None
        if not 6 <= window <= 24 * 60:
            raise ForecastConfigError(f"FORECAST_WINDOW_HOURS: between 6 and 1440, got {window}")
        raw_hours = config.get("SITE_HOURS")
        hours = parse_site_hours(raw_hours) if raw_hours is not None else {}
        return cls(opening=opening, site_hours=hours, window_hours=window, tz=tz or cls.tz,
                   opening_source="config" if opening else None)

    def deadline(self) -> datetime | None:
        """The start of opening day, in UTC: every credential must be delivered before it."""
        if self.opening is None:
            return None
        return datetime.combine(self.opening, time(0), self.tz).astimezone(UTC)

    def open_fraction(self, site: str | None, hour: int) -> float:
        """The share of epoch hour `hour` during which `site` works (a site
        not configured works around the clock)."""
        span = self.site_hours.get(site or "")
        if span is None:
            return 1.0
        return _open_fraction(span, self.tz, hour)


@lru_cache(maxsize=32768)
def _open_fraction(span: tuple[int, int], tz: ZoneInfo, hour: int) -> float:
    local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(tz)
    m0 = local.hour * 60 + local.minute
    lo, hi = span
    return max(0.0, min(hi, m0 + 60) - max(lo, m0)) / 60


def epoch_hour(at: datetime) -> int:
    return int(at.timestamp()) // 3600


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of a non-empty list, linearly interpolated."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    i = int(pos)
    return s[i] if i + 1 >= len(s) else s[i] + (s[i + 1] - s[i]) * (pos - i)


# ---------------------------------------------------------------- what was measured

@dataclass(frozen=True)
class Flow:
    """Items moved in one epoch hour from one status to another (dash_flow)."""

    hour: int
    action: str
    station: str
    from_status: str
    to_status: str
    n: int


@dataclass
class Measured:
    """Everything the forecast learns from, as of `now`.

    `flows`: ok item moves per hour (the recent window and the chart's
    days); `counts`: items per status now; `held`: held or revoked items per
    status (they wait but are not served); `station_site`: each station's
    site; `dwell`: {(route, status): {whole hours: n}} of the recent window
    and `dwell_all` of the whole history; `trips_per_day`: departures per day
    that carried each route's bags in the window; `calls`: {(line, hour): n}.
    """

    now: datetime
    flows: list[Flow]
    counts: dict[str, int]
    held: dict[str, int]
    station_site: dict[str, str]
    dwell: dict[tuple[str, str], dict[int, int]]
    dwell_all: dict[tuple[str, str], dict[int, int]]
    trips_per_day: dict[str, float] = field(default_factory=dict)
    calls: dict[tuple[str, int], int] = field(default_factory=dict)
    hotlines: list[str] = field(default_factory=list)
    # items still in each status past the stations: {(route, status): {hours waited: n}}
    waiting: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)


def backlog_series(flows: Iterable[Flow], counts: Mapping[str, int], h0: int, h1: int) -> dict[str, list[int]]:
    """Items in each status at the start of every hour h0..h1 (h1 = the
    current hour's start... the last value is the count now): today's counts
    with the later moves undone."""
    net: dict[str, dict[int, int]] = {}
    for f in flows:
        if f.hour < h0:
            continue
        if f.to_status:
            net.setdefault(f.to_status, {}).setdefault(f.hour, 0)
            net[f.to_status][f.hour] += f.n
        if f.from_status:
            net.setdefault(f.from_status, {}).setdefault(f.hour, 0)
            net[f.from_status][f.hour] -= f.n
    out = {}
    for status in set(counts) | set(net):
        per = net.get(status, {})
        value = counts.get(status, 0) - sum(n for h, n in per.items() if h >= h1)
        series = [0] * (h1 - h0 + 1)
        series[-1] = value
        for i in range(h1 - h0 - 1, -1, -1):
            value -= per.get(h0 + i, 0)
            series[i] = value
        out[status] = series
    return out


@dataclass
class StationRate:
    station: str
    stage: str
    site: str | None
    rate: float  # items per open hour when work waited
    best: int  # most items in one hour in the window
    hours: int  # hours measured
    staffed: bool  # worked in the stage's last working hours


@dataclass
class StageCapacity:
    """One station stage's capacity: its stations' rates, whether they were
    measured with work waiting (`saturated`), and the spread of the slow
    and fast day (factors on the rate)."""

    stage: str
    stations: list[StationRate]
    saturated: bool
    slow: float = 1.0
    fast: float = 1.0

    @property
    def staffed(self) -> list[StationRate]:
        return [s for s in self.stations if s.staffed]

    def station_rate(self) -> float:
        """The rate of one more person at this stage: the mean staffed rate."""
        rates = [s.rate for s in self.staffed] or [s.rate for s in self.stations]
        return sum(rates) / len(rates) if rates else 0.0

    def site(self) -> str | None:
        sites = [s.site for s in self.stations if s.site]
        return max(set(sites), key=sites.count) if sites else None

    def per_open_hour(self) -> float:
        return sum(s.rate for s in self.staffed)


def measure_capacity(m: Measured, settings: ForecastSettings) -> dict[str, StageCapacity]:
    """Each station stage's capacity from the recent window: per station the
    mean items per hour over the hours when an hour's work was waiting at
    the start of the hour and half an hour's at its end (saturated hours);
    when these were fewer than half its active hours the stage was not what
    held the items back and only showed
    a lower bound of what it can do: its busier hours (the 90th percentile)
    stand for its rate. Also each station's best hour and whether it worked
    in the stage's last 8 working hours; the slow and fast day as the 10th
    and 90th percentile of the daily rate over the mean."""
    now_h = epoch_hour(m.now)
    w0 = now_h - settings.window_hours
    backlog = backlog_series(m.flows, m.counts, w0, now_h)
    out = {}
    for stage in STAGES:
        waiting = WAITING[stage]
        held = m.held.get(waiting, 0)
        series = backlog.get(waiting, [0] * (now_h - w0 + 1))
        cells: dict[str, dict[int, int]] = {}
        for f in m.flows:
            if f.action == stage and f.from_status == waiting and w0 <= f.hour < now_h and f.station:
                cells.setdefault(f.station, {}).setdefault(f.hour, 0)
                cells[f.station][f.hour] += f.n
        per_hour: dict[int, int] = {}
        for per in cells.values():
            for h, n in per.items():
                per_hour[h] = per_hour.get(h, 0) + n
        saturated_hours = {h for h, n in per_hour.items()
                           if series[h - w0] - held >= max(1.0, n) and series[h - w0 + 1] - held >= max(1.0, n / 2)}
        if len(saturated_hours) * 2 < len(per_hour):
            # work waited in only a few of its hours (between trays, say): not a queue that held it back
            saturated_hours = set()
        site_hours: dict[str | None, set[int]] = {}
        stations: list[StationRate] = []
        for st, per in sorted(cells.items()):
            site = m.station_site.get(st)
            chosen = [n for h, n in per.items() if h in saturated_hours]
            rate = sum(chosen) / len(chosen) if chosen else quantile(list(per.values()), 0.9)
            worked = _last_working_hours(settings, site, now_h, 8, site_hours)
            stations.append(StationRate(st, stage, site, rate, max(per.values()), len(chosen) or len(per),
                                        staffed=any(h in per for h in worked)))
        cap = StageCapacity(stage, stations, saturated=bool(saturated_hours))
        days: dict[date, list[int]] = {}
        for h in (saturated_hours or per_hour):
            days.setdefault(hour_start(h).astimezone(settings.tz).date(), []).append(per_hour[h])
        day_rates = [sum(v) / len(v) for v in days.values() if len(v) >= 3]
        if len(day_rates) >= 2:
            mean = sum(day_rates) / len(day_rates)
            cap.slow, cap.fast = quantile(day_rates, 0.1) / mean, quantile(day_rates, 0.9) / mean
        elif len(per_hour) >= 4:
            # one day only: the hours' spread, as if a day's hours were independent
            vals = list(per_hour.values())
            mean = sum(vals) / len(vals)
            sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
            spread = Z90 * sd / mean / math.sqrt(len(vals))
            cap.slow, cap.fast = max(0.1, 1 - spread), 1 + spread
        out[stage] = cap
    return out


def _last_working_hours(settings: ForecastSettings, site: str | None, now_h: int, n: int,
                        memo: dict[str | None, set[int]]) -> set[int]:
    """The last `n` hours (before now) during which `site` was open."""
    if site not in memo:
        hours: set[int] = set()
        h = now_h
        while len(hours) < n and h > now_h - 24 * 14:
            if settings.open_fraction(site, h) > 0:
                hours.add(h)
            h -= 1
        memo[site] = hours
    return memo[site]


# ---------------------------------------------------------------- the stations, simulated

@dataclass(frozen=True)
class ExtraOperators:
    """What if: `n` more people (negative: fewer) at `stage` from `start`."""

    stage: str
    n: int
    start: datetime


@dataclass(frozen=True)
class ExtraTrips:
    """What if: `n` more departures per day carrying `route` from `start`."""

    route: str
    n: int
    start: datetime


class StationFlow:
    """The station stages simulated hour by hour from `now` with one
    scenario's capacities: cumulative departures per stage."""

    def __init__(self, caps: dict[str, StageCapacity], backlog: dict[str, int], now: datetime,
                 settings: ForecastSettings, *, factor: str = "mid",
                 operators: Iterable[ExtraOperators] = ()):
        self.now = now
        self.h0 = epoch_hour(now)
        self.first = 1 - (now.timestamp() - self.h0 * 3600) / 3600  # the share of this hour left
        self.caps = caps
        horizon = settings.horizon_days * 24
        rates: dict[str, list[tuple[str | None, float]]] = {}
        for stage in STAGES:
            cap = caps.get(stage)
            f = 1.0 if cap is None else {"slow": cap.slow, "fast": cap.fast}.get(factor, 1.0)
            rates[stage] = [(s.site, s.rate * f) for s in (cap.staffed if cap else [])]
        extra = [(op, caps[op.stage].station_rate() if op.stage in caps else 0.0, caps[op.stage].site()
                  if op.stage in caps else None, epoch_hour(op.start)) for op in operators]
        queue = [float(backlog.get(WAITING[s], 0)) for s in STAGES]
        self.cum: dict[str, list[float]] = {s: [] for s in STAGES}  # departures so far, at each hour's end
        self.moved: dict[str, list[float]] = {s: [] for s in STAGES}  # departures in each hour
        totals = [0.0] * len(STAGES)
        for k in range(horizon):
            h = self.h0 + k
            share = self.first if k == 0 else 1.0
            passed = 0.0
            for j, stage in enumerate(STAGES):
                hour_cap: float = sum(r * settings.open_fraction(site, h) for site, r in rates[stage])
                for op, rate, site, from_h in extra:
                    if op.stage == stage and h >= from_h:
                        hour_cap += op.n * rate * settings.open_fraction(site, h)
                # what the stage before finished reaches this one half within the hour,
                # half the hour after (trays and carts go every so often, not at once)
                queue[j] += passed / 2
                done = min(queue[j], max(0.0, hour_cap) * share)
                queue[j] -= done
                totals[j] += done
                self.cum[stage].append(totals[j])
                self.moved[stage].append(done)
                if j:
                    queue[j] += passed / 2
                passed = done
            if all(q < 1e-9 for q in queue):
                break

    def time_of(self, stage: str, rank: float) -> datetime | None:
        """When the `rank`-th item from now leaves `stage`; None beyond the horizon."""
        cum = self.cum[stage]
        if rank <= 0:
            return self.now
        if not cum or rank > cum[-1] + 1e-6:
            return None
        k = bisect_left(cum, rank - 1e-9)
        prev = cum[k - 1] if k else 0.0
        moved = self.moved[stage][k]
        frac = (rank - prev) / moved if moved > 0 else 1.0
        start = self.now if k == 0 else hour_start(self.h0 + k)
        length = self.first if k == 0 else 1.0
        return start + timedelta(hours=length * min(1.0, max(0.0, frac)))

    def departed_by(self, stage: str, t: datetime) -> float:
        """How many items have left `stage` from now until `t`."""
        cum = self.cum[stage]
        if t <= self.now or not cum:
            return 0.0
        k = epoch_hour(t) - self.h0
        if k >= len(cum):
            return cum[-1]
        prev = cum[k - 1] if k else 0.0
        start = self.now if k == 0 else hour_start(self.h0 + k)
        length = self.first if k == 0 else 1.0
        frac = (t - start).total_seconds() / 3600 / length if length > 0 else 1.0
        return prev + self.moved[stage][k] * min(1.0, max(0.0, frac))

    def clears(self, stage: str, n: float) -> datetime | None:
        """When the first `n` items to leave `stage` from now have left."""
        return self.time_of(stage, n) if n > 0 else None


# ---------------------------------------------------------------- the forecast

@dataclass
class Expected:
    """An item's expected delivery: early (p10), likely (p50), late (p90),
    the likely time of each stage still ahead, and the opening-day verdict."""

    early: datetime
    likely: datetime
    late: datetime
    stages: dict[str, datetime]
    verdict: str | None
    pooled: list[str] = field(default_factory=list)
    overdue: bool = False


@dataclass
class Unknown:
    """No date: why (`on_hold`, `revoked`, `final`, `no_throughput:<stage>`,
    `no_history:<status>`, `beyond_horizon`)."""

    reason: str
    verdict: str | None = None


class Forecast:
    """The forecast at `measured.now`: station capacities and three
    simulations (fast, likely, slow day), dwell times, the deadline; it
    answers per item (`for_queue`, `for_dwell`) and per stage (`clear_time`)."""

    def __init__(self, measured: Measured, settings: ForecastSettings, *,
                 operators: Iterable[ExtraOperators] = (), trips: Iterable[ExtraTrips] = ()):
        self.m, self.settings = measured, settings
        self.now = measured.now
        self.operators, self.trips = tuple(operators), tuple(trips)
        self.caps = measure_capacity(measured, settings)
        self.free = {s: max(0, measured.counts.get(s, 0) - measured.held.get(s, 0)) for s in QUEUE_STATUSES}
        self.flows = {f: StationFlow(self.caps, self.free, self.now, settings, factor=f, operators=self.operators)
                      for f in ("fast", "mid", "slow")}
        self.dwell = DwellModel(measured.dwell, measured.dwell_all, measured.waiting)
        self.deadline = settings.deadline()

    # -- helpers
    def _ahead(self, status: str, stage: str) -> int:
        """Free items waiting between `status` (exclusive) and `stage` (inclusive)."""
        i, j = QUEUE_STATUSES.index(status), STAGES.index(stage)
        return sum(self.free[QUEUE_STATUSES[k]] for k in range(i + 1, j + 1))

    def _trip_scale(self, route: str, at: datetime) -> dict[str, float]:
        n = self.m.trips_per_day.get(route, 0.0)
        extra = sum(t.n for t in self.trips if t.route == route and at >= t.start)
        if not extra or n <= 0:
            return {}
        return {"dispatched": n / max(0.1, n + extra)}

    def verdict(self, likely: datetime, late: datetime) -> str | None:
        if self.deadline is None:
            return None
        if likely >= self.deadline:
            return "will_miss"
        return "at_risk" if late >= self.deadline else "on_time"

    # -- per item
    def for_queue(self, status: str, rank: float, route: str, *, stages: bool = True) -> Expected | Unknown:
        """An item waiting in a station queue at `rank` (1 = next); with
        `stages`, the likely time of every stage ahead (else only of the
        last station stage and the dwell steps)."""
        times: dict[str, dict[str, datetime]] = {"fast": {}, "mid": {}, "slow": {}}
        start = STAGES.index(STAGE_OF[status])
        for stage in STAGES[start:] if stages else STAGES[-1:]:
            if not stages:
                for s in STAGES[start:]:
                    if not self.caps.get(s) or not self.caps[s].staffed:
                        return Unknown(f"no_throughput:{s}", "will_miss" if self.deadline else None)
            elif not self.caps.get(stage) or not self.caps[stage].staffed:
                return Unknown(f"no_throughput:{stage}", "will_miss" if self.deadline else None)
            r = rank + self._ahead(status, stage)
            for f, flow in self.flows.items():
                t = flow.time_of(stage, r)
                if t is None:
                    return Unknown("beyond_horizon", "will_miss" if self.deadline else None)
                times[f][stage] = t
        bagged = times["mid"]["bag"]
        chain = self.dwell.chain(route, "bagged", 0.0, self._trip_scale(route, bagged))
        if chain is None:
            return Unknown("no_history:bagged")
        h_fast = (bagged - times["fast"]["bag"]).total_seconds() / 3600
        h_slow = (times["slow"]["bag"] - bagged).total_seconds() / 3600
        likely = bagged + timedelta(hours=chain.likely)
        early = likely - timedelta(hours=math.hypot(max(0.0, h_fast), chain.likely - chain.early))
        late = likely + timedelta(hours=math.hypot(max(0.0, h_slow), chain.late - chain.likely))
        ahead = dict(times["mid"])
        ahead.update({a: bagged + timedelta(hours=h) for a, h in chain.steps if a not in ahead})
        return Expected(early, likely, late, ahead, self.verdict(likely, late), chain.pooled, chain.overdue)

    def for_dwell(self, status: str, route: str, entered: datetime) -> Expected | Unknown:
        """An item past the stations, in `status` since `entered`."""
        elapsed = max(0.0, (self.now - entered).total_seconds() / 3600)
        chain = self.dwell.chain(route, status, elapsed, self._trip_scale(route, self.now))
        if chain is None:
            return Unknown(f"no_history:{status}")
        likely = self.now + timedelta(hours=chain.likely)
        stages: dict[str, datetime] = {}
        for a, h in chain.steps:
            stages.setdefault(a, self.now + timedelta(hours=h))
        return Expected(self.now + timedelta(hours=chain.early), likely, self.now + timedelta(hours=chain.late),
                        stages, self.verdict(likely, self.now + timedelta(hours=chain.late)), chain.pooled,
                        chain.overdue)

    def for_item(self, *, status: str, route: str, entered: datetime, rank: float | None = None,
                 hold: bool = False, revoked: bool = False) -> Expected | Unknown:
        """One item: its status, route, when it entered the status and (in a
        station queue) its rank there."""
        if status == "delivered":
            return Unknown("final", "delivered")
        if status in FINAL:
            return Unknown("final", "returned" if status == "returned" else None)
        if revoked:
            return Unknown("revoked")
        if hold:
            return Unknown("on_hold", "no_date" if self.deadline else None)
        if status in QUEUE_STATUSES:
            return self.for_queue(status, rank or 1, route)
        if status in DWELL_NEXT:
            return self.for_dwell(status, route, entered)
        return Unknown(f"no_history:{status}")

    # -- per stage
    def clear_time(self, stage: str, factor: str = "mid") -> datetime | None:
        """When everything waiting at or before `stage` now has passed it."""
        i = STAGES.index(stage)
        n = sum(self.free[QUEUE_STATUSES[k]] for k in range(i + 1))
        if n <= 0:
            return self.now
        if not self.caps.get(stage) or not self.caps[stage].staffed:
            return None
        return self.flows[factor].clears(stage, n)

    def campaign_end(self, factor: str = "mid") -> datetime | None:
        """When the last item waiting now leaves the last station stage."""
        return self.clear_time(STAGES[-1], factor)

    def backlog_ahead(self, factor: str, hours: list[int]) -> dict[str, list[float]]:
        """Items waiting at each station stage at the start of each given
        future hour, in one scenario (the burn-down)."""
        flow = self.flows[factor]
        out = {}
        for j, stage in enumerate(STAGES):
            start = float(self.free[WAITING[stage]])
            series = []
            for h in hours:
                k = h - flow.h0 - 1
                inflow = flow.cum[STAGES[j - 1]] if j else None

                def at(cum: list[float], k: int = k) -> float:
                    if k < 0 or not cum:
                        return 0.0
                    return cum[min(k, len(cum) - 1)]
                series.append(max(0.0, start + (at(inflow) if inflow is not None else 0.0) - at(flow.cum[stage])))
            out[stage] = series
        return out
