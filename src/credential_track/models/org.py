"""Sites, stations, users, API tokens and reference tables."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)


class Station(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # work, desk, hotline, tech
    site_id: int = Field(foreign_key="site.id", index=True)
    # space-separated scan actions this station may perform (work stations)
    actions: str = Field(default="", max_length=200)
    label_format: str = Field(default="pdf", max_length=8)  # pdf or zpl

    @property
    def action_list(self) -> list[str]:
        return self.actions.split()


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved on PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=100)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)  # admin, supervisor, operator, agent, organizer
    site_id: int | None = Field(default=None, foreign_key="site.id")
    active: bool = True
    # bumped by "log out everywhere": sessions carry the value they started with
    session_version: int = 1
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the secret
    prefix: str = Field(max_length=12)  # shown in listings to tell tokens apart
    name: str = Field(default="", max_length=100)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    role: str = Field(max_length=16)  # what the token may do
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CredentialType(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=16)
    name_zh: str = Field(max_length=32)
    name_en: str = Field(max_length=32)


class Route(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=8)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=64)
