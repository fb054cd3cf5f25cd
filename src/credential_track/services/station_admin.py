"""Station settings changed by administrators (recorded as events)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from ..models import Station
from . import events
from .errors import NotFound, one_of
from .scan import SCAN_ACTIONS

LABEL_FORMATS = ("pdf", "zpl")


def update_station(session: Session, code: str, *, actions: list[str], label_format: str,
                   by: int | None) -> Station:
    """Set the scan actions a station may perform and its label format."""
    station = session.exec(select(Station).where(Station.code == code)).first()
    if station is None:
        raise NotFound(_("There is no station %(station)s.", station=code), field="station")
    unknown = [a for a in actions if a not in SCAN_ACTIONS]
    if unknown:
        raise one_of("actions", unknown[0], sorted(SCAN_ACTIONS), "action")
    if label_format not in LABEL_FORMATS:
        raise one_of("label_format", label_format, [f.upper() for f in LABEL_FORMATS])
    before = {"actions": station.actions, "label_format": station.label_format}
    station.actions = " ".join(a for a in sorted(SCAN_ACTIONS) if a in actions)
    station.label_format = label_format
    session.add(station)
    events.record(session, action="station_update", station=station.code, user_id=by,
                  details={"from": before, "to": {"actions": station.actions, "label_format": label_format}})
    return station
