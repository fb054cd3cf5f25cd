"""Read models of the station pages: the pull tray, open bags, trips, the
incidents supervisors see, held items."""
from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from ..domain.numbers import whole_number
from ..domain.status import TRANSITIONS, Action, Reason, TripState
from ..models import Bag, Credential, Event, Site, Station, Trip, User
from .errors import NotFound, bad_cursor

# statuses `pull` takes an item from: revoked items in these are still in our hands
PULLABLE = sorted(s.value for s in TRANSITIONS[Action.pull].sources)


def station_info(session: Session, code: str) -> dict | None:
    """A station with its site's names, or None."""
    row = session.exec(select(Station, Site).join(Site, Site.id == Station.site_id)
                       .where(Station.code == code)).first()
    if row is None:
        return None
    st, site = row
    return {"code": st.code, "kind": st.kind, "name_zh": st.name_zh, "name_en": st.name_en,
            "actions": st.action_list, "label_format": st.label_format, "site": site.code,
            "site_name_zh": site.name_zh, "site_name_en": site.name_en}


def pull_tray(session: Session, *, site: str, limit: int = 500) -> dict:
    """Revoked items still in the flow (not withdrawn, not dispatched) whose
    last scan was at a station of `site`: what must be pulled here.

    An item never scanned at a station is still with the organizer and is
    listed nowhere."""
    last = (
        select(Event.credential_id, func.max(Event.id).label("last_id"))
        .join(Credential, Credential.id == Event.credential_id)
        .where(Credential.revoked == True, Credential.status.in_(PULLABLE),  # noqa: E712
               Event.station.is_not(None))
        .group_by(Event.credential_id)
        .subquery()
    )
    stmt = (
        select(Credential, Event.station, Event.at, Bag.code)
        .join(last, last.c.credential_id == Credential.id)
        .join(Event, Event.id == last.c.last_id)
        .join(Station, Station.code == Event.station)
        .join(Site, Site.id == Station.site_id)
        .join(Bag, Bag.id == Credential.bag_id, isouter=True)
        .where(Site.code == site)
        .order_by(Event.id)
    )
    rows = session.exec(stmt.limit(limit + 1)).all()
    items = [
        {"credential_no": c.credential_no, "waybill_no": c.waybill_no, "status": c.status, "route": c.route,
         "revoked_reason": c.revoked_reason, "bag": bag, "last_station": st,
         "last_at": at.isoformat() if at else None}
        for c, st, at, bag in rows[:limit]
    ]
    return {"site": site, "items": items, "more": len(rows) > limit}


def bag_detail(session: Session, code: str, *, limit: int = 500) -> dict:
    """A bag with its items (no personal data)."""
    bag = session.exec(select(Bag).where(Bag.code == (code or "").strip().upper())).first()
    if bag is None:
        raise NotFound(_("There is no bag %(code)s.", code=code), field="bag")
    items = session.exec(
        select(Credential.credential_no, Credential.waybill_no, Credential.status)
        .where(Credential.bag_id == bag.id).order_by(Credential.updated_at, Credential.id).limit(limit)
    ).all()
    trip = session.get(Trip, bag.trip_id) if bag.trip_id else None
    return {"code": bag.code, "route": bag.route, "state": bag.state, "item_count": bag.item_count,
            "seal_no": bag.seal_no, "trip": trip.code if trip else None,
            "items": [{"credential_no": c, "waybill_no": w, "status": s} for c, w, s in items]}


def open_bags(session: Session, *, station: str) -> list[dict]:
    """The bags open at a station, newest first."""
    rows = session.exec(
        select(Bag).join(Station, Station.id == Bag.station_id)
        .where(Station.code == station, Bag.state == "open").order_by(Bag.id.desc())
    ).all()
    return [{"code": b.code, "route": b.route, "item_count": b.item_count} for b in rows]


def trips(session: Session, *, states: tuple[str, ...] = (TripState.loading, TripState.departed),
          limit: int = 50) -> list[dict]:
    """Trips in the given states with their number of bags, newest first."""
    counts = (select(Bag.trip_id, func.count().label("n")).where(Bag.trip_id.is_not(None))
              .group_by(Bag.trip_id).subquery())
    rows = session.exec(
        select(Trip, counts.c.n).join(counts, counts.c.trip_id == Trip.id, isouter=True)
        .where(Trip.state.in_([str(s) for s in states])).order_by(Trip.id.desc()).limit(limit)
    ).all()
    return [{"code": t.code, "state": t.state, "vehicle": t.vehicle, "driver": t.driver,
             "escorts": t.escorts.split("、") if t.escorts else [], "destination": t.destination,
             "bags": n or 0} for t, n in rows]


def incidents(session: Session, *, limit: int = 100) -> list[dict]:
    """The newest seal mismatches (the first page of `incidents_page`)."""
    return incidents_page(session, limit=limit)["incidents"]


def incidents_page(session: Session, *, limit: int = 100, after: str | None = None) -> dict:
    """Seal mismatches, newest first: each refused `seal_mismatch` scan is the
    record of an incident (which bag, the seal read, the seal expected).
    `next` is the cursor of the following (older) page, None after the last."""
    stmt = (
        select(Event, Bag, User.username, Trip.code)
        .join(Bag, Bag.id == Event.bag_id, isouter=True)
        .join(User, User.id == Event.user_id, isouter=True)
        .join(Trip, Trip.id == Bag.trip_id, isouter=True)
        .where(Event.result == "rejected", Event.reason == Reason.seal_mismatch)
    )
    if after:
        stmt = stmt.where(Event.id < _cursor(after))
    rows = session.exec(stmt.order_by(Event.id.desc()).limit(limit + 1)).all()
    out = []
    for ev, bag, username, trip in rows[:limit]:
        details = json.loads(ev.details or "{}")
        out.append({
            "event_id": ev.id, "at": ev.at.isoformat() if ev.at else None, "action": ev.action,
            "station": ev.station, "user": username, "bag": bag.code if bag else ev.code,
            "bag_state": bag.state if bag else None, "seal_read": details.get("seal"),
            "seal_expected": bag.seal_no if bag else None, "trip": trip,
        })
    return {"incidents": out, "next": str(rows[limit - 1][0].id) if len(rows) > limit else None}


def _cursor(after: str) -> int:
    n = whole_number(after)
    if n is None:
        raise bad_cursor("after")
    return n


def held_items(session: Session, *, limit: int = 200) -> list[dict]:
    """Items on hold (the first page of `held_page`)."""
    return held_page(session, limit=limit)["items"]


def held_page(session: Session, *, limit: int = 200, after: str | None = None) -> dict:
    """Items on hold (no personal data) in the order they came in (id);
    `next` is the cursor of the following page, None after the last."""
    stmt = select(Credential).where(Credential.hold == True)  # noqa: E712
    if after:
        stmt = stmt.where(Credential.id > _cursor(after))
    rows = session.exec(stmt.order_by(Credential.id).limit(limit + 1)).all()
    items = [{"credential_no": c.credential_no, "waybill_no": c.waybill_no, "status": c.status,
              "hold_reason": c.hold_reason} for c in rows[:limit]]
    return {"items": items, "next": str(rows[limit - 1].id) if len(rows) > limit else None}


def sealed_bags(session: Session, *, limit: int = 100) -> list[dict]:
    """Sealed bags not yet loaded (the ones a supervisor may reopen)."""
    rows = session.exec(select(Bag).where(Bag.state == "sealed").order_by(Bag.id.desc()).limit(limit)).all()
    return [{"code": b.code, "route": b.route, "item_count": b.item_count, "seal_no": b.seal_no} for b in rows]



def bag_timeline(session: Session, code: str) -> dict | None:
    """A bag's own events (open, seal, load, depart, arrive, reopen, undo),
    oldest first; None when there is no such bag."""
    bag = session.exec(select(Bag).where(Bag.code == (code or "").strip().upper())).first()
    if bag is None:
        return None
    evs = session.exec(select(Event).where(Event.bag_id == bag.id, Event.credential_id.is_(None))
                       .order_by(Event.id)).all()
    return {"code": bag.code, "state": bag.state, "events": [
        {"id": e.id, "action": e.action, "result": e.result, "reason": e.reason, "from": e.from_status,
         "to": e.to_status, "station": e.station, "at": e.at.isoformat() if e.at else None} for e in evs]}
