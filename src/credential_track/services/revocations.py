"""Revocations: credentials the organizer has cancelled.

Each listed item gets the `revoked` flag and a `revoke` event; the scan
service then refuses it at every station (`revoked`). An item already
dispatched (in a sealed bag, on a trip, arrived or out for delivery) can no
longer be pulled at a station: it also gets the `intercept` flag and an
`intercept` event, for customer service to stop it.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from ..db import writer
from ..domain.manifest import ManifestError, detect_encoding
from ..domain.status import Status
from ..models.base import utcnow
from . import events
from .imports import _db_time, _ph

INTERCEPT_STATUSES = frozenset({
    Status.dispatched.value, Status.in_transit.value, Status.arrived.value,
    Status.out_for_delivery.value, Status.delivery_failed.value,
})
_NO_HEADERS = {"credential_no", "证件号", "证件号码", "证件编号"}
_REASON_HEADERS = {"reason", "原因", "撤销原因", "备注"}
CHUNK = 1000


@dataclass
class RevocationResult:
    revoked: int = 0
    intercepted: int = 0
    already: int = 0
    unknown: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return _("%(revoked)s revoked (%(intercepted)s already dispatched: intercept), %(already)s already "
                 "revoked, %(unknown)s unknown", revoked=f"{self.revoked:,}", intercepted=f"{self.intercepted:,}",
                 already=f"{self.already:,}", unknown=f"{len(self.unknown):,}")


def read_revocations(path: Path) -> list[tuple[int, str, str]]:
    """(row, credential_no, reason) from a CSV with a credential_no/证件号
    column and an optional reason/原因 column, or a plain one-column list."""
    with open(path, newline="", encoding=detect_encoding(path)) as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ManifestError(_("the file is empty"))
    header = [h.strip().lower().replace("\ufeff", "") for h in rows[0]]
    no_col = next((i for i, h in enumerate(header) if h in _NO_HEADERS), None)
    reason_col = next((i for i, h in enumerate(header) if h in _REASON_HEADERS), None)
    start = 1
    if no_col is None:
        if len(header) > 1 and reason_col is not None:
            raise ManifestError(_("missing required column: credential_no (证件号)"))
        no_col, start = 0, 0  # a bare list of numbers
    out = []
    for n, row in enumerate(rows[start:], start=start + 1):
        no = row[no_col].strip() if no_col < len(row) else ""
        if not no:
            continue
        reason = row[reason_col].strip() if reason_col is not None and reason_col < len(row) else ""
        out.append((n, no, reason[:500]))
    return out


def import_revocations(engine: Engine, path: str | Path, *, user_id: int | None = None) -> RevocationResult:
    """Revoke every credential listed in `path` (one transaction)."""
    entries = read_revocations(Path(path))
    result = RevocationResult()
    now = utcnow()
    with writer(engine).begin() as conn:
        ph = _ph(conn)
        at = _db_time(conn, now)
        for i in range(0, len(entries), CHUNK):
            part = entries[i:i + CHUNK]
            nos = list({no for _r, no, _reason in part})
            found = {
                r[1]: r for r in conn.exec_driver_sql(
                    f"SELECT id, credential_no, status, revoked FROM credential "
                    f"WHERE credential_no IN ({', '.join([ph] * len(nos))})", tuple(nos))
            }
            revoke, intercept, done = [], [], set()
            for row, no, reason in part:
                item = found.get(no)
                if item is None:
                    result.unknown.append((row, no))
                    continue
                if item[3] or item[0] in done:
                    result.already += 1
                    continue
                done.add(item[0])
                revoke.append((item[0], item[2], reason))
                if item[2] in INTERCEPT_STATUSES:
                    intercept.append((item[0], item[2]))
            if revoke:
                conn.exec_driver_sql(
                    f"UPDATE credential SET revoked = {ph}, revoked_reason = {ph}, updated_at = {ph} WHERE id = {ph}",
                    [(True, reason or None, at, item_id) for item_id, _s, reason in revoke])
                events.write_sql(
                    conn,
                    "INSERT INTO event (credential_id, action, result, from_status, to_status, user_id, at, details) "
                    f"VALUES ({ph}, 'revoke', 'ok', {ph}, {ph}, {ph}, {ph}, {ph})",
                    [(item_id, status, status, user_id, at,
                      json.dumps({"reason": reason}, ensure_ascii=False) if reason else None)
                     for item_id, status, reason in revoke], actions=["revoke"])
            if intercept:
                conn.exec_driver_sql(f"UPDATE credential SET intercept = {ph} WHERE id = {ph}",
                                     [(True, item_id) for item_id, _s in intercept])
                events.write_sql(
                    conn,
                    "INSERT INTO event (credential_id, action, result, from_status, to_status, user_id, at) "
                    f"VALUES ({ph}, 'intercept', 'ok', {ph}, {ph}, {ph}, {ph})",
                    [(item_id, status, status, user_id, at) for item_id, status in intercept],
                    actions=["intercept"])
            result.revoked += len(revoke)
            result.intercepted += len(intercept)
    return result
