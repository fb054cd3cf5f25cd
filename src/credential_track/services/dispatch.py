"""Bags and trips: opening a bag for a route, creating a trip, departing."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from ..domain.codes import bag_code, trip_code
from ..domain.status import BagState, Status, SystemAction, TransitionRefused, TripState, next_bag_state
from ..models import Bag, Credential, Route, Trip
from ..models.base import utcnow
from ..vocabulary import label
from . import events
from .errors import Conflict, NotFound, ServiceError, required
from .scan import move_items, station_by_code


def open_bag(session: Session, *, route: str, station: str, user_id: int | None = None) -> Bag:
    """Open a new dispatch bag for a route at a station; recorded as an event."""
    if not session.get(Route, route):
        raise ServiceError(_("There is no route “%(route)s”.", route=route), field="route")
    st = station_by_code(session, station)
    if st is None:
        raise ServiceError(_("There is no station %(station)s.", station=station), field="station")
    if "bag" not in st.action_list:
        raise ServiceError(_("Station %(station)s does not bag items.", station=station), field="station")
    bag = Bag(code="", route=route, station_id=st.id, created_by=user_id)
    session.add(bag)
    session.flush()
    bag.code = bag_code(bag.id)
    session.add(bag)
    session.flush()
    events.record(session, action="open_bag", bag_id=bag.id, to_status=BagState.open.value,
                  code=bag.code, station=st.code, user_id=user_id, details={"route": route})
    return bag


def create_trip(
    session: Session, *, vehicle: str, driver: str, escorts: list[str], origin: str,
    destination: str, station: str | None = None, user_id: int | None = None,
) -> Trip:
    """Create an escorted trip in state `loading`. At least two escorts."""
    fields = {"vehicle": vehicle, "driver": driver, "origin": origin, "destination": destination}
    for name, value in fields.items():
        if not (value or "").strip():
            raise required(name)
    escorts = [e.strip() for e in escorts if e and e.strip()]
    if len(escorts) < 2:
        raise ServiceError(_("An escorted trip needs at least two escorts."), field="escorts")
    trip = Trip(code="", vehicle=vehicle.strip(), driver=driver.strip(), escorts="、".join(escorts),
                origin=origin.strip(), destination=destination.strip(), created_by=user_id)
    session.add(trip)
    session.flush()
    trip.code = trip_code(trip.id)
    session.add(trip)
    session.flush()
    events.record(session, action="create_trip", trip_id=trip.id, to_status=TripState.loading.value,
                  code=trip.code, station=station, user_id=user_id,
                  details={"vehicle": trip.vehicle, "destination": trip.destination})
    return trip


def depart_trip(session: Session, *, code: str, station: str | None = None,
                user_id: int | None = None) -> Trip:
    """The trip leaves: its loaded bags and their items go `in_transit`."""
    trip = session.exec(select(Trip).where(Trip.code == code.upper()).with_for_update()).first()
    if trip is None:
        raise NotFound(_("There is no trip %(code)s.", code=code), field="code")
    if trip.state != TripState.loading:
        raise Conflict(_("Trip %(code)s has already departed.", code=trip.code), field="code")
    bags = session.exec(select(Bag).where(Bag.trip_id == trip.id).with_for_update()).all()
    if not bags:
        raise Conflict(_("Trip %(code)s has no bags loaded.", code=trip.code), field="code")
    now = utcnow()
    moved = 0
    for bag in bags:
        try:
            target = next_bag_state(SystemAction.depart, bag.state)  # the bag state machine: loaded → in transit
        except TransitionRefused:
            raise Conflict(_("Bag %(code)s is %(state)s: only loaded bags depart.", code=bag.code,
                             state=label("bag_state", bag.state)), field="code") from None
        moved += move_items(session, where=(Credential.bag_id == bag.id), action=SystemAction.depart,
                            source=Status.dispatched, target=Status.in_transit, station=station,
                            user_id=user_id, bag_id=bag.id, trip_id=trip.id, at=now)
        bag.state = target
        session.add(bag)
    trip.state = TripState.departed
    trip.departed_at = now
    session.add(trip)
    session.flush()
    events.record(session, action=SystemAction.depart, trip_id=trip.id, from_status=TripState.loading.value,
                  to_status=TripState.departed.value, code=trip.code, station=station, user_id=user_id,
                  details={"bags": len(bags), "items": moved}, at=now)
    return trip


def trip_summary(session: Session, trip: Trip) -> dict:
    bags = session.exec(select(Bag).where(Bag.trip_id == trip.id).order_by(Bag.id)).all()
    return {
        "code": trip.code, "state": trip.state, "vehicle": trip.vehicle, "driver": trip.driver,
        "escorts": trip.escorts.split("、") if trip.escorts else [], "origin": trip.origin,
        "destination": trip.destination,
        "departed_at": trip.departed_at.isoformat() if trip.departed_at else None,
        "arrived_at": trip.arrived_at.isoformat() if trip.arrived_at else None,
        "bags": [{"code": b.code, "seal_no": b.seal_no, "item_count": b.item_count, "state": b.state}
                 for b in bags],
    }
