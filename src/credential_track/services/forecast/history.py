"""The forecast's inputs as they stood at a past moment, rebuilt from the
events (for the backtest): each item's status and the time it entered it,
its hold and revocation flags, and the history before that moment only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlmodel import Session

from ... import clock
from ...domain import forecast as F
from ...models import Credential, Event
from ..dashboard import summary
from . import data


@dataclass
class ItemAt:
    """One item as it stood at the cut."""

    id: int
    route: str
    status: str
    entered: datetime
    hold: bool
    revoked: bool


def items_at(session: Session, at: datetime) -> list[ItemAt]:
    """Every item registered by `at`: the status its last change before
    `at` put it in (set-based: one window over the events), and its flags
    from the hold, release and revoke events before `at`."""
    e = Event
    rn = func.row_number().over(partition_by=e.credential_id, order_by=(e.at.desc(), e.id.desc()))
    moves = (select(e.credential_id.label("cid"), e.to_status.label("status"), e.at.label("at"), rn.label("rn"))
             .where((e.at <= at) & (e.result == "ok") & e.credential_id.is_not(None) & e.to_status.is_not(None)
                    & or_(e.from_status.is_(None), e.from_status != e.to_status))
             .subquery())
    rows = session.execute(
        select(moves.c.cid, Credential.route, moves.c.status, moves.c.at)
        .join(Credential, Credential.id == moves.c.cid).where(moves.c.rn == 1)).all()
    held: dict[int, bool] = {}
    revoked: set[int] = set()
    for cid, action in session.execute(
            select(e.credential_id, e.action)
            .where((e.at <= at) & (e.result == "ok") & e.action.in_(("hold", "release", "revoke")))
            .order_by(e.at, e.id)):
        if action == "revoke":
            revoked.add(cid)
        else:
            held[cid] = action == "hold"
    return [ItemAt(cid, route, status, summary._aware(entered), held.get(cid, False), cid in revoked)
            for cid, route, status, entered in rows]


def state_at(items: list[ItemAt]) -> tuple[data.State, dict[str, int], dict[str, int], dict[int, int]]:
    """The State the forecast reads, the counts and the held/revoked counts
    per status, and each free queued item's rank, from the items at the cut."""
    queues: dict[str, list[str]] = {s: [] for s in F.QUEUE_STATUSES}
    ranks: dict[int, int] = {}
    groups: dict[tuple[str, str, int], int] = {}
    finals: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    held: dict[str, int] = {}
    for it in sorted(items, key=lambda i: (i.status, i.entered, i.id)):
        counts[it.status] = counts.get(it.status, 0) + 1
        f = finals.setdefault(it.route, {})
        f["total"] = f.get("total", 0) + 1
        if it.status in ("delivered", "returned", "withdrawn"):
            f[it.status] = f.get(it.status, 0) + 1
            continue
        if it.hold or it.revoked:
            held[it.status] = held.get(it.status, 0) + 1
            key = "revoked" if it.revoked else "held"
            f[key] = f.get(key, 0) + 1
            continue
        if it.status in F.QUEUE_STATUSES:
            queues[it.status].append(it.route)
            ranks[it.id] = len(queues[it.status])
        elif it.status in F.DWELL_STATUSES:
            k = (it.status, it.route, F.epoch_hour(it.entered))
            groups[k] = groups.get(k, 0) + 1
    return (data.State(queues, [(s, r, h, n) for (s, r, h), n in groups.items()], finals), counts, held, ranks)


def measured_at(session: Session, settings: F.ForecastSettings, at: datetime, counts: dict[str, int],
                held: dict[str, int]) -> F.Measured:
    """The history before `at` (a whole hour): the summaries' hours before
    it, dwell times of the local days before its day, trips before it."""
    at_h = F.epoch_hour(at)
    h0 = at_h - max(settings.window_hours, data.CHART_DAYS * 24) - 1
    since = at - timedelta(hours=settings.window_hours)
    day = summary.day_number(at.astimezone(clock.local_zone()).date())
    sites, hotlines = data.station_sites(session)
    return F.Measured(
        now=at, flows=data.flows(session, h0, at_h), counts=counts, held=held, station_site=sites,
        dwell=data.dwell(session, since_day=summary.day_number(since.astimezone(clock.local_zone()).date()),
                         before_day=day),
        dwell_all=data.dwell(session, before_day=day), trips_per_day=data.trips_per_day(session, since, at),
        hotlines=hotlines)


def actual_after(session: Session, at: datetime) -> tuple[dict[tuple[int, str], datetime], datetime | None]:
    """{(item, action): first time after `at`} for every stage action, and
    the time of the last event (how far the history reaches)."""
    e = Event
    out = {}
    for cid, action, first in session.execute(
            select(e.credential_id, e.action, func.min(e.at))
            .where((e.at > at) & (e.result == "ok") & e.credential_id.is_not(None)
                   & e.action.in_(F.ALL_STAGES))
            .group_by(e.credential_id, e.action)):
        out[(cid, action)] = summary._aware(first)
    last = session.execute(select(func.max(e.at))).scalar()
    return out, summary._aware(last) if last else None
