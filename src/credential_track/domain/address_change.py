"""Who may change where an item goes, and when: the one rule the desk's
address change and a station's recipient correction both follow.

Before acceptance the item is still ours to change: the change is applied
(and a printed label flagged for reprint). From acceptance on it carries an
EMS label and is on its way: the change becomes an intercept request that a
supervisor decides. Delivered or withdrawn: nothing to change."""
from __future__ import annotations

from enum import StrEnum

from .status import Status

EDITABLE = frozenset({Status.registered, Status.received, Status.captured})
GONE = frozenset({Status.delivered, Status.withdrawn})


class AddressChange(StrEnum):
    apply = "apply"  # change the item now
    intercept = "intercept"  # ask a supervisor (intercept request, kind readdress)
    refused = "refused"  # too late: delivered or withdrawn


def address_change(status: Status | str) -> AddressChange:
    """How a change of recipient data is carried out for an item in `status`."""
    status = Status(status)
    if status in GONE:
        return AddressChange.refused
    if status in EDITABLE:
        return AddressChange.apply
    return AddressChange.intercept
