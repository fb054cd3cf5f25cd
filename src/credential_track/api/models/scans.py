"""POST /scans, /bags, /trips and /trips/<code>/depart."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ...domain.status import Action, Reason, Status
from ...models import Bag, Trip
from ..validation import N_, OptionalIsoTime, RequestModel, Text, column_length, custom_error, whole
from .common import Answer, iso

MAX_WEIGHT_G = 100_000  # an item heavier than 100 kg is a typing error, not a credential
REASONS = ", ".join(f"`{r.value}`" for r in Reason)


def _scalar(max_len: int | None = None) -> Any:
    """A context value: a text, or a number read as its decimal text (`bag`
    7 is the bag "7"); at most `max_len` characters once trimmed."""
    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise PydanticCustomError("scalar", "not a string or number")
        if max_len is not None and len(str(value).strip()) > max_len:
            raise PydanticCustomError("string_too_long", "too long", {"max_length": max_len})
        return value

    schema: dict[str, Any] = {"type": ["string", "number", "null"]}
    if max_len is not None:
        schema["maxLength"] = max_len
    return Annotated[Any, PlainValidator(check), WithJsonSchema(schema)]


ContextValue = _scalar()


class ScanContext(RequestModel):
    """What the action needs besides the scanned code; other keys (strings
    or numbers) are recorded with the scan's event."""

    model_config = {**RequestModel.model_config, "extra": "allow"}
    __pydantic_extra__: dict[str, ContextValue]

    bag: ContextValue = Field(default=None, description="bag, unbag: the bag code")
    trip: ContextValue = Field(default=None, description="load: the trip code")
    seal: _scalar(column_length(Bag.seal_no)) = Field(
        default=None, description="seal: the seal number put on; arrive: the seal number read on arrival")
    waybill: ContextValue = Field(default=None, description="capture: a pre-printed waybill label; without it "
                                  "the next number of the station's S10 range is allocated")
    weight_g: whole(1, MAX_WEIGHT_G, digits_ok=True) | None = Field(
        default=None, description="accept: the weight in grams (default: the configured default weight)")
    batch: ContextValue = Field(default=None, description="handover: the handover batch (id or name) the "
                                "item is counted into")

    def as_dict(self) -> dict[str, Any]:
        """The context as sent (absent keys left out), the weight as a number."""
        return self.model_dump(exclude_unset=True)


class ScanIn(RequestModel):
    """One scan."""

    code: Text(64, description="what was scanned: a waybill, a credential number, or (seal, load, "
                   "arrive) a bag code", examples=["EE471108151FR"])
    action: Action = Field(description="the action the station performs")
    station: Text(16, required=False, description="the station scanning; a station token may leave it out "
                  "(it acts for its own station), a user token must name it",
                  examples=["WS-05"]) = None
    nonce: Text(64, description="chosen by the client, unique per scan: the same nonce again returns the "
                "first answer (`replayed`)")
    context: ScanContext | None = Field(default=None, description="what the action needs")
    scanned_at: OptionalIsoTime = Field(default=None, description="when the scanner read the code "
                                       "(ISO 8601 with offset); the server records its own time too")


class ScanItem(Answer):
    """What a scan answer says about an item: no personal data."""

    credential_no: str
    waybill_no: str | None
    status: Status
    route: str | None
    credential_type: str
    hold: bool
    revoked: bool
    bag_id: int | None


class ScanBag(Answer):
    code: str
    route: str
    state: str = Field(description="open, sealed, loaded, in_transit, arrived")
    item_count: int
    seal_no: str | None


class ScanAnswer(Answer):
    """A decided scan, accepted or refused (HTTP 200 either way)."""

    result: Literal["ok", "rejected"]
    reason: str | None = Field(description=f"why a scan was refused: one of {REASONS}; null when ok. "
                               "The vocabulary may grow within v1 (docs/API.md)")
    message: str = Field(description="the outcome for the operator, in the request's language")
    item: ScanItem | None = Field(description="the item scanned (or in the bag scanned); null when unknown")
    event_id: int | None = Field(description="the event that records the scan")
    replayed: bool = Field(description="true when this nonce was seen before: the first answer, nothing written")
    bag: ScanBag | None = Field(default=None, description="bag actions and bag/unbag: the bag")


class BagIn(RequestModel):
    route: Text(8, description="the route the bag is for", examples=["SH-E"])
    station: Text(16, required=False, description="the dispatch station (a station token: its own)"
                  ) = None


class BagCreated(Answer):
    code: str
    route: str
    state: str
    item_count: int


def _escorts(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.replace("、", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise custom_error(N_("%(field)s must be a list of names"))
    limit = column_length(Trip.escorts)
    if len("、".join(e.strip() for e in value if e.strip())) > limit:  # stored joined by "、"
        raise custom_error(N_("%(field)s are longer than %(n)d characters together"), n=limit)
    return value


Escorts = Annotated[list[str], PlainValidator(_escorts), WithJsonSchema({
    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
    "description": "at least two escorts: a list of names, or one text with names separated by , or 、"})]


class TripIn(RequestModel):
    vehicle: Text(32, examples=["沪A·88888"])
    driver: Text(64)
    escorts: Escorts = Field(default_factory=list)
    origin: Text(100)
    destination: Text(100)
    station: Text(16, required=False, description="the dispatch station (a station token: its own)"
                  ) = None


class TripBag(Answer):
    code: str
    seal_no: str | None
    item_count: int
    state: str


class TripAnswer(Answer):
    code: str
    state: str = Field(description="loading, departed, arrived")
    vehicle: str
    driver: str
    escorts: list[str]
    origin: str | None
    destination: str | None
    departed_at: str | None = iso()
    arrived_at: str | None = iso()
    bags: list[TripBag]
