"""The items (credentials) and what moves them: batches, bags, trips, events."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class HandoverBatch(SQLModel, table=True):
    __tablename__ = "handover_batch"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    source_file: str = Field(default="", max_length=500)
    expected: int = 0  # items in the manifest
    counted: int | None = None  # quantity counted at receipt as a whole
    state: str = Field(default="open", max_length=16)  # open, closed
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class Credential(SQLModel, table=True):
    """One item: a printed credential on its way to its holder."""

    __table_args__ = (
        Index("ix_credential_status_route", "status", "route"),
        Index("ix_credential_phone_last4", "phone_last4"),
        Index("ix_credential_recipient_name", "recipient_name"),
        Index("ix_credential_holder_name", "holder_name"),
        Index("ix_credential_organization", "organization"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_no: str = Field(max_length=64, unique=True)
    credential_type: str = Field(max_length=16, foreign_key="credentialtype.code")
    holder_name: str = Field(max_length=100)
    organization: str = Field(default="", max_length=200)
    recipient_name: str = Field(max_length=100)
    recipient_phone: str = Field(max_length=20, index=True)  # national display form: 13812345678, 021-68881234
    recipient_phone_e164: str | None = Field(default=None, max_length=16)  # +8613812345678 (domain.recipient)
    phone_last4: str = Field(max_length=4)
    province: str = Field(max_length=32)
    city: str = Field(default="", max_length=64)
    district: str = Field(default="", max_length=64)
    address: str = Field(max_length=500)
    postcode: str = Field(default="", max_length=6)
    language: str = Field(default="zh", max_length=8)
    route: str = Field(max_length=8, foreign_key="route.code", index=True)
    batch_id: int | None = Field(default=None, foreign_key="handover_batch.id", index=True)
    waybill_no: str | None = Field(default=None, max_length=20, unique=True)
    status: str = Field(default="registered", max_length=20)  # indexed with route, with updated_at
    hold: bool = False
    hold_reason: str | None = Field(default=None, max_length=500)
    revoked: bool = False
    revoked_reason: str | None = Field(default=None, max_length=500)
    intercept: bool = False  # revoked or re-addressed after dispatch: must be stopped
    label_reprint: bool = False
    contact_problem: str | None = Field(default=None, max_length=200)
    bag_id: int | None = Field(default=None, foreign_key="bag.id", index=True)
    weight_g: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Bag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    route: str = Field(max_length=8, foreign_key="route.code", index=True)
    state: str = Field(default="open", max_length=16, index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    seal_no: str | None = Field(default=None, max_length=32, unique=True)
    item_count: int = 0
    trip_id: int | None = Field(default=None, foreign_key="trip.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    sealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sealed_by: int | None = Field(default=None, foreign_key="app_user.id")
    arrived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Trip(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    vehicle: str = Field(max_length=32)
    driver: str = Field(max_length=64)
    escorts: str = Field(default="", max_length=300)  # names separated by "、"
    origin: str = Field(max_length=100)
    destination: str = Field(max_length=100)
    state: str = Field(default="loading", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    departed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    arrived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WaybillRange(SQLModel, table=True):
    """A block of S10 serials a capture station allocates from."""

    __tablename__ = "waybill_range"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=2)
    country: str = Field(default="CN", max_length=2)
    first: int
    last: int
    next: int
    station_id: int | None = Field(default=None, foreign_key="station.id", index=True)


class Event(SQLModel, table=True):
    """Append-only: every scan (accepted or refused) and every state change."""

    __table_args__ = (
        Index("ix_event_credential_id_id", "credential_id", "id"),
        Index("ix_event_at", "at"),
        Index("ix_event_action_result", "action", "result"),
        Index("ix_event_station_at", "station", "at"),
        UniqueConstraint("nonce", name="uq_event_nonce"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int | None = Field(default=None, foreign_key="credential.id")
    bag_id: int | None = Field(default=None, foreign_key="bag.id")  # partial index below
    trip_id: int | None = Field(default=None, foreign_key="trip.id")
    action: str = Field(max_length=24)
    result: str = Field(default="ok", max_length=8)  # ok, rejected
    reason: str | None = Field(default=None, max_length=24)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    code: str | None = Field(default=None, max_length=64)  # what was scanned
    station: str | None = Field(default=None, max_length=16)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    scanned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nonce: str | None = Field(default=None, max_length=64)
    details: str | None = Field(default=None, sa_type=Text)  # JSON
    response: str | None = Field(default=None, sa_type=Text)  # JSON answer, for replays


# most events have no bag: only those that do are indexed (`bag_id = ?`
# implies `bag_id IS NOT NULL`, so both databases use it); no query reads
# events by trip, so trip_id has no index
Index("ix_event_bag_id", Event.__table__.c.bag_id, sqlite_where=text("bag_id IS NOT NULL"),
      postgresql_where=text("bag_id IS NOT NULL"))

# a user's searches by phone or name in the last hour are counted on every
# such search (services/disclosure.py); only those rows are indexed
Index("ix_event_personal_search", Event.__table__.c.user_id, Event.__table__.c.at,
      sqlite_where=text("action = 'personal_search'"), postgresql_where=text("action = 'personal_search'"))
