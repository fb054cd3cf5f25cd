"""Customer-service commands: `credtrack outreach sweep`, `credtrack notify
send`, `credtrack import delivery-events FILE`."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from .. import settings
from ..db import write_session
from ..services import delivery, notify, outreach
from ..unit_of_work import get_engine
from ..vocabulary import error_text, label, reason_text

CHUNK = 500


@click.group("outreach")
def outreach_group():
    """Proactive outreach: the rules that queue calls before holders call."""


@outreach_group.command("sweep")
@with_appcontext
def outreach_sweep():
    """Run every outreach rule over all items (safe to run from cron)."""
    rules = outreach.OutreachSettings.from_settings(settings.current(), current_app.config)
    started = time.monotonic()
    with write_session(get_engine()) as s:
        result = outreach.sweep(s, settings=rules)
    created = result["created"]
    click.echo(_("outreach sweep: %(n)s tasks created (%(rules)s), %(closed)s closed, %(queued)s notifications "
                 "queued in %(seconds)s s", n=sum(created.values()),
                 rules=", ".join(f"{label('rule', k)} {v}" for k, v in created.items()), closed=result["closed"],
                 queued=result["notifications_queued"], seconds=f"{time.monotonic() - started:.2f}"))


@click.group("notify")
def notify_group():
    """Milestone messages to holders (the outbox)."""


@notify_group.command("send")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def notify_send(limit: int):
    """Send the due messages of the outbox through NOTIFY_BACKEND."""
    cfg = settings.current()
    try:
        sender = notify.load_sender(cfg.notify_backend,
                                    outbox_path=cfg.notify_outbox_file
                                    or Path(current_app.instance_path) / "outbox.jsonl")
    except (ValueError, ImportError, AttributeError) as exc:
        raise click.ClickException(f"NOTIFY_BACKEND: {exc}") from None
    with write_session(get_engine()) as s:
        out = notify.send_due(s, sender, base_url=cfg.public_base_url, limit=limit)
    click.echo(_("notify: %(sent)s sent, %(failed)s failed (will retry), %(gave_up)s given up", sent=out["sent"],
                 failed=out["failed"], gave_up=out["gave_up"]))


@click.command("delivery-events")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_delivery_events(path: str):
    """Import EMS delivery events from a CSV (waybill,event,at,location,reason)
    or JSON file. A malformed row stops the import before anything is written."""
    rows: list[tuple[int, delivery.DeliveryInput]] = []
    problems: list[str] = []
    try:
        for n, raw in delivery.read_file(path):
            try:
                rows.append((n, delivery.check_event(raw)))
            except delivery.EventFieldError as exc:
                problems.append(_("row %(n)s: %(problem)s", n=n, problem=error_text(exc)))
    except delivery.EventFieldError as exc:
        raise click.ClickException(f"{path}: {exc.message}") from None
    if problems:
        shown = "\n".join(problems[:50])
        more = "\n" + _("… and %(n)s more", n=len(problems) - 50) if len(problems) > 50 else ""
        raise click.ClickException(_("%(n)s malformed rows, nothing imported:", n=len(problems)) + f"\n{shown}{more}")
    totals: dict[str, int] = {}
    refused: list[str] = []
    engine = get_engine()
    rules = outreach.OutreachSettings.from_settings(settings.current())
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        with write_session(engine) as s:
            results = delivery.apply_events(s, [ev for _n, ev in chunk], settings=rules)
        for (n, _ev), res in zip(chunk, results):
            totals[res["result"]] = totals.get(res["result"], 0) + 1
            if res["result"] == "rejected":
                refused.append(_("row %(n)s: waybill %(waybill)s: %(reason)s", n=n, waybill=res["waybill"],
                                 reason=reason_text(res.get("reason"))))
    for line in refused[:50]:
        click.echo(line, err=True)
    click.echo(_("delivery events: %(n)s read, %(results)s", n=len(rows),
                 results=", ".join(f"{v} {label('delivery_result', k)}" for k, v in sorted(totals.items()))))
    if refused:
        raise click.ClickException(_("%(n)s events refused (see above); the others were applied", n=len(refused)))


def register(app, import_group) -> None:
    """Attach the customer-service commands to the CLI."""
    import_group.add_command(import_delivery_events)
    app.cli.add_command(outreach_group)
    app.cli.add_command(notify_group)
