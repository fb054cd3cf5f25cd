"""Handover batches."""
from __future__ import annotations

from ...domain.numbers import MAX_INT32
from ..validation import RequestModel, Text, whole
from .common import Answer, iso


class BatchSummary(Answer):
    id: int
    name: str
    source_file: str | None
    state: str = "open"
    expected: int
    counted: int | None
    received: int
    missing: int
    extra: int
    created_at: str | None = iso()
    received_at: str | None = iso()
    closed_at: str | None = iso()


class MissingItem(Answer):
    credential_no: str
    credential_type: str
    route: str | None


class ExtraItem(Answer):
    code: str
    reason: str = "unknown_code"
    credential_no: str | None
    other_batch: str | None
    station: str | None
    at: str | None = iso()


class BatchDetail(BatchSummary):
    """A batch with its first missing and extra items."""

    missing_items: list[MissingItem]
    extra_items: list[ExtraItem]


class BatchReceived(BatchSummary):
    moved: int
    difference: int


class BatchList(Answer):
    batches: list[BatchSummary]


class ReceiveIn(RequestModel):
    counted: whole(0, MAX_INT32, description="how many credentials were counted")
    station: Text(16, required=False) = None
