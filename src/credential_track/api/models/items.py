"""Items and their timelines, stations, statistics, the change feed."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ...domain.status import Status
from ...services.dashboard.feed import MAX_LIMIT as FEED_MAX
from ...services.queries import MAX_PAGE
from ..validation import Cursor, RequestModel, Text, query_whole
from .common import Answer, Page, iso


def _blank_none(value: Any) -> Any:
    return None if value == "" else value


class CredentialQuery(RequestModel):
    status: Annotated[Status | None, BeforeValidator(_blank_none)] = Field(
        default=None, description="only items in this status")
    route: Text(8, required=False, description="only items of this route (e.g. SH-E)") = None
    limit: query_whole(1, MAX_PAGE, description="items per page") = 100
    after: Cursor() = None


class CredentialSummary(Answer):
    """An item without personal data (what every role may see)."""

    credential_no: str
    waybill_no: str | None
    status: Status
    route: str | None
    credential_type: str
    province: str | None
    city: str | None
    hold: bool
    hold_reason: str | None
    revoked: bool
    intercept: bool
    bag: str | None = Field(description="the code of the bag the item is in")
    batch_id: int | None = Field(description="the handover batch the item came in")
    updated_at: str | None = iso()


class TimelineEvent(Answer):
    """One event of an item's timeline. A refused scan is an event too:
    `result` rejected, `refused` true, `reason` saying why; it moved nothing
    (`from` and `to` are the status it stayed in)."""

    id: int
    action: str = Field(description="the scan action (handover … pull) or system action (hold, release, "
                        "delivered, undo…); the vocabulary may grow within v1")
    result: Literal["ok", "rejected"]
    refused: bool = Field(description="true for a refused scan (the same as result = rejected)")
    reason: str | None = Field(description="why it was refused (the scan reasons of POST /scans)")
    from_: str | None = Field(alias="from", description="the status before")
    to: str | None = Field(description="the status after")
    station: str | None
    code: str | None = Field(description="what was scanned, as scanned")
    at: str | None = iso("when it was recorded (ISO 8601, UTC)")


class ExpectedDelivery(Answer):
    """An estimate from the events so far, not a promise (docs/API.md,
    docs/DASHBOARD.md); times ISO 8601 in the expo's zone with the offset."""

    status: Literal["estimated", "delivered", "none"]
    likely: str | None = None
    early: str | None = None
    late: str | None = None
    likely_date: str | None = None
    late_date: str | None = None
    delivered: str | None = None
    verdict: str | None = Field(default=None, description="on_time, at_risk, will_miss, no_date, delivered, "
                                "returned; null without an opening day")
    opening_day: str | None = None
    as_of: str | None = None
    pooled: list[str] = Field(default_factory=list)
    overdue: bool = False
    reason: str | None = Field(default=None, description="with status none: why there is no date")


class CredentialDetail(CredentialSummary):
    """The item with its full timeline, oldest first, refused scans included,
    and its expected delivery."""

    events: list[TimelineEvent]
    expected_delivery: ExpectedDelivery | None = None


class Forecast(Answer):
    """The campaign forecast against opening day (docs/DASHBOARD.md): per
    station stage and per route; times ISO 8601 in the expo's zone."""

    model_config = {"extra": "allow"}

    as_of: str | None
    opening: str | None
    opening_source: str | None
    stages: list[dict[str, Any]]
    bottleneck: str | None
    routes: list[dict[str, Any]]
    totals: dict[str, Any]


class CredentialPage(Page[CredentialSummary]):
    items: list[CredentialSummary]


class Station(Answer):
    code: str
    kind: str = Field(description="work, desk, hotline, tech")
    site: str | None
    name_zh: str | None
    name_en: str | None
    actions: list[str] = Field(description="the scan actions this station may perform")
    label_format: str | None


class StationList(Answer):
    stations: list[Station]


class Stats(Answer):
    total: int
    by_status: dict[str, int]
    by_route: dict[str, int]
    by_type: dict[str, int]
    held: int
    revoked: int


class ChangesQuery(RequestModel):
    after: Cursor("the `next` of the previous page; absent: from the first event") = None
    limit: query_whole(1, FEED_MAX, description="events per page") = 1000


class Change(Answer):
    """One event of the feed (refused scans included)."""

    id: int
    credential_no: str | None
    action: str
    result: Literal["ok", "rejected"]
    reason: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    station: str | None
    code: str | None = Field(description="what was scanned, when no item is named")
    at: str = iso("when it was recorded (ISO 8601, UTC)", optional=False)


class ChangesPage(Answer):
    """Events in commit order. The feed never ends: `next` is always a
    cursor (the same one when nothing new was committed): poll with it."""

    events: list[Change]
    next: str = Field(description="the cursor to continue from (pass it as `after`)")
