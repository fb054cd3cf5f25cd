"""The items at risk of missing opening day, selected in SQL from a
forecast's outlook: in a station queue by rank (the outlook's per status and
route thresholds), past the stations by hour of entry into their status.
The at-risk list, its export and the outreach rule "will miss opening day"
all select through `verdict_rows()`, so they agree with each other and with
the item's own page.
"""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import String, case, func, literal, null, select, union_all
from sqlmodel import Session

from ...domain import forecast as F
from ...models import Credential
from . import Current
from .data import epoch_hour_sql

AT_RISK = ("will_miss", "at_risk")


def _nested(pairs: dict[tuple[str, str], object], status_col, route_col, else_=None):
    """CASE status WHEN s THEN (CASE route WHEN r THEN value …) … — two
    short lookups per row instead of one long list."""
    by_status: dict[str, dict[str, object]] = {}
    for (s, r), value in pairs.items():
        by_status.setdefault(s, {})[r] = value
    if not by_status:
        return null()
    return case({s: case(routes, value=route_col, else_=else_ if else_ is not None else null())
                 for s, routes in by_status.items()}, value=status_col,
                else_=else_ if else_ is not None else null())


def verdict_rows(session: Session, cur: Current, verdicts: tuple[str, ...] = AT_RISK):
    """A subquery of (id, verdict, rank) for the free items whose verdict is
    one of `verdicts` (rank: the place in its station queue, else NULL);
    None when the forecast has no opening day."""
    if cur.settings.deadline() is None:
        return None
    o = cur.outlook()
    c = Credential
    free = (c.hold == False) & (c.revoked == False)  # noqa: E712
    parts = []
    if o.queue_ranks:
        rn = func.row_number().over(partition_by=c.status, order_by=(c.updated_at, c.id))
        q = (select(c.id.label("id"), c.status.label("status"), c.route.label("route"), rn.label("rn"))
             .where(c.status.in_(sorted({s for s, _ in o.queue_ranks})) & free).subquery())
        late = _nested({k: v[0] for k, v in o.queue_ranks.items()}, q.c.status, q.c.route)
        likely = _nested({k: v[1] for k, v in o.queue_ranks.items()}, q.c.status, q.c.route)
        verdict = case((q.c.rn > likely, literal("will_miss", String)), (q.c.rn > late, literal("at_risk", String)),
                       else_=literal("on_time", String))
        inner = select(q.c.id, verdict.label("verdict"), q.c.rn.label("rank")).subquery()
        parts.append(select(inner.c.id, inner.c.verdict, inner.c.rank).where(inner.c.verdict.in_(verdicts)))
    wanted = {k: v for k, v in o.dwell_hours.items() if k[2] in verdicts}
    if wanted:
        hour = epoch_hour_sql(session.bind, c.updated_at)
        per_pair: dict[tuple[str, str], list] = {}
        for (s, r, v), hours in wanted.items():
            per_pair.setdefault((s, r), []).append((hour.in_(sorted(set(hours))), literal(v, String)))
        verdict = _nested({k: case(*whens, else_=null()) for k, whens in per_pair.items()}, c.status, c.route)
        statuses = sorted({s for s, _ in per_pair})
        routes = sorted({r for _, r in per_pair})
        inner = (select(c.id.label("id"), verdict.label("verdict"))
                 .where(c.status.in_(statuses) & c.route.in_(routes) & free).subquery())
        parts.append(select(inner.c.id, inner.c.verdict, null().label("rank"))
                     .where(inner.c.verdict.is_not(None)))
    if not parts:
        return select(c.id.label("id"), literal("", String).label("verdict"), null().label("rank")) \
            .where(c.id < 0).subquery()
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def miss_condition(session: Session, cur: Current):
    """A condition on the credential table: the item will miss opening day
    (its likely date is on or after it); None without an opening day."""
    rows = verdict_rows(session, cur, ("will_miss",))
    if rows is None:
        return None
    return Credential.id.in_(select(rows.c.id))


def count(session: Session, cur: Current, verdicts: tuple[str, ...] = AT_RISK) -> int:
    rows = verdict_rows(session, cur, verdicts)
    return 0 if rows is None else int(session.execute(select(func.count()).select_from(rows)).scalar())


def page(session: Session, cur: Current, *, verdicts: tuple[str, ...] = AT_RISK, route: str | None = None,
         page_no: int = 1, per_page: int = 50) -> dict:
    """A page of the at-risk list, the items that will miss first, with
    each item's likely and late dates."""
    rows = verdict_rows(session, cur, verdicts)
    if rows is None:
        return {"items": [], "total": 0, "page": 1, "pages": 1}
    stmt = select(Credential, rows.c.verdict, rows.c.rank).join(rows, rows.c.id == Credential.id)
    if route:
        stmt = stmt.where(Credential.route == route)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar()
    per_page = max(1, min(per_page, 500))
    pages = max(1, -(-total // per_page))
    page_no = min(max(1, page_no), pages)
    found = session.execute(stmt.order_by(rows.c.verdict.desc(), Credential.route, Credential.credential_no)
                            .offset((page_no - 1) * per_page).limit(per_page)).all()
    return {"items": [_row(cur, item, verdict, rank) for item, verdict, rank in found], "total": total,
            "page": page_no, "pages": pages}


def iter_rows(session: Session, cur: Current, *, verdicts: tuple[str, ...] = AT_RISK,
              route: str | None = None) -> Iterator[dict]:
    """Every item of the at-risk list, streamed in list order."""
    rows = verdict_rows(session, cur, verdicts)
    if rows is None:
        return
    stmt = (select(Credential, rows.c.verdict, rows.c.rank).join(rows, rows.c.id == Credential.id)
            .order_by(rows.c.verdict.desc(), Credential.route, Credential.credential_no))
    if route:
        stmt = stmt.where(Credential.route == route)
    for item, verdict, rank in session.execute(stmt.execution_options(yield_per=2000)):
        yield _row(cur, item, verdict, rank)


def _row(cur: Current, item: Credential, verdict: str, rank) -> dict:
    fc = cur.forecast
    if item.status in F.QUEUE_STATUSES:
        e = fc.for_queue(item.status, rank or 1, item.route)
    else:
        e = fc.for_dwell(item.status, item.route, item.updated_at)
    tz = cur.settings.tz
    return {"credential_no": item.credential_no, "waybill_no": item.waybill_no,
            "credential_type": item.credential_type, "route": item.route, "province": item.province,
            "status": item.status, "verdict": verdict,
            "likely": e.likely.astimezone(tz) if isinstance(e, F.Expected) else None,
            "late": e.late.astimezone(tz) if isinstance(e, F.Expected) else None}


# the exported list: labels in the reader's language, the codes beside them for machines
EXPORT_COLUMNS = ["credential_no", "waybill_no", "credential_type", "credential_type_code", "route", "route_code",
                  "province", "status", "status_code", "verdict", "verdict_code", "likely", "late"]


def csv_stream(rows: Iterator[dict], lang: str | None = None) -> Iterator[str]:
    """The list as CSV through the dashboard's list writer (BOM, local
    times, no cell a spreadsheet would run as a formula), headers and
    values in words of `lang` next to their codes."""
    from ... import vocabulary
    from ..dashboard import lists

    maps = {k: vocabulary.labels_map(k, lang) for k in ("credential_type", "route", "status", "verdict")}

    def labelled(r: dict) -> tuple:
        return (r["credential_no"], r["waybill_no"],
                maps["credential_type"].get(r["credential_type"], r["credential_type"]), r["credential_type"],
                maps["route"].get(r["route"], r["route"]), r["route"], vocabulary.province_label(r["province"], lang),
                maps["status"].get(r["status"], r["status"]), r["status"],
                maps["verdict"].get(r["verdict"], r["verdict"]), r["verdict"], r["likely"], r["late"])

    return lists.csv_stream((labelled(r) for r in rows),
                            header=[vocabulary.header(c, lang) for c in EXPORT_COLUMNS])
