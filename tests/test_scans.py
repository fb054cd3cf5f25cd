"""The scan service: every action, every refusal reason, events and replays."""
from sqlmodel import select

from credential_track.db import write_session
from credential_track.domain.codes import make_s10
from credential_track.models import Bag, Credential, Event, Trip
from credential_track.services import dispatch
from credential_track.services import scan as scans

from .factories import do_scan, make_credential, make_trip, nonce, open_bag, reload


def item(db, **kw) -> Credential:
    c = make_credential(db, **kw)
    db.commit()
    return c


def events_of(db, credential_no):
    c = db.exec(select(Credential).where(Credential.credential_no == credential_no)).one()
    return db.exec(select(Event).where(Event.credential_id == c.id).order_by(Event.id)).all()


def test_handover_receives_a_registered_item(engine, db):
    c = item(db)
    out = do_scan(engine, c.credential_no, "handover", "WS-01")
    assert (out.result, out.reason, out.item["status"]) == ("ok", None, "received")
    assert reload(engine, c.credential_no).status == "received"
    ev = events_of(db, c.credential_no)[-1]
    assert (ev.action, ev.from_status, ev.to_status, ev.station) == ("handover", "registered", "received", "WS-01")


def test_second_handover_is_already_done_and_changes_nothing(engine, db):
    c = item(db)
    do_scan(engine, c.credential_no, "handover", "WS-01")
    out = do_scan(engine, c.credential_no, "handover", "WS-02")
    assert (out.result, out.reason) == ("rejected", "already_done")
    evs = events_of(db, c.credential_no)
    assert [e.result for e in evs] == ["ok", "rejected"]


def test_unknown_code_is_refused_and_recorded(engine, db):
    out = do_scan(engine, "NO-SUCH-CREDENTIAL", "handover", "WS-01")
    assert (out.result, out.reason, out.item) == ("rejected", "unknown_code", None)
    ev = db.exec(select(Event).where(Event.id == out.event_id)).one()
    assert (ev.reason, ev.code, ev.credential_id) == ("unknown_code", "NO-SUCH-CREDENTIAL", None)


def test_station_may_only_do_its_actions(engine, db):
    c = item(db)
    out = do_scan(engine, c.credential_no, "seal", "WS-01")
    assert out.reason == "not_allowed_here"


def test_capture_binds_a_given_waybill(engine, db):
    c = item(db, status="received")
    out = do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    assert (out.result, out.item["waybill_no"], out.item["status"]) == ("ok", "EE471108151FR", "captured")


def test_capture_refuses_a_bad_check_digit(engine, db):
    c = item(db, status="received")
    out = do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108152FR")
    assert out.reason == "invalid_waybill"
    assert reload(engine, c.credential_no).waybill_no is None


def test_capture_refuses_a_waybill_bound_elsewhere(engine, db):
    item(db, status="captured", waybill_no="EE471108151FR")
    c = item(db, status="received")
    out = do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    assert out.reason == "waybill_in_use"


def test_capture_allocates_from_the_station_range(engine, db):
    a, b = item(db, status="received"), item(db, status="received")
    first = do_scan(engine, a.credential_no, "capture", "WS-03")
    second = do_scan(engine, b.credential_no, "capture", "WS-03")
    assert first.item["waybill_no"] == make_s10("EE", 20000000)
    assert second.item["waybill_no"] == make_s10("EE", 20000001)


def test_capture_without_waybill_at_a_station_without_range_is_missing_context(engine, db):
    with write_session(engine) as s:
        from credential_track.models import Station
        st = s.exec(select(Station).where(Station.code == "WS-06")).one()
        st.actions = "capture accept"
        s.add(st)
    c = item(db, status="received")
    assert do_scan(engine, c.credential_no, "capture", "WS-06").reason == "missing_context"


def test_scanning_an_s10_with_wrong_check_digit_is_invalid_waybill(engine, db):
    assert do_scan(engine, "EE471108152FR", "accept", "WS-05").reason == "invalid_waybill"


def test_accept_by_waybill_uses_default_weight(engine, db):
    c = item(db, status="captured", waybill_no="EE471108151FR")
    with write_session(engine) as s:
        out = scans.scan(s, scans.ScanRequest(code="EE471108151FR", action="accept", station="WS-05",
                                              nonce=nonce()), default_weight_g=45)
    assert (out.result, out.item["status"]) == ("ok", "accepted")
    assert reload(engine, c.credential_no).weight_g == 45


def test_accept_out_of_order_is_wrong_stage(engine, db):
    c = item(db, status="received")
    assert do_scan(engine, c.credential_no, "accept", "WS-05").reason == "wrong_stage"


def test_revoked_and_held_items_are_refused(engine, db):
    r = item(db, status="captured", revoked=True)
    h = item(db, status="captured", hold=True)
    assert do_scan(engine, r.credential_no, "accept", "WS-05").reason == "revoked"
    assert do_scan(engine, h.credential_no, "accept", "WS-05").reason == "on_hold"
    assert reload(engine, r.credential_no).status == "captured"


def test_bag_needs_a_bag_in_context(engine, db):
    c = item(db, status="accepted")
    assert do_scan(engine, c.credential_no, "bag", "WS-07").reason == "missing_context"


def test_bag_and_unbag(engine, db):
    c = item(db, status="accepted")
    bag = open_bag(engine, c.route)
    out = do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    assert (out.result, out.item["status"], out.bag["item_count"]) == ("ok", "bagged", 1)
    out = do_scan(engine, c.credential_no, "unbag", "WS-07", bag=bag)
    assert (out.result, out.item["status"], out.bag["item_count"]) == ("ok", "accepted", 0)


def test_wrong_route_stops_the_item(engine, db):
    c = item(db, status="accepted", province="北京市", district="朝阳区")
    bag = open_bag(engine, "SH-E")
    out = do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    assert out.reason == "wrong_route"
    assert reload(engine, c.credential_no).status == "accepted"


def _sealed_bag(engine, db, n=2, seal="SEAL-00000001"):
    items = [item(db, status="accepted") for _ in range(n)]
    bag = open_bag(engine, items[0].route)
    for c in items:
        assert do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag).result == "ok"
    out = do_scan(engine, bag, "seal", "WS-07", seal=seal)
    assert out.result == "ok", out
    return bag, items


def test_seal_dispatches_every_item_with_an_event_each(engine, db):
    bag, items = _sealed_bag(engine, db, n=3)
    for c in items:
        assert reload(engine, c.credential_no).status == "dispatched"
        assert [e.action for e in events_of(db, c.credential_no)][-1] == "seal"
    assert db.exec(select(Bag).where(Bag.code == bag)).one().state == "sealed"


def test_bagging_into_a_sealed_bag_is_bag_sealed(engine, db):
    bag, items = _sealed_bag(engine, db)
    c = item(db, status="accepted")
    assert do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag).reason == "bag_sealed"


def test_seal_twice_is_already_done_and_seal_needs_a_number(engine, db):
    bag, _ = _sealed_bag(engine, db)
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-00000002").reason == "already_done"
    other = open_bag(engine, "SH-E")
    assert do_scan(engine, other, "seal", "WS-07").reason == "missing_context"


def test_load_depart_arrive(engine, db):
    bag, items = _sealed_bag(engine, db)
    trip = make_trip(engine)
    assert do_scan(engine, bag, "load", "WS-09", trip=trip).result == "ok"
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    assert reload(engine, items[0].credential_no).status == "in_transit"
    out = do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-00000001")
    assert out.result == "ok"
    assert all(reload(engine, c.credential_no).status == "arrived" for c in items)
    assert db.exec(select(Trip).where(Trip.code == trip)).one().state == "arrived"


def test_load_onto_a_departed_trip_is_trip_not_loading(engine, db):
    bag, _ = _sealed_bag(engine, db)
    bag2, _ = _sealed_bag(engine, db, seal="SEAL-00000002")
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    assert do_scan(engine, bag2, "load", "WS-09", trip=trip).reason == "trip_not_loading"


def test_loading_an_unsealed_bag_is_refused(engine, db):
    c = item(db, status="accepted")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    trip = make_trip(engine)
    assert do_scan(engine, bag, "load", "WS-09", trip=trip).reason == "wrong_stage"


def test_seal_mismatch_on_arrival_moves_nothing(engine, db):
    bag, items = _sealed_bag(engine, db)
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    out = do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-99999999")
    assert out.reason == "seal_mismatch"
    assert reload(engine, items[0].credential_no).status == "in_transit"
    assert db.exec(select(Bag).where(Bag.code == bag)).one().state == "in_transit"


def test_bag_not_open_after_it_left(engine, db):
    bag, _ = _sealed_bag(engine, db)
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    c = item(db, status="accepted")
    assert do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag).reason == "bag_not_open"


def test_pull_takes_a_revoked_item_out_of_its_open_bag(engine, db):
    c = item(db, status="accepted")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    with write_session(engine) as s:
        x = s.exec(select(Credential).where(Credential.credential_no == c.credential_no)).one()
        x.revoked = True
        s.add(x)
    assert do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag).reason == "revoked"
    out = do_scan(engine, c.credential_no, "pull", "WS-07")
    assert (out.result, out.item["status"], out.item["bag_id"]) == ("ok", "withdrawn", None)
    assert db.exec(select(Bag).where(Bag.code == bag)).one().item_count == 0


def test_pull_of_a_live_item_is_wrong_stage(engine, db):
    c = item(db)
    assert do_scan(engine, c.credential_no, "pull", "WS-01").reason == "wrong_stage"


def test_seal_refuses_a_bag_holding_a_revoked_item(engine, db):
    c = item(db, status="accepted")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    with write_session(engine) as s:
        x = s.exec(select(Credential).where(Credential.credential_no == c.credential_no)).one()
        x.revoked = True
        s.add(x)
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-1234567").reason == "revoked"


def test_replayed_nonce_returns_first_answer_and_writes_nothing(engine, db):
    c = item(db)
    req = scans.ScanRequest(code=c.credential_no, action="handover", station="WS-01", nonce="same-nonce")
    with write_session(engine) as s:
        first = scans.scan(s, req)
    with write_session(engine) as s:
        second = scans.scan(s, req)
    assert (first.result, first.replayed, second.result, second.replayed) == ("ok", False, "ok", True)
    assert second.event_id == first.event_id and second.item == first.item
    assert len(events_of(db, c.credential_no)) == 1


def test_full_chain_from_registered_to_arrived(engine, db):
    c = item(db)
    assert do_scan(engine, c.credential_no, "handover", "WS-01").result == "ok"
    waybill = do_scan(engine, c.credential_no, "capture", "WS-03").item["waybill_no"]
    assert do_scan(engine, waybill, "accept", "WS-05").result == "ok"
    bag = open_bag(engine, c.route)
    assert do_scan(engine, waybill, "bag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-00000077").result == "ok"
    trip = make_trip(engine)
    assert do_scan(engine, bag, "load", "WS-09", trip=trip).result == "ok"
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    assert do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-00000077").result == "ok"
    assert [e.to_status for e in events_of(db, c.credential_no)] == [
        "received", "captured", "accepted", "bagged", "dispatched", "in_transit", "arrived"]
