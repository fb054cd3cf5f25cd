"""The `credtrack` command line (also `flask --app credential_track …`),
one module per area: `commands` (init, demo, serve, user, token, stats),
`imports` (import, export), `printing`, `security` (backup, restore, tokens,
accounts), `desk` (outreach, notifications, delivery events), `dashboard`
(summaries, the daily report), `forecast` (the completion forecast, its backtest), `worker` (the task queue's
consumer, `tasks list|show|retry`). `common` holds what they share."""
from __future__ import annotations

from flask.cli import FlaskGroup

from . import commands, dashboard, desk, forecast, imports, printing, security, worker
from .common import import_group, token_group, user_group


def register_commands(app) -> None:
    for cmd in (commands.init_command, commands.demo_command, commands.serve_command, user_group, token_group,
                commands.stats_command, import_group, printing.print_group):
        app.cli.add_command(cmd)
    imports.register(app)
    security.register(app)
    desk.register(app, import_group)
    dashboard.register(app)
    forecast.register(app)
    worker.register(app)


def main() -> None:
    from .. import create_app

    FlaskGroup(create_app=create_app, add_default_commands=False,
               help="Credential Track: expo credentials from handover to holder.")(prog_name="credtrack")
