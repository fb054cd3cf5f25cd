"""The tables. Import from here: `from credential_track.models import Credential`."""
from sqlmodel import SQLModel

from .dashboard import DashBatch, DashDaily, DashDwell, DashFlow, DashItems, DashLeadTime, DashState
from .desk import (
    Call,
    DeliveryEvent,
    InterceptRequest,
    Notification,
    NotificationAttempt,
    OutreachAttempt,
    OutreachTask,
    SavedReply,
    Ticket,
    TicketItem,
    TicketNote,
)
from .imports import ImportRun, ImportUndo
from .items import Bag, Credential, Event, HandoverBatch, Trip, WaybillRange
from .org import ApiToken, CredentialType, Route, Site, Station, User
from .security import LoginSession, LoginThrottle

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "Bag", "Call", "Credential", "CredentialType", "DashBatch", "DashDaily", "DashDwell", "DashFlow",
    "DashItems", "DashLeadTime", "DashState", "DeliveryEvent", "Event", "HandoverBatch", "ImportRun", "ImportUndo",
    "InterceptRequest", "LoginSession", "LoginThrottle", "Notification",
    "NotificationAttempt", "OutreachAttempt", "OutreachTask", "Route", "SavedReply", "Site", "Station", "Ticket",
    "TicketItem", "TicketNote", "Trip", "User", "WaybillRange", "metadata",
]
