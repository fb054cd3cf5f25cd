"""What the station pages read and change besides scans."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...domain.numbers import MAX_INT32
from ..validation import Cursor, RequestModel, Text, query_whole, whole
from .common import Answer, Page, iso


class StationQuery(RequestModel):
    station: Text(16, required=False, description="the acting station (a station token: its own)") = None


class CaptureView(Answer):
    credential_no: str
    waybill_no: str | None
    status: str
    route: str | None
    credential_type: str
    holder_name: str | None
    organization: str | None
    hold: bool
    revoked: bool
    recipient: dict[str, str] | None = Field(description="the recipient data, only at the capture step")
    problems: dict[str, str] = Field(description="field → what is wrong (missing, invalid_phone…)")
    unprintable: dict[str, str] = Field(description="field → the characters the label cannot print")


class RecipientIn(RequestModel):
    changes: dict[str, Any] = Field(min_length=1, description="recipient field → new value")
    station: Text(16, required=False) = None


class RecipientAnswer(CaptureView):
    event_id: int | None
    result: Literal["corrected", "intercept_requested", "unchanged"]


class LimitQuery(RequestModel):
    limit: query_whole(1, 1000, description="at most this many") = 500


class TrayItem(Answer):
    credential_no: str
    waybill_no: str | None
    status: str
    route: str | None
    revoked_reason: str | None
    bag: str | None
    last_station: str | None
    last_at: str | None = iso()


class PullTray(Answer):
    site: str
    items: list[TrayItem]
    more: bool = Field(description="more items wait than were answered (work the tray and ask again)")


class OpenBag(Answer):
    code: str
    route: str
    item_count: int


class OpenBags(Answer):
    bags: list[OpenBag]


class BagItem(Answer):
    credential_no: str
    waybill_no: str | None
    status: str


class BagDetail(Answer):
    code: str
    route: str
    state: str
    item_count: int
    seal_no: str | None
    trip: str | None
    items: list[BagItem]


class TripsQuery(RequestModel):
    state: list[Literal["loading", "departed", "arrived"]] = Field(
        default_factory=list, description="trips in these states (default: loading and departed)")


class TripLine(Answer):
    code: str
    state: str
    vehicle: str
    driver: str
    escorts: list[str]
    destination: str | None
    bags: int


class TripList(Answer):
    trips: list[TripLine]


class PageQuery(RequestModel):
    limit: query_whole(1, 1000, description="per page") = 100
    after: Cursor() = None


class Incident(Answer):
    event_id: int
    at: str | None = iso()
    action: str
    station: str | None
    user: str | None
    bag: str | None
    bag_state: str | None
    seal_read: Any = Field(description="the seal number read")
    seal_expected: str | None
    trip: str | None


class IncidentPage(Page[Incident]):
    """Seal mismatches, newest first."""

    incidents: list[Incident]


class HeldItem(Answer):
    credential_no: str
    waybill_no: str | None
    status: str
    hold_reason: str | None


class HeldPage(Page[HeldItem]):
    items: list[HeldItem]


class UndoIn(RequestModel):
    event_id: whole(1, MAX_INT32, description="the scan event to undo")
    reason: Text(500)
    station: Text(16, required=False) = None


class UndoAnswer(Answer):
    event_id: int
    undoes: int
    to_status: str | None


class ReopenIn(RequestModel):
    bag: Text(20)
    reason: Text(500)
    station: Text(16, required=False) = None


class ReleaseIn(RequestModel):
    code: Text(64, description="a credential or waybill number")
    reason: Text(500)
    station: Text(16, required=False) = None


class Released(Answer):
    credential_no: str
    hold: bool
    status: str

