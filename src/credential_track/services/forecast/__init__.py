"""The forecast as a service: settings from the app config, the current
forecast (recomputed at most once a minute per process and database), an
item's expected delivery, and what-if variants. The arithmetic is
domain/forecast.py; the reads are data.py (now) and history.py (a past
moment); the at-risk list and the outreach rule select through verdicts.py.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from ... import clock
from ...domain import forecast as F
from ...domain import forecast_campaign as C
from ...models import Credential
from ...models.base import utcnow
from ..dashboard import summary
from . import data

CACHE_SECONDS = 60
_cache: dict[tuple, tuple[float, Current]] = {}


def settings_from(config: Mapping, session: Session | None = None) -> F.ForecastSettings:
    """The forecast settings of the app config; while OPENING_DATE is unset,
    a demo database's own opening day (marked as such)."""
    s = F.ForecastSettings.from_config(config, tz=clock.local_zone())
    if s.opening is None and session is not None:
        demo = data.demo_opening(session)
        if demo is not None:
            s = F.ForecastSettings(opening=demo, site_hours=s.site_hours, window_hours=s.window_hours, tz=s.tz,
                                   horizon_days=s.horizon_days, opening_source="demo")
    return s


@dataclass
class Current:
    """A forecast and the items it was made for."""

    forecast: F.Forecast
    state: data.State
    settings: F.ForecastSettings
    _outlook: C.Outlook | None = field(default=None, repr=False)

    @property
    def as_of(self) -> datetime:
        return self.forecast.now

    def outlook(self) -> C.Outlook:
        """Every item against opening day (computed once)."""
        if self._outlook is None:
            st = self.state
            self._outlook = C.outlook(self.forecast, queues=st.queues, groups=st.groups, finals=st.finals)
        return self._outlook


def compute(session: Session, settings: F.ForecastSettings, *, now: datetime | None = None,
            operators=(), trips=(), measured: F.Measured | None = None, state: data.State | None = None) -> Current:
    """A fresh forecast from the summaries as folded and today's items
    (what-if changes applied when given)."""
    now = now or utcnow()
    m = measured or data.measured(session, settings, now=now)
    st = state or data.state(session)
    m.waiting = F.waiting_from(st.groups, m.now)
    return Current(F.Forecast(m, settings, operators=operators, trips=trips), st, settings)


def current(session: Session, config: Mapping, *, refresh: bool = True) -> Current:
    """The forecast now, at most CACHE_SECONDS old. On a miss the dashboard
    summaries are folded first (`refresh`, in their own transaction) and
    the session is rolled back to see them: call this before the session
    has read or written anything you need to keep."""
    key = (str(session.get_bind().url), str(config.get("OPENING_DATE")), str(config.get("SITE_HOURS")),
           str(config.get("FORECAST_WINDOW_HOURS")))
    hit = _cache.get(key)
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < CACHE_SECONDS:
        return hit[1]
    if refresh:
        summary.refreshed(session)
    cur = compute(session, settings_from(config, session))
    _cache.clear()
    _cache[key] = (clock, cur)
    return cur


def current_apart(engine, config: Mapping) -> Current:
    """current() in a session of its own: for a request whose session may
    already hold a write transaction (the summaries fold in another one)."""
    with Session(engine, expire_on_commit=False) as s:
        return current(s, config)


def forget() -> None:
    """Drop the cached forecast (tests; after a bulk change)."""
    _cache.clear()


def expected_for(cur: Current, session: Session, item: Credential) -> F.Expected | F.Unknown:
    """One item's expected delivery in the forecast `cur`."""
    rank = None
    if item.status in F.QUEUE_STATUSES and not item.hold and not item.revoked:
        rank = data.queue_rank(session, item)
    return cur.forecast.for_item(status=item.status, route=item.route, entered=item.updated_at, rank=rank,
                                 hold=item.hold, revoked=item.revoked)


def expected_delivery(session: Session, config: Mapping, item: Credential, *, cur: Current | None = None) -> dict:
    """The `expected_delivery` object of an item (API, pages): the likely,
    early and late time (p50, p10, p90) in the configured zone with the
    offset, their local dates, the opening-day verdict, or why there is no
    date. An estimate from the events so far, not a promise. Without `cur`,
    the current forecast (see current() about the session)."""
    cur = cur or current(session, config)
    return payload(expected_for(cur, session, item), cur, item)


def payload(e: F.Expected | F.Unknown, cur: Current, item: Credential) -> dict:
    tz = cur.settings.tz

    def local(t: datetime) -> str:
        return t.astimezone(tz).isoformat(timespec="minutes")

    out: dict = {"as_of": local(cur.as_of), "opening_day": cur.settings.opening.isoformat()
                 if cur.settings.opening else None, "verdict": e.verdict}
    if isinstance(e, F.Expected):
        out.update(status="estimated", likely=local(e.likely), early=local(e.early), late=local(e.late),
                   likely_date=e.likely.astimezone(tz).date().isoformat(),
                   late_date=e.late.astimezone(tz).date().isoformat(), reason=None,
                   pooled=e.pooled, overdue=e.overdue)
    elif item.status == "delivered":
        out.update(status="delivered", delivered=local(item.updated_at), reason=None)
    else:
        out.update(status="none", reason=e.reason)
    return out


def miss_opening_condition(session: Session, config: Mapping):
    """The outreach rule "will miss opening day": a condition on the
    credential table (the items whose likely date is on or after opening
    day in the current forecast), None without an opening day."""
    from . import verdicts

    return verdicts.miss_condition(session, current(session, config))
