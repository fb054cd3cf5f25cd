"""Hotline lookup, reveal and EMS delivery events."""
from __future__ import annotations

from flask import jsonify

from .. import settings
from ..security import api_require, current_actor
from ..services import delivery, lookup, outreach
from ..unit_of_work import get_db
from .blueprint import bp
from .models import desk as m
from .validation import contract

TAG = "desk"


@bp.get("/lookup")
@api_require("lookup")
@contract(query=m.LookupQuery, answer=m.LookupAnswer, errors=(429,), tag=TAG, summary="Hotline search",
          description="By waybill, credential number, phone, last 4 digits + name, name or organization; "
          "personal data masked per role. A role that sees personal data masked may search by phone or name "
          "a limited number of times an hour (429 past it; each such search is recorded).")
def get_lookup(query: m.LookupQuery):
    actor = current_actor()
    conf = settings.current()
    return jsonify(lookup.lookup(get_db(), query.q, role=actor.role, user_id=actor.user_id,
                                 reveal_minutes=conf.reveal_minutes, station=actor.station,
                                 personal_searches_per_hour=conf.personal_searches_per_hour))


@bp.post("/credentials/<credential_no>/reveal")
@api_require("reveal")
@contract(body=m.RevealIn, answer=m.RevealAnswer, tag=TAG, summary="Reveal an item's personal data",
          description="Recorded (who, why, when); the item stays revealed to this user for the configured "
          "minutes.")
def post_reveal(credential_no: str, body: m.RevealIn):
    actor = current_actor()
    db = get_db()
    ev = lookup.reveal(db, credential_no=credential_no, user_id=actor.user_id, reason=body.reason,
                       station=actor.station)
    item = lookup.item_by_no(db, credential_no)
    return jsonify(event_id=ev.id, item=lookup.lookup_item(item, show_pii=True))


@bp.post("/delivery-events")
@api_require("delivery_events")
@contract(body=m.DeliveryBatchIn, answer=m.DeliveryAnswer, tag=TAG, summary="A batch of EMS delivery events",
          description="EMS event codes (EMA … EMK, EDG) and the normalized names are both accepted; "
          "idempotent per (waybill, event, at). Each event is checked on its own: one that breaks the event "
          "schema is answered `result: error` naming its field (`events[2].at`) and the others are applied. "
          "The batch is a 400 only when `events` is not a list of 1–1,000 objects.",
          examples={"delivered": {"events": [{"waybill": "EE471108151FR", "event": "EMI",
                                              "at": "2026-11-08T15:20:00+08:00", "location": "上海"}]}})
def post_delivery_events(body: m.DeliveryBatchIn):
    checked = []
    for i, ev in enumerate(body.events):
        try:
            checked.append(delivery.check_event(ev))
        except delivery.EventFieldError as exc:
            name = f"events[{i}].{exc.field}" if exc.field else f"events[{i}]"
            checked.append(delivery.EventFieldError(name, exc.message))
    results = delivery.apply_events(get_db(), checked, user_id=current_actor().user_id,
                                    settings=outreach.OutreachSettings.from_settings(settings.current()))
    summary: dict[str, int] = {}
    for r in results:
        summary[r["result"]] = summary.get(r["result"], 0) + 1
    return jsonify(results=results, summary=summary)
