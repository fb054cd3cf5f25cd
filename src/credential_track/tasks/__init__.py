"""Background work: the task queue (Huey), its tasks and its schedule.

Huey because it fits both ways the product runs: embedded, the queue is a
SQLite file in the instance folder (`SqliteHuey`'s storage; no server to
install) and `credtrack serve` starts one consumer next to the web
processes; scaled out, `CREDTRACK_REDIS_URL` puts it on Redis and
`credtrack worker` runs consumers on any number of machines. Huey brings
periodic tasks, retries, locks and a result store in one small library;
Celery would need a broker and a result backend for the same.

`queue.huey` is the one Huey instance; `configure(app)` points it at the
app's store. Each task runs inside the app's context (`queue.in_app`). A
long task keeps a record in the result store (`records`: state, progress,
result or the reason it failed) that pages and `credtrack tasks` read.
`periodic` is the schedule.
"""
from __future__ import annotations

from . import exports, imports, periodic  # noqa: F401 — registers the tasks with the queue
from .queue import configure, huey

__all__ = ["configure", "huey"]
