"""Dwell times after the stations: how long an item stays in each status
from bagged to delivered, per route, from the measured durations with the
items still waiting as censored observations, conditioned on the time an
item has already waited. Part of the forecaster (domain/forecast.py).
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

MIN_SAMPLES = 20  # fewer measured dwells than this for a route: its estimate pools all routes
DWELL_NEXT: dict[str, str] = {
    "bagged": "dispatched", "dispatched": "in_transit", "in_transit": "arrived",
    "arrived": "out_for_delivery", "out_for_delivery": "delivered", "delivery_failed": "out_for_delivery",
}
DWELL_ACTION: dict[str, str] = {
    "bagged": "seal", "dispatched": "depart", "in_transit": "arrive", "arrived": "out_for_delivery",
    "out_for_delivery": "delivered", "delivery_failed": "out_for_delivery",
}


def _epoch_hour(at: datetime) -> int:
    return int(at.timestamp()) // 3600


class Histogram:
    """Durations in whole hours ({hours: n}); a duration in bin h lies in [h, h+1).

    With `censored` ({hours waited so far: n} of the items still waiting)
    the distribution is the Kaplan–Meier estimate: the items that have not
    finished yet count as at risk up to the time they have waited, so that
    the long waits, not all observed yet, are not left out; what is left
    beyond the last finished duration is put just after the longest wait."""

    def __init__(self, counts: Mapping[int, int], censored: Mapping[int, int] | None = None):
        self.samples = sum(n for n in counts.values() if n > 0)
        mass: dict[int, float] = {k: float(n) for k, n in counts.items() if n > 0}
        if censored and self.samples:
            waiting = {k: n for k, n in censored.items() if n > 0}
            at_risk = float(self.samples + sum(waiting.values()))
            survive, mass = 1.0, {}
            for h in sorted(set(counts) | set(waiting)):
                d = counts.get(h, 0)
                if d > 0 and at_risk > 0:
                    mass[h] = survive * d / at_risk
                    survive *= 1 - d / at_risk
                at_risk -= max(0, d) + waiting.get(h, 0)
            if survive > 1e-9:
                tail = max(set(counts) | set(waiting)) + 1
                mass[tail] = mass.get(tail, 0.0) + survive
        self.keys = sorted(mass)
        self.cum: list[float] = []
        total = 0.0
        for k in self.keys:
            total += mass[k]
            self.cum.append(total)
        self.total = total

    def quantile(self, q: float, elapsed: float = 0.0) -> float | None:
        """The q-quantile of the time still to wait after `elapsed` hours,
        among durations longer than `elapsed`; None when none was."""
        if not self.total:
            return None
        # durations in bins whose upper end lies above `elapsed`
        i = bisect_right(self.keys, elapsed - 1)
        before = self.cum[i - 1] if i else 0
        tail = self.total - before
        if tail <= 0:
            return None
        target = before + q * tail
        j = bisect_left(self.cum, target)
        j = min(j, len(self.keys) - 1)
        prev = self.cum[j - 1] if j else 0
        n = self.cum[j] - prev
        lo = max(float(self.keys[j]), elapsed if j == i else float(self.keys[j]))
        hi = float(self.keys[j] + 1)
        frac = (target - prev) / n if n else 0.5
        value = lo + (hi - lo) * min(1.0, max(0.0, frac))
        return max(0.0, value - elapsed)


@dataclass
class Chain:
    """The remaining time from a status to delivery (hours): early, likely,
    late, the likely time of each stage passed on the way, and how it was
    estimated."""

    early: float
    likely: float
    late: float
    steps: list[tuple[str, float]]
    pooled: list[str]
    overdue: bool = False


class DwellModel:
    """Dwell-time distributions per route and status with fallbacks: the
    route's recent window, the route's whole history, all routes' recent
    window, all routes' whole history; each with the items still waiting in
    that status as censored observations (`waiting`: {(route, status):
    {hours waited: n}})."""

    def __init__(self, recent: Mapping[tuple[str, str], Mapping[int, int]],
                 whole: Mapping[tuple[str, str], Mapping[int, int]],
                 waiting: Mapping[tuple[str, str], Mapping[int, int]] | None = None):
        self._hist: dict[tuple[str, str], tuple[Histogram | None, bool]] = {}
        self._recent, self._whole, self._waiting = recent, whole, waiting or {}
        pooled_wait = _pool(self._waiting)
        self._pooled = {key: {s: Histogram(h, pooled_wait.get(s)) for s, h in _pool(source).items()}
                        for source, key in ((recent, "recent"), (whole, "whole"))}
        # (route, status, elapsed rounded, scale's items) → chain
        self._cache: dict[tuple[str, str, float, tuple[tuple[str, float], ...]], Chain | None] = {}

    def histogram(self, route: str, status: str) -> tuple[Histogram | None, bool]:
        """(histogram, pooled?) for a route's dwell in `status`."""
        key = (route, status)
        if key not in self._hist:
            found: tuple[Histogram | None, bool] | None = None
            waiting = self._waiting.get(key)
            for source in (self._recent, self._whole):
                h = Histogram(source.get(key, {}), waiting)
                if h.samples >= MIN_SAMPLES:
                    found = (h, False)
                    break
            if found is None:
                for k in ("recent", "whole"):
                    pooled_h = self._pooled[k].get(status)
                    if pooled_h is not None and pooled_h.samples >= MIN_SAMPLES:
                        found = (pooled_h, True)
                        break
            if found is None:
                h = Histogram(self._whole.get(key, {}), waiting)
                found = (h, False) if h.samples else (None, True)
            self._hist[key] = found
        return self._hist[key]

    def chain(self, route: str, status: str, elapsed: float = 0.0,
              scale: Mapping[str, float] | None = None) -> Chain | None:
        """Remaining hours from `status` (entered `elapsed` hours ago) to
        delivery; `scale` multiplies a status's dwell (a what-if: more trips
        → shorter wait for departure). None when a dwell on the way was never
        measured."""
        key = (route, status, round(elapsed, 1), tuple(sorted((scale or {}).items())))
        if key in self._cache:
            return self._cache[key]
        mid = lo_sq = hi_sq = 0.0
        steps: list[tuple[str, float]] = []
        pooled: list[str] = []
        overdue = False
        s, e = status, elapsed
        while s in DWELL_NEXT:
            hist, was_pooled = self.histogram(route, s)
            if hist is None:
                self._cache[key] = None
                return None
            if was_pooled:
                pooled.append(s)
            f = (scale or {}).get(s, 1.0)
            p10, p50, p90 = (hist.quantile(x, e / f if f else 0.0) for x in (0.1, 0.5, 0.9))
            q: list[float]
            # quantile() is None because of the elapsed time alone, whatever q: the three are None together
            if p10 is None or p50 is None or p90 is None:
                # waited longer than any item measured: due any moment, late by the usual spread
                overdue = True
                q = [0.0, 0.0, (hist.quantile(0.9) or 0.0) - (hist.quantile(0.5) or 0.0)]
            else:
                q = [p10, p50, p90]
            q = [x * f for x in q]
            mid += q[1]
            lo_sq += (q[1] - q[0]) ** 2
            hi_sq += (q[2] - q[1]) ** 2
            steps.append((DWELL_ACTION[s], mid))
            s, e = DWELL_NEXT[s], 0.0
        out = Chain(max(0.0, mid - math.sqrt(lo_sq)), mid, mid + math.sqrt(hi_sq), steps, pooled, overdue)
        self._cache[key] = out
        return out


def _pool(by_route: Mapping[tuple[str, str], Mapping[int, int]]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for (_route, status), hist in by_route.items():
        acc = out.setdefault(status, {})
        for h, n in hist.items():
            acc[h] = acc.get(h, 0) + n
    return out


def waiting_from(groups: Iterable[tuple[str, str, int, int]], now: datetime) -> dict[tuple[str, str], dict[int, int]]:
    """{(route, status): {whole hours waited at least: n}} from (status,
    route, epoch hour of entry, n): an item that entered in hour H has waited
    at least the whole hours since the end of H."""
    now_h = _epoch_hour(now)
    out: dict[tuple[str, str], dict[int, int]] = {}
    for status, route, hour, n in groups:
        acc = out.setdefault((route, status), {})
        waited = max(0, now_h - hour - 1)
        acc[waited] = acc.get(waited, 0) + n
    return out
