"""Drill-down lists: the items behind each number of the dashboard, filtered,
paged, sorted and exported (CSV / XLSX), and the exception lists of a day."""
from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, select, text
from sqlmodel import Session

from ... import clock, vocabulary
from ...domain.cells import XlsxBook, csv_chunks
from ...domain.numbers import whole_number
from ...domain.status import Action, Status
from ...models import Bag, Credential, Event, HandoverBatch
from ...models.base import utcnow
from ..errors import ServiceError, bad_date, not_between, one_of
from ..outreach import stuck_condition
from . import summary

EXCEPTIONS = ["missing_at_handover", "held", "revoked", "intercept", "seal_mismatch", "delivery_failed",
              "returned", "stuck"]
# "stuck": the outreach rule's (services/outreach.stuck_condition: per status
# OUTREACH_STUCK_HOURS, not held or revoked), the one definition
SORTS = {
    "credential_no": Credential.credential_no, "status": Credential.status, "route": Credential.route,
    "province": Credential.province, "type": Credential.credential_type, "updated": Credential.updated_at,
    "batch": Credential.batch_id,
}
MAX_PER_PAGE = 500
COLUMNS = ["credential_no", "waybill_no", "credential_type", "route", "province", "city", "status", "hold",
           "revoked", "intercept", "batch", "bag", "updated_at"]
# the exported columns: labels for people, the codes beside them for machines
EXPORT_COLUMNS = ["credential_no", "waybill_no", "credential_type", "credential_type_code", "route", "route_code",
                  "province", "city", "status", "status_code", "hold", "revoked", "intercept", "batch", "bag",
                  "updated_at"]


def missing_batches():
    """The handover batches whose items still `registered` are missing at
    handover: the closed ones. An open batch's registered items are its
    backlog, still being scanned in, not missing (the dashboard's tile and
    this list both ask this)."""
    return select(HandoverBatch.id).where(HandoverBatch.state == "closed")


@dataclass
class ItemFilter:
    """What a drill-down list shows; every field optional."""

    status: str | None = None
    route: str | None = None
    province: str | None = None
    type: str | None = None
    batch: int | None = None
    station: str | None = None  # items with an event at this station (on `date` if given)
    action: str | None = None  # items with an accepted event of this action (on `date` if given)
    date: date | None = None  # items with an event on this local day
    exception: str | None = None  # one of EXCEPTIONS

    @classmethod
    def from_args(cls, args) -> ItemFilter:
        """From request arguments; a bad value is an error naming its field."""
        f = cls()
        for name in ("status", "route", "province", "type", "station", "action", "exception"):
            value = (args.get(name) or "").strip()
            setattr(f, name, value or None)
        # a code or its label in either language (已妥投, ZJ 浙江, Zhejiang, 展商, 交接)
        for name, kind in (("status", "status"), ("route", "route"), ("province", "province"),
                           ("type", "credential_type"), ("action", "action")):
            setattr(f, name, vocabulary.code_for(kind, getattr(f, name)))
        if f.status and f.status not in {s.value for s in Status}:
            raise one_of("status", f.status, [s.value for s in Status], "status")
        if f.exception and f.exception not in EXCEPTIONS:
            raise one_of("exception", f.exception, EXCEPTIONS, "exception")
        if args.get("batch"):
            f.batch = whole_number(str(args["batch"]))
            if f.batch is None:
                raise ServiceError(_("The batch must be a batch number, not “%(value)s”.", value=args["batch"]),
                                   field="batch")
        if args.get("date"):
            try:
                f.date = date.fromisoformat(args["date"])
            except ValueError:
                raise bad_date("date", args["date"]) from None
        return f

    def as_args(self) -> dict:
        out = {}
        for fl in fields(self):
            v = getattr(self, fl.name)
            if v not in (None, ""):
                out[fl.name] = v.isoformat() if isinstance(v, date) else v
        return out


def _conditions(f: ItemFilter, now: datetime | None = None) -> list:
    c = Credential
    cond = []
    if f.status:
        cond.append(c.status == f.status)
    if f.route:
        cond.append(c.route == f.route)
    if f.province:
        cond.append(c.province == f.province)
    if f.type:
        cond.append(c.credential_type == f.type)
    if f.batch is not None:
        cond.append(c.batch_id == f.batch)
    if f.station or f.date or f.action:
        ev = [Event.credential_id.is_not(None)]
        if f.station:
            ev.append(Event.station == f.station)
        if f.action:
            ev += [Event.action == f.action, Event.result == "ok"]
        if f.date:
            start, end = summary.day_bounds(f.date)
            ev += [Event.at >= start, Event.at < end]
        cond.append(c.id.in_(select(Event.credential_id).where(and_(*ev))))
    ex = f.exception
    if ex == "missing_at_handover":
        cond += [c.status == Status.registered, c.batch_id.in_(missing_batches())]
    elif ex == "held":
        cond.append(c.hold == True)  # noqa: E712
    elif ex == "revoked":
        cond.append(c.revoked == True)  # noqa: E712
    elif ex == "intercept":
        cond.append(c.intercept == True)  # noqa: E712
    elif ex == "seal_mismatch":
        cond.append(c.bag_id.in_(seal_mismatch_bags()))
    elif ex in ("delivery_failed", "returned"):
        cond.append(c.status == ex)
    elif ex == "stuck":
        cond.append(stuck_condition(c, now or utcnow()))
    return cond


def seal_mismatch_bags():
    """The bags whose seal was found not to match (a refused seal or arrive
    scan): through the (action, result) index of the events."""
    return select(Event.bag_id).where(Event.action.in_(("seal", "arrive")) & (Event.result == "rejected")
                                      & (Event.reason == "seal_mismatch"))


def count_items(session: Session, f: ItemFilter, *, now: datetime | None = None) -> int:
    """How many items the filter selects."""
    return session.execute(select(func.count()).select_from(Credential).where(*_conditions(f, now))).scalar()


def _select(f: ItemFilter, sort: str, desc: bool, now: datetime | None):
    if sort not in SORTS:
        raise one_of("sort", sort, SORTS)
    col = SORTS[sort]
    order = [col.desc() if desc else col.asc(), Credential.id.desc() if desc else Credential.id.asc()]
    return (select(Credential.credential_no, Credential.waybill_no, Credential.credential_type,
                   Credential.route, Credential.province, Credential.city, Credential.status, Credential.hold,
                   Credential.revoked, Credential.intercept, HandoverBatch.name, Bag.code,
                   Credential.updated_at)
            .join(HandoverBatch, HandoverBatch.id == Credential.batch_id, isouter=True)
            .join(Bag, Bag.id == Credential.bag_id, isouter=True)
            .where(*_conditions(f, now)).order_by(*order))


def item_page(session: Session, f: ItemFilter, *, page: int = 1, per_page: int = 50, sort: str = "credential_no",
              desc: bool = False, now: datetime | None = None) -> dict:
    """One page of the items behind a number, with the total count."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise not_between("per_page", 1, MAX_PER_PAGE)
    if page < 1:
        raise ServiceError(_("The page must be 1 or more."), field="page")
    total = count_items(session, f, now=now)
    rows = session.execute(_select(f, sort, desc, now).offset((page - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page)),
            "items": [dict(zip(COLUMNS, r)) for r in rows]}


def iter_items(session: Session, f: ItemFilter, *, sort: str = "credential_no", desc: bool = False,
               now: datetime | None = None) -> Iterator[tuple]:
    """Every row of a list, streamed from the database."""
    result = session.execute(_select(f, sort, desc, now).execution_options(yield_per=2000))
    for row in result:
        yield tuple(row)


def export_header(lang: str | None = None) -> list[str]:
    """The exported list's header row in the reader's language."""
    return [vocabulary.header(c, lang) for c in EXPORT_COLUMNS]


def export_rows(rows: Iterator[tuple], lang: str | None = None) -> Iterator[tuple]:
    """The rows of iter_items as exported (EXPORT_COLUMNS): type, route and
    status labelled in `lang` next to their codes, the province in words."""
    types, routes, statuses = (vocabulary.labels_map(k, lang) for k in ("credential_type", "route", "status"))
    for no, waybill, ctype, route, province, city, status, *rest in rows:
        yield (no, waybill, types.get(ctype, ctype), ctype, routes.get(route, route), route,
               vocabulary.province_label(province, lang), city, statuses.get(status, status), status, *rest)


def _cell(v):
    """A list value as a file shows it: local time, 1/0 for flags, empty for
    none (made formula-safe by the CSV or XLSX writer, domain/cells.py)."""
    if isinstance(v, datetime):
        return clock.iso_local(v)
    if isinstance(v, bool):
        return "1" if v else "0"
    return "" if v is None else v


def csv_stream(rows: Iterator[tuple], header: list[str] = COLUMNS) -> Iterator[str]:
    """CSV text in chunks (UTF-8 with BOM, so that Excel reads Chinese)."""
    return csv_chunks(([_cell(v) for v in row] for row in rows), header=header, every=1000)


def xlsx_file(rows: Iterator[tuple], header: list[str] = COLUMNS, title: str = "items"):
    """An XLSX of the rows (domain/cells.py) written to a temporary file (a
    zip cannot be sent before it is finished); returns the open file,
    positioned at its start."""
    out = tempfile.TemporaryFile()
    with XlsxBook(out) as wb:
        ws = wb.sheet(title)
        ws.append(header)
        for row in rows:
            ws.append([_cell(v) for v in row])
    out.seek(0)
    return out


def lead_time_rows(session: Session, *, until: datetime) -> list[tuple[str, int, int]]:
    """(route, whole hours from handover to delivery, items) for the items
    delivered before `until`, straight from the events."""
    handover = (select(func.min(text("h.at"))).select_from(text("event AS h"))
                .where(text("h.credential_id = event.credential_id AND h.action = 'handover' "
                            "AND h.result = 'ok'")).scalar_subquery())
    hist: dict[tuple, int] = defaultdict(int)
    for route, delivered_at, handed_at in session.execute(
            select(Credential.route, Event.at, handover).join(Credential, Credential.id == Event.credential_id)
            .where((Event.action == "delivered") & (Event.result == "ok") & (Event.at < until))):
        if handed_at is None:
            continue
        handed_at = summary._aware(handed_at)
        hist[(route, max(0, int((delivered_at - handed_at).total_seconds() // 3600)))] += 1
    return [(r, h, n) for (r, h), n in hist.items()]


DAY_EXCEPTION_ACTIONS = ("delivery_failed", "returned", "hold", "revoke", "intercept", "pull")


def day_exception_rows(session: Session, day: date, *, limit: int | None = None) -> list[tuple]:
    """The day's exception events: refused scans and items that failed
    delivery, came back, were held, revoked, intercepted or pulled. Rows of
    (time, kind, credential_no or scanned code, route, station, reason)."""
    start, end = summary.day_bounds(day)
    cols = (Event.id, Event.at, Event.action, Event.result, Event.reason,
            func.coalesce(Credential.credential_no, Event.code), Credential.route, Event.station)
    in_day = (Event.at >= start) & (Event.at < end)
    # two seeks on the (action, result) index rather than a scan of the day's events
    refused = (select(*cols).join(Credential, Credential.id == Event.credential_id, isouter=True)
               .where(Event.action.in_(sorted({a.value for a in Action} | set(DAY_EXCEPTION_ACTIONS)))
                      & (Event.result == "rejected") & in_day))
    flagged = (select(*cols).join(Credential, Credential.id == Event.credential_id, isouter=True)
               .where(Event.action.in_(DAY_EXCEPTION_ACTIONS) & (Event.result == "ok") & in_day))
    rows = sorted(list(session.execute(refused)) + list(session.execute(flagged)), key=lambda r: (r[1], r[0]))
    if limit:
        rows = rows[:limit]
    return [(at, (reason if result == "rejected" else action), code, route, station, action)
            for _id, at, action, result, reason, code, route, station in rows]
