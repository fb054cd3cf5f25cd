"""The completion forecast for the organizer and supervisors: the campaign
against opening day with its burn-down charts and a what-if side by side,
the staffing view, the list of items at risk (and its export), and the
organizer's item page with its expected delivery."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import Session, select

from .. import clock, settings
from ..domain import forecast as F
from ..domain.regions import all_routes
from ..i18n import current_lang
from ..models import Credential
from ..permissions import allowed
from ..security import page_require
from ..services import forecast, lookup, queries
from ..services.dashboard import charts
from ..services.errors import ServiceError, one_of
from ..services.forecast import campaign, verdicts
from ..unit_of_work import get_db, get_engine
from ..vocabulary import STAGE, label
from .dashboard import _authorise_export

bp = Blueprint("forecast", __name__, url_prefix="/dashboard")


@bp.record_once
def _check_settings(state) -> None:
    # a bad OPENING_DATE, SITE_HOURS or FORECAST_WINDOW_HOURS stops the app at start, naming it
    F.ForecastSettings.from_config(state.app.config)


@bp.app_template_filter("local_date")
def _local_date(value) -> str:
    """A date (or ISO date string) in the reader's language, with its weekday."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(clock.local_zone()).date()
    return format_date(value, "full")


def _stage_labels() -> dict[str, str]:
    """Every stage's label in the reader's language (vocabulary.py)."""
    return {key: label("stage", key) for key in STAGE}


def _current() -> forecast.Current:
    return forecast.current(get_db(), current_app.config)


def _routes() -> list[str]:
    return [code for code, _zh, _en in all_routes()]


def _charts(cur: forecast.Current) -> list[tuple[str, object]]:
    """The burn-down of every station stage and of the items still to deliver."""
    series = campaign.burndown(cur)
    marks = [(F.epoch_hour(cur.as_of), str(_l("now")))]
    if cur.forecast.deadline:
        marks.append((F.epoch_hour(cur.forecast.deadline), str(_l("opening day"))))
    names = (str(_l("so far")), str(_l("likely")), str(_l("early to late")))
    out = []
    for key in (*F.STAGES, "deliver"):
        title = _l("Not yet delivered") if key == "deliver" else _l("Waiting for %(stage)s",
                                                                    stage=label("stage", key))
        out.append((str(title), charts.burndown(series[key]["past"], series[key]["future"], marks=marks,
                                                tz=clock.local_zone(), names=names)))
    return out


def _changed_routes(base: dict, alt: dict, limit: int = 12) -> list[tuple[dict, dict]]:
    """The routes whose share before opening day the change moves most."""
    after = {r["route"]: r for r in alt["routes"]}
    pairs = [(r, after[r["route"]]) for r in base["routes"] if r["route"] in after]
    pairs = [p for p in pairs if p[1]["share_expected"] != p[0]["share_expected"]]
    return sorted(pairs, key=lambda p: -abs(p[1]["share_expected"] - p[0]["share_expected"]))[:limit]


@bp.get("/forecast")
@page_require("stats")
def index():
    cur = _current()
    base = campaign.view(cur)
    error, alt = None, None
    try:
        ops, trips = campaign.parse_whatif(request.args, cur, _routes())
        if ops or trips:
            alt = campaign.view(campaign.whatif(cur, ops, trips))
    except ServiceError as exc:
        error = f"{exc.field}: {exc.message}"
    default_from = campaign.default_start(cur).strftime("%Y-%m-%dT%H:%M")
    page = render_template(
        "forecast/index.html", v=base, alt=alt, error=error,
        changed=_changed_routes(base, alt) if alt else [], charts=_charts(cur), stage_labels=_stage_labels(),
        stages=F.STAGES, routes=[r["route"] for r in base["routes"]], args=request.args,
        default_from=default_from, tz=clock.local_zone(),
        trip_routes=sorted(cur.forecast.m.trips_per_day))
    return (page, 400) if error else page


@bp.get("/forecast/staffing")
@page_require("stats")
def staffing():
    cur = _current()
    return render_template("forecast/staffing.html", s=campaign.staffing(cur), v=campaign.view(cur),
                           stage_labels=_stage_labels(), tz=clock.local_zone())


def _list_args() -> tuple[tuple[str, ...], str | None]:
    verdict = request.args.get("verdict") or ""
    if verdict and verdict not in verdicts.AT_RISK:
        abort(400, one_of("verdict", verdict, verdicts.AT_RISK, kind="verdict").message)
    route = request.args.get("route") or None
    if route and route not in _routes():
        abort(400, _("There is no route %(route)s.", route=route))
    return ((verdict,) if verdict else verdicts.AT_RISK), route


@bp.get("/forecast/at-risk")
@page_require("stats")
def at_risk():
    chosen, route = _list_args()
    cur = _current()
    page = verdicts.page(get_db(), cur, verdicts=chosen, route=route,
                         page_no=max(1, request.args.get("page", 1, type=int)))
    return render_template("forecast/at_risk.html", page=page, cur=cur, route=route,
                           verdict=request.args.get("verdict") or "", routes=_routes(), tz=clock.local_zone())


@bp.get("/forecast/at-risk.csv")
@page_require("stats")
def at_risk_csv():
    chosen, route = _list_args()
    cur = _current()
    engine = get_engine()
    _authorise_export("forecast_at_risk_csv", "csv", verdicts=",".join(chosen), route=route or "")

    def generate():
        with Session(engine) as s:  # the request's session is closed before a streamed body ends
            yield from verdicts.csv_stream(verdicts.iter_rows(s, cur, verdicts=chosen, route=route), lang)

    lang = current_lang()
    name = f"at-risk-{clock.today().isoformat()}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/item/<credential_no>")
@page_require("stats")
def item(credential_no: str):
    """The organizer's and supervisor's view of one item: status, route,
    the full timeline (refused scans included, marked), its expected
    delivery, and the holder's data as the lookup path gives it to the
    role (permissions.PERSONAL_DATA: in full for the organizer, masked
    until a recorded reveal for a supervisor)."""
    db = get_db()
    row = db.exec(select(Credential).where(Credential.credential_no == credential_no)).first()
    if row is None:
        abort(404)
    expected = forecast.expected_delivery(db, current_app.config, row)
    try:
        detail = queries.credential_detail(db, credential_no)
    except ServiceError:
        abort(404)
    shown = bool(lookup.shown_ids(db, role=current_user.role, user_id=current_user.id, credential_ids=[row.id],
                                  minutes=settings.current().reveal_minutes))
    return render_template("forecast/item.html", detail=detail, expected=expected,
                           person=lookup.lookup_item(row, show_pii=shown),
                           may_reveal=allowed(current_user.role, "reveal") and allowed(current_user.role, "desk"))
