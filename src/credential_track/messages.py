"""Human text for scan results and refusal reasons, in the request's
language: what happened and what to do."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

REASON_TEXT = {
    "unknown_code": _l("Unknown code: this number is not in the system."),
    "invalid_waybill": _l("Invalid waybill number: the check digit is wrong. Do not use this label."),
    "waybill_in_use": _l("This waybill number is already bound to another item. Use a new label."),
    "wrong_stage": _l("Wrong stage: this item is not ready for this step."),
    "already_done": _l("Already done: this scan was counted before. Carry on."),
    "revoked": _l("Revoked credential: put this item in the red tray."),
    "on_hold": _l("On hold: put this item in the hold tray and call a supervisor."),
    "not_allowed_here": _l("This station may not perform this action."),
    "wrong_route": _l("Wrong route: this item does not belong in this bag."),
    "bag_not_open": _l("This bag is not open for items any more."),
    "bag_sealed": _l("This bag is sealed: open a new bag or ask a supervisor to reopen it."),
    "trip_not_loading": _l("This trip is not loading: it has departed or arrived."),
    "seal_mismatch": _l("Seal mismatch: stop, do not open the bag, call a supervisor."),
    "missing_context": _l("Something is missing for this scan (bag, trip, seal or waybill)."),
}

ACTION_DONE = {
    "handover": _l("Received at handover."),
    "capture": _l("Captured: waybill bound."),
    "accept": _l("Accepted into EMS."),
    "bag": _l("Put in the bag."),
    "unbag": _l("Taken out of the bag."),
    "seal": _l("Bag sealed: its items are dispatched."),
    "load": _l("Bag loaded onto the trip."),
    "arrive": _l("Bag arrived with its seal intact."),
    "pull": _l("Pulled out of the flow."),
}

STATUS_TEXT = {
    "registered": _l("registered"),
    "received": _l("received"),
    "captured": _l("captured"),
    "accepted": _l("accepted"),
    "bagged": _l("bagged"),
    "dispatched": _l("dispatched"),
    "in_transit": _l("in transit"),
    "arrived": _l("arrived"),
    "out_for_delivery": _l("out for delivery"),
    "delivery_failed": _l("delivery failed"),
    "delivered": _l("delivered"),
    "returned": _l("returned"),
    "withdrawn": _l("withdrawn"),
}


def scan_message(action: str, result: str, reason: str | None, detail: str | None = None) -> str:
    """One sentence for the operator."""
    if result == "ok":
        done = ACTION_DONE.get(action)  # lazy: one translation, made by str()
        text = str(done) if done is not None else _("Done.")
        if action == "capture" and detail:
            text += " " + _("Waybill %(no)s.", no=detail)
        return text
    text = str(REASON_TEXT.get(reason or "", reason or ""))
    if reason == "wrong_route" and detail:
        text += " " + _("Its route is %(route)s.", route=detail)
    return text


def status_text(status: str) -> str:
    return str(STATUS_TEXT.get(status, status))


ACTION_TEXT = {
    "handover": _l("Handover"),
    "capture": _l("Data capture"),
    "accept": _l("Acceptance"),
    "bag": _l("Bagging"),
    "unbag": _l("Remove from bag"),
    "seal": _l("Sealing"),
    "load": _l("Loading"),
    "arrive": _l("Arrival"),
    "pull": _l("Pull revoked"),
}

ROLE_TEXT = {
    "admin": _l("administrator"),
    "supervisor": _l("supervisor"),
    "operator": _l("station operator"),
    "agent": _l("desk agent"),
    "organizer": _l("organizer"),
}


def action_text(action: str) -> str:
    return str(ACTION_TEXT.get(action, action))


def role_text(role: str) -> str:
    return str(ROLE_TEXT.get(role, role))
