"""The schedule: what runs by itself, and when.

| task | when (settings) |
|---|---|
| outreach sweep | every OUTREACH_SWEEP_MINUTES minutes (5) |
| due holder messages | every minute (services/notify.py keeps its backoff) |
| dashboard summaries | every minute |
| import recovery | every minute: undo a run left by a worker that is gone |
| daily report | at DAILY_REPORT_HOUR local time (6), for the local day before, kept in REPORT_DIR |
| clean-up | every hour at minute 30: records, export files and kept uploads older than TASK_KEEP_DAYS (7) go |

Each periodic task holds a lock of its own name, so that with workers on
several machines (Redis) a slow run is never overlapped by the next one.
The lock names its owner (host:pid) and when it was taken: a lock left by a
worker that was killed under it (this machine: the pid is gone; any
machine: older than LOCK_STALE_SECONDS) is taken over by the next run, so a
killed worker never stops the schedule for good.
Huey passes the schedule check a naive UTC time (utc=True)."""
from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

from .. import clock, liveness
from ..files import private_dir
from . import records
from .queue import huey, in_app, settings


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def every_minute(dt: datetime) -> bool:
    return True


def sweep_due(dt: datetime) -> bool:
    """Every OUTREACH_SWEEP_MINUTES minutes of the hour's clock (minute 0, 5, …)."""
    n = settings().outreach_sweep_minutes
    return (_utc(dt).hour * 60 + _utc(dt).minute) % n == 0


def report_due(dt: datetime) -> bool:
    """At DAILY_REPORT_HOUR:00 in the configured zone."""
    local = _utc(dt).astimezone(settings().zone)
    return local.hour == settings().daily_report_hour and local.minute == 0


# a periodic run takes seconds; a lock this old is a worker's that died under it
LOCK_STALE_SECONDS = 3600


def _lock_key(name: str) -> str:
    return f"{huey.name}.lock.periodic-{name}"


def _stale(lock: object, now: float) -> bool:
    if not isinstance(lock, dict):
        return True  # not a lock this module wrote (an earlier version's '1'): nobody to wait for
    return (not liveness.owner_may_be_alive(lock.get("owner"))
            or (lock.get("since") or 0) < now - LOCK_STALE_SECONDS)


def acquire_lock(name: str) -> bool:
    """Take the periodic task's lock; a stale one is taken over."""
    key, mine = _lock_key(name), {"owner": liveness.owner(), "since": time.time()}
    if huey.put_if_empty(key, mine):
        return True
    held = huey.get(key, peek=True)
    if held is None or not _stale(held, time.time()):
        return False  # the previous run is still at it
    huey.delete(key)
    return bool(huey.put_if_empty(key, mine))


def release_lock(name: str) -> None:
    held = huey.get(_lock_key(name), peek=True)
    if isinstance(held, dict) and held.get("owner") == liveness.owner():
        huey.delete(_lock_key(name))


def _run(name: str, body) -> object:
    """A periodic task's body under its lock, its run recorded."""
    started = time.monotonic()
    if not acquire_lock(name):
        return None
    try:
        with in_app() as app:
            out = body(app)
    except Exception as exc:
        records.record_last(name, ok=False, seconds=time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        release_lock(name)
    records.record_last(name, ok=True, seconds=time.monotonic() - started)
    return out


def run_outreach_sweep(app) -> dict:
    from ..db import write_session
    from ..services import outreach

    rules = outreach.OutreachSettings.from_settings(settings(), app.config)
    with write_session(app.extensions["credtrack_engine"]) as s:
        return outreach.sweep(s, settings=rules)


def run_notify(app) -> dict:
    from ..db import write_session
    from ..services import notify

    cfg = settings()
    sender = notify.load_sender(cfg.notify_backend,
                                outbox_path=cfg.notify_outbox_file or Path(app.instance_path) / "outbox.jsonl")
    with write_session(app.extensions["credtrack_engine"]) as s:
        return notify.send_due(s, sender, base_url=cfg.public_base_url)


def run_summary(app) -> int:
    from ..services.dashboard import summary

    return summary.refresh(app.extensions["credtrack_engine"])


def run_recover(app) -> list:
    from ..services import imports

    return imports.recover(app.extensions["credtrack_engine"])


def hourly(dt: datetime) -> bool:
    return _utc(dt).minute == 30


def run_cleanup(app, now: float | None = None) -> dict:
    """Remove finished task records older than TASK_KEEP_DAYS with their
    files (exports; the kept upload of a failed import: personal data), and
    job folders no record names any more. Returns what went."""
    import shutil

    from .imports import jobs_root

    now = time.time() if now is None else now
    cutoff = now - settings().task_keep_days * 86400
    root = jobs_root(app)
    gone = {"records": 0, "folders": 0}
    known = set()
    for job in records.all_jobs():
        if job["state"] in ("done", "failed") and (job.get("finished") or job.get("created") or 0) < cutoff:
            records.forget(job["id"])
            gone["records"] += 1
        else:
            known.add(job["id"])
    for folder in (root, root / "exports"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_dir() and len(path.name) == 32 and path.name not in known \
                    and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                gone["folders"] += 1
    return gone


def report_dir(app) -> Path:
    """Where the daily reports are kept (REPORT_DIR, else instance/reports)."""
    return Path(settings().report_dir or Path(app.instance_path) / "reports")


def report_files(app, day: date) -> tuple[Path, Path]:
    folder = report_dir(app)
    return folder / f"daily-report-{day.isoformat()}.pdf", folder / f"daily-report-{day.isoformat()}.xlsx"


def write_daily_report(app, day: date | None = None) -> tuple[Path, Path]:
    """The daily report of `day` (default: yesterday, local) as PDF and XLSX
    in the report folder (written under a temporary name, then renamed)."""
    from sqlmodel import Session

    from ..files import private_open
    from ..services.dashboard import report, summary

    day = day or clock.yesterday()
    engine = app.extensions["credtrack_engine"]
    summary.refresh(engine)
    with Session(engine) as s:
        rep = report.report_data(s, day)
    private_dir(report_dir(app))
    pdf, xlsx = report_files(app, day)
    with report.build_xlsx(rep) as f:
        xlsx_data = f.read()
    for path, data in ((pdf, report.build_pdf(rep, organizer=settings().organizer_name)), (xlsx, xlsx_data)):
        tmp = path.with_suffix(path.suffix + ".part")
        with private_open(tmp, "wb") as f:
            f.write(data)
        tmp.replace(path)
    return pdf, xlsx


def kept_reports(app) -> list[date]:
    """The days whose daily report is kept, newest first."""
    folder = report_dir(app)
    days = []
    if folder.is_dir():
        for p in folder.glob("daily-report-*.pdf"):
            try:
                days.append(date.fromisoformat(p.stem.removeprefix("daily-report-")))
            except ValueError:
                continue
    return sorted(days, reverse=True)


@huey.periodic_task(sweep_due, name="outreach_sweep")
def outreach_sweep():
    return _run("outreach_sweep", run_outreach_sweep)


@huey.periodic_task(every_minute, name="notify_send")
def notify_send():
    return _run("notify_send", run_notify)


@huey.periodic_task(every_minute, name="dashboard_refresh")
def dashboard_refresh():
    return _run("dashboard_refresh", run_summary)


@huey.periodic_task(every_minute, name="import_recover")
def import_recover():
    return _run("import_recover", run_recover)


@huey.periodic_task(report_due, name="daily_report")
def daily_report():
    return _run("daily_report", lambda app: [str(p) for p in write_daily_report(app)])


@huey.periodic_task(hourly, name="cleanup")
def cleanup():
    return _run("cleanup", run_cleanup)


PERIODIC = {"outreach_sweep": outreach_sweep, "notify_send": notify_send, "dashboard_refresh": dashboard_refresh,
            "import_recover": import_recover, "daily_report": daily_report, "cleanup": cleanup}


def due_at(dt: datetime) -> list[str]:
    """The periodic tasks the scheduler starts at `dt` (a UTC time)."""
    naive = _utc(dt).astimezone(UTC).replace(tzinfo=None)
    return [name for name, task in PERIODIC.items() if task.task_class().validate_datetime(naive)]
