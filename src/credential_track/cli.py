"""The `credtrack` command line (also `flask --app credential_track …`)."""
from __future__ import annotations

import json
import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import Session, select

from . import dashboard_cli, migrate
from .db import get_engine, write_session
from .models import Credential, User
from .services import accounts, queries
from .services.errors import ServiceError
from .services.seed import load_seed

DEMO_USERS = [
    ("admin", "admin", "系统管理员", "admin-demo-2026"),
    ("supervisor", "supervisor", "值班主管", "supervisor-demo-2026"),
    ("operator", "operator", "操作员小王", "operator-demo-2026"),
    ("agent", "agent", "客服小李", "agent-demo-2026"),
    ("organizer", "organizer", "主办方联络人", "organizer-demo-2026"),
]


class Progress:
    """Rows/s and ETA on a terminal; silent when output is not a terminal."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if not self.tty or (now - self._last < 0.2 and self.done < self.total):
            return
        self._last = now
        rate = self.done / max(now - self.start, 1e-6)
        eta = (self.total - self.done) / rate if rate else 0
        pct = 100 * self.done / self.total if self.total else 100
        sys.stderr.write(f"\r{self.label}: {self.done:,}/{self.total:,} ({pct:.0f}%) "
                         f"{rate:,.0f} rows/s, ETA {eta:.0f}s ")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def fail(message: str) -> None:
    raise click.ClickException(message)


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
    click.echo("database ready: " + ", ".join(f"{v} {k} added" for k, v in added.items()))


@click.command("demo")
@click.option("--credentials", "n", default=5000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@with_appcontext
def demo_command(n: int, seed: int):
    """Initialise the database and fill it with a deterministic demo data set."""
    from .services.demo import build_demo

    init_database()
    engine = get_engine()
    with write_session(engine) as s:
        for username, role, name, password in DEMO_USERS:
            if s.exec(select(User).where(User.username == username)).first() is None:
                accounts.create_user(s, username=username, password=password, role=role, display_name=name)
    with Session(engine) as s:
        have = s.exec(select(Credential.id).limit(1)).first()
    if have is not None:
        click.echo("demo data already present; nothing added")
    else:
        started = time.monotonic()
        progress = Progress(n, "demo")
        result = build_demo(engine, credentials=n, seed=seed, progress=progress)
        progress.finish()
        from .services.dashboard.summary import refresh

        refresh(engine)  # the dashboard's summaries, so that its first view is quick
        from .services import outreach

        with write_session(engine) as s:  # the desk's proactive queue, as cron would fill it
            swept = outreach.sweep(s, settings=outreach.OutreachSettings.from_config(current_app.config))
        click.echo(f"outreach: {sum(swept['created'].values()):,} tasks queued")
        click.echo(f"demo: {result['credentials']:,} credentials, {result['bags']:,} bags, "
                   f"{result['trips']:,} trips, {result['events']:,} events in {time.monotonic() - started:.1f}s")
    click.echo("demo accounts (user / password): " + "; ".join(f"{u} / {p}" for u, _r, _n, p in DEMO_USERS))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger (never in production).")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, debug: bool):
    """Serve the application (gunicorn; Flask's dev server only with --debug)."""
    click.echo(f"Credential Track on http://{host}:{port}/  (log in with a demo account printed by `credtrack demo`)")
    if debug:
        # app.run() does nothing when called from the flask CLI: serve directly
        from werkzeug.serving import run_simple

        current_app.debug = True
        run_simple(host, port, current_app._get_current_object(), use_debugger=True, use_reloader=False,
                   threaded=True)
        return
    from . import create_app

    run_gunicorn(create_app, gunicorn_settings(host=host, port=port, workers=workers, threads=threads))


def gunicorn_settings(*, host: str, port: int, workers: int, threads: int) -> dict:
    """The server settings of `credtrack serve` (bench/baseline_app.py serves
    its bare endpoint with the same ones, so the two compare fairly)."""
    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "accesslog": "-", "timeout": 120,
            # query strings (searches by phone or name) never reach the access log
            "logger_class": "credential_track.access_log.PrivateAccessLogger"}


def run_gunicorn(app_factory, settings: dict) -> None:
    """Serve the WSGI app made by `app_factory` with gunicorn."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return app_factory()

    _App().run()


@click.group("user")
def user_group():
    """Manage users."""


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
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with write_session(get_engine()) as s:
            from .services import users  # records the change as a user_create event
            user = users.add_user(s, users.Manager(None, "admin", None), username=username, password=password,
                                  role=role, display_name=display_name)
            click.echo(f"user {user.username} added with role {user.role}")
    except ServiceError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


@click.group("token")
def token_group():
    """Manage API tokens."""


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
            from .services import tokens  # records the change as a token_create event
            issued = tokens.issue_token(s, station_code=station_code, username=username, name=name, days=days)
    except ServiceError as exc:
        fail(exc.message)
    who = f"station {station_code}" if station_code else f"user {username}"
    click.echo(f"token for {who} (role {issued.token.role}); it is shown only now:")
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
    click.echo(f"total {data['total']:,}")
    for status, n in data["by_status"].items():
        click.echo(f"  {status:<18}{n:>10,}")


@click.group("import")
def import_group():
    """Import files: manifests, revocations, EMS delivery events."""


def register_commands(app) -> None:
    for cmd in (init_command, demo_command, serve_command, user_group, token_group, stats_command,
                import_group):
        app.cli.add_command(cmd)
    from .cli_print import print_group  # imported late: it builds on this module
    app.cli.add_command(print_group)
    from . import cli_import

    cli_import.register(app)
    from . import cli_security

    cli_security.register(app)
    from .service_cli import register as register_service

    register_service(app, import_group)
    dashboard_cli.register(app)
    from . import forecast_cli

    forecast_cli.register(app)


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=create_app, add_default_commands=False,
               help="Credential Track: expo credentials from handover to holder.")(prog_name="credtrack")
