"""Station settings changed by administrators (recorded as events)."""
from __future__ import annotations

from sqlmodel import Session, select

from ..models import Station
from . import events
from .errors import NotFound, ServiceError
from .scan import SCAN_ACTIONS

LABEL_FORMATS = ("pdf", "zpl")


def update_station(session: Session, code: str, *, actions: list[str], label_format: str,
                   by: int | None) -> Station:
    """Set the scan actions a station may perform and its label format."""
    station = session.exec(select(Station).where(Station.code == code)).first()
    if station is None:
        raise NotFound(f"no station {code!r}", field="station")
    unknown = [a for a in actions if a not in SCAN_ACTIONS]
    if unknown:
        raise ServiceError(f"unknown action {unknown[0]!r}; one of {', '.join(sorted(SCAN_ACTIONS))}",
                           field="actions")
    if label_format not in LABEL_FORMATS:
        raise ServiceError(f"label format must be one of {', '.join(LABEL_FORMATS)}", field="label_format")
    before = {"actions": station.actions, "label_format": station.label_format}
    station.actions = " ".join(a for a in sorted(SCAN_ACTIONS) if a in actions)
    station.label_format = label_format
    session.add(station)
    events.record(session, action="station_update", station=station.code, user_id=by,
                  details={"from": before, "to": {"actions": station.actions, "label_format": label_format}})
    return station
