"""The organizer's dashboard, its drill-down lists and exports, the daily
report download, and the supervisor's station view."""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from .. import clock, settings
from ..security import page_require
from ..services import disclosure, exports
from ..services.dashboard import charts, data, lists, report, staff, summary
from ..services.errors import ServiceError
from ..tasks import periodic
from ..unit_of_work import get_db, get_engine
from ..vocabulary import error_text, label, province_label, route_label, status_text

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
REFRESH_SECONDS = 30


SORT_COLUMNS = [
    ("credential_no", _l("Credential no.")), (None, _l("Waybill")), ("type", _l("Type")), ("route", _l("Route")),
    ("province", _l("Province")), ("status", _l("Status")), ("batch", _l("Batch")), (None, _l("Bag")),
    ("updated", _l("Last change")),
]


def _figures() -> dict:
    return data.dashboard(summary.refreshed(get_db()))


def _charts(d: dict) -> dict:
    """The dashboard's SVG charts and labels, ready for the template."""
    def items_link(**kw):
        return lambda r: url_for("dashboard.items", **{k: r["key"] for k in kw})

    def local_hour(iso: str) -> str:
        return clock.format_date(iso)[5:] + " " + clock.format_hour(iso)

    def local_day(iso: str) -> str:
        return clock.format_date(iso)

    # the funnel's bars: share of all items; delivered stands out
    funnel = [{"key": f["status"], "total": f["n"], "share": f["n"] / d["total"] if d["total"] else 0.0,
               "fill": charts.shade(1.0) if f["status"] == "delivered" else "#8fb3cc"} for f in d["funnel"]]
    return {
        "funnel": charts.share_bars(funnel, label=lambda r: status_text(r["key"]), href=items_link(status=1)),
        "hourly": charts.bar_rows(
            [(label("stage", s), [h.get(s, 0) for h in d["throughput_hourly"]]) for s in data.STAGES],
            columns=[local_hour(h["hour"]) for h in d["throughput_hourly"]],
            links=[[url_for("dashboard.items", action=s, date=local_day(h["hour"])) for h in d["throughput_hourly"]]
                   for s in data.STAGES]),
        "daily": charts.bar_rows(
            [(label("stage", s), [x.get(s, 0) for x in d["throughput_daily"]]) for s in data.STAGES],
            columns=[x["day"] for x in d["throughput_daily"]],
            links=[[url_for("dashboard.items", action=s, date=x["day"]) for x in d["throughput_daily"]]
                   for s in data.STAGES]),
        "by_route": charts.share_bars(d["by_route"], label=lambda r: route_label(r["key"]),
                                      href=items_link(route=1)),
        "by_province": charts.share_bars(d["by_province"], label=lambda r: province_label(r["key"]),
                                         href=items_link(province=1)),
        "by_type": charts.share_bars(d["by_type"], label=lambda r: label("credential_type", r["key"]),
                                     href=items_link(type=1)),
    }


@bp.get("/")
@page_require("stats")
def index():
    d = _figures()
    return render_template("dashboard/index.html", d=d, c=_charts(d), refresh=REFRESH_SECONDS,
                           yesterday=report.default_day(), kept=periodic.kept_reports(current_app)[:7])


@bp.get("/panel")
@page_require("stats")
def panel():
    """The dashboard's body alone: the page's script reloads it."""
    d = _figures()
    return render_template("dashboard/_panel.html", d=d, c=_charts(d))


def _filter() -> lists.ItemFilter:
    try:
        return lists.ItemFilter.from_args(request.args)
    except ServiceError as exc:
        abort(400, error_text(exc))


def _sort() -> tuple[str, bool]:
    sort = request.args.get("sort", "credential_no")
    if sort not in lists.SORTS:
        abort(400, _("cannot sort by %(value)s", value=sort))
    return sort, request.args.get("dir") == "desc"


@bp.get("/items")
@page_require("stats")
def items():
    f = _filter()
    sort, desc = _sort()
    try:
        page = lists.item_page(get_db(), f, page=max(1, request.args.get("page", 1, type=int)),
                               per_page=request.args.get("per_page", 50, type=int), sort=sort, desc=desc)
    except ServiceError as exc:
        abort(400, error_text(exc))
    return render_template("dashboard/items.html", f=f, page=page, sort=sort, desc=desc,
                           args=f.as_args(), statuses=data.FUNNEL, exceptions=data.EXCEPTIONS,
                           sort_columns=SORT_COLUMNS)


def _authorise_export(kind: str, fmt: str, **filters) -> None:
    """Every export is an `export` event (the audit log); these carry no
    personal data (their columns name no person: lists.COLUMNS, the report's
    figures)."""
    from flask_login import current_user

    disclosure.authorise_export(get_engine(), user_id=current_user.id, role=current_user.role, kind=kind,
                                personal_data=False, fmt=fmt, filters=filters)


def _export_name(ext: str) -> str:
    return f"credentials-{clock.today().isoformat()}.{ext}"


@bp.get("/items.csv")
@page_require("stats")
def items_csv():
    f = _filter()
    sort, desc = _sort()
    engine = get_engine()
    _authorise_export("dashboard_items_csv", "csv", sort=sort, **f.as_args())

    def generate():
        # its own session: the request's is closed before a streamed body ends
        with Session(engine) as s:
            yield from lists.csv_stream(lists.export_rows(lists.iter_items(s, f, sort=sort, desc=desc)),
                                        header=lists.export_header())

    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={_export_name('csv')}"})


@bp.get("/items.xlsx")
@page_require("stats")
def items_xlsx():
    f = _filter()
    sort, desc = _sort()
    rows = lists.count_items(get_db(), f)
    if rows > exports.XLSX_WHILE_YOU_WAIT:
        flash(_("%(rows)s items are too many for a spreadsheet made while you wait (at most %(most)s): "
                "download the CSV, or prepare the status export on the export page.",
                rows=f"{rows:,}", most=f"{exports.XLSX_WHILE_YOU_WAIT:,}"), "error")
        return redirect(url_for("dashboard.items", sort=sort, dir="desc" if desc else "asc", **f.as_args()))
    _authorise_export("dashboard_items_xlsx", "xlsx", sort=sort, **f.as_args())
    out = lists.xlsx_file(lists.export_rows(lists.iter_items(get_db(), f, sort=sort, desc=desc)),
                          header=lists.export_header())
    return send_file(out, as_attachment=True, download_name=_export_name("xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _report_day() -> date:
    raw = request.args.get("date")
    if not raw:
        return report.default_day()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, _("date must be a date like 2026-11-05, got %(value)s", value=raw))


@bp.get("/report.pdf")
@page_require("stats")
def report_pdf():
    day = _report_day()
    _authorise_export("daily_report_pdf", "pdf", date=day)
    kept = periodic.report_files(current_app, day)[0]
    if kept.exists():  # written by the morning's task
        return send_file(kept, as_attachment=True, download_name=kept.name, mimetype="application/pdf")
    rep = report.report_data(summary.refreshed(get_db()), day)
    pdf = report.build_pdf(rep, organizer=settings.current().organizer_name)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=daily-report-{day.isoformat()}.pdf"})


@bp.get("/report.xlsx")
@page_require("stats")
def report_xlsx():
    day = _report_day()
    _authorise_export("daily_report_xlsx", "xlsx", date=day)
    kept = periodic.report_files(current_app, day)[1]
    if kept.exists():
        return send_file(kept, as_attachment=True, download_name=kept.name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    out = report.build_xlsx(report.report_data(summary.refreshed(get_db()), day))
    return send_file(out, as_attachment=True, download_name=f"daily-report-{day.isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/stations")
@page_require("staff")
def stations():
    v = staff.station_view(summary.refreshed(get_db()))
    cols = [clock.format_hour(h) for h in v["hours"]]
    chart = charts.bar_rows([(s["station"], s["per_hour"]) for s in v["stations"]], columns=cols)
    return render_template("dashboard/stations.html", v=v, chart=chart, refresh=REFRESH_SECONDS)
