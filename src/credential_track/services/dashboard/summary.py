"""Summary tables rebuilt incrementally from the events.

`refresh()` folds the events above the high-water mark (``dash_state``
key ``events``) into the dash_* tables and moves the mark, in chunks of
CHUNK events per transaction. No event writer knows about these tables, so a
new writer (an import, a correction) cannot forget to keep them right; and
because event ids are allocated in commit order (event_order.py on
PostgreSQL, the single writer on SQLite), every event at or below a visible
id is already committed when the chunk is read: nothing is skipped.

Dimensions of an item (route, province, type, batch) are read from the item
when its event is folded in. An item re-routed after some of its events were
folded stays counted under the old route for those events: rebuild() fixes it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy import Integer, and_, case, cast, delete, func, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ... import clock
from ...db import write_session
from ...domain.forecast import DWELL_NEXT
from ...models import (
    Credential,
    DashBatch,
    DashDaily,
    DashDwell,
    DashFlow,
    DashItems,
    DashLeadTime,
    DashState,
    Event,
)

MARK = "events"
CHUNK = 250_000
ANALYZE_BACKLOG = 100_000


def hour_expr(session_or_engine):
    """The UTC epoch hour of event.at, as an integer, in SQL."""
    bind = getattr(session_or_engine, "bind", None) or session_or_engine
    if bind.dialect.name == "sqlite":
        return literal_column("(CAST(strftime('%s', event.at) AS INTEGER) / 3600)", Integer)
    return literal_column("CAST(floor(extract(epoch from event.at) / 3600) AS INTEGER)", Integer)


def epoch_hour(at: datetime) -> int:
    """The UTC epoch hour of an aware datetime."""
    return int(at.timestamp()) // 3600


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


def local_day(hour: int) -> int:
    """The local day (yyyymmdd, in the configured zone) an epoch hour falls on."""
    return _local_day(hour, clock.zone_name())


@lru_cache(maxsize=65536)
def _local_day(hour: int, _zone: str) -> int:
    d = clock.local_day(hour_start(hour))
    return d.year * 10000 + d.month * 100 + d.day


def day_number(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def day_bounds(d: date) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of a local day, in UTC."""
    return clock.day_bounds(d)


def _upsert(session: Session, model, keys: list[str], rows: list[dict]) -> None:
    """Add `n` of each row to the stored row with the same key."""
    if not rows:
        return
    table = model.__table__
    dialect = session.bind.dialect.name
    ins = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
    stmt = ins.on_conflict_do_update(index_elements=keys, set_={"n": table.c.n + ins.excluded.n})
    for i in range(0, len(rows), 2000):
        session.execute(stmt, rows[i:i + 2000])


def high_water(session: Session) -> int:
    """The id of the last event folded into the summaries."""
    row = session.get(DashState, MARK)
    return row.value if row else 0


def _lock_mark(session: Session) -> int:
    dialect = session.bind.dialect.name
    ins = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(DashState.__table__)
    session.execute(ins.values(key=MARK, value=0).on_conflict_do_nothing(index_elements=["key"]))
    return session.execute(
        select(DashState.value).where(DashState.key == MARK).with_for_update()).scalar_one()


def refresh(engine: Engine, *, chunk: int = CHUNK) -> int:
    """Fold every event above the high-water mark into the summary tables.
    Returns how many events were folded. Safe to run from several processes:
    the mark row is locked while a chunk is folded."""
    with Session(engine) as session:  # the common case, without taking the write lock
        backlog = (session.execute(select(func.max(Event.id))).scalar() or 0) - high_water(session)
        if backlog <= 0:
            return 0
    if backlog > ANALYZE_BACKLOG and engine.dialect.name == "postgresql":
        # after a bulk load the planner's statistics may still describe empty
        # tables, and the fold's per-item look-ups turn into scans
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE event")
            conn.exec_driver_sql("ANALYZE credential")
    folded = 0
    while True:
        with write_session(engine) as session:
            mark = _lock_mark(session)
            top = session.execute(select(func.max(Event.id))).scalar() or 0
            if top <= mark:
                return folded
            hi = min(top, mark + chunk)
            _fold(session, mark, hi)
            session.execute(DashState.__table__.update().where(DashState.key == MARK).values(value=hi))
            folded += hi - mark
        if hi >= top:
            return folded


def refreshed(session: Session) -> Session:
    """Fold new events, then let `session` (a read session whose snapshot
    may predate the fold, as on SQLite) see the result."""
    refresh(session.bind if isinstance(session.bind, Engine) else session.bind.engine)
    session.rollback()
    return session


def rebuild(engine: Engine) -> int:
    """Empty the summary tables and fold every event again."""
    with write_session(engine) as session:
        for model in (DashFlow, DashItems, DashBatch, DashDaily, DashLeadTime, DashDwell):
            session.execute(delete(model))
        session.execute(delete(DashState).where(DashState.key == MARK))
    return refresh(engine)


def _fold(session: Session, lo: int, hi: int) -> None:
    in_range = (Event.id > lo) & (Event.id <= hi)
    hour = hour_expr(session)
    item = case((Event.credential_id.is_(None), 0), else_=1)
    flow = session.execute(
        select(hour, item, Event.action, Event.result, func.coalesce(Event.reason, ""),
               func.coalesce(Event.station, ""), func.coalesce(Event.from_status, ""),
               func.coalesce(Event.to_status, ""), func.count())
        .where(in_range).group_by(hour, item, Event.action, Event.result, Event.reason, Event.station,
                                  Event.from_status, Event.to_status)).all()
    # NULL and '' fold into one key: add them up before the upsert
    flows: dict[tuple, int] = defaultdict(int)
    for *key, n in flow:
        flows[tuple(key)] += n
    _upsert(session, DashFlow, ["hour", "item", "action", "result", "reason", "station", "from_status",
                                "to_status"],
            [{"hour": h, "item": it, "action": a, "result": r, "reason": rs, "station": st,
              "from_status": f, "to_status": t, "n": n} for (h, it, a, r, rs, st, f, t), n in flows.items()])

    # item transitions: current counts by dimensions, and per day
    moved = (Event.result == "ok") & Event.credential_id.is_not(None) & (
        func.coalesce(Event.from_status, "") != func.coalesce(Event.to_status, ""))
    rows = session.execute(
        select(func.coalesce(Credential.batch_id, 0), Credential.province, Credential.route,
               Credential.credential_type, hour, func.coalesce(Event.from_status, ""), Event.to_status,
               func.count())
        .join(Credential, Credential.id == Event.credential_id)
        .where(in_range & moved)
        .group_by(Credential.batch_id, Credential.province, Credential.route, Credential.credential_type,
                  hour, Event.from_status, Event.to_status)).all()
    items: dict[tuple, int] = defaultdict(int)
    batches: dict[tuple, int] = defaultdict(int)
    daily: dict[tuple, int] = defaultdict(int)
    for batch, prov, route, ctype, h, frm, to, n in rows:
        if to:
            items[(prov, route, ctype, to)] += n
            batches[(batch, to)] += n
        if frm:
            items[(prov, route, ctype, frm)] -= n
            batches[(batch, frm)] -= n
        daily[(local_day(h), route, ctype, frm, to or "")] += n
    _upsert(session, DashItems, ["province", "route", "credential_type", "status"],
            [{"province": k[0], "route": k[1], "credential_type": k[2], "status": k[3], "n": n}
             for k, n in items.items() if n])
    _upsert(session, DashBatch, ["batch_id", "status"],
            [{"batch_id": k[0], "status": k[1], "n": n} for k, n in batches.items() if n])
    _upsert(session, DashDaily, ["day", "route", "credential_type", "from_status", "to_status"],
            [{"day": k[0], "route": k[1], "credential_type": k[2], "from_status": k[3], "to_status": k[4],
              "n": n} for k, n in daily.items()])

    # handover-to-delivery time of the items delivered in this range
    handover = (select(func.min(text("h.at"))).select_from(text("event AS h"))
                .where(text("h.credential_id = event.credential_id AND h.action = 'handover' "
                            "AND h.result = 'ok'")).scalar_subquery())
    lead: dict[tuple, int] = defaultdict(int)
    for route, delivered_at, handed_at in session.execute(
            select(Credential.route, Event.at, handover)
            .join(Credential, Credential.id == Event.credential_id)
            .where(in_range & (Event.action == "delivered") & (Event.result == "ok"))):
        if handed_at is None:
            continue
        handed_at = _aware(handed_at)
        lead[(route, max(0, int((delivered_at - handed_at).total_seconds() // 3600)))] += 1
    _upsert(session, DashLeadTime, ["route", "hours"],
            [{"route": r, "hours": h, "n": n} for (r, h), n in lead.items()])
    _fold_dwell(session, in_range)


def dwell_hours_expr(bind, end, start):
    """Whole hours from `start` to `end` (two timestamps) in SQL."""
    if bind.dialect.name == "sqlite":
        # julianday's doubles put exactly 5 hours at 4.99999…: a millisecond more
        return cast((func.julianday(end) - func.julianday(start)) * 24 + 1e-6, Integer)
    return cast(func.floor(func.extract("epoch", end - start) / 3600), Integer)


def _fold_dwell(session: Session, in_range) -> None:
    """Time spent in each status past the stations, for the items that left
    it in this range for the next status along the chain (DWELL_NEXT): from
    the latest earlier event that put the item into that status."""
    prev = aliased(Event)
    entered = (select(func.max(prev.at))
               .where((prev.credential_id == Event.credential_id) & (prev.to_status == Event.from_status)
                      & (prev.result == "ok") & (prev.id < Event.id))
               .correlate(Event).scalar_subquery())
    moved = or_(*(and_(Event.from_status == a, Event.to_status == b) for a, b in DWELL_NEXT.items()))
    hour = hour_expr(session)
    inner = (select(hour.label("hour"), Credential.route.label("route"), Event.from_status.label("status"),
                    dwell_hours_expr(session.bind, Event.at, entered).label("hours"))
             .join(Credential, Credential.id == Event.credential_id)
             .where(in_range & (Event.result == "ok") & moved).subquery())
    rows = session.execute(
        select(inner.c.hour, inner.c.route, inner.c.status, inner.c.hours, func.count())
        .where(inner.c.hours.is_not(None))
        .group_by(inner.c.hour, inner.c.route, inner.c.status, inner.c.hours)).all()
    dwell: dict[tuple, int] = defaultdict(int)
    for h, route, status, hours, n in rows:
        dwell[(local_day(h), route, status, max(0, int(hours)))] += n
    _upsert(session, DashDwell, ["day", "route", "status", "hours"],
            [{"day": d, "route": r, "status": st, "hours": hr, "n": n} for (d, r, st, hr), n in dwell.items()])


def _aware(value) -> datetime:
    """A timestamp read through a raw subquery (a string on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
