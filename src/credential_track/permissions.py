"""Who may do what: the one permission table, used by pages, API and CLI.

docs/PERMISSIONS.md shows the same table; tests check both against each other.
"""
from __future__ import annotations

PERMISSIONS: dict[str, frozenset[str]] = {
    # scanning and the station pages
    "scan": frozenset({"operator", "supervisor", "admin"}),
    # bags and trips: open a bag, create a trip, depart
    "dispatch": frozenset({"operator", "supervisor", "admin"}),
    # items without personal data, stations, timelines
    "view_items": frozenset({"operator", "agent", "organizer", "supervisor", "admin"}),
    # hotline search (personal data masked unless revealed)
    "lookup": frozenset({"agent", "organizer", "supervisor", "admin"}),
    # counts and the dashboard
    "stats": frozenset({"organizer", "supervisor", "admin"}),
    # the station and staff view: scans per station, who works where
    "staff": frozenset({"supervisor", "admin"}),
    # EMS delivery events
    "delivery_events": frozenset({"supervisor", "admin"}),
    # manifest imports
    "import": frozenset({"supervisor", "admin"}),
    # users, tokens, stations, configuration
    "admin": frozenset({"admin"}),
}

ROLES = ("admin", "supervisor", "operator", "agent", "organizer")


def allowed(role: str | None, permission: str) -> bool:
    """True when `role` holds `permission`."""
    return role is not None and role in PERMISSIONS[permission]
