"""Words of the customer-service pages in both languages: next steps,
ticket categories, priorities and states, outreach rules and outcomes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

NEXT_STEP = {
    "registered": _l("Waiting for the organizer to hand it over."),
    "received": _l("Next: data capture and a waybill label."),
    "captured": _l("Next: acceptance into EMS."),
    "accepted": _l("Next: into a dispatch bag for its route."),
    "bagged": _l("Next: its bag is sealed and dispatched."),
    "dispatched": _l("Next: loaded onto the escorted vehicle."),
    "in_transit": _l("On the escorted vehicle; next: arrival at the mail centre."),
    "arrived": _l("At the mail centre; next: out for delivery."),
    "out_for_delivery": _l("With the courier; next: delivery to the holder."),
    "delivery_failed": _l("Delivery failed: arrange redelivery or pickup with the holder."),
    "delivered": _l("Delivered. Nothing more to do."),
    "returned": _l("Returned: contact the holder to re-send or arrange pickup."),
    "withdrawn": _l("Withdrawn after revocation: it will not be delivered."),
}

CATEGORY_TEXT = {
    "where_is_it": _l("Where is it"),
    "address_change": _l("Address change"),
    "wrong_data": _l("Wrong data"),
    "lost_damaged": _l("Lost or damaged"),
    "complaint": _l("Complaint"),
    "other": _l("Other"),
}

PRIORITY_TEXT = {
    "urgent": _l("urgent"),
    "high": _l("high"),
    "normal": _l("normal"),
    "low": _l("low"),
}

TICKET_STATE_TEXT = {
    "open": _l("open"),
    "pending": _l("waiting for a reply"),
    "resolved": _l("resolved"),
    "closed": _l("closed"),
}

RULE_TEXT = {
    "contact_problem": _l("Contact data failed validation"),
    "delivery_failed": _l("Delivery failed: arrange redelivery"),
    "returned": _l("Returned to sender"),
    "stuck": _l("Stuck in one status too long"),
    "intercept": _l("Revoked but already dispatched: intercept"),
    "miss_opening": _l("Will miss opening day"),
}

OUTCOME_TEXT = {
    "reached": _l("reached"),
    "no_answer": _l("no answer"),
    "wrong_number": _l("wrong number"),
    "resolved": _l("resolved"),
}

TASK_STATE_TEXT = {
    "open": _l("open"),
    "claimed": _l("claimed"),
    "closed": _l("closed"),
}


# the forecast (services/forecast): opening-day verdicts and why an item has no date
VERDICT_TEXT = {
    "on_time": _l("on time"),
    "at_risk": _l("at risk"),
    "will_miss": _l("will miss opening day"),
    "no_date": _l("no date"),
    "delivered": _l("delivered"),
    "returned": _l("returned"),
}

NO_DATE_TEXT = {
    "on_hold": _l("On hold: no date until it is released."),
    "revoked": _l("Revoked: it will not be delivered."),
    "final": _l("No longer on its way."),
    "no_throughput": _l("No date: nobody worked at this stage in the recent hours."),
    "no_history": _l("No date yet: not enough items have gone this way to estimate from."),
    "beyond_horizon": _l("No date within the next two months at today's pace."),
}


def _text(table: dict, key: str | None) -> str:
    return str(table.get(key or "", key or ""))


def next_step(status: str) -> str:
    return _text(NEXT_STEP, status)


def category_text(key: str) -> str:
    return _text(CATEGORY_TEXT, key)


def priority_text(key: str) -> str:
    return _text(PRIORITY_TEXT, key)


def ticket_state_text(key: str) -> str:
    return _text(TICKET_STATE_TEXT, key)


def rule_text(key: str) -> str:
    return _text(RULE_TEXT, key)


def outcome_text(key: str | None) -> str:
    return _text(OUTCOME_TEXT, key)


def task_state_text(key: str) -> str:
    return _text(TASK_STATE_TEXT, key)


def verdict_text(key: str | None) -> str:
    return _text(VERDICT_TEXT, key)


def no_date_text(reason: str | None) -> str:
    """Why an item has no expected date (reason codes like `no_throughput:capture`)."""
    return _text(NO_DATE_TEXT, (reason or "").split(":")[0])


JINJA_GLOBALS = {
    "next_step": next_step, "category_text": category_text, "priority_text": priority_text,
    "ticket_state_text": ticket_state_text, "rule_text": rule_text, "outcome_text": outcome_text,
    "task_state_text": task_state_text, "verdict_text": verdict_text, "no_date_text": no_date_text,
}


SYSTEM_ACTION_TEXT = {
    "import": _l("Registered from the manifest"),
    "update": _l("Data changed"),
    "correct": _l("Corrected"),
    "depart": _l("Departed on the escorted vehicle"),
    "revoke": _l("Revoked"),
    "hold": _l("Put on hold"),
    "release": _l("Released from hold"),
    "out_for_delivery": _l("Out for delivery"),
    "delivered": _l("Delivered"),
    "delivery_failed": _l("Delivery failed"),
    "returned": _l("Returned"),
    "undo": _l("Undone"),
    "reopen": _l("Reopened"),
    "reveal": _l("Personal data revealed"),
    "intercept": _l("Intercept requested"),
}


def event_text(action: str) -> str:
    """An event's action in words (scan actions as the stations say them)."""
    from .messages import action_text

    if action in SYSTEM_ACTION_TEXT:
        return str(SYSTEM_ACTION_TEXT[action])
    return action_text(action)


JINJA_GLOBALS["event_text"] = event_text
