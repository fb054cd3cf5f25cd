"""Small helpers that build test data."""
from __future__ import annotations

import itertools
import uuid

from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.domain.regions import route_for
from credential_track.models import Credential
from credential_track.services import dispatch
from credential_track.services import scan as scans

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_credential(session: Session, **overrides) -> Credential:
    """An item with plausible data; flushed, not committed."""
    n = next(_seq)
    data = dict(
        credential_no=f"T{n:07d}", credential_type="exhibitor", holder_name="张伟",
        organization="华东贸易有限公司", recipient_name="张伟", recipient_phone="13812345678",
        phone_last4="5678", province="上海市", city="上海市", district="浦东新区",
        address="世纪大道100号8楼", postcode="200120", status="registered",
    )
    data.update(overrides)
    data.setdefault("route", route_for(data["province"], data["district"]))
    item = Credential(**data)
    session.add(item)
    session.flush()
    return item


def nonce() -> str:
    return uuid.uuid4().hex


def do_scan(engine, code: str, action: str, station: str, **context) -> scans.ScanOutcome:
    """One scan through the service, in its own transaction."""
    with write_session(engine) as s:
        return scans.scan(s, scans.ScanRequest(code=code, action=action, station=station,
                                               nonce=nonce(), context=context))


def open_bag(engine, route: str, station: str = "WS-07") -> str:
    with write_session(engine) as s:
        return dispatch.open_bag(s, route=route, station=station).code


def make_trip(engine) -> str:
    with write_session(engine) as s:
        return dispatch.create_trip(s, vehicle="沪A·12345", driver="王师傅", escorts=["李强", "赵磊"],
                                    origin="分拣中心", destination="国际邮件处理中心").code


def reload(engine, credential_no: str) -> Credential:
    with Session(engine) as s:
        return s.exec(select(Credential).where(Credential.credential_no == credential_no)).one()


def configure(app, **config) -> None:
    """Change settings of a running test app (config keys, e.g. PRINT_MAX_WEB_LABELS=2)."""
    from credential_track import settings

    app.config.update(config)
    settings.refresh(app)
