"""Tickets and outreach as the dashboard and the daily report show them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from ..models import OutreachTask, Ticket
from ..models.base import utcnow


def desk_summary(session: Session, until: datetime | None = None) -> dict[str, int]:
    """Open tickets and outreach tasks and their SLA breaches as they stood
    at `until` (now when None), from their created/resolved/closed times.

    A ticket counts as open from its creation until it was resolved or
    closed; it breaches its SLA when it was still open past its due time.
    Outreach tasks likewise, with `due_at` (for a task that was retried, its
    latest retry time, so a past day's figure can undercount breaches)."""
    t = until or utcnow()
    ticket_end = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    ticket_open = and_(Ticket.created_at <= t, or_(ticket_end.is_(None), ticket_end > t))
    task_open = and_(OutreachTask.created_at <= t,
                     or_(OutreachTask.closed_at.is_(None), OutreachTask.closed_at > t))

    def count(*where) -> int:
        return session.execute(select(func.count()).where(*where)).scalar_one()

    return {
        "open_tickets": count(ticket_open),
        "tickets_sla_breached": count(ticket_open, Ticket.due_at < t),
        "outreach_open": count(task_open),
        "outreach_sla_breached": count(task_open, OutreachTask.due_at < t),
        "outreach_done": count(OutreachTask.closed_at.is_not(None), OutreachTask.closed_at <= t),
    }
