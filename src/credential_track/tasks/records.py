"""What a person sees of a long task: its record in the queue's result
store (SQLite in the instance folder, or Redis), readable from every app
process and every machine.

A record is a dict: `id`, `kind` (import, export, report), `state`
(queued, running, done, failed), `done`/`total` (progress), `result`,
`error` (why it failed; `error_key`/`error_params` when the vocabulary has
words for it), `params` (what it needs to run again), `owner` (host:pid of
the worker) and `heartbeat`. A worker writes its heartbeat every few
seconds while it runs a task; a record that says running but whose worker
is gone (same host: the pid no longer exists; any host: no heartbeat for
STALE_SECONDS) is read as failed, so that a killed worker leaves nothing
"running" for ever.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from .. import liveness
from .queue import huey

PREFIX = "credtrack:job:"
PERIODIC_PREFIX = "credtrack:periodic:"
STATS_PREFIX = "credtrack:stats:"
STALE_SECONDS = 120
HEARTBEAT_SECONDS = 5
# the reason shown for a task whose worker stopped under it
WORKER_LOST = "worker_lost"


def _key(job_id: str) -> str:
    return PREFIX + job_id


owner = liveness.owner


def new(kind: str, *, title: str, user_id: int | None = None, params: dict | None = None,
        job_id: str | None = None) -> dict:
    """A queued record for a task about to be enqueued."""
    job = {"id": job_id or uuid.uuid4().hex, "kind": kind, "title": title, "state": "queued", "done": 0, "total": 0,
           "user_id": user_id, "params": params or {}, "created": time.time(), "started": None, "finished": None,
           "result": None, "error": None, "error_key": None, "error_params": {}, "owner": None, "heartbeat": None,
           "attempts": 0}
    save(job)
    return job


def save(job: dict) -> None:
    snapshot = dict(job)  # one C-level copy: the heartbeat thread saves while the task updates the record
    huey.put(_key(job["id"]), {k: v for k, v in snapshot.items() if k not in ("created_at", "finished_at")})


def _raw(job_id: str) -> dict | None:
    return huey.get(_key(job_id), peek=True)


def _alive(job: dict, now: float) -> bool:
    if (job.get("heartbeat") or 0) < now - STALE_SECONDS:
        return False
    return liveness.owner_may_be_alive(job.get("owner"))


def _as_seen(job: dict, now: float | None = None) -> dict:
    if job.get("state") == "running" and not _alive(job, time.time() if now is None else now):
        job = {**job, "state": "failed", "error_key": WORKER_LOST, "error": WORKER_LOST}
    return {**job, "created_at": at(job.get("created")), "finished_at": at(job.get("finished"))}


def at(ts: float | None) -> datetime | None:
    """A record's time (epoch seconds) as an aware UTC datetime, for clock.py to show."""
    return datetime.fromtimestamp(ts, UTC) if ts else None


def get(job_id: str) -> dict | None:
    """The record as it stands, a running task whose worker is gone read as failed."""
    job = _raw(job_id)
    return None if job is None else _as_seen(job)


def all_jobs(kind: str | None = None) -> list[dict]:
    """Every record (newest first), optionally of one kind."""
    out = []
    for key, raw in huey.all_results().items():
        key = key.decode() if isinstance(key, bytes) else key
        if key.startswith(PREFIX):
            job = _as_seen(huey.serializer.deserialize(raw))
            if kind is None or job.get("kind") == kind:
                out.append(job)
    return sorted(out, key=lambda j: j.get("created") or 0, reverse=True)


def failure_text(job: dict, html: bool = False) -> str:
    """Why a task failed, in the reader's language (with `html`, as markup
    that keeps column names and a file's own words apart: vocabulary.problem_text)."""
    from flask_babel import gettext as _

    if job.get("error_key") == WORKER_LOST:
        return _("the worker running it stopped (killed, or its machine went down); an interrupted import is "
                 "undone when a worker starts again")
    if job.get("error_key"):
        from ..vocabulary import problem_text

        return problem_text(job["error_key"], job.get("error_params") or {}, default=job.get("error") or "",
                            html=html)
    return job.get("error") or ""


def mark_lost() -> int:
    """Write `failed` into the records of tasks whose worker is gone (the
    worker does this at start); returns how many."""
    n = 0
    for job in all_jobs():
        if job["state"] == "failed" and job.get("error_key") == WORKER_LOST:
            raw = _raw(job["id"])
            if raw is not None and raw.get("state") == "running":
                save({**raw, "state": "failed", "error_key": WORKER_LOST, "error": WORKER_LOST,
                      "finished": time.time()})
                n += 1
    return n


class Progress:
    """The progress of a running task: `add(n)` / `set_total(n)`, written to
    its record at most every half second (and with the heartbeat)."""

    def __init__(self, job: dict):
        self.job = job
        self._last = 0.0
        self._lock = threading.Lock()

    def set_total(self, n: int) -> None:
        self.job["total"] = n
        self.flush()

    def add(self, n: int) -> None:
        self.job["done"] += n
        if time.monotonic() - self._last > 0.5:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            self._last = time.monotonic()
            self.job["heartbeat"] = time.time()
            save(self.job)


@contextmanager
def running(job_id: str) -> Iterator[Progress]:
    """Mark a record running for the body of a task, with a heartbeat
    thread; done when the body returns (the body sets `job['result']`),
    failed with the reason when it raises (the exception goes on to the
    queue, which logs it)."""
    job = _raw(job_id)
    if job is None:
        raise LookupError(f"no task record {job_id}")
    job.update(state="running", started=time.time(), finished=None, owner=owner(), heartbeat=time.time(),
               done=0, error=None, error_key=None, error_params={}, attempts=job.get("attempts", 0) + 1)
    progress = Progress(job)
    progress.flush()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                progress.flush()
            except Exception:  # noqa: BLE001 — the store is away for a moment: beat again next time
                pass

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield progress
    except BaseException as exc:
        stop.set()
        thread.join()
        job.update(state="failed", finished=time.time(),
                   error=str(getattr(exc, "message", exc)) or type(exc).__name__,
                   error_key=getattr(exc, "key", None), error_params=getattr(exc, "params", {}) or {})
        save(job)
        raise
    stop.set()
    thread.join()
    job.update(state="done", finished=time.time())
    save(job)


def forget(job_id: str) -> None:
    huey.delete(_key(job_id))


def requeue(job_id: str) -> dict:
    """Set a failed record back to queued (the caller enqueues the task again)."""
    job = get(job_id)
    if job is None or job["state"] != "failed":
        raise ValueError("only a failed task can be retried")
    job.update(state="queued", done=0, error=None, error_key=None, error_params={}, owner=None, heartbeat=None,
               finished=None, created=job.get("created"))
    save(job)
    return job


def record_last(name: str, *, ok: bool, seconds: float, error: str | None = None) -> None:
    """Keep the last run of a periodic task (the tech-support page)."""
    huey.put(PERIODIC_PREFIX + name, {"name": name, "at": time.time(), "ok": ok, "seconds": seconds,
                                      "error": error})


def record_duration(name: str, *, ok: bool, seconds: float) -> None:
    """Count a finished task run and its seconds, by task name (/metrics:
    summed in the store so that every worker's runs count)."""
    stats = huey.get(STATS_PREFIX + name, peek=True) or {"count": 0, "failed": 0, "seconds": 0.0}
    stats["count"] += 1
    stats["failed"] += 0 if ok else 1
    stats["seconds"] += seconds
    huey.put(STATS_PREFIX + name, stats)


def last_runs() -> dict[str, dict]:
    out = {}
    for key, raw in huey.all_results().items():
        key = key.decode() if isinstance(key, bytes) else key
        if key.startswith(PERIODIC_PREFIX):
            out[key[len(PERIODIC_PREFIX):]] = huey.serializer.deserialize(raw)
    return out


def run_stats() -> dict[str, dict]:
    out = {}
    for key, raw in huey.all_results().items():
        key = key.decode() if isinstance(key, bytes) else key
        if key.startswith(STATS_PREFIX):
            out[key[len(STATS_PREFIX):]] = huey.serializer.deserialize(raw)
    return out
