"""`credtrack worker` (the queue's consumer and scheduler) and `credtrack
tasks list|show|retry` (what the queue is doing)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from .. import clock
from ..services.errors import ServiceError
from ..tasks import imports as task_imports
from ..tasks import records
from ..tasks.queue import huey
from ..unit_of_work import get_engine
from ..vocabulary import error_text, label

log = logging.getLogger("credential_track.worker")


def recover(engine) -> tuple[int, int]:
    """What a killed worker left: import runs left `writing` are undone (the
    database as it was before them) and records left `running` are marked
    failed. Returns (runs undone, records marked)."""
    from ..services import imports

    undone = imports.recover(engine)
    return len(undone), records.mark_lost()


@click.command("worker")
@click.option("--threads", default=None, type=click.IntRange(1, 64),
              help="Consumer threads (default: WORKER_THREADS, 2).")
@click.option("--no-scheduler", is_flag=True, help="Run tasks only; another worker starts the periodic ones.")
@with_appcontext
def worker_command(threads: int | None, no_scheduler: bool):
    """Run the task queue's consumer and its scheduler until stopped (SIGTERM, SIGINT)."""
    cfg = current_app.extensions["credtrack_settings"]
    if cfg.queue_immediate:
        raise click.ClickException(_("QUEUE_IMMEDIATE is set: tasks run where they are queued, there is nothing "
                                     "for a worker to do."))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    undone, lost = recover(get_engine())
    where = cfg.redis_url.split("@")[-1] if cfg.redis_url else str(huey.storage.filename)
    click.echo(_("worker on %(where)s: %(threads)s threads, scheduler %(scheduler)s; %(undone)s interrupted "
                 "imports undone, %(lost)s tasks of a stopped worker marked failed",
                 where=where, threads=threads or cfg.worker_threads,
                 scheduler=_("off") if no_scheduler else _("on"), undone=undone, lost=lost), err=True)
    consumer = huey.create_consumer(workers=threads or cfg.worker_threads, worker_type="thread",
                                    periodic=not no_scheduler, check_worker_health=True,
                                    # an idle queue is polled at most a second apart: an upload starts at once
                                    max_delay=1.0)
    consumer.run()


def start_child_worker() -> subprocess.Popen:
    """One `credtrack worker` next to `credtrack serve` (the embedded setup):
    the same environment, its own process, stopped with the server."""
    return subprocess.Popen([sys.executable, "-m", "credential_track", "worker"], env=dict(os.environ))


def stop_child_worker(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@click.group("tasks")
def tasks_group():
    """Tasks on the queue: imports, exports, reports, the periodic ones."""


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    from datetime import datetime

    return clock.format_datetime(datetime.fromtimestamp(ts, UTC), seconds=True)


def describe(job: dict) -> str:
    """One line about a task record, in the command line's language."""
    pct = f"{100 * job['done'] / job['total']:.0f}%" if job.get("total") else ""
    line = (f"{job['id']}  {label('job_kind', job['kind'])}  {label('job_state', job['state'])} {pct}  "
            f"{job.get('title') or ''}  {_when(job.get('created'))}")
    if job["state"] == "failed":
        line += "  " + _("why: %(error)s", error=error_reason(job))
    return line


error_reason = records.failure_text


@tasks_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def tasks_list(as_json: bool):
    """Task records (newest first), the queue's length and the last run of each periodic task."""
    jobs = records.all_jobs()
    if as_json:
        click.echo(json.dumps({"pending": huey.pending_count(), "tasks": jobs, "periodic": records.last_runs()},
                              ensure_ascii=False, default=str))
        return
    click.echo(_("%(n)s tasks waiting in the queue", n=huey.pending_count()))
    for job in jobs:
        click.echo(describe(job))
    for name, run in sorted(records.last_runs().items()):
        click.echo(_("periodic %(name)s: last run %(at)s, %(result)s in %(seconds)s s",
                     name=label("periodic_task", name), at=_when(run["at"]),
                     result=_("ok") if run["ok"] else run.get("error") or _("failed"),
                     seconds=f"{run['seconds']:.2f}"))


@tasks_group.command("show")
@click.argument("job_id")
@click.option("--follow", is_flag=True, help="Print the progress until the task has finished.")
@with_appcontext
def tasks_show(job_id: str, follow: bool):
    """One task record; with --follow, its progress until it has finished."""
    job = records.get(job_id)
    if job is None:
        raise click.ClickException(_("There is no task %(id)s.", id=job_id))
    while follow and job["state"] in ("queued", "running"):
        click.echo(describe(job), err=True)
        time.sleep(1)
        job = records.get(job_id)
    click.echo(describe(job))
    if job["state"] == "failed":
        sys.exit(1)


@tasks_group.command("retry")
@click.argument("job_id")
@with_appcontext
def tasks_retry(job_id: str):
    """Queue a failed task again."""
    try:
        task_imports.retry(job_id)
    except ServiceError as exc:
        raise click.ClickException(error_text(exc)) from None
    click.echo(_("task %(id)s queued again", id=job_id))


def register(app) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(tasks_group)
