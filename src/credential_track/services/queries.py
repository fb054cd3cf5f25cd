"""Read models: an item with its timeline, pages of items, statistics."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from ..domain.numbers import whole_number
from ..models import Bag, Credential, Event, Site, Station
from .errors import bad_cursor, no_credential, not_between

MAX_PAGE = 1000


def event_dict(ev: Event) -> dict:
    """One timeline entry. A refused scan is marked `refused`, with its
    reason, station and time: it moved nothing, but it happened."""
    return {
        "id": ev.id, "action": ev.action, "result": ev.result, "refused": ev.result == "rejected",
        "reason": ev.reason, "from": ev.from_status, "to": ev.to_status, "station": ev.station,
        "code": ev.code, "at": ev.at.isoformat() if ev.at else None,
    }


def item_dict(item: Credential, *, bag_code: str | None = None) -> dict:
    """The item without personal data (what every role may see)."""
    return {
        "credential_no": item.credential_no, "waybill_no": item.waybill_no, "status": item.status,
        "route": item.route, "credential_type": item.credential_type, "province": item.province,
        "city": item.city, "hold": item.hold, "hold_reason": item.hold_reason, "revoked": item.revoked,
        "intercept": item.intercept, "bag": bag_code, "batch_id": item.batch_id,
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
    }


def credential_detail(session: Session, credential_no: str) -> dict:
    """The item with route, flags and its full event timeline."""
    item = session.exec(select(Credential).where(Credential.credential_no == credential_no)).first()
    if item is None:
        raise no_credential(credential_no)
    bag_code = session.exec(select(Bag.code).where(Bag.id == item.bag_id)).first() if item.bag_id else None
    out = item_dict(item, bag_code=bag_code)
    evs = session.exec(select(Event).where(Event.credential_id == item.id).order_by(Event.id)).all()
    out["events"] = [event_dict(e) for e in evs]
    return out


def credential_page(session: Session, *, status: str | None = None, route: str | None = None,
                    limit: int = 100, after: str | None = None) -> dict:
    """A page of items in id order; `next` is the cursor of the following page."""
    if not 1 <= limit <= MAX_PAGE:
        raise not_between("limit", 1, MAX_PAGE)
    stmt = select(Credential, Bag.code).join(Bag, Bag.id == Credential.bag_id, isouter=True)
    if status:
        stmt = stmt.where(Credential.status == status)
    if route:
        stmt = stmt.where(Credential.route == route)
    if after:
        after_id = whole_number(after)
        if after_id is None:
            raise bad_cursor("after")
        stmt = stmt.where(Credential.id > after_id)
    rows = session.exec(stmt.order_by(Credential.id).limit(limit + 1)).all()
    items = [item_dict(c, bag_code=b) for c, b in rows[:limit]]
    nxt = str(rows[limit - 1][0].id) if len(rows) > limit else None
    return {"items": items, "next": nxt}


def stations(session: Session) -> list[dict]:
    sites = {s.id: s.code for s in session.exec(select(Site))}
    return [
        {"code": s.code, "kind": s.kind, "site": sites.get(s.site_id), "name_zh": s.name_zh,
         "name_en": s.name_en, "actions": s.action_list, "label_format": s.label_format}
        for s in session.exec(select(Station).order_by(Station.code))
    ]


def stats(session: Session) -> dict:
    """Counts by status, by route and by credential type, and the total."""
    def grouped(col):
        return {k: n for k, n in session.exec(
            select(col, func.count()).group_by(col).order_by(col))}

    by_status = grouped(Credential.status)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_route": grouped(Credential.route),
        "by_type": grouped(Credential.credential_type),
        "held": session.exec(select(func.count()).where(Credential.hold == True)).one(),  # noqa: E712
        "revoked": session.exec(select(func.count()).where(Credential.revoked == True)).one(),  # noqa: E712
    }
