"""Who may do what: the one permission table, used by pages, API and CLI.

docs/PERMISSIONS.md shows the same table; tests check both against each other.
"""
from __future__ import annotations

PERMISSIONS: dict[str, frozenset[str]] = {
    # scanning and the station pages
    "scan": frozenset({"operator", "supervisor", "admin"}),
    # bags and trips: open a bag, create a trip, depart
    "dispatch": frozenset({"operator", "supervisor", "admin"}),
    # waybill labels, bag labels and manifests, trip sheets, handover receipts
    "print": frozenset({"operator", "supervisor", "admin"}),
    # items without personal data, stations, timelines
    "view_items": frozenset({"operator", "agent", "organizer", "supervisor", "admin"}),
    # hotline search (personal data masked unless revealed)
    "lookup": frozenset({"agent", "organizer", "supervisor", "admin"}),
    # personal data in full without a reveal
    "view_pii": frozenset({"organizer", "admin"}),
    # the hotline desk: calls, tickets, outreach queue, holds from a ticket
    "desk": frozenset({"agent", "supervisor", "admin"}),
    # reveal an item's personal data after confirming the caller (recorded)
    "reveal": frozenset({"agent", "supervisor", "admin"}),
    # decide intercept requests (re-address or pickup after dispatch)
    "intercept": frozenset({"supervisor", "admin"}),
    # counts and the dashboard
    "stats": frozenset({"organizer", "supervisor", "admin"}),
    # the station and staff view: scans per station, who works where
    "staff": frozenset({"supervisor", "admin"}),
    # EMS delivery events
    "delivery_events": frozenset({"supervisor", "admin"}),
    # manifest imports
    "import": frozenset({"supervisor", "admin"}),
    # handover batches: receive, scan into, close
    "handover": frozenset({"operator", "supervisor", "admin"}),
    # status exports and handover discrepancy lists (personal data optional, recorded)
    "export": frozenset({"organizer", "supervisor", "admin"}),
    # supervisor corrections at stations (undo a scan, reopen a bag, release a
    # hold) and the incident list
    "supervise": frozenset({"supervisor", "admin"}),
    # users, tokens, stations, configuration
    "admin": frozenset({"admin"}),
    # the users of one's own site (supervisors) or of every site (admins)
    "manage_users": frozenset({"supervisor", "admin"}),
    # the audit log: every event, searchable and exportable
    "audit": frozenset({"supervisor", "admin"}),
    # exports that contain personal data (names, phones, addresses); each one is recorded
    "export_pii": frozenset({"organizer", "admin"}),
}

# Roles that see personal data unmasked by default; everyone else sees it
# masked (and, where allowed, reveals one item with a recorded reason).
PII_ROLES = frozenset({"organizer", "admin"})

# Endpoints anyone may open without logging in (the permission-table test
# refuses every other view that carries no `.permission`).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "auth.logout_everywhere", "auth.set_language", "static",
                              "track.form", "track.answer"})
# Endpoints open to every signed-in user whatever the role.
SIGNED_IN_ENDPOINTS = frozenset({"home.index", "auth.account"})

ROLES = ("admin", "supervisor", "operator", "agent", "organizer")


def allowed(role: str | None, permission: str) -> bool:
    """True when `role` holds `permission`."""
    return role is not None and role in PERMISSIONS[permission]


def role_within(narrow: str, wide: str) -> bool:
    """True when role `wide` holds every permission of role `narrow`."""
    return all(wide in roles for roles in PERMISSIONS.values() if narrow in roles)


def can_see_pii(role: str | None) -> bool:
    """True when `role` sees names, phones and addresses unmasked by default.

    The one masking policy: every view, API answer and export that shows
    personal data asks this (or reveals one item with a recorded reason)."""
    return role in PII_ROLES


def permission_table_markdown() -> str:
    """The permission × role table as Markdown (docs/PERMISSIONS.md embeds it)."""
    lines = ["| permission | " + " | ".join(ROLES) + " |",
             "|---|" + "---|" * len(ROLES)]
    for perm, roles in PERMISSIONS.items():
        lines.append(f"| `{perm}` | " + " | ".join("yes" if r in roles else "—" for r in ROLES) + " |")
    return "\n".join(lines) + "\n"
