"""The desk (customer service): calls, tickets, outreach tasks, the notification outbox,
intercept requests and the EMS delivery-event log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow
from .items import Credential

# Indexes on the credential table for the outreach rules (services/outreach.py):
# "in status S since before T, not held or revoked" answered from the index
# alone, and the few revoked or contact-problem items found without a scan.
Index("ix_credential_status_updated", Credential.status, Credential.updated_at, Credential.hold,
      Credential.revoked)
Index("ix_credential_revoked_status", Credential.status,
      sqlite_where=text("revoked = 1"), postgresql_where=text("revoked"))
Index("ix_credential_contact_problem", Credential.contact_problem,
      sqlite_where=text("contact_problem IS NOT NULL"), postgresql_where=text("contact_problem IS NOT NULL"))


class Call(SQLModel, table=True):
    """One hotline call: who answered it where, for whom, and how it ended."""

    __tablename__ = "service_call"
    __table_args__ = (Index("ix_service_call_agent_started", "agent_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    line: str = Field(max_length=16)  # HL-1 … HL-3
    desk: str = Field(max_length=16)  # CS-1, CS-2
    agent_id: int | None = Field(default=None, foreign_key="app_user.id")
    caller_number: str = Field(default="", max_length=32)
    credential_id: int | None = Field(default=None, foreign_key="credential.id", index=True)
    category: str = Field(max_length=24)
    outcome: str = Field(default="", max_length=500)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    duration_s: int = 0
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_state_due", "state", "due_at"),
        Index("ix_ticket_assignee_state", "assignee_id", "state"),
        Index("ix_ticket_desk_state", "desk", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=24)
    priority: str = Field(default="normal", max_length=8)
    state: str = Field(default="open", max_length=12)  # open, pending, resolved, closed
    subject: str = Field(max_length=200)
    caller_number: str = Field(default="", max_length=32)
    desk: str | None = Field(default=None, max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketItem(SQLModel, table=True):
    __tablename__ = "ticket_item"
    __table_args__ = (UniqueConstraint("ticket_id", "credential_id", name="uq_ticket_item"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    credential_id: int = Field(foreign_key="credential.id", index=True)


class TicketNote(SQLModel, table=True):
    """A note, a state change or an action taken on a ticket (its history)."""

    __tablename__ = "ticket_note"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    kind: str = Field(default="note", max_length=16)  # note, state, action, assign
    body: str = Field(default="", sa_type=Text)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SavedReply(SQLModel, table=True):
    __tablename__ = "saved_reply"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100, unique=True)
    body_zh: str = Field(sa_type=Text)
    body_en: str = Field(default="", sa_type=Text)


class InterceptRequest(SQLModel, table=True):
    """An item already on its way that must be stopped or re-addressed: a
    supervisor decides."""

    __tablename__ = "intercept_request"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(foreign_key="credential.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    kind: str = Field(max_length=16)  # readdress, self_pickup
    details: str | None = Field(default=None, sa_type=Text)  # JSON: the requested address
    state: str = Field(default="open", max_length=12, index=True)  # open, done, refused
    requested_by: int | None = Field(default=None, foreign_key="app_user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = Field(default="", max_length=500)


class OutreachTask(SQLModel, table=True):
    """Work the rules found before anyone called: one item, one reason."""

    __tablename__ = "outreach_task"
    __table_args__ = (
        # covers the rules' NOT EXISTS probe
        Index("ix_outreach_task_credential_rule", "credential_id", "rule", "state", "created_at"),
        Index("ix_outreach_task_state_due", "state", "due_at"),
        # never the same open task twice: one row per (item, rule) that is not closed
        Index("uq_outreach_task_open", "credential_id", "rule", unique=True,
              sqlite_where=text("state <> 'closed'"), postgresql_where=text("state <> 'closed'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(foreign_key="credential.id")
    rule: str = Field(max_length=24)  # contact_problem, delivery_failed, returned, stuck, intercept
    detail: str = Field(default="", max_length=200)  # e.g. the status an item is stuck in
    state: str = Field(default="open", max_length=12)  # open, claimed, closed
    outcome: str | None = Field(default=None, max_length=16)  # reached, no_answer, wrong_number, resolved
    attempts: int = 0
    claimed_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)  # act by (or retry at)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutreachAttempt(SQLModel, table=True):
    __tablename__ = "outreach_attempt"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="outreach_task.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    outcome: str = Field(max_length=16)
    note: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """The outbox: one milestone message per item and kind, ever."""

    __table_args__ = (
        UniqueConstraint("credential_id", "kind", name="uq_notification_item_kind"),
        Index("ix_notification_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(foreign_key="credential.id")
    kind: str = Field(max_length=24)  # dispatched, delivery_failed, ready_for_pickup
    state: str = Field(default="pending", max_length=12)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)


class NotificationAttempt(SQLModel, table=True):
    """Every send, successful or not, with what was sent to whom."""

    __tablename__ = "notification_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    backend: str = Field(max_length=64)
    recipient: str = Field(max_length=32)
    language: str = Field(max_length=8)
    body: str = Field(sa_type=Text)
    ok: bool
    provider_ref: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryEvent(SQLModel, table=True):
    """An EMS delivery event as received; (waybill, event, at) is unique, so
    the same event sent twice is applied once."""

    __tablename__ = "delivery_event"
    __table_args__ = (UniqueConstraint("waybill_no", "event", "at", name="uq_delivery_event"),)

    id: int | None = Field(default=None, primary_key=True)
    waybill_no: str = Field(max_length=20)
    event: str = Field(max_length=24)  # the normalized name, or the EMS code when informational
    code: str = Field(max_length=24)  # as sent: EMH, delivered, …
    at: datetime = Field(sa_type=UTCDateTime)
    location: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=200)
    credential_id: int | None = Field(default=None, foreign_key="credential.id", index=True)
    result: str = Field(max_length=12)  # applied, recorded, rejected
    refusal: str | None = Field(default=None, max_length=24)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
