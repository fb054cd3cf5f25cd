"""Rows read on nearly every request, kept in memory for a moment.

A station scans all day with the same token at the same station, so the
token (with its user) and the station's row are read once and then taken
from memory for `seconds` (CREDTRACK_CACHE_SECONDS, default 2).

Any commit in this process that changes a token, a user or a station
(revoke, deactivate, role change, station actions) empties every cache at
once; a change made by another server process is seen at the latest
`seconds` later. Whatever depends on the clock (a token's expiry) is checked
by the caller on every hit.

With Redis configured (`share(url)`, from CREDTRACK_REDIS_URL), such a
commit is also published on a Redis channel; every app process on every
machine listens to it (a thread started at its first use, after gunicorn
has forked) and empties its caches too, so that a revocation made on one
machine holds on the others at once instead of `seconds` later. Should
Redis be away, the caches still end after `seconds`.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import ApiToken, Station, User

SECONDS = 2.0
MAX_ENTRIES = 10_000
WATCHED = (ApiToken, User, Station)

# bumped by every flush and commit that changes a watched row (here, or in
# another process when shared through Redis); entries of an older
# generation are not used
_GENERATION = [0]
CHANNEL = "credtrack:recent"
_SHARED: dict[str, Any] = {"url": None, "pid": None, "client": None}
log = logging.getLogger(__name__)


def share(url: str | None) -> None:
    """Share invalidations through the Redis at `url` (None: this process only)."""
    _SHARED.update(url=url or None, pid=None, client=None)


def _listening() -> Any:
    """The Redis client of this process, its listener started (once per process)."""
    url = _SHARED["url"]
    if url is None:
        return None
    if _SHARED["pid"] == os.getpid():
        return _SHARED["client"]
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    _SHARED.update(pid=os.getpid(), client=client)

    def listen() -> None:
        while True:
            try:
                sub = redis.Redis.from_url(url, socket_connect_timeout=2).pubsub(ignore_subscribe_messages=True)
                sub.subscribe(CHANNEL)
                _GENERATION[0] += 1  # whatever was published while this process did not listen
                for _message in sub.listen():
                    _GENERATION[0] += 1
            except Exception:  # noqa: BLE001 — Redis away: the caches end after `seconds` meanwhile
                time.sleep(1)

    threading.Thread(target=listen, name="credtrack-recent-invalidation", daemon=True).start()
    return client


def _publish() -> None:
    client = _listening()
    if client is None:
        return
    try:
        client.publish(CHANNEL, os.getpid())
    except Exception as exc:  # noqa: BLE001 — see _listening
        log.warning("cache invalidation not published to Redis: %s", exc)


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
        if _SHARED["url"] is not None and _SHARED["pid"] != os.getpid():
            _listening()
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
        _publish()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop("recent_changed", None)
