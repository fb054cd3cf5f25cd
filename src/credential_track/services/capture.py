"""Data capture: the recipient data an operator checks and completes before
a waybill is bound, and what is wrong with it.

The rules are those of the manifest import (`domain.recipient`)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..domain.codes import CodeKind, classify
from ..domain.recipient import RECIPIENT_FIELDS, address_incomplete, check_recipient
from ..domain.regions import MUNICIPALITIES, find_province
from ..domain.status import Action
from ..models import Credential, Station
from ..permissions import PiiPath
from ..printing.fonts import missing_chars
from . import disclosure
from .errors import Forbidden, ServiceError, no_credential

# the recipient data is shown only for items at the capture step (received,
# or captured and not yet accepted: a label may be reprinted)
CAPTURE_STATUSES = frozenset({"received", "captured"})

# a street address names a number (门牌号) somewhere: 号, 弄, 室, 楼 or a digit
_MUNICIPALITIES = MUNICIPALITIES | {"香港特别行政区", "澳门特别行政区"}
# domain.recipient's rule keys → the words the capture page shows
_PROBLEM = {
    "required": "missing", "bad_phone": "invalid_phone", "bad_phone_chars": "invalid_phone",
    "phone_unallocated": "invalid_phone", "phone_service": "invalid_phone", "bad_province": "unknown_province",
    "bad_postcode": "invalid_postcode", "lost_chars": "lost_chars", "too_long": "too_long",
}


def recipient_problems(data: dict) -> dict[str, str]:
    """What is wrong or missing in recipient data, by field.

    The values are fixed words the page turns into text: `missing`,
    `invalid_phone`, `unknown_province`, `unplaced_address` (the division
    data cannot place it, or its parts disagree), `incomplete_address`,
    `invalid_postcode`, `lost_chars`, `too_long`, `unprintable` (the label
    fonts cannot print it), `landline_only` (a valid number, but a landline:
    the holder gets no text messages; the import notes the same from the
    same parse, `domain.manifest`)."""
    problems: dict[str, str] = {}
    rec, errors = check_recipient(data, fields=RECIPIENT_FIELDS,
                                   required=("recipient_name", "recipient_phone", "province", "address"))
    for e in errors:
        problems.setdefault(e.field, _PROBLEM.get(e.key, "unplaced_address"))
    get = lambda name: (data.get(name) or "").strip()  # noqa: E731
    province = find_province(get("province"))
    if not get("city") and "city" not in problems and (province is None or province.name not in _MUNICIPALITIES):
        problems["city"] = "missing"
    if not get("district") and "district" not in problems:
        problems["district"] = "missing"
    address = get("address")
    if "address" not in problems and address_incomplete(address):
        problems["address"] = "incomplete_address"
    for name in unprintable_fields(data):
        problems.setdefault(name, "unprintable")  # the label would print boxes
    if rec.phone is not None and rec.phone.landline:
        problems.setdefault("recipient_phone", "landline_only")
    return problems


def unprintable_fields(data: dict) -> dict[str, str]:
    """The printed recipient fields with characters the label cannot print
    (printing.fonts.missing_chars), each with those characters."""
    out = {}
    for name in RECIPIENT_FIELDS:
        missing = missing_chars(data.get(name) or "")
        if missing:
            out[name] = "".join(sorted(missing))
    return out


def find_item(session: Session, code: str) -> Credential | None:
    """The item for a scanned credential number or waybill number."""
    c = classify(code)
    if c.kind == CodeKind.waybill:
        return session.exec(select(Credential).where(Credential.waybill_no == c.code)).first()
    if c.kind == CodeKind.credential:
        return session.exec(select(Credential).where(Credential.credential_no == c.code)).first()
    return None


def capture_view(session: Session, code: str) -> dict:
    """The item as the capture step shows it: status, flags and the full
    recipient data (the operator corrects it), with its problems. Items not
    at the capture step come without recipient data or holder name
    (`recipient` None). Authorises and records nothing: a station reads
    this through `read_for_capture`."""
    item = find_item(session, code)
    if item is None:
        raise no_credential(code, "code")
    return _view(item)


def _view(item: Credential) -> dict:
    recipient = None
    if item.status in CAPTURE_STATUSES:
        recipient = {name: getattr(item, name) or "" for name in RECIPIENT_FIELDS}
    return {
        "credential_no": item.credential_no, "waybill_no": item.waybill_no, "status": item.status,
        "route": item.route, "credential_type": item.credential_type,
        "holder_name": item.holder_name if recipient is not None else None,
        "organization": item.organization, "hold": item.hold, "revoked": item.revoked,
        "recipient": recipient, "problems": recipient_problems(recipient) if recipient else {},
        "unprintable": unprintable_fields(recipient) if recipient else {},
    }


def capturing_station(session: Session, code: str | None, *, role: str | None) -> Station:
    """The station a capture read or correction comes from, checked: the
    role may see recipient data at capture (permissions, `capture` path)
    and the station exists and may perform `capture`; else Forbidden (a
    request naming no station is a 400)."""
    disclosure.require(role, PiiPath.capture)
    if not code:
        raise ServiceError(_("Name the capture station this request comes from."), field="station")
    st = session.exec(select(Station).where(Station.code == code)).first()
    if st is None:
        raise ServiceError(_("There is no station %(station)s.", station=code), field="station")
    if Action.capture.value not in st.action_list:
        raise Forbidden(_("Station %(station)s does not capture: it sees no recipient data.", station=st.code),
                        field="station")
    return st


def read_for_capture(session: Session, record_in: Engine | Session, code: str, *, station: str | None,
                     role: str | None, user_id: int | None) -> dict:
    """A station's full read of an item's recipient data, to check and
    complete it before a waybill is bound: only a station that may capture,
    only for an item at the capture step, and each such read recorded as a
    `recipient_read` event (who, station, when) before the data is
    answered (in a transaction of its own on an engine, or in the given
    write session, which the caller commits). An item past or before the
    capture step is answered without recipient data and nothing is
    recorded."""
    st = capturing_station(session, station, role=role)
    item = find_item(session, code)
    if item is None:
        raise no_credential(code, "code")
    view = _view(item)
    if view["recipient"] is not None:
        disclosure.record_capture_read(record_in, credential_id=item.id, credential_no=item.credential_no,
                                       status=item.status, station=st.code, user_id=user_id)
    return view
