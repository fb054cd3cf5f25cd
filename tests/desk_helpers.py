"""Helpers for the customer-service tests: items at a given stage."""
from __future__ import annotations

from credential_track.db import write_session
from credential_track.domain.codes import make_s10
from credential_track.models import User
from credential_track.services import accounts

from .factories import PASSWORD, make_credential

_serial = iter(range(40_000_000, 50_000_000))


def item_at(engine, status: str = "registered", **overrides) -> dict:
    """An item already at `status` (with a waybill from `captured` on); returns
    its credential number, waybill and id."""
    with write_session(engine) as s:
        if status not in ("registered", "received") and "waybill_no" not in overrides:
            overrides["waybill_no"] = make_s10("EE", next(_serial))
        item = make_credential(s, status=status, **overrides)
        return {"no": item.credential_no, "waybill": item.waybill_no, "id": item.id}


def user_id(engine, username: str, role: str) -> int:
    from sqlmodel import select

    with write_session(engine) as s:
        u = s.exec(select(User).where(User.username == username)).first()
        if u is None:
            u = accounts.create_user(s, username=username, password=PASSWORD, role=role)
        return u.id
