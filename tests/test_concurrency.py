"""Exactly once under concurrency: several stations, the same items, at once."""
import threading

from sqlalchemy import func
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import Credential, Event
from credential_track.services import scan as scans

from .factories import make_credential, nonce

THREADS = 6
ITEMS = 15


def test_same_items_from_several_stations_get_one_ok_each(engine, db):
    items = [make_credential(db) for _ in range(ITEMS)]
    db.commit()
    codes = [c.credential_no for c in items]
    results: list[tuple[str, str, str | None]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def station(k: int) -> None:
        try:
            barrier.wait()
            for code in codes:
                with write_session(engine) as s:
                    out = scans.scan(s, scans.ScanRequest(
                        code=code, action="handover", station="WS-01" if k % 2 else "WS-02", nonce=nonce()))
                results.append((code, out.result, out.reason))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=station, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for code in codes:
        outcomes = [(r, why) for c, r, why in results if c == code]
        assert outcomes.count(("ok", None)) == 1
        assert outcomes.count(("rejected", "already_done")) == THREADS - 1
    with Session(engine) as s:
        ok_events = dict(s.exec(
            select(Event.credential_id, func.count()).where(Event.action == "handover", Event.result == "ok")
            .group_by(Event.credential_id)).all())
        assert sorted(ok_events.values()) == [1] * ITEMS
        assert set(s.exec(select(Credential.status))) == {"received"}


def test_same_nonce_at_once_is_written_once(engine, db):
    c = make_credential(db)
    db.commit()
    answers = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        with write_session(engine) as s:
            answers.append(scans.scan(s, scans.ScanRequest(
                code=c.credential_no, action="handover", station="WS-01", nonce="one-nonce")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.replayed for a in answers) == [False, True, True, True]
    assert {(a.result, a.event_id) for a in answers} == {("ok", answers[0].event_id)}
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Event).where(Event.nonce == "one-nonce")).one() == 1
