"""Login sessions and login throttling."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class LoginSession(SQLModel, table=True):
    """One browser sign-in. The cookie carries a random secret; only its
    hash is stored. A session is valid while its row is not ended, so that
    logging out ends it even for a copy of the cookie."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    sid_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the cookie's secret
    user_id: int = Field(foreign_key="app_user.id", index=True)
    address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_reason: str | None = Field(default=None, max_length=16)  # logout, logout_all


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one user name from one address ("*": from every
    address, for the slow-down), known name or not."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address", name="uq_login_throttle"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    address: str = Field(max_length=64)
    failures: int = 0
    window_start: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
