"""The scan path as the load benchmark drives it: replays answered from the
stored event without a look-up first, and SQLite writers queued on the
write gate."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from credential_track.db import is_sqlite, write_session
from credential_track.domain.codes import is_valid_s10
from credential_track.models import Event
from credential_track.services import scan as scans

from .factories import make_credential, nonce, reload


def _scan(engine, code, action, station, n, **context):
    with write_session(engine) as s:
        return scans.scan(s, scans.ScanRequest(code=code, action=action, station=station, nonce=n,
                                               context=context))


def _events(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Event)).one()[0]


def test_replayed_nonce_gets_the_first_answer_and_writes_nothing(engine):
    with write_session(engine) as s:
        item = make_credential(s)
    n = nonce()
    first = _scan(engine, item.credential_no, "handover", "WS-01", n)
    before = _events(engine)
    again = _scan(engine, item.credential_no, "handover", "WS-01", n)
    assert first.result == "ok" and not first.replayed
    assert (again.result, again.reason, again.event_id, again.replayed) == ("ok", None, first.event_id, True)
    assert again.item == first.item
    assert _events(engine) == before
    assert reload(engine, item.credential_no).status == "received"


def test_replayed_refusal_gets_the_same_refusal(engine):
    n = nonce()
    first = _scan(engine, "NO-SUCH-ITEM", "handover", "WS-01", n)
    again = _scan(engine, "NO-SUCH-ITEM", "handover", "WS-01", n)
    assert (first.result, first.reason) == ("rejected", "unknown_code")
    assert (again.result, again.reason, again.event_id, again.replayed) == (
        "rejected", "unknown_code", first.event_id, True)


def test_stored_answer_is_written_with_the_event(engine):
    with write_session(engine) as s:
        item = make_credential(s)
    out = _scan(engine, item.credential_no, "handover", "WS-01", nonce())
    with Session(engine) as s:
        response = s.get(Event, out.event_id).response
    assert '"result": "ok"' in response and item.credential_no in response


def test_write_gate_is_released_after_a_rollback(engine):
    if not is_sqlite(engine):
        pytest.skip("the write gate is SQLite's")
    with pytest.raises(RuntimeError):
        with write_session(engine) as s:
            make_credential(s)
            raise RuntimeError("boom")
    done = threading.Event()

    def other_writer():
        with write_session(engine) as s:
            make_credential(s)
        done.set()

    t = threading.Thread(target=other_writer)
    t.start()
    t.join(timeout=5)
    assert done.is_set(), "a second writer was still blocked after the first rolled back"


def test_concurrent_writers_all_commit(engine):
    with write_session(engine) as s:
        item = make_credential(s)
    errors: list[BaseException] = []

    def writer(k: int):
        try:
            for _ in range(10):
                with write_session(engine) as s:
                    s.execute(text("UPDATE credential SET weight_g = COALESCE(weight_g, 0) + 1 WHERE id = :id"),
                              {"id": item.id})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert reload(engine, item.credential_no).weight_g == 60


# The optimistic path writes a scan expected to succeed at once, as one
# conditional UPDATE (two for bagging) and the event; when a condition does not
# hold it keeps nothing and the full path decides under lock.

def _count_full_path(monkeypatch) -> list:
    calls: list = []
    from credential_track.services.scan import locked

    real = locked.decide

    def spy(*args, **kwargs):
        calls.append(args[1].action)
        return real(*args, **kwargs)

    monkeypatch.setattr(locked, "decide", spy)
    return calls


def test_the_common_scans_never_take_the_full_path(engine, monkeypatch):
    from .factories import open_bag

    with write_session(engine) as s:
        item = make_credential(s)
    bag = open_bag(engine, item.route)
    full = _count_full_path(monkeypatch)
    assert _scan(engine, item.credential_no, "handover", "WS-01", nonce()).result == "ok"
    out = _scan(engine, item.credential_no, "capture", "WS-03", nonce())
    waybill = out.item["waybill_no"]
    assert out.result == "ok" and out.detail == waybill and is_valid_s10(waybill)
    out = _scan(engine, waybill, "accept", "WS-06", nonce(), weight_g="52")
    assert out.result == "ok" and out.item["status"] == "accepted" and out.item["waybill_no"] == waybill
    out = _scan(engine, waybill, "bag", "WS-07", nonce(), bag=bag)
    assert out.result == "ok" and out.bag["item_count"] == 1 and out.item["bag_id"] is not None
    assert full == []
    row = reload(engine, item.credential_no)
    assert (row.status, row.waybill_no, row.weight_g, row.bag_id) == ("bagged", waybill, 52, out.item["bag_id"])


def _range_next(engine, station: str) -> int:
    with Session(engine) as s:
        return s.exec(text("SELECT min(r.next) FROM waybill_range r JOIN station st ON st.id = r.station_id "
                           "WHERE st.code = :c").bindparams(c=station)).one()[0]


def test_a_capture_that_cannot_happen_allocates_no_waybill(engine, monkeypatch):
    with write_session(engine) as s:
        registered = make_credential(s)  # not handed over yet
        received = make_credential(s, status="received")
    before = _range_next(engine, "WS-03")
    full = _count_full_path(monkeypatch)
    out = _scan(engine, registered.credential_no, "capture", "WS-03", nonce())
    assert (out.result, out.reason) == ("rejected", "wrong_stage") and full == ["capture"]
    assert _range_next(engine, "WS-03") == before  # the number taken for it was given back
    # a pre-printed waybill already on another item
    taken = _scan(engine, received.credential_no, "capture", "WS-03", nonce()).item["waybill_no"]
    with write_session(engine) as s:
        other = make_credential(s, status="received")
    out = _scan(engine, other.credential_no, "capture", "WS-03", nonce(), waybill=taken)
    assert (out.result, out.reason) == ("rejected", "waybill_in_use")
    assert reload(engine, other.credential_no).waybill_no is None


def test_a_repeated_scan_falls_back_and_is_already_done_with_one_event(engine, monkeypatch):
    with write_session(engine) as s:
        item = make_credential(s)
    full = _count_full_path(monkeypatch)
    assert _scan(engine, item.credential_no, "handover", "WS-01", nonce()).result == "ok"
    out = _scan(engine, item.credential_no, "handover", "WS-02", nonce())
    assert (out.result, out.reason) == ("rejected", "already_done") and full == ["handover"]
    with Session(engine) as s:
        oks = s.exec(select(func.count()).select_from(Event).where(
            Event.credential_id == item.id, Event.action == "handover", Event.result == "ok")).one()[0]
    assert oks == 1


def test_a_bag_counted_for_an_item_that_cannot_go_in_keeps_its_count(engine, monkeypatch):
    from .factories import open_bag

    with write_session(engine) as s:
        not_ready = make_credential(s, status="captured")
        elsewhere = make_credential(s, status="accepted", province="北京市", district="")
    bag = open_bag(engine, not_ready.route)
    full = _count_full_path(monkeypatch)
    # the bag's UPDATE goes through, the item's does not: both are undone
    out = _scan(engine, not_ready.credential_no, "bag", "WS-07", nonce(), bag=bag)
    assert (out.result, out.reason) == ("rejected", "wrong_stage") and out.bag["item_count"] == 0
    out = _scan(engine, elsewhere.credential_no, "bag", "WS-07", nonce(), bag=bag)
    assert (out.result, out.reason, out.detail) == ("rejected", "wrong_route", "BJ") and out.bag["item_count"] == 0
    assert full == ["bag", "bag"]
    for item in (not_ready, elsewhere):
        assert reload(engine, item.credential_no).bag_id is None
    with Session(engine) as s:
        assert s.exec(text("SELECT item_count FROM bag WHERE code = :c").bindparams(c=bag)).one()[0] == 0


def test_a_sealed_bag_takes_nothing_more(engine):
    from .factories import open_bag

    with write_session(engine) as s:
        first = make_credential(s, status="accepted")
        item = make_credential(s, status="accepted")
    bag = open_bag(engine, item.route)
    assert _scan(engine, first.credential_no, "bag", "WS-07", nonce(), bag=bag).result == "ok"
    assert _scan(engine, bag, "seal", "WS-07", nonce(), seal="SEAL-000000777").result == "ok"
    out = _scan(engine, item.credential_no, "bag", "WS-07", nonce(), bag=bag)
    assert (out.result, out.reason) == ("rejected", "bag_sealed") and out.bag["item_count"] == 1
    assert reload(engine, item.credential_no).bag_id is None


def test_held_and_revoked_items_fall_back_to_their_refusal(engine, monkeypatch):
    with write_session(engine) as s:
        held = make_credential(s, hold=True)
        revoked = make_credential(s, revoked=True)
    full = _count_full_path(monkeypatch)
    assert _scan(engine, held.credential_no, "handover", "WS-01", nonce()).reason == "on_hold"
    assert _scan(engine, revoked.credential_no, "handover", "WS-01", nonce()).reason == "revoked"
    assert full == ["handover", "handover"]
    assert reload(engine, held.credential_no).status == reload(engine, revoked.credential_no).status == "registered"
