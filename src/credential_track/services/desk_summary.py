"""Tickets and outreach as the dashboard and the daily report show them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from ..models import OutreachTask, Ticket
from ..models.base import utcnow
from .outreach import OPEN_STATES


def desk_summary(session: Session, until: datetime | None = None) -> dict[str, int]:
    """Open tickets and outreach tasks and their SLA breaches as they stood
    at `until` (now when None), from their created/resolved/closed times.

    A ticket counts as open from its creation until it was resolved or
    closed; it breaches its SLA when it was still open past its due time.
    Outreach tasks likewise, with `due_at` (for a task that was retried, its
    latest retry time, so a past day's figure can undercount breaches).
    Now (the live dashboard) the outreach figures come from the tasks'
    states through their (state, due_at) index, a fraction of the pass over
    every task a past moment needs: a task is closed exactly when it has its
    `closed_at` (services/outreach.py sets both), and none was created after
    now."""
    t = until or utcnow()
    ticket_end = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    ticket_open = and_(Ticket.created_at <= t, or_(ticket_end.is_(None), ticket_end > t))
    task_open = and_(OutreachTask.created_at <= t,
                     or_(OutreachTask.closed_at.is_(None), OutreachTask.closed_at > t))

    # one pass over each table: the figures as filtered counts of one query
    tickets = session.execute(select(
        func.count().filter(ticket_open), func.count().filter(and_(ticket_open, Ticket.due_at < t)),
    ).select_from(Ticket)).one()
    if until is None:
        def count(*where):
            return session.execute(select(func.count()).select_from(OutreachTask).where(*where)).scalar()
        is_open = OutreachTask.state.in_(OPEN_STATES)
        tasks = (count(is_open), count(is_open, OutreachTask.due_at < t), count(OutreachTask.state == "closed"))
    else:
        tasks = session.execute(select(
            func.count().filter(task_open), func.count().filter(and_(task_open, OutreachTask.due_at < t)),
            func.count().filter(and_(OutreachTask.closed_at.is_not(None), OutreachTask.closed_at <= t)),
        ).select_from(OutreachTask)).one()
    return {
        "open_tickets": tickets[0],
        "tickets_sla_breached": tickets[1],
        "outreach_open": tasks[0],
        "outreach_sla_breached": tasks[1],
        "outreach_done": tasks[2],
    }
