"""Hotline lookup, reveal and EMS delivery events."""
from __future__ import annotations

from flask import jsonify, request

from .. import settings
from ..unit_of_work import get_db
from ..security import api_require, current_actor
from ..services import delivery, lookup, outreach
from . import BadRequest, bp
from .parse import json_body, text


def _reveal_minutes() -> int:
    return settings.current().reveal_minutes


@bp.get("/lookup")
@api_require("lookup")
def get_lookup():
    q = request.args.get("q")
    if q is None or not q.strip():
        raise BadRequest("q", "q is required: a waybill, credential number, phone, last 4 digits + name, "
                              "name or organization")
    actor = current_actor()
    return jsonify(lookup.lookup(get_db(), q, role=actor.role, user_id=actor.user_id,
                                 reveal_minutes=_reveal_minutes(), station=actor.station,
                                 personal_searches_per_hour=settings.current().personal_searches_per_hour))


@bp.post("/credentials/<credential_no>/reveal")
@api_require("reveal")
def post_reveal(credential_no: str):
    data = json_body()
    actor = current_actor()
    db = get_db()
    ev = lookup.reveal(db, credential_no=credential_no, user_id=actor.user_id,
                       reason=text(data, "reason", max_len=300), station=actor.station)
    item = lookup.item_by_no(db, credential_no)
    return jsonify(event_id=ev.id, item=lookup.lookup_item(item, show_pii=True))


@bp.post("/delivery-events")
@api_require("delivery_events")
def post_delivery_events():
    data = json_body()
    raw = data.get("events")
    if not isinstance(raw, list):
        raise BadRequest("events", "events must be a list of delivery events")
    if not raw:
        raise BadRequest("events", "events is empty")
    if len(raw) > delivery.MAX_BATCH:
        raise BadRequest("events", f"at most {delivery.MAX_BATCH} events per request")
    # an entry that is not an object makes the batch malformed (400); an
    # object with a bad field is answered per event
    for i, ev in enumerate(raw):
        if not isinstance(ev, dict):
            raise BadRequest(f"events[{i}]", f"events[{i}] must be an object with waybill, event and at")
    checked = []
    for i, ev in enumerate(raw):
        try:
            checked.append(delivery.check_event(ev))
        except delivery.EventFieldError as exc:
            name = f"events[{i}].{exc.field}" if exc.field else f"events[{i}]"
            checked.append(delivery.EventFieldError(name, exc.message))
    db = get_db()
    results = delivery.apply_events(db, checked, user_id=current_actor().user_id,
                                    settings=outreach.OutreachSettings.from_settings(settings.current()))
    summary: dict[str, int] = {}
    for r in results:
        summary[r["result"]] = summary.get(r["result"], 0) + 1
    return jsonify(results=results, summary=summary)
