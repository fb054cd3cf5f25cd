"""Honest accuracy: cut the history at a past moment, forecast from what was
known then, and compare with what happened after.

For every item on its way at the cut (not held, not revoked) the forecast
gives the likely time of each stage still ahead; each stage it has passed
since is an error in hours (the mean absolute error per stage), each stage
it has not passed yet by the end of the history is counted as pending (so
the figures say how much they leave out). For the items delivered since,
how often the delivery fell inside the band (early–late, p10–p90), before
the late date, and before the likely date.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session

from ... import clock
from ...domain import forecast as F
from ...domain import forecast_campaign as C
from . import history


@dataclass
class Backtest:
    cut: datetime
    observed_until: datetime | None
    items: int  # items on their way at the cut, forecast
    no_date: int  # of these, how many got no date (and why)
    no_date_reasons: dict[str, int]
    accuracy: C.Accuracy
    clears: dict[str, dict]  # per station stage: predicted and actual time its backlog cleared

    def as_dict(self) -> dict:
        out = asdict(self)
        out["cut"] = self.cut.isoformat()
        out["observed_until"] = self.observed_until.isoformat() if self.observed_until else None
        for stage, c in out["clears"].items():
            out["clears"][stage] = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in c.items()}
        return out


def whole_hour(at: datetime) -> datetime:
    """The cut is taken at the start of its hour (the summaries count whole hours)."""
    return F.hour_start(F.epoch_hour(at))


def run(session: Session, settings: F.ForecastSettings, at: datetime) -> Backtest:
    """The backtest at `at` (taken at the start of its hour). Fold the
    summaries first (summary.refresh)."""
    cut = whole_hour(at)
    items = history.items_at(session, cut)
    state, counts, held, ranks = history.state_at(items)
    m = history.measured_at(session, settings, cut, counts, held)
    m.waiting = F.waiting_from(state.groups, cut)
    fc = F.Forecast(m, settings)
    actual, until = history.actual_after(session, cut)
    pairs, bands = [], []
    reasons: dict[str, int] = {}
    n = 0
    last_pass: dict[str, datetime | None] = {s: cut for s in F.STAGES}
    for it in items:
        if it.status in F.FINAL or it.hold or it.revoked:
            continue
        n += 1
        e = fc.for_item(status=it.status, route=it.route, entered=it.entered, rank=ranks.get(it.id))
        if it.status in F.QUEUE_STATUSES:
            for stage in F.STAGES[F.STAGES.index(F.STAGE_OF[it.status]):]:
                t = actual.get((it.id, stage))
                prev = last_pass[stage]
                last_pass[stage] = None if t is None or prev is None else max(prev, t)
        if isinstance(e, F.Unknown):
            reasons[e.reason] = reasons.get(e.reason, 0) + 1
            continue
        for stage, predicted in e.stages.items():
            pairs.append((stage, predicted, actual.get((it.id, stage))))
        delivered = actual.get((it.id, "delivered"))
        if delivered is not None:
            bands.append((e.early, e.likely, e.late, delivered))
    clears = {}
    for stage in F.STAGES:
        predicted = fc.clear_time(stage)
        clears[stage] = {"predicted": predicted, "actual": last_pass[stage],
                         "error_hours": round((predicted - last_pass[stage]).total_seconds() / 3600, 1)
                         if predicted and last_pass[stage] else None}
    return Backtest(cut=cut.astimezone(clock.local_zone()), observed_until=until.astimezone(clock.local_zone())
                    if until else None, items=n, no_date=sum(reasons.values()), no_date_reasons=reasons,
                    accuracy=C.accuracy(pairs, bands), clears=clears)
