"""The one Huey instance and how an app points it at its store."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

from .. import settings as settings_mod

NAME = "credtrack"

# configure() gives it its storage; until then (and with QUEUE_IMMEDIATE)
# tasks run at once in the calling process, on an in-memory store
huey = Huey(NAME, immediate=True, utc=True)
_APP: list = [None]


def queue_file(app) -> Path:
    """The embedded queue's SQLite file (QUEUE_FILE, else instance/queue.db)."""
    cfg = app.extensions["credtrack_settings"]
    return Path(cfg.queue_file or Path(app.instance_path) / "queue.db")


def configure(app) -> Huey:
    """Point the queue at `app`'s store: Redis when REDIS_URL is set, else
    the SQLite file in the instance folder; in the calling process at once
    when QUEUE_IMMEDIATE. Tasks run in this app's context from now on."""
    cfg = app.extensions["credtrack_settings"]
    if cfg.queue_immediate:
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(queue_file(app))}
        huey._immediate = True
    elif cfg.redis_url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": cfg.redis_url}
        huey._immediate = False
    else:
        path = queue_file(app)
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(path)}
        huey._immediate = False
    huey.name = cfg.queue_name
    huey.storage = huey.create_storage()
    _APP[0] = app
    app.extensions["credtrack_queue"] = huey
    return huey


def current_app():
    """The app the queue was last configured for (a task's app)."""
    if _APP[0] is None:
        raise RuntimeError("the task queue is not configured: tasks.configure(app) first")
    return _APP[0]


def settings() -> settings_mod.Settings:
    return current_app().extensions["credtrack_settings"]


@contextmanager
def in_app() -> Iterator[object]:
    """The configured app's context around a task's body."""
    app = current_app()
    with app.app_context():
        yield app


def reachable() -> bool:
    """Whether the queue's store answers (readyz)."""
    try:
        huey.pending_count()
        return True
    except Exception:  # noqa: BLE001 — any failure of the store means not ready
        return False


@huey.pre_execute(name="credtrack-timing")
def _started(task) -> None:
    import time

    task._credtrack_started = time.monotonic()


@huey.post_execute(name="credtrack-timing")
def _finished(task, value, exc) -> None:
    import time

    from . import records

    started = getattr(task, "_credtrack_started", None)
    if started is not None:
        records.record_duration(task.name, ok=exc is None, seconds=time.monotonic() - started)
