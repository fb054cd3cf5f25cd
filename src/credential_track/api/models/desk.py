"""Hotline lookup, reveal and EMS delivery events."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema

from ...services.delivery import MAX_BATCH
from ..validation import N_, RequestModel, Text, custom_error
from .common import Answer, iso


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class LookupQuery(RequestModel):
    q: Annotated[str, BeforeValidator(_blank_none), Field(
        max_length=200, description="a waybill, credential number, phone, last 4 digits + name, name or "
        "organization", examples=["EE471108151FR"])]


class LookupItem(Answer):
    """One search result; personal fields masked unless the role sees them
    in full or the item was revealed to this user (`masked` says which)."""

    credential_no: str
    waybill_no: str | None
    status: str
    holder_name: str | None
    recipient_name: str | None
    recipient_phone: str | None
    address: str | None
    masked: bool
    organization: str | None
    credential_type: str
    province: str | None
    city: str | None
    district: str | None
    route: str | None
    language: str | None
    hold: bool
    hold_reason: str | None
    revoked: bool
    intercept: bool
    label_reprint: bool
    contact_problem: str | None
    updated_at: str | None = iso()


class LookupAnswer(Answer):
    query: str = Field(description="how the search text was read: waybill, digits, last4_name, text, "
                       "empty, invalid_waybill")
    results: list[LookupItem]


class RevealIn(RequestModel):
    reason: Text(300, description="why (the caller confirmed who they are…), recorded")


class RevealAnswer(Answer):
    event_id: int
    item: LookupItem


class DeliveryEventIn(RequestModel):
    """One EMS delivery event (the shape clients send; each event is checked
    on its own, see POST /delivery-events)."""

    waybill: str = Field(max_length=20, description="the item's waybill number")
    event: str = Field(description="an EMS code (EMA … EMK, EDG) or out_for_delivery, delivered, "
                       "delivery_failed, returned", examples=["EMI"])
    at: str = Field(description="when it happened (ISO 8601; without an offset: China time)",
                    json_schema_extra={"format": "date-time"})
    location: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=200)


def _event_object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise custom_error(N_("%(field)s must be an object with waybill, event and at"))
    return value


EventObject = Annotated[dict, PlainValidator(_event_object),
                        WithJsonSchema(DeliveryEventIn.model_json_schema())]


def _events(value: Any) -> Any:
    if not isinstance(value, list):
        raise custom_error(N_("%(field)s must be a list of delivery events"))
    if not value:
        raise custom_error(N_("%(field)s is empty"))
    if len(value) > MAX_BATCH:
        raise custom_error(N_("at most %(n)d %(field)s per request"), n=MAX_BATCH)
    return value


class DeliveryBatchIn(RequestModel):
    events: Annotated[list[EventObject], BeforeValidator(_events), Field(min_length=1, max_length=MAX_BATCH)]


class DeliveryResult(Answer):
    """The outcome of one event, in the order sent."""

    result: Literal["applied", "recorded", "duplicate", "rejected", "error"] = Field(
        description="applied: the item moved; recorded: kept without moving it (informational EMS code); "
        "duplicate: sent before; rejected: `reason` says why (unknown_code, wrong_stage…); error: the event "
        "is malformed, `field` names the field")
    index: int | None = Field(default=None, description="error: the event's position in the batch")
    field: str | None = Field(default=None, description="error: the field at fault (events[2].at)")
    error: str | None = Field(default=None, description="error: what is wrong")
    waybill: str | None = None
    event: str | None = Field(default=None, description="the normalized event name or the EMS code")
    at: str | None = iso()
    event_id: int | None = None
    reason: str | None = None
    status: str | None = Field(default=None, description="the item's status after the event")
    first_result: str | None = Field(default=None, description="duplicate: what the first one did")


class DeliveryAnswer(Answer):
    results: list[DeliveryResult]
    summary: dict[str, int] = Field(description="how many events had each result")
