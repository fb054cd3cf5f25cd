"""Station services: the capture view and recipient corrections, the pull
tray, incidents, and the supervisor's undo / reopen / release."""
import json

import pytest
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.domain.recipient import parse_phone
from credential_track.models import Bag, Credential, Event
from credential_track.services import corrections, dispatch, stations
from credential_track.services.capture import capture_view, recipient_problems
from credential_track.services.errors import Conflict, ServiceError

from .factories import do_scan, make_credential, make_trip, open_bag, reload


def item(db, **kw) -> Credential:
    c = make_credential(db, **kw)
    db.commit()
    return c


def events_of(db, credential_no):
    db.rollback()
    c = db.exec(select(Credential).where(Credential.credential_no == credential_no)).one()
    return db.exec(select(Event).where(Event.credential_id == c.id).order_by(Event.id)).all()


# ---- capture view and recipient problems ------------------------------------

def test_good_recipient_data_has_no_problems():
    data = {"recipient_name": "张伟", "recipient_phone": "13812345678", "province": "上海市", "city": "上海市",
            "district": "浦东新区", "address": "世纪大道100号8楼", "postcode": "200120"}
    assert recipient_problems(data) == {}


def test_invalid_phone_and_incomplete_address_are_flagged():
    data = {"recipient_name": "张伟", "recipient_phone": "1381234", "province": "火星", "city": "",
            "district": "", "address": "世纪大道", "postcode": "2001"}
    assert recipient_problems(data) == {
        "recipient_phone": "invalid_phone", "province": "unknown_province", "city": "missing",
        "district": "missing", "address": "incomplete_address", "postcode": "invalid_postcode",
    }


@pytest.mark.parametrize("address", ["南京路1号", "世纪大道", "世纪大道一百号楼", "浦东新区世纪大道100号8楼", "张家村3组"])
def test_an_incomplete_address_is_judged_alike_at_import_and_at_capture(engine, tmp_path, address):
    """One rule (domain.recipient.address_incomplete): what the import notes on
    the item, the capture screen marks."""
    from credential_track.domain.recipient import address_incomplete
    from credential_track.services.imports import import_manifest

    from .test_import_manifest import EN, row, write_csv

    result = import_manifest(engine, write_csv(tmp_path / "m.csv", EN, [row("AI1", addr=address)]))
    assert result.committed
    with Session(engine) as s:
        noted = "address may be incomplete" in (s.exec(select(Credential).where(
            Credential.credential_no == "AI1")).one().contact_problem or "")
    data = {"recipient_name": "张伟", "recipient_phone": "13812345678", "province": "上海市", "city": "上海市",
            "district": "浦东新区", "address": address, "postcode": "200120"}
    marked = recipient_problems(data).get("address") == "incomplete_address"
    assert noted == marked == address_incomplete(address)


def test_phone_numbers_are_normalised_like_the_manifest_import():
    assert parse_phone("+86 138-1234-5678").display == "13812345678"
    assert parse_phone("(021) 6888 1234").display == "021-68881234"
    assert recipient_problems({"recipient_phone": "12345"})["recipient_phone"] == "invalid_phone"


def test_capture_view_shows_full_recipient_data_with_problems(engine, db):
    c = item(db, status="received", recipient_phone="138", address="大道")
    view = capture_view(db, c.credential_no)
    assert view["recipient"]["recipient_phone"] == "138"
    assert view["problems"] == {"recipient_phone": "invalid_phone", "address": "incomplete_address"}
    assert view["status"] == "received"


# ---- corrections ------------------------------------------------------------

def test_correcting_recipient_data_is_one_correct_event_with_old_and_new(engine, db):
    c = item(db, status="received", recipient_phone="138", address="大道")
    with write_session(engine) as s:
        _item, ev = corrections.correct_recipient(
            s, code=c.credential_no, changes={"recipient_phone": "139 1234 5678", "address": "世纪大道1号"},
            station="WS-03")
    fixed = reload(engine, c.credential_no)
    assert (fixed.recipient_phone, fixed.phone_last4, fixed.address) == ("13912345678", "5678", "世纪大道1号")
    ev = events_of(db, c.credential_no)[-1]
    assert (ev.action, ev.from_status, ev.to_status, ev.station) == ("correct", "received", "received", "WS-03")
    assert json.loads(ev.details)["fields"]["recipient_phone"] == {"from": "138", "to": "13912345678"}


def test_a_correction_at_capture_and_the_desks_address_change_write_alike(engine, db):
    """One writer of new recipient data (tickets.apply_recipient_changes):
    the station's correction clears the import's contact problem as the
    desk's change does (it left it set, and its outreach call with it)."""
    c = item(db, status="received", recipient_phone="021-68881234", address="世纪大道1号")
    with write_session(engine) as s:
        s.get(Credential, c.id).contact_problem = "landline only: no text messages"
    with write_session(engine) as s:
        corrections.correct_recipient(s, code=c.credential_no, changes={"recipient_phone": "13912345678"},
                                      station="WS-03")
    fixed = reload(engine, c.credential_no)
    assert fixed.contact_problem is None and fixed.recipient_phone_e164 == "+8613912345678"


def test_a_correction_that_changes_the_province_reroutes_the_item(engine, db):
    c = item(db, status="received")
    with write_session(engine) as s:
        corrections.correct_recipient(s, code=c.credential_no,
                                      changes={"province": "浙江", "city": "杭州市", "district": "西湖区"})
    assert reload(engine, c.credential_no).route == "ZJ"
    assert reload(engine, c.credential_no).province == "浙江省"


def test_a_bad_correction_names_the_field_and_writes_nothing(engine, db):
    c = item(db, status="received")
    with pytest.raises(ServiceError) as err, write_session(engine) as s:
        corrections.correct_recipient(s, code=c.credential_no,
                                      changes={"address": "新地址1号", "recipient_phone": "12"})
    assert err.value.field == "recipient_phone"
    assert reload(engine, c.credential_no).address == "世纪大道100号8楼"
    assert [e.action for e in events_of(db, c.credential_no)] == []


def test_a_correction_after_label_printing_asks_for_a_reprint(engine, db):
    c = item(db, status="captured", waybill_no="EE471108151FR")
    with write_session(engine) as s:
        corrections.correct_recipient(s, code=c.credential_no, changes={"address": "世纪大道200号"})
    assert reload(engine, c.credential_no).label_reprint is True


def test_a_correction_once_dispatched_is_an_intercept_request_not_a_change(engine, db):
    c = item(db, status="dispatched")
    with write_session(engine) as s:
        _item, ev = corrections.correct_recipient(s, code=c.credential_no, changes={"address": "世纪大道200号"},
                                                  station="WS-03")
    assert ev.action == "intercept"
    after = reload(engine, c.credential_no)
    assert after.address == "世纪大道100号8楼" and after.intercept is True


def test_no_correction_once_delivered(engine, db):
    c = item(db, status="delivered")
    with pytest.raises(Conflict), write_session(engine) as s:
        corrections.correct_recipient(s, code=c.credential_no, changes={"address": "世纪大道200号"})


def test_unchanged_data_writes_no_event(engine, db):
    c = item(db, status="received")
    with write_session(engine) as s:
        _item, ev = corrections.correct_recipient(s, code=c.credential_no, changes={"address": c.address})
    assert ev is None and events_of(db, c.credential_no) == []


# ---- undo -------------------------------------------------------------------

def test_undo_of_a_capture_unbinds_the_waybill_with_a_compensating_event(engine, db):
    c = item(db, status="received")
    out = do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    with write_session(engine) as s:
        corrections.undo_scan(s, event_id=out.event_id, reason="wrong label stuck on", station="WS-03")
    after = reload(engine, c.credential_no)
    assert (after.status, after.waybill_no) == ("received", None)
    evs = events_of(db, c.credential_no)
    assert [e.action for e in evs] == ["capture", "undo"]  # the original stays
    assert json.loads(evs[-1].details) == {"undoes": out.event_id, "undone_action": "capture",
                                           "reason": "wrong label stuck on"}
    # the waybill is free again
    assert do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108151FR").result == "ok"


def test_undo_of_a_bag_scan_takes_the_item_out_of_the_open_bag(engine, db):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    out = do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    with write_session(engine) as s:
        corrections.undo_scan(s, event_id=out.event_id, reason="scanned twice by mistake")
    after = reload(engine, c.credential_no)
    assert (after.status, after.bag_id) == ("accepted", None)
    db.rollback()
    assert db.exec(select(Bag)).one().item_count == 0


def test_only_the_latest_change_can_be_undone_then_the_one_before(engine, db):
    c = item(db, status="registered")
    first = do_scan(engine, c.credential_no, "handover", "WS-02")
    second = do_scan(engine, c.credential_no, "capture", "WS-02", waybill="EE471108151FR")
    with pytest.raises(Conflict), write_session(engine) as s:
        corrections.undo_scan(s, event_id=first.event_id, reason="x")
    with write_session(engine) as s:
        corrections.undo_scan(s, event_id=second.event_id, reason="wrong item")
    with write_session(engine) as s:
        corrections.undo_scan(s, event_id=first.event_id, reason="not ours")
    assert reload(engine, c.credential_no).status == "registered"
    with pytest.raises(Conflict), write_session(engine) as s:  # an undo is not undone twice
        corrections.undo_scan(s, event_id=first.event_id, reason="again")


def test_refused_scans_and_seals_are_not_undone(engine, db):
    c = item(db, status="registered")
    refused = do_scan(engine, c.credential_no, "accept", "WS-06")
    with pytest.raises(Conflict), write_session(engine) as s:
        corrections.undo_scan(s, event_id=refused.event_id, reason="x")
    with pytest.raises(ServiceError) as err, write_session(engine) as s:
        corrections.undo_scan(s, event_id=refused.event_id, reason="  ")
    assert err.value.field == "reason"


def test_undo_of_a_load_puts_the_bag_back_to_sealed(engine, db):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000001")
    trip = make_trip(engine)
    loaded = do_scan(engine, bag, "load", "WS-09", trip=trip)
    with write_session(engine) as s:
        corrections.undo_scan(s, event_id=loaded.event_id, reason="wrong truck")
    db.rollback()
    b = db.exec(select(Bag)).one()
    assert (b.state, b.trip_id) == ("sealed", None)


# ---- reopen -----------------------------------------------------------------

def _sealed_bag(engine, db, n=2):
    items = [item(db, status="accepted", waybill_no=w) for w in ("EE471108151FR", "EE000000014CN")[:n]]
    bag = open_bag(engine, items[0].route)
    for c in items:
        assert do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000009").result == "ok"
    return bag, items


def test_reopening_a_sealed_bag_puts_its_items_back_to_bagged(engine, db):
    bag, items = _sealed_bag(engine, db)
    with write_session(engine) as s:
        corrections.reopen_bag(s, code=bag, reason="seal put on crooked", station="WS-07")
    db.rollback()
    b = db.exec(select(Bag)).one()
    assert (b.state, b.seal_no) == ("open", None)
    for c in items:
        assert reload(engine, c.credential_no).status == "bagged"
        assert events_of(db, c.credential_no)[-1].action == "reopen"
    ev = db.exec(select(Event).where(Event.bag_id == b.id, Event.action == "reopen",
                                     Event.credential_id.is_(None))).one()
    assert json.loads(ev.details) == {"reason": "seal put on crooked", "seal": "SEAL-000009", "items": 2}
    # the bag can take items out and be sealed again with a new seal
    assert do_scan(engine, items[0].credential_no, "unbag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000010").result == "ok"


def test_an_open_or_loaded_bag_is_not_reopened(engine, db):
    bag = open_bag(engine, "SH-E")
    with pytest.raises(Conflict), write_session(engine) as s:
        corrections.reopen_bag(s, code=bag, reason="x")


# ---- release ----------------------------------------------------------------

def test_releasing_a_hold_lets_stations_take_the_item_again(engine, db):
    c = item(db, status="captured", waybill_no="EE471108151FR", hold=True, hold_reason="address check")
    assert do_scan(engine, c.credential_no, "accept", "WS-06").reason == "on_hold"
    with write_session(engine) as s:
        corrections.release_hold(s, code="EE471108151FR", reason="holder confirmed address")
    assert do_scan(engine, c.credential_no, "accept", "WS-06").result == "ok"
    ev = [e for e in events_of(db, c.credential_no) if e.action == "release"][0]
    assert json.loads(ev.details) == {"reason": "holder confirmed address", "hold_reason": "address check"}
    with pytest.raises(Conflict), write_session(engine) as s:
        corrections.release_hold(s, code=c.credential_no, reason="again")


# ---- pull tray and incidents --------------------------------------------------

def test_pull_tray_lists_revoked_items_still_here_at_this_site(engine, db):
    at_pcs = item(db, status="received")
    do_scan(engine, at_pcs.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    at_rcc = item(db, status="registered")
    do_scan(engine, at_rcc.credential_no, "handover", "WS-01")
    never_scanned = item(db, status="registered", revoked=True)
    fine = item(db, status="received")
    assert do_scan(engine, fine.credential_no, "capture", "WS-03", waybill="EE000000014CN").result == "ok"
    with write_session(engine) as s:
        for c in (at_pcs, at_rcc):
            row = s.exec(select(Credential).where(Credential.id == c.id)).one()
            row.revoked = True
            row.revoked_reason = "organizer cancelled"
            s.add(row)
    pcs = [i["credential_no"] for i in stations.pull_tray(db, site="PCS")["items"]]
    rcc = [i["credential_no"] for i in stations.pull_tray(db, site="RCC")["items"]]
    assert pcs == [at_pcs.credential_no]
    assert rcc == [at_rcc.credential_no]
    assert never_scanned.credential_no not in pcs + rcc
    # pulled: off the tray
    assert do_scan(engine, at_pcs.credential_no, "pull", "WS-07").result == "ok"
    db.rollback()
    assert stations.pull_tray(db, site="PCS")["items"] == []


def test_a_seal_mismatch_on_arrival_is_an_incident_for_supervisors(engine, db):
    bag, _items = _sealed_bag(engine, db, n=1)
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    out = do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-999999")
    assert out.reason == "seal_mismatch"
    db.rollback()
    [incident] = stations.incidents(db)
    assert (incident["bag"], incident["seal_read"], incident["seal_expected"], incident["trip"],
            incident["station"]) == (bag, "SEAL-999999", "SEAL-000009", trip, "WS-10")
    # the bag has not arrived: the line stopped
    assert db.exec(select(Bag)).one().state == "in_transit"


def test_recipient_data_is_shown_only_at_the_capture_step(engine, db):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    view = capture_view(db, c.credential_no)
    assert (view["recipient"], view["problems"], view["status"]) == (None, {}, "accepted")
