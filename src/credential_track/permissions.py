"""Who may do what: the one permission table, used by pages, API and CLI,
and the one personal-data table: who sees recipient data through which path.

docs/PERMISSIONS.md shows both tables; tests check them against each other
and against every route.
"""
from __future__ import annotations

from enum import StrEnum

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
    # status exports and handover discrepancy lists (personal data: see PERSONAL_DATA)
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
    # the technical-support view: tasks on the queue, retries, database size, last backup
    "support": frozenset({"supervisor", "admin"}),
}

# Endpoints anyone may open without logging in (the permission-table test
# refuses every other view that carries no `.permission`).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "auth.logout_everywhere", "auth.set_language", "static",
                              "track.form", "track.answer",
                              # the API's published contract (OpenAPI document and its reference page)
                              "api.openapi_json", "api.reference",
                              # for load balancers and monitoring; /metrics checks its own allow list or token
                              "ops.healthz", "ops.readyz", "ops.metrics",
                              # the station pages' service worker and web-app manifest (no data)
                              "station.service_worker", "station.web_manifest"})
# Endpoints open to every signed-in user whatever the role.
SIGNED_IN_ENDPOINTS = frozenset({"home.index", "auth.account"})

ROLES = ("admin", "supervisor", "operator", "agent", "organizer")


def allowed(role: str | None, permission: str) -> bool:
    """True when `role` holds `permission`."""
    return role is not None and role in PERMISSIONS[permission]


def role_within(narrow: str, wide: str) -> bool:
    """True when role `wide` holds every permission of role `narrow`."""
    return all(wide in roles for roles in PERMISSIONS.values() if narrow in roles)


class PiiPath(StrEnum):
    """The ways personal data (recipient and holder names, phone numbers,
    street addresses) leaves the database towards a person."""

    # hotline search and the desk: search results, item and ticket pages,
    # GET /api/v1/lookup, the answer of a reveal
    lookup = "lookup"
    # the audit log: /audit/, GET /api/v1/audit/events (event details)
    audit = "audit"
    # every file with personal data: status export, audit CSV, rejects of an import
    export = "export"
    # a station's capture view (GET /api/v1/station/capture/<no>) and its
    # answer to a correction: only at a station that captures, only for an
    # item at the capture step, each read recorded
    capture = "capture"
    # waybill labels (PDF, ZPL): name and address in full, phone masked;
    # every download recorded
    label = "label"


class PiiAccess(StrEnum):
    """How much of the personal data a role gets through a path."""

    full = "full"  # in full
    reveal = "reveal"  # masked; in full for one item after a recorded reveal
    masked = "masked"  # masked only
    none = "none"  # not at all: left out, or the request is refused (403)


_F, _R, _M = PiiAccess.full, PiiAccess.reveal, PiiAccess.masked
# role → access per path; a role not named gets PiiAccess.none
PERSONAL_DATA: dict[PiiPath, dict[str, PiiAccess]] = {
    PiiPath.lookup: {"organizer": _F, "admin": _F, "agent": _R, "supervisor": _R},
    PiiPath.audit: {"admin": _F, "supervisor": _M},
    PiiPath.export: {"organizer": _F, "admin": _F},
    PiiPath.capture: {"operator": _F, "supervisor": _F, "admin": _F},
    PiiPath.label: {"operator": _F, "supervisor": _F, "admin": _F},
}
# the endpoints of each path: every view that can answer personal data
# (tests/test_security_permissions.py checks that they exist and carry the
# path's permission; tests/test_security_personal_data.py enforces each path)
PII_ENDPOINTS: dict[PiiPath, tuple[str, ...]] = {
    PiiPath.lookup: ("desk.index", "desk.results", "desk.item", "desk.ticket", "api.get_lookup",
                     "api.post_reveal", "forecast.item", "desk.outreach_queue"),
    PiiPath.audit: ("audit.index", "api.audit_events"),
    PiiPath.export: ("imports.export_status", "audit.export", "imports.job_rejects", "imports.export_job_file"),
    PiiPath.capture: ("api.station_capture_view", "api.station_correct_recipient"),
    PiiPath.label: ("print.label", "print.labels", "print.bag_manifest"),
}


def personal_data_access(role: str | None, path: PiiPath | str) -> PiiAccess:
    """How much personal data `role` gets through `path`: the one decision.

    Every page, API answer, export, PDF, audit view and log line that shows
    a name, a phone number or an address asks this; PiiAccess.full is the
    only answer that shows them unmasked."""
    return PERSONAL_DATA[PiiPath(path)].get(role or "", PiiAccess.none)


def permission_table_markdown() -> str:
    """The permission × role table as Markdown (docs/PERMISSIONS.md embeds it)."""
    lines = ["| permission | " + " | ".join(ROLES) + " |",
             "|---|" + "---|" * len(ROLES)]
    for perm, roles in PERMISSIONS.items():
        lines.append(f"| `{perm}` | " + " | ".join("yes" if r in roles else "—" for r in ROLES) + " |")
    return "\n".join(lines) + "\n"


_ACCESS_WORDS = {PiiAccess.full: "full", PiiAccess.reveal: "masked, reveal", PiiAccess.masked: "masked",
                 PiiAccess.none: "—"}


def personal_data_table_markdown() -> str:
    """The path × role personal-data table as Markdown (docs/PERMISSIONS.md embeds it)."""
    lines = ["| path | " + " | ".join(ROLES) + " |",
             "|---|" + "---|" * len(ROLES)]
    for path in PiiPath:
        lines.append(f"| `{path.value}` | "
                     + " | ".join(_ACCESS_WORDS[personal_data_access(r, path)] for r in ROLES) + " |")
    return "\n".join(lines) + "\n"
