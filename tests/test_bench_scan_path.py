"""The scan path as the load benchmark drives it: replays answered from the
stored event without a look-up first, and SQLite writers queued on the
write gate."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from credential_track.db import is_sqlite, write_session
from credential_track.models import Event
from credential_track.services import scans

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


# The optimistic path reads outside the write transaction and writes with a
# conditional UPDATE. These tests change the row between its read and its
# write (from inside the decision, as another station would), and the scan
# must then be decided again under lock.

def _meanwhile(monkeypatch, engine, change):
    """Run `change(engine)` once, after the optimistic path read the item and
    before it writes (the moment another station's scan could land)."""
    real = scans.next_status
    done = []

    def spy(action, status):
        if not done:
            done.append(True)
            change(engine)
        return real(action, status)

    monkeypatch.setattr(scans, "next_status", spy)
    return done


def test_item_moved_meanwhile_gives_already_done_and_one_event(engine, monkeypatch):
    with write_session(engine) as s:
        item = make_credential(s)
    done = _meanwhile(monkeypatch, engine, lambda e: _scan(e, item.credential_no, "handover", "WS-02", nonce()))
    out = _scan(engine, item.credential_no, "handover", "WS-01", nonce())
    assert done and (out.result, out.reason) == ("rejected", "already_done")
    with Session(engine) as s:
        oks = s.exec(select(func.count()).select_from(Event).where(
            Event.credential_id == item.id, Event.action == "handover", Event.result == "ok")).one()[0]
    assert oks == 1
    assert reload(engine, item.credential_no).status == "received"


def test_item_rerouted_meanwhile_is_refused_by_the_bag(engine, monkeypatch):
    from .factories import open_bag

    with write_session(engine) as s:
        item = make_credential(s, status="accepted")  # Shanghai, Pudong
    bag = open_bag(engine, item.route)

    def reroute(e):
        with write_session(e) as s:
            s.execute(text("UPDATE credential SET route = 'BJ' WHERE id = :id"), {"id": item.id})

    done = _meanwhile(monkeypatch, engine, reroute)
    out = _scan(engine, item.credential_no, "bag", "WS-07", nonce(), bag=bag)
    assert done and (out.result, out.reason) == ("rejected", "wrong_route")
    after = reload(engine, item.credential_no)
    assert (after.status, after.bag_id) == ("accepted", None)


def test_bag_sealed_meanwhile_keeps_the_item_out(engine, monkeypatch):
    from .factories import open_bag

    with write_session(engine) as s:
        first = make_credential(s, status="accepted")
        item = make_credential(s, status="accepted")
    bag = open_bag(engine, item.route)
    assert _scan(engine, first.credential_no, "bag", "WS-07", nonce(), bag=bag).result == "ok"
    done = _meanwhile(monkeypatch, engine,
                      lambda e: _scan(e, bag, "seal", "WS-07", nonce(), seal="SEAL-000000777"))
    out = _scan(engine, item.credential_no, "bag", "WS-07", nonce(), bag=bag)
    assert done and (out.result, out.reason) == ("rejected", "bag_sealed")
    assert reload(engine, item.credential_no).bag_id is None
    assert out.bag["item_count"] == 1


def test_optimistic_answer_matches_the_row(engine):
    with write_session(engine) as s:
        item = make_credential(s, status="received")
    out = _scan(engine, item.credential_no, "accept", "WS-06", nonce(), weight_g="52")
    # accept needs a captured item: refused, decided under lock
    assert (out.result, out.reason) == ("rejected", "wrong_stage")
    with write_session(engine) as s:
        s.execute(text("UPDATE credential SET status = 'captured', waybill_no = 'EE123456785CN' WHERE id = :id"),
                  {"id": item.id})
    out = _scan(engine, "EE123456785CN", "accept", "WS-06", nonce(), weight_g="52")
    row = reload(engine, item.credential_no)
    assert out.result == "ok" and out.item["status"] == row.status == "accepted"
    assert row.weight_g == 52 and out.item["waybill_no"] == "EE123456785CN"
