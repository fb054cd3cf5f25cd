"""`credtrack forecast show` and `credtrack forecast backtest`."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import Session

from .. import clock
from ..unit_of_work import get_engine


def _cut(at: str | None, hours_ago: float | None) -> datetime:
    """The moment to cut the history at: an ISO time (without an offset:
    the expo's local time), or so many hours before the last event."""
    from sqlalchemy import func, select

    from ..models import Event
    from ..services.dashboard import summary

    if (at is None) == (hours_ago is None):
        raise click.UsageError("give either --at or --hours-ago")
    if at is not None:
        try:
            value = datetime.fromisoformat(at.strip())
        except ValueError:
            raise click.BadParameter(_("expected a date and time like 2026-11-05T08:00, not “%(value)s”", value=at),
                                     param_hint="--at") from None
        return value if value.tzinfo else value.replace(tzinfo=clock.local_zone())
    with Session(get_engine()) as s:
        last = s.execute(select(func.max(Event.at))).scalar()
    if last is None:
        raise click.ClickException(_("There are no events yet: nothing to backtest."))
    return summary._aware(last) - timedelta(hours=hours_ago)


@click.group("forecast")
def forecast_group():
    """The completion forecast against opening day."""


@forecast_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON.")
@with_appcontext
def show_command(as_json: bool):
    """The campaign forecast now: stages, routes against opening day."""
    from ..services import forecast
    from ..services.forecast import campaign

    started = time.monotonic()
    with Session(get_engine()) as s:
        try:
            cur = forecast.current(s, current_app.config)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        v = campaign.view(cur)
    if as_json:
        click.echo(json.dumps(v, default=lambda x: x.isoformat() if hasattr(x, "isoformat") else vars(x),
                              ensure_ascii=False))
        return
    tz = cur.settings.tz

    def when(t):
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M") if t else "beyond the horizon"

    click.echo(f"forecast as of {when(v['as_of'])}; opening day "
               f"{v['opening'] or 'not configured'}{' (the demo data set’s own)' if v['opening_source'] == 'demo' else ''}")
    for st in v["stages"]:
        mark = "  <- bottleneck" if st["stage"] == v["bottleneck"] else ""
        click.echo(f"  {st['stage']:<9} waiting {st['waiting']:>8,}  {st['stations']} stations x "
                   f"{st['per_station']:>6}/h  clears {when(st['clears']['mid'])} "
                   f"({when(st['clears']['fast'])} – {when(st['clears']['slow'])}){mark}")
    t = v["totals"]
    if v["opening"]:
        click.echo(f"  expected before opening day: {100 * t['share_expected']:.1f}%; "
                   f"at risk {t['at_risk']:,}, will miss {t['will_miss']:,}, no date {t['no_date']:,}")
        for r in v["routes"][:10]:
            click.echo(f"    {r['route']:<6}{100 * r['share_expected']:6.1f}%  will miss {r['will_miss']:>6,}  "
                       f"at risk {r['at_risk']:>6,}")
    click.echo(f"forecast computed in {time.monotonic() - started:.1f}s")


@forecast_group.command("backtest")
@click.option("--at", "at", help="Cut the history here (ISO 8601; without an offset: the expo's local time).")
@click.option("--hours-ago", type=click.FloatRange(1, 24 * 60), help="Cut this many hours before the last event.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@with_appcontext
def backtest_command(at: str | None, hours_ago: float | None, as_json: bool):
    """Forecast from the history up to a past moment and compare with what
    happened after: mean absolute error in hours per stage, and how often
    deliveries fell inside the band."""
    from ..services import forecast
    from ..services.dashboard import summary
    from ..services.forecast import backtest

    cut = _cut(at, hours_ago)
    started = time.monotonic()
    engine = get_engine()
    summary.refresh(engine)
    with Session(engine) as s:
        try:
            settings = forecast.settings_from(current_app.config, s)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        result = backtest.run(s, settings, cut)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    a = result.accuracy
    click.echo(f"backtest: cut at {result.cut:%Y-%m-%d %H:%M %Z}, history until "
               f"{result.observed_until:%Y-%m-%d %H:%M} ({result.items:,} items on their way at the cut, "
               f"{result.no_date:,} without a date)")
    click.echo(f"  {'stage':<17}{'MAE h':>8}{'bias h':>8}{'compared':>10}{'not yet':>9}")
    for stage, mae in a.mae_hours.items():
        click.echo(f"  {stage:<17}{'' if mae is None else f'{mae:.1f}':>8}"
                   f"{'' if a.bias_hours[stage] is None else f'{a.bias_hours[stage]:+.1f}':>8}"
                   f"{a.compared[stage]:>10,}{a.pending[stage]:>9,}")
    if a.delivered:
        click.echo(f"  delivered since the cut: {a.delivered:,}; inside the band (early–late) "
                   f"{100 * a.inside_band:.1f}%, by the late date {100 * a.before_late:.1f}%, "
                   f"by the likely date {100 * a.before_likely:.1f}%")
    for stage, c in result.clears.items():
        if c["error_hours"] is not None:
            actual, predicted = (c[k].astimezone(clock.local_zone()) for k in ("actual", "predicted"))
            click.echo(f"  {stage} backlog cleared {actual:%m-%d %H:%M}, forecast {predicted:%m-%d %H:%M} "
                       f"({c['error_hours']:+.1f} h)")
    click.echo(f"backtest computed in {time.monotonic() - started:.1f}s")


def register(app) -> None:
    app.cli.add_command(forecast_group)
