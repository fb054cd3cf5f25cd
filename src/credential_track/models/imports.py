"""Manifest imports in progress: what an interrupted import must undo."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class ImportRun(SQLModel, table=True):
    """One import writing in short transactions. Its items are the batch's
    credentials with an id above `first_credential_id`; its events those
    above `first_event_id` on them. Until `state` is `done` an interrupted
    run is undone (by its own process, or by the next import once its
    owner is gone)."""

    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="handover_batch.id", index=True)
    batch_created: bool = False  # the run made the batch: an undo removes it again
    state: str = Field(default="writing", max_length=16, index=True)  # writing, done, undone
    first_credential_id: int = 0
    first_event_id: int = 0
    rows: int = 0  # written so far
    owner: str = Field(default="", max_length=100)  # host:pid of the writing process
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class ImportUndo(SQLModel, table=True):
    """The data an import's update replaced (one row per updated item)."""

    __tablename__ = "import_undo"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="import_run.id", index=True)
    credential_id: int = Field(foreign_key="credential.id")
    old: str = Field(sa_type=Text)  # JSON: the replaced field values
