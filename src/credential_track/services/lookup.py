"""Hotline lookup: one search box for whatever the caller gives, personal data
masked until the agent has confirmed who is calling (a recorded reveal).

What the query is decides which index answers it:

* a waybill number (S10 or 13 digits) → ``credential.waybill_no`` (unique);
* a run of digits → the credential number or the full phone number;
* four digits and a name, in either order → ``ix_credential_phone_last4``,
  then the name;
* anything else → the credential number, then the names (exact, then as a
  prefix: Chinese names are 2–4 characters, too short for trigrams), then,
  from three characters on, a substring of the names or the organization
  (SQLite: the FTS5 trigram table ``credential_fts``; PostgreSQL: pg_trgm).
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, column, or_, table, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from ..domain.codes import CodeKind, classify, normalize_code
from ..domain.masking import PERSONAL_FIELDS, mask_field
from ..domain.recipient import FieldError, clean_text, parse_phone
from ..domain.status import SystemAction
from ..models import Credential, Event
from ..models.base import utcnow
from ..permissions import PiiAccess, PiiPath, personal_data_access
from ..settings import Settings
from . import disclosure, events
from .errors import ServiceError, no_credential, too_long

MAX_RESULTS = 50
REVEAL_MINUTES = Settings.reveal_minutes  # the default of REVEAL_MINUTES: how long a reveal shows an item's data
_DIGITS = re.compile(r"^[0-9\s\-+().]{5,}$", re.ASCII)
_LAST4_NAME = re.compile(r"^(?:([0-9]{4})\s*([^0-9\s][^0-9]*)|([^0-9\s][^0-9]*?)\s*([0-9]{4}))$")
# never on the public tracking page
PRIVATE_ACTIONS = (SystemAction.reveal.value, SystemAction.update.value, SystemAction.hold.value,
                   SystemAction.release.value, SystemAction.intercept.value)
_TOP = "\U0010ffff"  # sorts after every character: the upper bound of a prefix range


@dataclass(frozen=True)
class Query:
    """What a search string was taken to be."""

    kind: str  # waybill, digits, last4_name, text, empty, invalid_waybill
    value: str
    name: str | None = None
    last4: str | None = None
    phone: str | None = None  # a phone number's stored form (domain.recipient.parse_phone)


def parse_query(raw: str) -> Query:
    """Tell what the caller gave from the shape of the search string. Codes
    are normalised as every scanned code is (full-width `ＥＥ…` finds `EE…`);
    a phone number is parsed as the import stores it (`+86 138-1234-5678`
    finds `13812345678`)."""
    q = clean_text(raw)
    if not q:
        return Query("empty", "")
    c = classify(normalize_code(q.replace(" ", "")))
    if c.kind == CodeKind.waybill:
        return Query("waybill", c.code)
    if c.kind == CodeKind.invalid_waybill:
        return Query("invalid_waybill", c.code)
    if _DIGITS.match(q):
        try:
            phone = parse_phone(q).display
        except FieldError:
            phone = None
        return Query("digits", re.sub(r"[\s\-().]", "", q), phone=phone)
    m = _LAST4_NAME.match(q)
    if m:
        last4 = m.group(1) or m.group(4)
        name = (m.group(2) or m.group(3)).strip()
        return Query("last4_name", q, name=name, last4=last4)
    return Query("text", q)


def search_hint(raw: str) -> str | None:
    """Why a search of only digits may find nothing, for the desk to say:
    `last4_alone` (four digits: the last four of a phone find an item only
    with a name, `search_ids`), `partial_phone` (more digits, but no complete
    phone number: only complete numbers are looked up), else None."""
    query = parse_query(raw)
    if query.kind == "text" and re.fullmatch(r"[0-9]{4}", query.value, re.ASCII):
        return "last4_alone"
    if query.kind == "digits" and query.phone is None:
        return "partial_phone"
    return None


def search_ids(session: Session, raw: str, *, limit: int = MAX_RESULTS,
               guard: Callable[[dict], None] | None = None) -> tuple[Query, list[int]]:
    """The ids of the items matching a search string, best matches first.

    With `guard` (the caller sees personal data masked), the tiers that
    match on a phone number or a name run only after `guard(terms)` has
    let them (it records the search, or raises past the hourly limit), and
    the phone tier only for a complete phone number: a search that tests
    hidden digits is never free. Waybill and credential numbers are not
    guarded."""
    query = parse_query(raw)
    st = _statements(session.get_bind().dialect.name)
    found: list[int] = []

    def personal(terms: dict) -> None:
        if guard is not None:
            guard(terms)

    def take(statement: str, **params) -> None:
        if len(found) >= limit:
            return
        for (cid,) in session.execute(st[statement], {**params, "n": limit + len(found)}):
            if cid not in found:
                found.append(cid)
                if len(found) >= limit:
                    break

    if query.kind == "waybill":
        take("waybill", q=query.value)
        if not found:  # a 13-digit organizer number is possible too
            take("credential_no", q=query.value)
    elif query.kind == "digits":
        take("credential_no", q=query.value)
        # for a masked role only a complete number is looked up (typing one
        # is not a search), and that search is guarded
        if guard is None or query.phone is not None:
            personal({"kind": "phone", "phone": query.phone or query.value})
            take("phone", q=query.phone or query.value)
    elif query.kind == "last4_name":
        take("credential_no", q=query.value)
        if found:  # a credential number is unique and names the item
            return query, found
        personal({"kind": "phone_last4_name", "phone_last4": query.last4, "name": query.name})
        take("last4_exact", last4=query.last4, name=query.name)
        take("last4_prefix", last4=query.last4, **_prefix_params(session, query.name))
    elif query.kind == "text":
        q = query.value
        take("credential_no", q=normalize_code(q))
        if found:  # a credential number is unique and names the item
            return query, found
        personal({"kind": "name", "name": q})
        take("names_exact", q=q)
        take("names_prefix", **_prefix_params(session, q))
        if len(q) >= 3:
            take("substring", **_substring_params(session, q))
    return query, found


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_params(session: Session, value: str) -> dict:
    return {"lo": value, "hi": value + _TOP}


def _substring_params(session: Session, q: str) -> dict:
    if session.get_bind().dialect.name == "sqlite":
        return {"phrase": '"' + q.replace('"', '""') + '"'}
    return {"pattern": "%" + _like_escape(q) + "%"}


@lru_cache(maxsize=4)
def _statements(dialect: str) -> dict:
    """The search statements, built once per dialect: a lookup only binds
    parameters (building SQLAlchemy statements per call cost more than the
    queries themselves). Tiers use UNION ALL with a LIMIT so that the
    database stops at the first rows an index yields; duplicates are
    dropped by the caller."""
    c = Credential.__table__.c
    n = bindparam("n", type_=Integer)

    def ids(*conds):
        return sa_select(c.id).where(*conds)

    if dialect == "postgresql":
        # a prefix is a range in code-point order: the "C" collation, whatever
        # the database's (indexes ix_credential_*_c of migration 0002)
        def prefix(col):
            col = col.collate("C")
            return and_(col >= bindparam("lo", type_=String), col < bindparam("hi", type_=String))
        substring = union_all(*(ids(col.like(bindparam("pattern", type_=String), escape="\\"))
                                for col in (c.recipient_name, c.holder_name, c.organization))).limit(n)
    else:
        def prefix(col):
            return and_(col >= bindparam("lo", type_=String), col < bindparam("hi", type_=String))
        fts = table("credential_fts", column("rowid"))
        substring = sa_select(fts.c.rowid).where(text("credential_fts MATCH :phrase")).limit(n)
    q = bindparam("q", type_=String)
    name = bindparam("name", type_=String)
    last4 = bindparam("last4", type_=String)
    return {
        "waybill": ids(c.waybill_no == q).limit(n),
        "credential_no": ids(c.credential_no == q).limit(n),
        "phone": ids(c.recipient_phone == q).order_by(c.id).limit(n),
        "last4_exact": ids(c.phone_last4 == last4, or_(c.recipient_name == name, c.holder_name == name))
        .order_by(c.id).limit(n),
        "last4_prefix": ids(c.phone_last4 == last4, or_(prefix(c.recipient_name), prefix(c.holder_name)))
        .order_by(c.id).limit(n),
        "names_exact": union_all(ids(c.recipient_name == q), ids(c.holder_name == q),
                                 ids(c.organization == q)).limit(n),
        "names_prefix": union_all(ids(prefix(c.recipient_name)), ids(prefix(c.holder_name)),
                                  ids(prefix(c.organization))).limit(n),
        "substring": substring,
        "rows": sa_select(Credential.__table__).where(c.id.in_(bindparam("ids", expanding=True))),
        "reveals": sa_select(Event.credential_id).where(
            Event.user_id == bindparam("u", type_=Integer), Event.action == SystemAction.reveal.value,
            Event.at >= bindparam("since", type_=Event.__table__.c.at.type)),
    }


def revealed_ids(session: Session, *, user_id: int | None, credential_ids: list[int],
                 now: datetime | None = None, minutes: int = REVEAL_MINUTES) -> set[int]:
    """The items among `credential_ids` this user revealed within the window."""
    if user_id is None or not credential_ids:
        return set()
    since = (now or utcnow()) - timedelta(minutes=minutes)
    # by user (ix_event_user_id): an agent reveals a handful of items an hour
    st = _statements(session.get_bind().dialect.name)
    return {cid for (cid,) in session.execute(st["reveals"], {"u": user_id, "since": since})} & set(credential_ids)


def shown_ids(session: Session, *, role: str | None, user_id: int | None, credential_ids: list[int],
              minutes: int = REVEAL_MINUTES) -> set[int]:
    """The items among `credential_ids` whose personal data this user sees in
    full on the desk: all of them for a role with full lookup access, those
    the user revealed within the window for a role that reveals, none else."""
    access = personal_data_access(role, PiiPath.lookup)
    if access == PiiAccess.full:
        return set(credential_ids)
    if access == PiiAccess.reveal:
        return revealed_ids(session, user_id=user_id, credential_ids=credential_ids, minutes=minutes)
    return set()


def lookup_item(item: Credential, *, show_pii: bool) -> dict:
    """One search result; personal fields masked unless `show_pii` (which
    comes from `shown_ids`, or from a reveal just recorded)."""
    pii = {name: getattr(item, name) if show_pii else mask_field(name, getattr(item, name))
           for name in PERSONAL_FIELDS}
    return {
        "credential_no": item.credential_no, "waybill_no": item.waybill_no, "status": item.status,
        **pii, "masked": not show_pii, "organization": item.organization,
        "credential_type": item.credential_type, "province": item.province, "city": item.city,
        "district": item.district, "route": item.route, "language": item.language,
        "hold": item.hold, "hold_reason": item.hold_reason, "revoked": item.revoked,
        "intercept": item.intercept, "label_reprint": item.label_reprint,
        "contact_problem": item.contact_problem,
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
    }


def lookup(session: Session, raw: str, *, role: str | None, user_id: int | None,
           limit: int = MAX_RESULTS, reveal_minutes: int = REVEAL_MINUTES,
           personal_searches_per_hour: int | None = disclosure.PERSONAL_SEARCHES_PER_HOUR,
           station: str | None = None) -> dict:
    """The hotline search: `{"query": kind, "results": [...]}`, masked per role
    and per reveal. For a role that sees personal data masked, a search by
    phone or name is recorded (`personal_search`) and limited per hour
    (disclosure.guard_personal_search): call this before the session writes
    (the record is a write transaction of its own)."""
    if len(raw or "") > 200:
        raise too_long("q", 200)
    guard = None
    if disclosure.needs_search_guard(role):
        engine = session.get_bind()

        def guard(terms: dict) -> None:
            disclosure.guard_personal_search(engine, user_id=user_id, terms=terms, station=station,
                                             per_hour=personal_searches_per_hour)
    query, ids = search_ids(session, raw, limit=limit, guard=guard)
    if not ids:
        return {"query": query.kind, "results": []}
    st = _statements(session.get_bind().dialect.name)
    items = {r.id: r for r in session.execute(st["rows"], {"ids": ids})}
    shown = shown_ids(session, role=role, user_id=user_id, credential_ids=ids, minutes=reveal_minutes)
    return {"query": query.kind,
            "results": [lookup_item(items[i], show_pii=i in shown) for i in ids if i in items]}


def item_by_no(session: Session, credential_no: str, *, lock: bool = False) -> Credential:
    """The item with this credential number, or NotFound."""
    stmt = select(Credential).where(Credential.credential_no == credential_no)
    if lock:
        stmt = stmt.with_for_update()
    item = session.exec(stmt).first()
    if item is None:
        raise no_credential(credential_no)
    return item


def reveal(session: Session, *, credential_no: str, user_id: int | None, reason: str,
           station: str | None = None) -> Event:
    """Record that this user confirmed the caller and sees the item's personal
    data: a `reveal` event with the reason (who, whose, when)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ServiceError(_("Say why the data is revealed (e.g. the caller confirmed name and phone)."),
                           field="reason")
    if len(reason) > 300:
        raise too_long("reason", 300)
    item = item_by_no(session, credential_no)
    return events.record(session, action=SystemAction.reveal.value, credential_id=item.id,
                         from_status=item.status, to_status=item.status, code=item.credential_no,
                         station=station, user_id=user_id, details={"reason": reason})


def _tracked_item(session: Session, no: str) -> Credential | None:
    """The item a holder types: its credential number as printed, in any
    letter case (a few indexed reads: as typed, upper, lower), or its EMS
    waybill number (domain.codes.classify, which upper-cases S10 letters)."""
    c = classify(no)
    if c.kind == CodeKind.waybill:
        return session.exec(select(Credential).where(Credential.waybill_no == c.code)).first()
    for candidate in dict.fromkeys((no, no.upper(), no.lower())):
        item = session.exec(select(Credential).where(Credential.credential_no == candidate)).first()
        if item is not None:
            return item
    return None


def track(session: Session, *, credential_no: str, last4: str) -> dict | None:
    """The public self-service answer: status, waybill and timeline when the
    credential number and the phone's last four digits match, else None —
    the same None whether or not the number exists. No personal data."""
    no = normalize_code(credential_no or "")
    digits = clean_text(last4)
    if not no or len(no) > 64 or not re.fullmatch(r"[0-9]{4}", digits, re.ASCII):
        return None
    item = _tracked_item(session, no)
    if item is None or not hmac.compare_digest(item.phone_last4 or "", digits):
        return None
    evs = session.exec(select(Event).where(Event.credential_id == item.id, Event.result == "ok",
                                           Event.to_status.isnot(None),
                                           Event.action.notin_(PRIVATE_ACTIONS))
                       .order_by(Event.id)).all()
    timeline = [{"action": e.action, "status": e.to_status, "at": (e.scanned_at or e.at).isoformat()}
                for e in evs if e.action == SystemAction.import_.value or e.from_status != e.to_status]
    return {"credential_no": item.credential_no, "waybill_no": item.waybill_no, "status": item.status,
            "timeline": timeline}
