"""The supervisor's station and staff view: scans per station per hour,
refusals by reason, and who is working where.

"Who is signed in where" is approximated by each user's last scan at each
station: the scan API knows the user of a session or user token, not the
person at a shared station token (those scans show as the station itself).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from ... import clock
from ...domain.status import Action
from ...models import DashFlow, Event, User
from ...models.base import utcnow
from . import summary

SCAN_ACTIONS = [a.value for a in Action]
HOURS = 12


def station_view(session: Session, *, now: datetime | None = None, hours: int = HOURS) -> dict:
    """Scans per station per hour for the last `hours` hours, refusals by
    reason and by station since local midnight, and the last scan of each
    user at each station in that window. Call summary.refresh() first."""
    now = now or utcnow()
    h1 = summary.epoch_hour(now) + 1
    h0 = h1 - hours
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for station, hour, n in session.execute(
            select(DashFlow.station, DashFlow.hour, func.sum(DashFlow.n))
            .where((DashFlow.hour >= h0) & (DashFlow.hour < h1) & (DashFlow.station != "")
                   & DashFlow.action.in_(SCAN_ACTIONS))
            .group_by(DashFlow.station, DashFlow.hour)):
        per[station][hour] = int(n)
    m0 = summary.epoch_hour(clock.local_midnight(now))
    refusals: dict[str, int] = defaultdict(int)
    refusals_by_station: dict[str, dict[str, int]] = defaultdict(dict)
    for station, reason, n in session.execute(
            select(DashFlow.station, DashFlow.reason, func.sum(DashFlow.n))
            .where((DashFlow.hour >= m0) & (DashFlow.result == "rejected"))
            .group_by(DashFlow.station, DashFlow.reason)):
        refusals[reason] += int(n)
        refusals_by_station[station or "-"][reason] = int(n)
    since = now - timedelta(hours=hours)
    last = session.execute(
        select(Event.station, Event.user_id, func.max(Event.at), func.count())
        .where((Event.at >= since) & Event.station.is_not(None) & Event.user_id.is_not(None)
               & Event.action.in_(SCAN_ACTIONS))  # not token or station settings changes
        .group_by(Event.station, Event.user_id)).all()
    users = {u.id: u for u in session.execute(
        select(User).where(User.id.in_({r[1] for r in last}))).scalars()} if last else {}
    latest: dict[int, datetime] = {}
    for _station, uid, at, _n in last:
        latest[uid] = max(latest.get(uid, at), at)
    people = sorted((
        {"station": st, "username": users[uid].username if uid in users else str(uid),
         "name": users[uid].display_name if uid in users else "", "last_scan": at, "scans": n,
         "current": at == latest[uid]}
        for st, uid, at, n in last), key=lambda r: (r["station"], -r["last_scan"].timestamp()))
    hour_list = list(range(h0, h1))
    return {
        "hours": [summary.hour_start(h) for h in hour_list],
        "stations": [{"station": st, "per_hour": [per[st].get(h, 0) for h in hour_list],
                      "total": sum(per[st].values())} for st in sorted(per)],
        "refusals": dict(sorted(refusals.items(), key=lambda kv: -kv[1])),
        "refusals_by_station": {k: refusals_by_station[k] for k in sorted(refusals_by_station)},
        "people": people,
    }
