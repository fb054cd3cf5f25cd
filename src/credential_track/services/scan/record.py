"""The event of a scan, with the answer kept for replays of its nonce."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from .. import events
from . import model
from .model import ScanOutcome, ScanRequest, StationRow, context_details


def stored_response(outcome: ScanOutcome) -> str:
    """The answer kept on the event (written with it, in one INSERT)."""
    stored = {"result": outcome.result, "reason": outcome.reason, "item": outcome.item}
    if outcome.bag is not None:
        stored["bag"] = outcome.bag
    if outcome.detail:
        stored["detail"] = outcome.detail
    return json.dumps(stored, ensure_ascii=False)


def record_scan(conn: Connection, req: ScanRequest, station: StationRow, code: str, outcome: ScanOutcome,
                *, extra: dict[str, Any] | None = None, **columns: Any) -> int:
    """Append the scan's event (its context and `extra` as details); its id."""
    return events.write(
        conn, action=req.action, details={**context_details(req), **(extra or {})} or None,
        result=outcome.result, reason=outcome.reason, code=code[:64], station=station.code,
        user_id=req.user_id, nonce=req.nonce, scanned_at=req.scanned_at, at=model.now(),
        response=stored_response(outcome), trip_id=columns.pop("trip_id", None), **columns)
