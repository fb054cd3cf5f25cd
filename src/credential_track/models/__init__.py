"""The tables. Import from here: `from credential_track.models import Credential`."""
from sqlmodel import SQLModel

from .org import ApiToken, CredentialType, Route, Site, Station, User
from .items import Bag, Credential, Event, HandoverBatch, Trip, WaybillRange
from .service import (
    Call, DeliveryEvent, InterceptRequest, Notification, NotificationAttempt, OutreachAttempt,
    OutreachTask, SavedReply, Ticket, TicketItem, TicketNote,
)

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "Bag", "Call", "DeliveryEvent", "InterceptRequest", "Notification",
    "NotificationAttempt", "OutreachAttempt", "OutreachTask", "SavedReply", "Ticket", "TicketItem", "TicketNote", "Credential", "CredentialType", "Event", "HandoverBatch",
    "Route", "Site", "Station", "Trip", "User", "WaybillRange", "metadata",
]
