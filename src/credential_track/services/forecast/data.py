"""What the forecast learns from and what it forecasts, read with set-based
SQL: the summaries (dash_flow, dash_dwell) for the history, the credential
table (through its status indexes) for today's queues.

`measured()` is the live history as of now; `state()` the items still on
their way now (each station queue's routes in rank order, the groups past
the stations, and the counts per route). services/forecast/history.py
builds the same two as they stood at a past moment, for the backtest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, cast, func, select
from sqlmodel import Session

from ... import clock
from ...domain import forecast as F
from ...models import Bag, Call, Credential, DashDwell, DashFlow, DashState, Site, Station, Trip
from ...models.base import utcnow
from ..dashboard import summary

CHART_DAYS = 5  # days of past backlog shown before the forecast in the burn-down
DEMO_OPENING_KEY = "demo_opening"  # a demo database's own opening day (services/demo.py)


def epoch_hour_sql(bind, column):
    """The UTC epoch hour of a timestamp column, as an integer, in SQL."""
    if bind.dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer) // 3600
    return cast(func.floor(func.extract("epoch", column) / 3600), Integer)


def demo_opening(session: Session):
    """The opening day a demo database was built for, or None."""
    row = session.get(DashState, DEMO_OPENING_KEY)
    if row is None or not row.value:
        return None
    from datetime import date

    v = row.value
    return date(v // 10000, v // 100 % 100, v % 100)


def flows(session: Session, h0: int, h1: int) -> list[F.Flow]:
    """Item moves per hour in [h0, h1) (folded summaries)."""
    rows = session.execute(
        select(DashFlow.hour, DashFlow.action, DashFlow.station, DashFlow.from_status, DashFlow.to_status,
               func.sum(DashFlow.n))
        .where((DashFlow.hour >= h0) & (DashFlow.hour < h1) & (DashFlow.item == 1) & (DashFlow.result == "ok")
               & (DashFlow.from_status != DashFlow.to_status))
        .group_by(DashFlow.hour, DashFlow.action, DashFlow.station, DashFlow.from_status, DashFlow.to_status))
    return [F.Flow(h, a, st or "", fr or "", to or "", int(n)) for h, a, st, fr, to, n in rows]


def station_sites(session: Session) -> tuple[dict[str, str], list[str]]:
    """Each station's site code, and the hotlines."""
    rows = session.execute(select(Station.code, Station.kind, Site.code).join(Site, Site.id == Station.site_id)).all()
    return {code: site for code, _kind, site in rows}, sorted(code for code, kind, _ in rows if kind == "hotline")


def dwell(session: Session, *, since_day: int | None = None, before_day: int | None = None
          ) -> dict[tuple[str, str], dict[int, int]]:
    """{(route, status): {whole hours: items}} of the dwell summary, for the
    local days in [since_day, before_day) (yyyymmdd; None: open)."""
    cond = []
    if since_day is not None:
        cond.append(DashDwell.day >= since_day)
    if before_day is not None:
        cond.append(DashDwell.day < before_day)
    out: dict[tuple[str, str], dict[int, int]] = {}
    for route, status, hours, n in session.execute(
            select(DashDwell.route, DashDwell.status, DashDwell.hours, func.sum(DashDwell.n))
            .where(and_(*cond) if cond else True)
            .group_by(DashDwell.route, DashDwell.status, DashDwell.hours)):
        out.setdefault((route, status), {})[int(hours)] = int(n)
    return out


def trips_per_day(session: Session, since: datetime, until: datetime) -> dict[str, float]:
    """Departures per day that carried each route's bags between the two times."""
    days = max(1.0, (until - since).total_seconds() / 86400)
    rows = session.execute(
        select(Bag.route, func.count(func.distinct(Trip.id)))
        .join(Trip, Trip.id == Bag.trip_id)
        .where((Trip.departed_at >= since) & (Trip.departed_at < until))
        .group_by(Bag.route)).all()
    return {route: n / days for route, n in rows}


def calls(session: Session, since: datetime, until: datetime) -> dict[tuple[str, int], int]:
    """Hotline calls per line and epoch hour between the two times."""
    hour = epoch_hour_sql(session.bind, Call.started_at)
    rows = session.execute(select(Call.line, hour, func.count())
                           .where((Call.started_at >= since) & (Call.started_at < until))
                           .group_by(Call.line, hour)).all()
    return {(line, int(h)): int(n) for line, h, n in rows}


def measured(session: Session, settings: F.ForecastSettings, *, now: datetime | None = None) -> F.Measured:
    """The live history: the summaries as folded (call summary.refreshed()
    first), the item counts per status now."""
    now = now or utcnow()
    now_h = F.epoch_hour(now)
    h0 = now_h - max(settings.window_hours, CHART_DAYS * 24) - 1
    counts = {s: int(n) for s, n in session.execute(
        select(Credential.status, func.count()).group_by(Credential.status))}
    held: dict[str, int] = {}
    # the literal conditions of the partial indexes on hold and on revoked
    for cond in (Credential.hold == True, (Credential.revoked == True) & (Credential.hold == False)):  # noqa: E712
        for s, n in session.execute(select(Credential.status, func.count()).where(cond)
                                    .group_by(Credential.status)):
            held[s] = held.get(s, 0) + int(n)
    sites, hotlines = station_sites(session)
    since = now - timedelta(hours=settings.window_hours)
    return F.Measured(
        now=now, flows=flows(session, h0, now_h + 1), counts=counts, held=held, station_site=sites,
        dwell=dwell(session, since_day=summary.day_number(since.astimezone(clock.local_zone()).date())),
        dwell_all=dwell(session), trips_per_day=trips_per_day(session, since, now),
        calls=calls(session, since, now + timedelta(hours=1)), hotlines=hotlines)


@dataclass
class State:
    """The items on their way: per station queue status the routes of its
    free items in rank order; (status, route, entry hour, items) of the free
    items past the stations; per route the counts `total`, `delivered`,
    `returned`, `withdrawn`, `held`, `revoked`."""

    queues: dict[str, list[str]]
    groups: list[tuple[str, str, int, int]]
    finals: dict[str, dict[str, int]]


def state(session: Session) -> State:
    """Today's items, as the forecast needs them."""
    c = Credential
    free = (c.hold == False) & (c.revoked == False)  # noqa: E712
    queues: dict[str, list[str]] = {s: [] for s in F.QUEUE_STATUSES}
    for status, route in session.execute(
            select(c.status, c.route).where(c.status.in_(F.QUEUE_STATUSES) & free)
            .order_by(c.status, c.updated_at, c.id)):
        queues[status].append(route)
    hour = epoch_hour_sql(session.bind, c.updated_at)
    groups = [(s, r, int(h), int(n)) for s, r, h, n in session.execute(
        select(c.status, c.route, hour, func.count()).where(c.status.in_(F.DWELL_STATUSES) & free)
        .group_by(c.status, c.route, hour))]
    finals: dict[str, dict[str, int]] = {}
    for route, status, n in session.execute(select(c.route, c.status, func.count()).group_by(c.route, c.status)):
        f = finals.setdefault(route, {})
        f["total"] = f.get("total", 0) + int(n)
        if status in ("delivered", "returned", "withdrawn"):
            f[status] = f.get(status, 0) + int(n)
    not_final = c.status.notin_(list(F.FINAL))
    for key, cond in (("held", (c.hold == True) & (c.revoked == False) & not_final),  # noqa: E712
                      ("revoked", (c.revoked == True) & not_final)):  # noqa: E712
        for route, n in session.execute(select(c.route, func.count()).where(cond).group_by(c.route)):
            finals.setdefault(route, {})[key] = int(n)
    return State(queues, groups, finals)


def queue_rank(session: Session, item: Credential) -> int:
    """An item's rank in its station queue (1 = next): the free items in its
    status that entered it before it, plus one."""
    c = Credential
    before = (c.updated_at < item.updated_at) | ((c.updated_at == item.updated_at) & (c.id < item.id))
    n = session.execute(select(func.count()).select_from(c).where(
        (c.status == item.status) & before & (c.hold == False) & (c.revoked == False))).scalar()  # noqa: E712
    return int(n) + 1

