"""Read the database into the plain data the printed documents are drawn from
(credential_track.printing): waybill labels (one, or a streamed selection),
bag label and manifest, trip sheet, handover receipt."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from .. import vocabulary
from ..clock import format_datetime
from ..domain.numbers import whole_number
from ..domain.status import Status
from ..models import Bag, Credential, HandoverBatch, Station, Trip, User
from ..models.base import utcnow
from ..printing.data import BagLabelData, BagManifestData, HandoverData, LabelData, ManifestItem, TripBag, TripSheetData
from ..vocabulary import bilingual
from .errors import NotFound, ServiceError, no_credential, one_of

LABEL_FETCH = 500  # rows fetched at a time while streaming labels

_LABEL_COLUMNS = (
    Credential.waybill_no, Credential.credential_no, Credential.credential_type, Credential.recipient_name,
    Credential.recipient_phone, Credential.province, Credential.city, Credential.district,
    Credential.address, Credential.postcode, Credential.route, Credential.organization,
)


def local_time(value: datetime | None) -> str:
    """`2026-11-05 09:12` in the configured zone (clock.py), or "" for None."""
    return format_datetime(value)


def _type_names(session: Session) -> dict[str, str]:
    """Credential types as the label prints them, `展商 Exhibitor` (the vocabulary's words)."""
    return {code: bilingual("credential_type", code) for code in vocabulary.table("credential_type")}


def _printable():
    """Items a waybill label may be printed for: a waybill bound, not revoked, not pulled."""
    return ((Credential.waybill_no.is_not(None)) & (Credential.revoked == False)  # noqa: E712
            & (Credential.status != Status.withdrawn.value))


def _label(row, sender: str, types: dict[str, str]) -> LabelData:
    (waybill, cred_no, ctype, name, phone, province, city, district, address, postcode, route, org) = row
    return LabelData(waybill_no=waybill, credential_no=cred_no, credential_type=types.get(ctype, ctype),
                     recipient_name=name, recipient_phone=phone, province=province, city=city or "",
                     district=district or "", address=address, postcode=postcode or "", route=route,
                     sender=sender, organization=org or "")


def label_for(session: Session, credential_no: str, *, sender: str) -> LabelData:
    """The waybill label data of one item; NotFound for an unknown credential,
    ServiceError when no label may be printed for it (no waybill, revoked, pulled)."""
    item = session.exec(select(Credential).where(Credential.credential_no == credential_no)).first()
    if item is None:
        raise no_credential(credential_no)
    _check_printable(item)
    row = tuple(getattr(item, c.key) for c in _LABEL_COLUMNS)
    return _label(row, sender, _type_names(session))


def _check_printable(item: Credential) -> None:
    if item.waybill_no is None:
        raise ServiceError(_("Credential %(no)s has no waybill number yet (it is %(status)s): capture it first.",
                             no=item.credential_no, status=vocabulary.status_text(item.status)), field="credential_no")
    if item.revoked:
        raise ServiceError(_("Credential %(no)s is revoked: it gets no label.", no=item.credential_no),
                           field="credential_no")
    if item.status == Status.withdrawn:
        raise ServiceError(_("Credential %(no)s has been pulled: it gets no label.", no=item.credential_no),
                           field="credential_no")


@dataclass(frozen=True)
class LabelSelection:
    """Which items a bulk label run prints: `count` printable, `skipped` matched
    but without a label (no waybill yet, revoked or pulled)."""

    description: str
    where: object
    count: int
    skipped: int


def select_labels(session: Session, *, batch: str | None = None, status: str | None = None,
                  credentials: list[str] | None = None) -> LabelSelection:
    """Resolve a bulk label selection: a handover batch (by name), a status,
    or a list of credential numbers — exactly one of them. Unknown names and
    numbers are errors naming them; explicitly listed items that cannot get a
    label are errors too, while a batch or status simply skips them."""
    given = [x for x in (batch, status, credentials) if x]
    if len(given) != 1:
        raise ServiceError(_("Give exactly one of: a batch, a status, or credential numbers."), field="selection")
    if batch:
        b = session.exec(select(HandoverBatch).where(HandoverBatch.name == batch)).first()
        if b is None:
            raise NotFound(_("There is no handover batch “%(batch)s”.", batch=batch), field="batch")
        where, description = Credential.batch_id == b.id, f"batch {batch}"
    elif status:
        if status not in {s.value for s in Status}:
            raise one_of("status", status, [s.value for s in Status], "status")
        where, description = Credential.status == status, f"status {status}"
    else:
        wanted = list(dict.fromkeys(c.strip() for c in credentials if c.strip()))
        found: dict[str, Credential] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            for item in session.exec(select(Credential).where(Credential.credential_no.in_(part))):
                found[item.credential_no] = item
        unknown = [c for c in wanted if c not in found]
        if unknown:
            raise NotFound(_("Unknown credential numbers: %(numbers)s", numbers=", ".join(unknown[:20]))
                           + (_(" and %(n)s more", n=len(unknown) - 20) if len(unknown) > 20 else ""),
                           field="credential_no")
        for c in wanted:
            _check_printable(found[c])
        where = Credential.id.in_([found[c].id for c in wanted])
        description = f"{len(wanted)} credentials"
    matched = session.exec(select(func.count()).select_from(Credential).where(where)).one()
    count = session.exec(select(func.count()).select_from(Credential).where(where & _printable())).one()
    return LabelSelection(description, where, count, matched - count)


def iter_labels(session: Session, selection: LabelSelection, *, sender: str) -> Iterator[LabelData]:
    """The selection's labels in route order (then import order), fetched
    LABEL_FETCH rows at a time from a streaming cursor."""
    types = _type_names(session)
    stmt = (select(*_LABEL_COLUMNS).where(selection.where & _printable())
            .order_by(Credential.route, Credential.id).execution_options(yield_per=LABEL_FETCH))
    for row in session.exec(stmt):
        yield _label(row, sender, types)


def _bag(session: Session, code: str) -> Bag:
    bag = session.exec(select(Bag).where(Bag.code == code.strip().upper())).first()
    if bag is None:
        raise NotFound(_("There is no bag %(code)s.", code=code), field="code")
    return bag


def _route_name(session: Session, code: str) -> str:
    return vocabulary.route_name(code, "zh")


def _station_code(session: Session, station_id: int | None) -> str:
    st = session.get(Station, station_id) if station_id else None
    return st.code if st else ""


def _user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user else ""


def bag_label_data(session: Session, code: str) -> BagLabelData:
    """The bag label of bag `code` (NotFound if there is none)."""
    bag = _bag(session, code)
    return BagLabelData(code=bag.code, route=bag.route, route_name=_route_name(session, bag.route),
                        item_count=bag.item_count, seal_no=bag.seal_no,
                        station=_station_code(session, bag.station_id), created_at=local_time(bag.created_at))


def bag_manifest_data(session: Session, code: str) -> BagManifestData:
    """The manifest of bag `code`: every item in it, in the order bagged."""
    bag = _bag(session, code)
    rows = session.exec(select(Credential.waybill_no, Credential.credential_no, Credential.recipient_name,
                               Credential.city).where(Credential.bag_id == bag.id).order_by(Credential.id))
    items = [ManifestItem(w or "", c, n, city or "") for w, c, n, city in rows]
    return BagManifestData(code=bag.code, route=bag.route, route_name=_route_name(session, bag.route),
                           state=bilingual("bag_state", bag.state), seal_no=bag.seal_no, sealed_by=_user_name(session, bag.sealed_by),
                           sealed_at=local_time(bag.sealed_at), station=_station_code(session, bag.station_id),
                           items=items, printed_at=local_time(utcnow()))


def trip_sheet_data(session: Session, code: str) -> TripSheetData:
    """The trip sheet of trip `code`: its bags with seals and item counts."""
    trip = session.exec(select(Trip).where(Trip.code == code.strip().upper())).first()
    if trip is None:
        raise NotFound(_("There is no trip %(code)s.", code=code), field="code")
    bags = session.exec(select(Bag).where(Bag.trip_id == trip.id).order_by(Bag.id)).all()
    return TripSheetData(code=trip.code, state=bilingual("trip_state", trip.state), vehicle=trip.vehicle, driver=trip.driver,
                         escorts=trip.escorts.split("、") if trip.escorts else [], origin=trip.origin,
                         destination=trip.destination, departed_at=local_time(trip.departed_at),
                         arrived_at=local_time(trip.arrived_at),
                         bags=[TripBag(b.code, b.route, b.seal_no, b.item_count) for b in bags],
                         printed_at=local_time(utcnow()))


def find_batch(session: Session, batch: str | int) -> HandoverBatch:
    """A handover batch by id (an int) or by name (a str; a numeric str that is
    no batch's name is tried as an id)."""
    found = None
    if isinstance(batch, int):
        found = session.get(HandoverBatch, batch)
    else:
        found = session.exec(select(HandoverBatch).where(HandoverBatch.name == batch)).first()
        if found is None and whole_number(batch) is not None:
            found = session.get(HandoverBatch, whole_number(batch))
    if found is None:
        raise NotFound(_("There is no handover batch “%(batch)s”.", batch=batch), field="batch")
    return found


def handover_data(session: Session, batch: str | int, *, organizer: str, extra: list[str] | None = None) -> HandoverData:
    """The handover receipt of a batch: expected (manifest) and counted (as a
    whole) from the batch, received = its items scanned in (no longer
    `registered`), missing = its items still `registered`. `extra` are the
    credential numbers received that the manifest lacks (from reconciliation)."""
    b = find_batch(session, batch)
    if extra is None:
        from .handover import extra_items  # reconciliation: scanned into this batch, not in its manifest

        extra = [e.credential_no or e.code for e in extra_items(session, b)]
    missing = list(session.exec(select(Credential.credential_no).where(
        (Credential.batch_id == b.id) & (Credential.status == Status.registered.value)).order_by(Credential.id)))
    received = session.exec(select(func.count()).select_from(Credential).where(
        (Credential.batch_id == b.id) & (Credential.status != Status.registered.value))).one()
    return HandoverData(batch=b.name, source_file=b.source_file, state=bilingual("batch_state", b.state), expected=b.expected,
                        counted=b.counted, received=received, missing=missing, extra=sorted(extra or []),
                        created_at=local_time(b.created_at), received_at=local_time(b.received_at),
                        organizer=organizer, printed_at=local_time(utcnow()))
