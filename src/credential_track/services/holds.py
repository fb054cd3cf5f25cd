"""Holds: an item stopped at every station until it is released.

The one rule for putting an item on hold and releasing it, used by the
desk (from a ticket), the supervisor's station page and the API: a hold and
a release each need a reason, and each is one event (`hold` / `release`)
that names the reason, the hold it replaces or ends, and where it came from
(`details`, e.g. the ticket)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session

from ..domain.address_change import GONE
from ..domain.status import EventAction, Status
from ..models import Credential, Event
from ..models.base import utcnow
from . import events
from .errors import Conflict, required, too_long

MAX_REASON = 500


def checked_reason(reason: str | None, field: str = "reason") -> str:
    """The reason a person gives for a hold, a release or a supervisor's
    correction (undo, reopen, intercept): required, at most 500 characters.
    The one check of such reasons (services/corrections.py uses it too)."""
    text = (reason or "").strip()
    if not text:
        raise required(field)
    if len(text) > MAX_REASON:
        raise too_long(field, MAX_REASON)
    return text


def put_on_hold(session: Session, item: Credential, *, reason: str, user_id: int | None,
                station: str | None, details: dict | None = None, replace: bool = False) -> Event:
    """Hold a locked item with `reason` (stations refuse it until released):
    a `hold` event. Refused for an item already held (unless `replace`, as
    self-pickup does) or one that is delivered or withdrawn."""
    reason = checked_reason(reason)
    if item.hold and not replace:
        raise Conflict(_("The item is already on hold."), field="credential_no")
    if Status(item.status) in GONE:
        raise Conflict(_("The item is %(status)s: there is nothing to hold.", status=item.status),
                       field="credential_no")
    previous = item.hold_reason if item.hold else None
    return _set(session, item, hold=True, reason=reason, user_id=user_id, station=station,
                details={**(details or {}), "reason": reason, **({"was": previous} if previous else {})})


def release(session: Session, item: Credential, *, reason: str, user_id: int | None, station: str | None,
            details: dict | None = None) -> Event:
    """Release a locked, held item with `reason`: a `release` event naming
    the reason and the hold it ends."""
    reason = checked_reason(reason)
    if not item.hold:
        raise Conflict(_("Item %(no)s is not on hold.", no=item.credential_no), field="credential_no")
    return _set(session, item, hold=False, reason=None, user_id=user_id, station=station,
                details={**(details or {}), "reason": reason, "hold_reason": item.hold_reason})


def _set(session: Session, item: Credential, *, hold: bool, reason: str | None, user_id, station,
         details: dict) -> Event:
    item.hold, item.hold_reason = hold, reason
    item.updated_at = utcnow()
    session.add(item)
    return events.record(session, action=EventAction.hold if hold else EventAction.release,
                         credential_id=item.id, from_status=item.status, to_status=item.status,
                         code=item.credential_no, station=station, user_id=user_id, details=details)
