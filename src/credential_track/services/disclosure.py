"""Disclosures of personal data: every time recipient or holder names, phone
numbers or addresses leave the database in full, or a search tests them for
someone who sees them masked.

Each function here asks `permissions.personal_data_access` (the one
decision), refuses what it does not allow, and records the disclosure as an
event (who, where, when, what) in a short write transaction of its own
*before* the data is produced: a disclosure that cannot be recorded does not
happen. The transaction is separate from the request's, so that a GET
request (a download, a capture view) keeps its read session and holds the
write lock only for the one insert.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, literal_column, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..db import write_session
from ..domain.status import Action, SystemAction
from ..models import Event, Station, User
from ..models.base import utcnow
from ..permissions import PiiAccess, PiiPath, personal_data_access
from ..settings import Settings
from ..vocabulary import role_text
from . import events
from .errors import Forbidden, ServiceError

# personal-data searches (by phone or name) a user who sees masked data may
# run per hour: the default of the PERSONAL_SEARCHES_PER_HOUR setting
PERSONAL_SEARCHES_PER_HOUR = Settings.personal_searches_per_hour


class TooManySearches(ServiceError):
    status = 429


@contextmanager
def _recording(target: Engine | Session) -> Iterator[Session]:
    """Where a disclosure is recorded: a write transaction of its own on an
    engine (committed before the data is produced), or a session the
    caller already writes in (and commits)."""
    if isinstance(target, Session):
        yield target
        return
    with write_session(target) as s:
        yield s


def require(role: str | None, path: PiiPath) -> None:
    """Forbidden unless `role` gets personal data in full through `path`."""
    if personal_data_access(role, path) != PiiAccess.full:
        if path == PiiPath.export:
            raise Forbidden(_("The role %(role)s may not export names, phone numbers or addresses.",
                              role=role_text(role or "")), field="personal")
        raise Forbidden(_("The role %(role)s may not see names, phone numbers or addresses here.",
                          role=role_text(role or "")), field="personal")


def authorise_export(engine: Engine, *, user_id: int | None, role: str | None, kind: str, personal_data: bool,
                     fmt: str | None = None, rows: int | None = None, filters: dict | None = None) -> Event:
    """Authorise and record one export before it is produced.

    An export that holds personal data needs full access through the
    `export` path (organizer, admin): anyone else gets Forbidden (403).
    Every export, with or without personal data, is recorded as an
    `export` event with its kind, format, row count and filters."""
    if personal_data:
        require(role, PiiPath.export)
    from .. import metrics  # imported at first use: see metrics.py

    metrics.EXPORTS.labels(kind=kind, format=fmt or "").inc()
    with write_session(engine) as s:
        return events.record(s, action=SystemAction.export.value, user_id=user_id,
                             details={"kind": kind, "format": fmt, "personal_data": personal_data, "rows": rows,
                                      "filters": {k: str(v) for k, v in (filters or {}).items()} or None})


def record_capture_read(engine: Engine | Session, *, credential_id: int, credential_no: str, status: str, station: str,
                        user_id: int | None) -> Event:
    """A station read an item's recipient data in full at capture (the
    caller has checked the station and the item's stage)."""
    with _recording(engine) as s:
        return events.record(s, action=SystemAction.recipient_read.value, credential_id=credential_id,
                             from_status=status, to_status=status, code=credential_no, station=station,
                             user_id=user_id)


# a station token downloads a document only for the work of its station:
# waybill labels where items are captured (and their labels printed), bag
# manifests where bags are filled, sealed, loaded or received
LABEL_STATION_ACTIONS: dict[str, frozenset[str]] = {
    "label": frozenset({Action.capture.value}), "labels": frozenset({Action.capture.value}),
    "bag_manifest": frozenset({Action.bag.value, Action.seal.value, Action.load.value, Action.arrive.value}),
}


def record_label_download(engine: Engine, *, role: str | None, user_id: int | None, station: str | None,
                          kind: str, count: int, credential_id: int | None = None, code: str | None = None,
                          selection: str | None = None, fmt: str | None = None,
                          station_token: bool = False) -> Event:
    """Authorise and record a download of waybill labels (one or many) or
    of a bag manifest: documents with names and addresses in full. A
    station token (`station_token`, acting as `station`) gets them only
    when its station does the work they are for (LABEL_STATION_ACTIONS)."""
    require(role, PiiPath.label)
    with write_session(engine) as s:
        if station_token:
            st = s.execute(select(Station).where(Station.code == station)).scalars().first() if station else None
            if st is None or not LABEL_STATION_ACTIONS[kind] & set(st.action_list):
                raise Forbidden(_("Station %(station)s does not print these documents: they hold names and "
                                  "addresses.", station=station or "—"), field="station")
        return events.record(s, action=SystemAction.label_download.value, credential_id=credential_id,
                             code=code, station=station, user_id=user_id,
                             details={"kind": kind, "count": count, "selection": selection, "format": fmt})


def needs_search_guard(role: str | None) -> bool:
    """Whether searches by phone or name are guarded for `role`: they are
    for every role that sees personal data masked (a search over the hidden
    digits would otherwise reveal them)."""
    return personal_data_access(role, PiiPath.lookup) != PiiAccess.full


def guard_personal_search(engine: Engine, *, user_id: int | None, terms: dict, station: str | None = None,
                          per_hour: int | None = PERSONAL_SEARCHES_PER_HOUR,
                          now: datetime | None = None) -> Event:
    """Count and record one search by phone or name made by someone who sees
    personal data masked. Past `per_hour` such searches in the last hour the
    search is refused (TooManySearches, 429) and nothing is recorded.

    The count and the insert run in one write transaction that first locks
    the user's row, so concurrent searches by one user cannot pass the
    limit together (SQLite serialises writers anyway)."""
    now = now or utcnow()
    with write_session(engine) as s:
        if user_id is not None:
            s.execute(select(User.id).where(User.id == user_id).with_for_update())
        if per_hour is not None:
            done = s.scalar(select(func.count()).select_from(Event).where(
                Event.user_id == user_id if user_id is not None else Event.user_id.is_(None),
                # a literal, not a parameter: the partial index ix_event_personal_search
                # is used only when the query names its condition
                Event.action == literal_column(f"'{SystemAction.personal_search.value}'"),
                Event.at >= now - timedelta(hours=1)))
            if done >= per_hour:
                raise TooManySearches(
                    _("You have searched by phone number or name %(n)s times in the last hour, the most allowed; "
                      "search by credential or waybill number, or ask a supervisor.", n=per_hour), field="q")
        return events.record(s, action=SystemAction.personal_search.value, user_id=user_id, station=station,
                             details={"search": terms}, at=now)
