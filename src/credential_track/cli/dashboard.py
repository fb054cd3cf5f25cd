"""`credtrack report daily` and `credtrack dashboard refresh|rebuild`."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import Session

from .. import settings
from ..unit_of_work import get_engine


def _day(value: str | None) -> date:
    from ..services.dashboard import report

    if not value:
        return report.default_day()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("expected a date like 2026-11-05, got “%(value)s”", value=value),
                                 param_hint="--date") from None


@click.group("report")
def report_group():
    """Reports for the organizer."""


@report_group.command("daily")
@click.option("--date", "day", help="Local day YYYY-MM-DD (default: yesterday).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The PDF to write.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True),
              help="The XLSX to write (default: next to the PDF).")
@with_appcontext
def daily_command(day: str | None, out: str, xlsx: str | None):
    """The daily feedback report of a day as PDF and XLSX, from the events."""
    from ..services.dashboard import report, summary

    d = _day(day)
    started = time.monotonic()
    engine = get_engine()
    summary.refresh(engine)
    with Session(engine) as s:
        rep = report.report_data(s, d)
    pdf_path = Path(out)
    xlsx_path = Path(xlsx) if xlsx else pdf_path.with_suffix(".xlsx")
    for p in (pdf_path, xlsx_path):
        if not p.parent.is_dir():
            raise click.ClickException(_("There is no folder %(folder)s.", folder=p.parent))
    pdf_path.write_bytes(report.build_pdf(rep, organizer=settings.current().organizer_name))
    with report.build_xlsx(rep) as f:
        xlsx_path.write_bytes(f.read())
    click.echo(_("daily report %(day)s: %(total)s items, %(delivered)s delivered, %(rows)s exception rows -> "
                 "%(pdf)s, %(xlsx)s in %(seconds)s s", day=d.isoformat(), total=f"{rep['total']:,}",
                 delivered=f"{rep['delivered']:,}", rows=f"{len(rep['appendix']):,}", pdf=pdf_path, xlsx=xlsx_path,
                 seconds=f"{time.monotonic() - started:.1f}"))


@click.group("dashboard")
def dashboard_group():
    """The dashboard's summary tables."""


@dashboard_group.command("refresh")
@click.option("--rebuild", is_flag=True, help="Empty the summaries and fold every event again.")
@with_appcontext
def refresh_command(rebuild: bool):
    """Fold new events into the dashboard's summaries."""
    from ..services.dashboard import summary

    started = time.monotonic()
    n = (summary.rebuild if rebuild else summary.refresh)(get_engine())
    click.echo(_("dashboard summaries: %(n)s events folded in %(seconds)s s", n=f"{n:,}",
                 seconds=f"{time.monotonic() - started:.1f}"))


def register(app) -> None:
    app.cli.add_command(report_group)
    app.cli.add_command(dashboard_group)
