"""The dashboard's figures as JSON (what the organizer's dashboard page shows)."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Answer, iso


class FunnelStep(Answer):
    status: str
    n: int


class Breakdown(Answer):
    key: str | None
    total: int
    delivered: int
    share: float


class Dashboard(Answer):
    as_of: str = iso("when the figures were computed", optional=False)
    events_folded: int | None = Field(description="the last event the figures include")
    total: int
    by_status: dict[str, int]
    funnel: list[FunnelStep]
    delivered: int
    share_delivered: float
    by_route: list[Breakdown]
    by_province: list[Breakdown]
    by_type: list[Breakdown]
    exceptions: dict[str, int]
    stuck_hours: int = Field(description="the shortest of `stuck_hours_by_status` (kept for v1 clients: an "
                             "item counts as stuck after its own status's hours)")
    stuck_hours_by_status: dict[str, float] = Field(description="hours in a status after which an item not held "
                                                    "or revoked counts as stuck (OUTREACH_STUCK_HOURS: the "
                                                    "outreach rule's)")
    throughput_hourly: list[dict[str, Any]] = Field(description="per hour of the last 24: `hour` and items "
                                                    "moved per stage")
    throughput_daily: list[dict[str, Any]] = Field(description="per day of the last 14: `day` and items "
                                                   "moved per stage")
    lead_time: list[dict[str, Any]] = Field(description="per route: delivered, median and p90 hours")
    service: dict[str, Any] | None = Field(description="the desk's figures, when the desk is part of this build")
