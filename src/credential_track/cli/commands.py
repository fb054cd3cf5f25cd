"""The `credtrack` command line (also `flask --app credential_track …`)."""
from __future__ import annotations

import json
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import Session, select

from .. import migrate, settings
from ..db import write_session
from ..models import Credential, User
from ..services import accounts, queries
from ..services.errors import ServiceError
from ..services.seed import load_seed
from ..unit_of_work import get_engine
from ..vocabulary import error_text, role_text, status_text
from .common import Progress, fail, token_group, user_group

DEMO_USERS = [
    ("admin", "admin", "系统管理员", "admin-demo-2026"),
    ("supervisor", "supervisor", "值班主管", "supervisor-demo-2026"),
    ("operator", "operator", "操作员小王", "operator-demo-2026"),
    ("agent", "agent", "客服小李", "agent-demo-2026"),
    ("organizer", "organizer", "主办方联络人", "organizer-demo-2026"),
]


def init_database() -> dict:
    """Current schema (Alembic) and seed data."""
    engine = get_engine()
    migrate.upgrade(engine)
    with write_session(engine) as s:
        return load_seed(s)


@click.command("init")
@with_appcontext
def init_command():
    """Bring the database to the current schema and load the seed data."""
    added = init_database()
    click.echo(_("database ready: %(added)s", added=", ".join(f"{k} +{v}" for k, v in added.items())))


@click.command("demo")
@click.option("--credentials", "n", default=5000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Add the demo accounts (and data) to a database that holds data already.")
@with_appcontext
def demo_command(n: int, seed: int, force: bool):
    """Initialise an empty database and fill it with a deterministic demo data set."""
    from ..services.demo import build_demo, refuse_unless_empty

    init_database()
    engine = get_engine()
    try:
        refuse_unless_empty(engine, force=force)
    except ServiceError as exc:
        fail(exc.message)
    with write_session(engine) as s:
        for username, role, name, password in DEMO_USERS:
            if s.exec(select(User).where(User.username == username)).first() is None:
                accounts.create_user(s, username=username, password=password, role=role, display_name=name)
    with Session(engine) as s:
        have = s.exec(select(Credential.id).limit(1)).first()
    if have is not None:
        click.echo(_("demo data already present; nothing added"))
    else:
        started = time.monotonic()
        progress = Progress(n, "demo")
        result = build_demo(engine, credentials=n, seed=seed, progress=progress)
        progress.finish()
        from ..services.dashboard.summary import refresh

        refresh(engine)  # the dashboard's summaries, so that its first view is quick
        from ..services import outreach

        with write_session(engine) as s:  # the desk's proactive queue, as cron would fill it
            swept = outreach.sweep(s, settings=outreach.OutreachSettings.from_settings(settings.current(), current_app.config))
        click.echo(_("outreach: %(n)s tasks queued", n=f"{sum(swept['created'].values()):,}"))
        click.echo(_("demo: %(credentials)s credentials, %(bags)s bags, %(trips)s trips, %(events)s events in "
                     "%(seconds)s s", credentials=f"{result['credentials']:,}", bags=f"{result['bags']:,}",
                     trips=f"{result['trips']:,}", events=f"{result['events']:,}",
                     seconds=f"{time.monotonic() - started:.1f}"))
    click.echo(_("demo accounts (user / password): %(accounts)s",
                 accounts="; ".join(f"{u} / {p}" for u, _r, _n, p in DEMO_USERS)))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger (never in production).")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, debug: bool):
    """Serve the application (gunicorn; Flask's dev server only with --debug) and, on the
    embedded queue, one task worker."""
    click.echo(_("Credential Track on %(url)s (log in with a demo account printed by `credtrack demo`)",
                 url=f"http://{host}:{port}/"))
    from .worker import start_child_worker, stop_child_worker

    cfg = settings.current()
    _metrics_across_processes()
    # the embedded setup: one consumer next to the web processes, so that
    # uploads, the schedule and the outreach queue work without anything else;
    # with Redis, workers run on their own (`credtrack worker`)
    child = start_child_worker() if not cfg.redis_url and not cfg.queue_immediate else None
    try:
        if debug:
            # app.run() does nothing when called from the flask CLI: serve directly
            from werkzeug.serving import run_simple

            current_app.debug = True
            run_simple(host, port, current_app._get_current_object(), use_debugger=True, use_reloader=False,
                       threaded=True)
            return
        from .. import create_app

        run_gunicorn(create_app, gunicorn_settings(host=host, port=port, workers=workers, threads=threads))
    finally:
        if child is not None:
            stop_child_worker(child)


def _metrics_across_processes() -> None:
    """/metrics sums the counters of every gunicorn worker and of the queue's
    worker on this machine (prometheus_client's multiprocess mode): set
    before any of them imports prometheus_client (metrics.py), emptied at
    each start."""
    import os
    import shutil
    from pathlib import Path

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = Path(current_app.instance_path) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


from ..access_log import JSON_FORMAT  # noqa: E402 — beside the settings that use it


def gunicorn_settings(*, host: str, port: int, workers: int, threads: int) -> dict:
    """The server settings of `credtrack serve` (bench/baseline_app.py serves
    its bare endpoint with the same ones, so the two compare fairly)."""
    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "accesslog": "-", "timeout": 120,
            # query strings (searches by phone or name) never reach the access log
            "logger_class": "credential_track.access_log.PrivateAccessLogger",
            "access_log_format": JSON_FORMAT}


def run_gunicorn(app_factory, options: dict) -> None:
    """Serve the WSGI app made by `app_factory` with gunicorn."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app_factory()

    _App().run()


@user_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--name", "display_name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_add(username: str, role: str, display_name: str, password_stdin: bool):
    """Add a user (password from a prompt or --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        with write_session(get_engine()) as s:
            from ..services import users  # records the change as a user_create event
            user = users.add_user(s, users.Manager(None, "admin", None), username=username, password=password,
                                  role=role, display_name=display_name)
            click.echo(_("user %(name)s added with the role %(role)s", name=user.username, role=role_text(user.role)))
    except ServiceError as exc:
        fail(error_text(exc))


@token_group.command("create")
@click.option("--station", "station_code", default=None, help="A station code, e.g. WS-05.")
@click.option("--user", "username", default=None, help="A user name.")
@click.option("--name", default="", help="What the token is for.")
@click.option("--days", default=None, type=click.IntRange(1, 3650), help="Expire after this many days.")
@with_appcontext
def token_create(station_code, username, name, days):
    """Create a token for a station or a user; the token is the last line printed."""
    try:
        with write_session(get_engine()) as s:
            from ..services import tokens  # records the change as a token_create event
            issued = tokens.issue_token(s, station_code=station_code, username=username, name=name, days=days)
    except ServiceError as exc:
        fail(error_text(exc))
    who = _("station %(code)s", code=station_code) if station_code else _("user %(name)s", name=username)
    click.echo(_("token for %(who)s (role %(role)s); it is shown only now:", who=who,
                 role=role_text(issued.token.role)))
    click.echo(issued.secret)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def stats_command(as_json: bool):
    """Counts by status, route and credential type."""
    with Session(get_engine()) as s:
        data = queries.stats(s)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(_("total %(n)s", n=f"{data['total']:,}"))
    for status, n in data["by_status"].items():
        click.echo(f"  {status:<18}{n:>10,}  {status_text(status)}")
