"""Summary tables of the dashboard, derived from the events alone.

They are rebuilt incrementally from the event id high-water mark kept in
``dash_state`` (services/dashboard/summary.py): no writer maintains them, so
they cannot drift from the events; deleting their rows and the mark rebuilds
them. Key columns use '' / 0 for "none" so that unique keys can be upserted.
"""
from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .items import Credential


class DashState(SQLModel, table=True):
    __tablename__ = "dash_state"

    key: str = Field(primary_key=True, max_length=32)
    value: int = 0


class DashFlow(SQLModel, table=True):
    """Events per hour (epoch hour, UTC) by action, result, reason, station
    and transition; `item` is 1 for events about one item."""

    __tablename__ = "dash_flow"
    __table_args__ = (
        UniqueConstraint("hour", "item", "action", "result", "reason", "station", "from_status",
                         "to_status", name="uq_dash_flow"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hour: int = Field(index=True)
    item: int = 0
    action: str = Field(max_length=24)
    result: str = Field(max_length=8)
    reason: str = Field(default="", max_length=24)
    station: str = Field(default="", max_length=16)
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(default="", max_length=20)
    n: int = 0


class DashItems(SQLModel, table=True):
    """Items by current status and by province, route and type."""

    __tablename__ = "dash_items"
    __table_args__ = (
        UniqueConstraint("province", "route", "credential_type", "status", name="uq_dash_items"),
    )

    id: int | None = Field(default=None, primary_key=True)
    province: str = Field(max_length=32)
    route: str = Field(max_length=8)
    credential_type: str = Field(max_length=16)
    status: str = Field(max_length=20)
    n: int = 0


class DashBatch(SQLModel, table=True):
    """Items by current status per handover batch (0: none)."""

    __tablename__ = "dash_batch"
    __table_args__ = (UniqueConstraint("batch_id", "status", name="uq_dash_batch"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = 0
    status: str = Field(max_length=20)
    n: int = 0


class DashDaily(SQLModel, table=True):
    """Item transitions per local day (yyyymmdd) by route and type: the
    funnel as it was at the end of any day is the sum up to that day."""

    __tablename__ = "dash_daily"
    __table_args__ = (
        UniqueConstraint("day", "route", "credential_type", "from_status", "to_status", name="uq_dash_daily"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: int = Field(index=True)
    route: str = Field(max_length=8)
    credential_type: str = Field(max_length=16)
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(default="", max_length=20)
    n: int = 0


class DashLeadTime(SQLModel, table=True):
    """Delivered items by route and whole hours from handover to delivery."""

    __tablename__ = "dash_lead_time"
    __table_args__ = (UniqueConstraint("route", "hours", name="uq_dash_lead_time"),)

    id: int | None = Field(default=None, primary_key=True)
    route: str = Field(max_length=8)
    hours: int
    n: int = 0


class DashDwell(SQLModel, table=True):
    """Items that left a status past the stations (bagged, dispatched,
    in_transit, arrived, out_for_delivery, delivery_failed) for the next one
    along the chain, by local day of leaving, route, status and whole hours
    spent in it: what the forecast learns its dwell times from."""

    __tablename__ = "dash_dwell"
    __table_args__ = (UniqueConstraint("day", "route", "status", "hours", name="uq_dash_dwell"),)

    id: int | None = Field(default=None, primary_key=True)
    day: int = Field(index=True)
    route: str = Field(max_length=8)
    status: str = Field(max_length=20)
    hours: int
    n: int = 0


# counting held and intercepted items without a table scan (revoked items:
# ix_credential_revoked_status; stuck in a status: ix_credential_status_updated);
# SQLite uses a partial index only when the query repeats its condition
# literally, and SQLAlchemy writes `Credential.hold == True` as "hold = 1"
_t = Credential.__table__
Index("ix_dash_credential_hold", _t.c.id, sqlite_where=text("hold = 1"), postgresql_where=text("hold"))
Index("ix_dash_credential_intercept", _t.c.id, sqlite_where=text("intercept = 1"),
      postgresql_where=text("intercept"))
