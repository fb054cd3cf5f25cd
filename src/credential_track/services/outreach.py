"""Proactive outreach: rules that find items heading for trouble and queue a
task for an agent before the holder has to call.

Rules run on each relevant event (delivery events call ``run_rules`` for the
items they touched) and in the periodic sweep (``credtrack outreach sweep``),
both as one set-based ``INSERT … SELECT … WHERE NOT EXISTS`` per rule.

A rule never creates the same open task twice (the partial unique index
``uq_outreach_task_open`` guarantees it even for two sweeps at once), and a
task an agent closed is not created again for the same occurrence: a new task
needs the item to have changed since (``credential.updated_at``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, exists, func, literal, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..domain.status import Status
from ..models import Credential, OutreachAttempt, OutreachTask
from ..models.base import UTCDateTime, utcnow
from ..settings import Settings
from ..settings import current as settings_of_app
from .errors import Conflict, NotFound, ServiceError, one_of, too_long

RULES = ("contact_problem", "delivery_failed", "returned", "stuck", "intercept", "miss_opening")
OUTCOMES = ("reached", "no_answer", "wrong_number", "resolved")
# statuses in which an item has left our hands: a revoked one must be intercepted
DISPATCHED_ON = (Status.dispatched, Status.in_transit, Status.arrived, Status.out_for_delivery,
                 Status.delivery_failed)
OPEN_STATES = ("open", "claimed")


def _default(name: str):
    return field(default_factory=lambda: dict(getattr(Settings(), name)))


@dataclass
class OutreachSettings:
    """Thresholds and targets (defaults and configuration: settings.py,
    OUTREACH_*)."""

    # hours an item may stay in a status before it counts as stuck
    stuck_hours: dict[str, float] = _default("outreach_stuck_hours")
    # hours within which the holder should be reached, per rule
    target_hours: dict[str, float] = _default("outreach_target_hours")
    # when an attempt did not resolve the task: try again after this many hours
    retry_hours: dict[str, float] = _default("outreach_retry_hours")
    # "will miss opening day": (session) -> a condition on the credential table
    # from the forecast (services/forecast), or None without an opening day;
    # only the sweep asks it (it reads the whole forecast)
    opening_rule: Callable[[Session], object] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, config: Mapping | None = None) -> OutreachSettings:
        """The thresholds of `settings`; with the app's `config`, the
        forecast's opening-day rule too."""
        rules = cls(stuck_hours=dict(settings.outreach_stuck_hours),
                    target_hours=dict(settings.outreach_target_hours),
                    retry_hours=dict(settings.outreach_retry_hours))
        if config is not None:
            def opening_rule(session: Session, config=config):
                from .forecast import miss_opening_condition

                return miss_opening_condition(session, config)

            rules.opening_rule = opening_rule
        return rules


def _conditions(settings: OutreachSettings, now: datetime, opening=None) -> list[tuple[str, object, object]]:
    """(rule, condition on credential, detail expression) for every rule.
    Each condition is answerable from one index: the partial indexes on
    contact_problem and on revoked items, and (status, updated_at, hold,
    revoked), which the stuck rule reads once per status."""
    c = Credential.__table__.c
    active = c.status.notin_([Status.delivered.value, Status.returned.value, Status.withdrawn.value])
    out = [
        ("contact_problem", and_(c.contact_problem.isnot(None), c.contact_problem != "", active),
         func.substr(c.contact_problem, 1, 200)),
        ("delivery_failed", c.status == Status.delivery_failed.value, c.status),
        ("returned", c.status == Status.returned.value, c.status),
        ("intercept", and_(c.revoked == True, c.status.in_([s.value for s in DISPATCHED_ON])),  # noqa: E712
         c.status),
    ]
    if opening is not None:  # the forecast's verdict: the likely date is on or after opening day
        out.append(("miss_opening", and_(opening, active), c.status))
    for status, hours in settings.stuck_hours.items():
        out.append(("stuck", stuck_in(c, status, hours, now), c.status))
    return out


def stuck_in(c, status: str, hours: float, now: datetime):
    """Stuck in `status`: there since before `hours` ago, not held or revoked
    (those have their own rules), from the (status, updated_at, hold,
    revoked) index alone. `c`: the credential table's columns or the model."""
    return and_(c.status == status, c.updated_at < now - timedelta(hours=hours),
                c.hold == False, c.revoked == False)  # noqa: E712


def stuck_condition(c, now: datetime, hours: Mapping[str, float] | None = None):
    """Every stuck item, by the one rule (`stuck_in` with OUTREACH_STUCK_HOURS
    per status): the sweep's tasks, the dashboard's count and its list."""
    hours = configured_stuck_hours() if hours is None else hours
    return or_(*[stuck_in(c, status, h, now) for status, h in hours.items()])


def configured_stuck_hours() -> dict[str, float]:
    """OUTREACH_STUCK_HOURS of the running app (the defaults outside one)."""
    try:
        conf = settings_of_app()
    except RuntimeError:  # outside an application (benchmarks, scripts)
        conf = Settings()
    return dict(conf.outreach_stuck_hours)


def run_rules(session: Session, *, credential_ids: list[int] | None = None, now: datetime | None = None,
              settings: OutreachSettings | None = None, rules: tuple[str, ...] = RULES,
              opening=None) -> dict[str, int]:
    """Create the tasks the rules call for (all items, or only
    `credential_ids`); returns how many each rule created. "miss_opening"
    runs only with the forecast's condition `opening` (the sweep's)."""
    now = now or utcnow()
    settings = settings or OutreachSettings()
    c = Credential.__table__.c
    t = OutreachTask.__table__
    dialect = session.get_bind().dialect.name
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    created: dict[str, int] = {rule: 0 for rule in rules}
    for rule, cond, detail in _conditions(settings, now, opening):
        if rule not in rules:
            continue
        seen = exists().where(t.c.credential_id == c.id, t.c.rule == rule,
                              or_(t.c.state != "closed", t.c.created_at >= c.updated_at))
        where = and_(cond, ~seen)
        if credential_ids is not None:
            where = and_(where, c.id.in_(credential_ids))
        due = now + timedelta(hours=settings.target_hours.get(rule, 8))
        stmt = insert_fn(t).from_select(
            ["credential_id", "rule", "detail", "state", "attempts", "created_at", "due_at"],
            sa_select(c.id, literal(rule, String), detail, literal("open", String), literal(0, Integer),
                      literal(now, UTCDateTime()), literal(due, UTCDateTime())).where(where)
            .order_by(c.id),  # in id order the FK checks and index inserts stay local
        ).on_conflict_do_nothing()
        created[rule] += execute_counted(session, stmt, t.c.id)
    return created


def execute_counted(session: Session, stmt, id_col) -> int:
    """Run an INSERT … SELECT and say how many rows it inserted (psycopg
    reports no row count for it, so PostgreSQL counts a RETURNING CTE)."""
    if session.get_bind().dialect.name == "postgresql":
        inserted = stmt.returning(id_col).cte("inserted")
        return session.execute(sa_select(func.count()).select_from(inserted)).scalar_one()
    return session.connection().execute(stmt).rowcount or 0


def close_obsolete(session: Session, *, now: datetime | None = None, opening=None) -> int:
    """Close open tasks whose reason has gone (the failed delivery was made,
    the stuck item moved, the contact data was fixed, the forecast `opening`
    no longer says the item will miss opening day)."""
    now = now or utcnow()
    c = Credential.__table__.c
    t = OutreachTask.__table__
    item = sa_select(c.id).where(c.id == t.c.credential_id)
    gone = or_(
        and_(t.c.rule == "delivery_failed", ~exists(item.where(c.status == Status.delivery_failed.value))),
        and_(t.c.rule == "stuck", ~exists(item.where(c.status == t.c.detail))),
        and_(t.c.rule == "contact_problem", ~exists(item.where(c.contact_problem.isnot(None),
                                                                 c.contact_problem != ""))),
        and_(t.c.rule == "intercept", ~exists(item.where(c.status.in_([s.value for s in DISPATCHED_ON])))),
        *([and_(t.c.rule == "miss_opening", ~exists(item.where(opening)))] if opening is not None else []),
    )
    res = session.execute(update(t).where(t.c.state == "open", gone)
                          .values(state="closed", outcome="resolved", closed_at=now))
    return res.rowcount or 0


def sweep(session: Session, *, now: datetime | None = None, settings: OutreachSettings | None = None) -> dict:
    """The periodic run: close tasks whose reason has gone, create new ones,
    queue the `dispatched` milestone messages. Safe to repeat."""
    from . import notify

    now = now or utcnow()
    # first, before this session writes: the forecast folds the summaries in its own transaction
    opening = settings.opening_rule(session) if settings is not None and settings.opening_rule else None
    if session.get_bind().dialect.name == "sqlite":
        # this connection reads hundreds of thousands of index entries: give
        # it a memory map and a larger page cache than the 2 MB default
        session.execute(text("PRAGMA mmap_size = 1073741824"))
        session.execute(text("PRAGMA cache_size = -131072"))
    closed = close_obsolete(session, now=now, opening=opening)
    created = run_rules(session, now=now, settings=settings, opening=opening)
    queued = notify.queue_dispatched(session, now=now)
    return {"created": created, "closed": closed, "notifications_queued": queued}


def _task(session: Session, task_id: int) -> OutreachTask:
    task = session.exec(select(OutreachTask).where(OutreachTask.id == task_id).with_for_update()).first()
    if task is None:
        raise NotFound(_("There is no outreach task %(id)s.", id=task_id), field="task")
    return task


def claim(session: Session, *, task_id: int, user_id: int) -> OutreachTask:
    """Take a task: it leaves the shared queue for this agent."""
    task = _task(session, task_id)
    if task.state == "closed":
        raise Conflict(_("This task is closed."), field="task")
    if task.state == "claimed" and task.claimed_by != user_id:
        raise Conflict(_("Another agent has claimed this task."), field="task")
    task.state, task.claimed_by = "claimed", user_id
    session.add(task)
    session.flush()
    return task


def record_outcome(session: Session, *, task_id: int, user_id: int, outcome: str, note: str = "",
                   retry_at: datetime | None = None, now: datetime | None = None,
                   settings: OutreachSettings | None = None) -> OutreachTask:
    """Record one attempt. `resolved` closes the task; any other outcome puts
    it back in the queue, due again at `retry_at` (or after the configured
    pause for that outcome)."""
    if outcome not in OUTCOMES:
        raise one_of("outcome", outcome, OUTCOMES, "outcome")
    if len(note or "") > 500:
        raise too_long("note", 500)
    now = now or utcnow()
    settings = settings or OutreachSettings()
    task = _task(session, task_id)
    if task.state == "closed":
        raise Conflict(_("This task is closed."), field="task")
    if task.state == "claimed" and task.claimed_by not in (None, user_id):
        raise Conflict(_("Another agent has claimed this task."), field="task")
    if retry_at is not None and retry_at <= now:
        raise ServiceError(_("The retry time must be in the future."), field="retry_at")
    session.add(OutreachAttempt(task_id=task.id, user_id=user_id, outcome=outcome, note=note or "", at=now))
    task.attempts += 1
    task.outcome = outcome
    if outcome == "resolved":
        task.state, task.closed_at = "closed", now
    else:
        task.state, task.claimed_by = "open", None
        task.due_at = retry_at or now + timedelta(hours=settings.retry_hours.get(outcome, 4))
    session.add(task)
    session.flush()
    return task


def _queue_where(stmt, *, state: str, rule: str | None, user_id: int | None):
    if state == "mine":
        stmt = stmt.where(OutreachTask.state == "claimed", OutreachTask.claimed_by == user_id)
    elif state == "closed":
        stmt = stmt.where(OutreachTask.state == "closed")
    else:
        stmt = stmt.where(OutreachTask.state.in_(OPEN_STATES))
    if rule:
        if rule not in RULES:
            raise one_of("rule", rule, RULES, "rule")
        stmt = stmt.where(OutreachTask.rule == rule)
    return stmt


def queue(session: Session, *, state: str = "open", rule: str | None = None, user_id: int | None = None,
          limit: int = 200, offset: int = 0) -> list[tuple[OutreachTask, Credential]]:
    """Tasks with their items, most urgent first, `limit` from `offset`.
    `state`: open (the shared queue, due first), mine (claimed by
    `user_id`), closed."""
    stmt = _queue_where(select(OutreachTask, Credential).join(Credential, Credential.id == OutreachTask.credential_id),
                        state=state, rule=rule, user_id=user_id)
    order = OutreachTask.closed_at.desc() if state == "closed" else OutreachTask.due_at
    return list(session.exec(stmt.order_by(order, OutreachTask.id).offset(offset).limit(limit)))


def queue_total(session: Session, *, state: str = "open", rule: str | None = None,
                user_id: int | None = None) -> int:
    """How many tasks `queue` has for the same choice, over all pages."""
    return int(session.exec(_queue_where(select(func.count()).select_from(OutreachTask),
                                         state=state, rule=rule, user_id=user_id)).one())


def counts(session: Session) -> dict[str, int]:
    """Open tasks per rule."""
    rows = session.exec(select(OutreachTask.rule, func.count()).where(OutreachTask.state.in_(OPEN_STATES))
                        .group_by(OutreachTask.rule))
    return {rule: n for rule, n in rows}
