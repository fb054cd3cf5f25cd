"""The status export: one row per credential, streamed.

Stage times come from the events (the truth), aggregated set-based in one
query joined to the credentials in id order; rows are written as they are
read so that 500,000 credentials never sit in memory at once.

Producing the rows authorises nothing: every caller first calls
`disclosure.authorise_export` (which refuses personal data to roles that may
not export it, and records the export).

The file opens in Excel as it is: headers in the reader's language (`lang`,
Chinese by default), the labels of type, status, route and delivery event
for people with their codes in `…_code` columns for machines, and every time
in ISO 8601 with the configured zone's offset (clock.iso_local).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import text
from sqlalchemy.engine import Engine

from .. import vocabulary
from ..clock import iso_local
from ..domain import cells
from ..domain.cells import XlsxBook, csv_row

# (column, the event's to_status that marks the stage)
STAGES = (
    ("received_at", "received"), ("captured_at", "captured"), ("accepted_at", "accepted"),
    ("bagged_at", "bagged"), ("dispatched_at", "dispatched"), ("in_transit_at", "in_transit"),
    ("arrived_at", "arrived"), ("out_for_delivery_at", "out_for_delivery"), ("delivered_at", "delivered"),
)
DELIVERY_ACTIONS = ("out_for_delivery", "delivered", "delivery_failed", "returned")
BASE_COLUMNS = ("credential_no", "credential_type", "credential_type_code", "batch", "status", "status_code",
                "revoked", "hold", "intercept", "waybill_no", "route", "route_code")
PERSONAL_COLUMNS = ("holder_name", "organization", "recipient_name", "recipient_phone", "province", "city",
                    "district", "address", "postcode")
TAIL_COLUMNS = ("last_delivery_event", "last_delivery_event_code", "last_delivery_at", "last_delivery_details")
# the most rows a spreadsheet is written for while its requester waits (about
# 2.5 s of XlsxWriter); more rows are prepared on the task queue (status
# export) or offered as the streamed CSV (dashboard lists)
XLSX_WHILE_YOU_WAIT = 20_000


@dataclass
class StatusFilter:
    statuses: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    batch: str | None = None

    def where(self) -> tuple[str, dict]:
        parts, params = ["1 = 1"], {}
        for name, col, values in (("st", "c.status", self.statuses), ("rt", "c.route", self.routes),
                                  ("ty", "c.credential_type", self.types)):
            if values:
                keys = [f"{name}{i}" for i in range(len(values))]
                parts.append(f"{col} IN ({', '.join(':' + k for k in keys)})")
                params.update(zip(keys, values))
        if self.batch:
            parts.append("b.name = :batch")
            params["batch"] = self.batch
        return " AND ".join(parts), params

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def columns(personal: bool) -> list[str]:
    """The export's columns (their keys)."""
    return [*BASE_COLUMNS, *(PERSONAL_COLUMNS if personal else ()), *(s for s, _t in STAGES), *TAIL_COLUMNS]


def header(personal: bool, lang: str | None = None) -> list[str]:
    """The export's header row in the reader's language."""
    return [vocabulary.header(c, lang) for c in columns(personal)]


def _queries(filters: StatusFilter, personal: bool) -> tuple[str, str, str, dict]:
    """Three streams in credential id order, merged in Python: the items,
    their stage times (one GROUP BY over the events, along the
    (credential_id, id) index), and their delivery events."""
    personal_cols = "".join(f", c.{c}" for c in PERSONAL_COLUMNS) if personal else ""
    where, params = filters.where()
    items = f"""
SELECT c.id, c.credential_no, c.credential_type, b.name, c.status, c.revoked, c.hold, c.intercept,
       c.waybill_no, c.route{personal_cols}
FROM credential c LEFT JOIN handover_batch b ON b.id = c.batch_id
WHERE {where}
ORDER BY c.id"""
    stage_cols = ", ".join(f"MAX(CASE WHEN to_status = '{status}' THEN at END)" for _n, status in STAGES)
    stages = f"""
SELECT credential_id, {stage_cols}
FROM event WHERE credential_id IS NOT NULL AND result = 'ok'
GROUP BY credential_id ORDER BY credential_id"""
    delivery = ", ".join(f"'{a}'" for a in DELIVERY_ACTIONS)
    deliveries = f"""
SELECT credential_id, action, at, details FROM event
WHERE action IN ({delivery}) AND result = 'ok' AND credential_id IS NOT NULL
ORDER BY credential_id, id"""
    return items, stages, deliveries, params


_time = iso_local  # SQLite hands out naive UTC text, PostgreSQL aware datetimes
_NO_STAGES = ("",) * len(STAGES)
_NO_DELIVERY = ("", "", "", "")


def _grouped_last(result) -> Iterator[tuple[int, tuple]]:
    """(credential_id, (action, at, details)) of the last delivery event of each item."""
    current, last = None, None
    for cid, action, at, details in result:
        if cid != current and current is not None:
            yield current, last
        current, last = cid, (action, action, _time(at), _delivery_details(details))
    if current is not None:
        yield current, last


def rows(engine: Engine, filters: StatusFilter, *, personal: bool = False, lang: str | None = None,
         chunk: int = 5000) -> Iterator[list]:
    """The export rows (without the header), streamed from the database,
    labelled in `lang` (the reader's language by default)."""
    items_sql, stages_sql, deliveries_sql, params = _queries(filters, personal)
    types, statuses, routes, actions = (vocabulary.labels_map(k, lang)
                                        for k in ("credential_type", "status", "route", "action"))
    sentinel = (float("inf"), None)
    with engine.connect() as conn:
        streaming = conn.execution_options(stream_results=True, yield_per=chunk)
        stage_result = streaming.execute(text(stages_sql))
        delivery_result = streaming.execute(text(deliveries_sql))
        item_result = streaming.execute(text(items_sql), params)
        try:
            stages = iter(stage_result)
            deliveries = _grouped_last(iter(delivery_result))
            st = next(stages, None) or sentinel
            dl = next(deliveries, sentinel)
            for r in item_result:
                cid = r[0]
                ctype, status, route = r[2], r[4], r[9]
                out = [r[1], types.get(ctype, ctype), ctype, r[3], statuses.get(status, status), status,
                       int(bool(r[5])), int(bool(r[6])), int(bool(r[7])), r[8], routes.get(route, route), route,
                       *r[10:]]
                while st[0] < cid:
                    st = next(stages, None) or sentinel
                if st[0] == cid:
                    out += [_time(v) for v in st[1:]]
                else:
                    out += _NO_STAGES
                while dl[0] < cid:
                    dl = next(deliveries, sentinel)
                if dl[0] == cid:
                    event = dl[1]
                    out += [actions.get(event[0], event[0]), *event[1:]]
                else:
                    out.extend(_NO_DELIVERY)
                yield out
        finally:
            # server-side cursors on PostgreSQL: close the streams not read to the end
            for res in (item_result, delivery_result, stage_result):
                res.close()


def _delivery_details(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict):
        return "; ".join(f"{k}={v}" for k, v in data.items() if v not in (None, ""))
    return str(data)


def count(engine: Engine, filters: StatusFilter) -> int:
    """How many credentials the export will hold."""
    where, params = filters.where()
    with engine.connect() as conn:
        return conn.execute(text(
            f"SELECT COUNT(*) FROM credential c LEFT JOIN handover_batch b ON b.id = c.batch_id WHERE {where}"),
            params).scalar()


def write_csv(engine: Engine, out: TextIO, filters: StatusFilter, *, personal: bool = False,
              lang: str | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the export as CSV to `out`; return the number of credentials."""
    w = csv.writer(out)
    w.writerow(header(personal, lang))
    n = 0
    block = []
    for row in rows(engine, filters, personal=personal, lang=lang):
        block.append(row)
        if len(block) == 5000:
            w.writerows(map(csv_row, block))
            n += len(block)
            block = []
            if progress:
                progress(5000)
    w.writerows(map(csv_row, block))
    n += len(block)
    if progress:
        progress(len(block))
    return n


def write_xlsx(engine: Engine, path: Path | str, filters: StatusFilter, *, personal: bool = False,
               lang: str | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the export as an XLSX workbook (domain/cells.py: constant
    memory, every text a string cell)."""
    n = 0
    with XlsxBook(str(path) if isinstance(path, Path) else path) as book:
        ws = book.sheet("status")
        ws.append(header(personal, lang))
        for row in rows(engine, filters, personal=personal, lang=lang):
            ws.append(row)
            n += 1
            if progress and n % 5000 == 0:
                progress(5000)
        if progress:
            progress(n % 5000)
    return n


def csv_chunks(engine: Engine, filters: StatusFilter, *, personal: bool = False,
               lang: str | None = None) -> Iterator[str]:
    """The CSV export as text chunks, for a streamed HTTP download (UTF-8
    BOM first so that Excel opens it right)."""
    return cells.csv_chunks(rows(engine, filters, personal=personal, lang=lang), header=header(personal, lang))


__all__ = ["StatusFilter", "columns", "header", "rows", "count", "write_csv", "write_xlsx", "csv_chunks"]
