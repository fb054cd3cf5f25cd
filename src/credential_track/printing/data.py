"""The plain data each document is drawn from (built by services/print_data.py)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabelData:
    """One waybill label. `recipient_phone` is the full number: the label masks it."""

    waybill_no: str
    credential_no: str
    credential_type: str  # printed as given, e.g. "展商 Exhibitor"
    recipient_name: str
    recipient_phone: str
    province: str
    city: str
    district: str
    address: str
    postcode: str
    route: str
    sender: str
    organization: str = ""
    vip: bool = True

    @property
    def full_address(self) -> str:
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        parts += [self.district, self.address]
        return "".join(p for p in parts if p)


@dataclass(frozen=True)
class BagLabelData:
    code: str
    route: str
    route_name: str
    item_count: int
    seal_no: str | None = None
    station: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class ManifestItem:
    waybill_no: str
    credential_no: str
    recipient_name: str
    city: str


@dataclass(frozen=True)
class BagManifestData:
    code: str
    route: str
    route_name: str
    state: str
    seal_no: str | None
    sealed_by: str
    sealed_at: str
    station: str
    items: list[ManifestItem]
    printed_at: str = ""


@dataclass(frozen=True)
class TripBag:
    code: str
    route: str
    seal_no: str | None
    item_count: int


@dataclass(frozen=True)
class TripSheetData:
    code: str
    state: str
    vehicle: str
    driver: str
    escorts: list[str]
    origin: str
    destination: str
    departed_at: str
    arrived_at: str
    bags: list[TripBag]
    printed_at: str = ""


@dataclass(frozen=True)
class HandoverData:
    """A handover batch as reconciled: `missing` are items of the manifest not
    received; `extra` are credential numbers received that the manifest lacks."""

    batch: str
    source_file: str
    state: str
    expected: int
    counted: int | None
    received: int
    missing: list[str]
    extra: list[str] = field(default_factory=list)
    created_at: str = ""
    received_at: str = ""
    organizer: str = ""
    printed_at: str = ""
