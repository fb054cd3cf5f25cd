"""The tables. Import from here: `from credential_track.models import Credential`."""
from sqlmodel import SQLModel

from .org import ApiToken, CredentialType, Route, Site, Station, User
from .items import Bag, Credential, Event, HandoverBatch, Trip, WaybillRange
from .dashboard import DashBatch, DashDaily, DashFlow, DashItems, DashLeadTime, DashState

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "Bag", "DashBatch", "DashDaily", "DashFlow", "DashItems", "DashLeadTime", "DashState", "Credential", "CredentialType", "Event", "HandoverBatch",
    "Route", "Site", "Station", "Trip", "User", "WaybillRange", "metadata",
]
