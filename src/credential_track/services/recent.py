"""Rows read on nearly every request, kept in memory for a moment.

A station scans all day with the same token at the same station, so the
token (with its user) and the station's row are read once and then taken
from memory for `seconds` (CREDTRACK_CACHE_SECONDS, default 2).

Any commit in this process that changes a token, a user or a station
(revoke, deactivate, role change, station actions) empties every cache at
once; a change made by another server process is seen at the latest
`seconds` later. Whatever depends on the clock (a token's expiry) is checked
by the caller on every hit.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Hashable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import ApiToken, Station, User

SECONDS = 2.0
MAX_ENTRIES = 10_000
WATCHED = (ApiToken, User, Station)

# bumped by every flush and commit that changes a watched row; entries of an
# older generation are not used
_GENERATION = [0]


class Recent:
    """One cache: key → (value, generation, when stored)."""

    def __init__(self, seconds: float | None = None):
        self.seconds = SECONDS if seconds is None else seconds
        self._entries: dict[Hashable, tuple[Any, int, float]] = {}

    def fetch(self, key: Hashable, load: Callable[[], Any]) -> Any | None:
        """The value stored for `key`, else `load()` (stored unless None).
        The generation is read before loading, so that a change committed
        while it loads makes the stored value stale at once."""
        value = self.get(key)
        if value is None:
            generation = _GENERATION[0]
            value = load()
            self.put(key, value, generation)
        return value

    def get(self, key: Hashable) -> Any | None:
        hit = self._entries.get(key)
        if hit is not None and hit[1] == _GENERATION[0] and time.monotonic() - hit[2] < self.seconds:
            return hit[0]
        return None

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        if self.seconds <= 0 or value is None:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (value, generation, time.monotonic())

    def update(self, key: Hashable, value: Any) -> None:
        """Replace a stored value, keeping its age."""
        hit = self._entries.get(key)
        if hit is not None:
            self._entries[key] = (value, hit[1], hit[2])


def on(holder: Any, name: str) -> Recent:
    """The cache called `name` kept on `holder` (an engine: one database's
    rows never answer for another's)."""
    cache = holder.__dict__.get(name)
    if cache is None:
        cache = Recent()
        setattr(holder, name, cache)
    return cache


@event.listens_for(Session, "after_flush")
def _flushed(session, _flush_context):
    if any(isinstance(obj, WATCHED) for obj in (*session.dirty, *session.deleted)):
        session.info["recent_changed"] = True
        _GENERATION[0] += 1


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.info.pop("recent_changed", False):
        _GENERATION[0] += 1


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop("recent_changed", None)
