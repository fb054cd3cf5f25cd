"""What goes into a scan and what comes out: the request, the outcome, and
the few columns of items and bags a scan decides on."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.status import Action, Reason
from ...models.base import utcnow

ITEM_ACTIONS = frozenset({Action.handover, Action.capture, Action.accept, Action.bag, Action.unbag, Action.pull})
BAG_ACTIONS = frozenset({Action.seal, Action.load, Action.arrive})
SCAN_ACTIONS = ITEM_ACTIONS | BAG_ACTIONS


def now() -> datetime:
    """The scan path's clock: every time a scan writes is read here."""
    return utcnow()


@dataclass
class ScanRequest:
    code: str
    action: str
    station: str
    nonce: str
    context: dict[str, Any] = field(default_factory=dict[str, Any])
    scanned_at: datetime | None = None
    user_id: int | None = None


@dataclass
class ScanOutcome:
    result: str  # ok, rejected
    reason: str | None
    item: dict[str, Any] | None
    event_id: int | None
    replayed: bool = False
    bag: dict[str, Any] | None = None
    detail: str | None = None  # a fact for the message (e.g. the allocated waybill)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "result": self.result, "reason": self.reason, "item": self.item,
            "event_id": self.event_id, "replayed": self.replayed,
        }
        if self.bag is not None:
            out["bag"] = self.bag
        return out


@dataclass(slots=True)
class ItemRow:
    """The columns of an item a scan decides on (and answers with)."""

    id: int
    credential_no: str
    waybill_no: str | None
    status: str
    route: str
    credential_type: str
    hold: bool
    revoked: bool
    bag_id: int | None


@dataclass(slots=True)
class BagRow:
    id: int
    code: str
    route: str
    state: str
    item_count: int
    seal_no: str | None
    trip_id: int | None


@dataclass(slots=True)
class TripRow:
    id: int
    code: str
    state: str


@dataclass(frozen=True)
class StationRow:
    id: int
    code: str
    action_list: list[str]


@dataclass
class Decision:
    """A decided scan: its answer, the rows it concerns and the columns it
    changed on them (for the caller's ORM session)."""

    outcome: ScanOutcome
    item: ItemRow | None = None
    bag: BagRow | None = None
    item_values: dict[str, Any] | None = None
    bag_values: dict[str, Any] | None = None


class Refused(Exception):
    """A scan the guards refuse: the reason and the rows it concerns."""

    def __init__(self, reason: Reason, item: ItemRow | None = None, bag: BagRow | None = None,
                 detail: str | None = None):
        super().__init__(reason.value)
        self.reason, self.item, self.bag, self.detail = reason, item, bag, detail


def item_summary(item: Any) -> dict[str, Any] | None:
    """What a scan answer says about an item: no personal data."""
    if item is None:
        return None
    return {
        "credential_no": item.credential_no,
        "waybill_no": item.waybill_no,
        "status": item.status,
        "route": item.route,
        "credential_type": item.credential_type,
        "hold": item.hold,
        "revoked": item.revoked,
        "bag_id": item.bag_id,
    }


def bag_summary(bag: Any) -> dict[str, Any] | None:
    if bag is None:
        return None
    return {"code": bag.code, "route": bag.route, "state": bag.state, "item_count": bag.item_count,
            "seal_no": bag.seal_no}


def context_details(req: ScanRequest) -> dict[str, Any]:
    """The request's context as recorded on its event (empty values left out)."""
    return {k: v for k, v in (req.context or {}).items() if v not in (None, "")}
