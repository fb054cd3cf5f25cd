"""The station API: capture view, recipient corrections, bags, trips, the
pull tray, incidents and supervisor corrections; roles enforced."""
import uuid

from sqlmodel import select

from credential_track.db import write_session
from credential_track.models import Bag, Credential, Event
from credential_track.services import dispatch

from .factories import do_scan, make_credential, make_trip, open_bag, reload


def item(db, **kw) -> Credential:
    c = make_credential(db, **kw)
    db.commit()
    return c


def post(client, auth, path, body):
    return client.post(path, json=body, headers={"X-CSRFToken": auth.csrf, "Accept-Language": "en"})


def test_capture_view_answers_recipient_data_and_problems(client, station_token, db):
    c = item(db, status="received", recipient_phone="12345")
    resp = client.get(f"/api/v1/station/capture/{c.credential_no}", headers=station_token("WS-03"))
    assert resp.status_code == 200
    assert resp.json["recipient"]["recipient_phone"] == "12345"
    assert resp.json["problems"] == {"recipient_phone": "invalid_phone"}
    assert client.get("/api/v1/station/capture/NOPE", headers=station_token("WS-03")).status_code == 404


def test_capture_view_flags_a_recipient_name_the_label_cannot_print(client, station_token, db):
    c = item(db, status="received", recipient_name="王\U0001F600")
    resp = client.get(f"/api/v1/station/capture/{c.credential_no}", headers=station_token("WS-03"))
    assert resp.json["problems"] == {"recipient_name": "unprintable"}
    assert resp.json["unprintable"] == {"recipient_name": "\U0001F600"}
    rare = item(db, status="received", recipient_name="王𠮷", address="崧泽大道333号䶮")
    resp = client.get(f"/api/v1/station/capture/{rare.credential_no}", headers=station_token("WS-03"))
    assert resp.json["problems"] == {} and resp.json["unprintable"] == {}


def test_capture_view_needs_the_scan_permission(client, auth, db):
    c = item(db, status="received")
    auth.login("agent")
    assert client.get(f"/api/v1/station/capture/{c.credential_no}").status_code == 403
    client.post("/logout", data={"csrf_token": auth.csrf})
    assert client.get(f"/api/v1/station/capture/{c.credential_no}").status_code == 401


def test_correction_through_the_api_records_the_station_of_the_token(client, station_token, db, engine):
    c = item(db, status="received", recipient_phone="12345")
    resp = client.post(f"/api/v1/station/recipient/{c.credential_no}",
                       json={"changes": {"recipient_phone": "13900001111"}}, headers=station_token("WS-04"))
    assert resp.status_code == 200
    assert resp.json["problems"] == {} and resp.json["event_id"]
    ev = db.exec(select(Event).where(Event.id == resp.json["event_id"])).one()
    assert (ev.action, ev.station) == ("correct", "WS-04")
    assert reload(engine, c.credential_no).recipient_phone == "13900001111"


def test_a_bad_correction_is_a_400_naming_the_field(client, auth, db):
    c = item(db, status="received")
    auth.login("operator")
    resp = post(client, auth, f"/api/v1/station/recipient/{c.credential_no}",
                {"changes": {"postcode": "12"}, "station": "WS-03"})
    assert resp.status_code == 400 and resp.json["field"] == "postcode"
    resp = post(client, auth, f"/api/v1/station/recipient/{c.credential_no}",
                {"changes": {"holder_name": "x"}, "station": "WS-03"})
    assert resp.status_code == 400 and resp.json["field"] == "holder_name"
    resp = post(client, auth, f"/api/v1/station/recipient/{c.credential_no}", {"changes": {}})
    assert resp.status_code == 400 and resp.json["field"] == "changes"


def test_bag_detail_and_open_bags(client, auth, engine, db):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    auth.login("operator")
    detail = client.get(f"/api/v1/station/bags/{bag}").json
    assert (detail["code"], detail["item_count"], detail["items"][0]["credential_no"]) == (bag, 1, c.credential_no)
    assert client.get("/api/v1/station/WS-07/bags").json["bags"] == [{"code": bag, "route": c.route, "item_count": 1}]
    assert client.get("/api/v1/station/bags/BAG-999999").status_code == 404


def test_trips_list_by_state(client, auth, engine):
    trip = make_trip(engine)
    auth.login("operator")
    trips = client.get("/api/v1/station/trips?state=loading").json["trips"]
    assert [(t["code"], t["bags"], t["escorts"]) for t in trips] == [(trip, 0, ["李强", "赵磊"])]
    assert client.get("/api/v1/station/trips?state=departed").json["trips"] == []


def test_pull_tray_endpoint_uses_the_site_of_the_station(client, station_token, engine, db):
    c = item(db, status="registered")
    do_scan(engine, c.credential_no, "handover", "WS-01")
    with write_session(engine) as s:
        row = s.get(Credential, c.id)
        row.revoked = True
        s.add(row)
    rcc = client.get("/api/v1/station/WS-02/pull-tray", headers=station_token("WS-02")).json
    pcs = client.get("/api/v1/station/WS-07/pull-tray", headers=station_token("WS-07")).json
    assert [i["credential_no"] for i in rcc["items"]] == [c.credential_no]
    assert (rcc["site"], pcs["site"], pcs["items"]) == ("RCC", "PCS", [])


def test_corrections_are_for_supervisors(client, auth, db, engine):
    c = item(db, status="received")
    out = do_scan(engine, c.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    auth.login("operator")
    assert post(client, auth, "/api/v1/corrections/undo", {"event_id": out.event_id, "reason": "x"}).status_code == 403
    assert client.get("/api/v1/incidents").status_code == 403


def test_supervisor_undo_reopen_release_through_the_api(client, auth, db, engine):
    a = item(db, status="received")
    captured = do_scan(engine, a.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    b = item(db, status="accepted", waybill_no="EE000000014CN")
    bag = open_bag(engine, b.route)
    do_scan(engine, b.credential_no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000001")
    held = item(db, status="received", hold=True, hold_reason="call holder")
    auth.login("supervisor")

    resp = post(client, auth, "/api/v1/corrections/undo", {"event_id": captured.event_id, "reason": "wrong label"})
    assert resp.status_code == 200 and resp.json["to_status"] == "received"
    again = post(client, auth, "/api/v1/corrections/undo", {"event_id": captured.event_id, "reason": "again"})
    assert again.status_code == 409

    resp = post(client, auth, "/api/v1/corrections/reopen", {"bag": bag, "reason": "seal damaged"})
    assert resp.status_code == 200 and resp.json["state"] == "open"
    assert reload(engine, b.credential_no).status == "bagged"

    assert client.get("/api/v1/corrections/held").json["items"][0]["credential_no"] == held.credential_no
    resp = post(client, auth, "/api/v1/corrections/release", {"code": held.credential_no, "reason": "ok now"})
    assert resp.status_code == 200 and resp.json["hold"] is False

    missing = post(client, auth, "/api/v1/corrections/release", {"code": held.credential_no})
    assert missing.status_code == 400 and missing.json["field"] == "reason"
    bad = post(client, auth, "/api/v1/corrections/undo", {"event_id": "12", "reason": "x"})
    assert bad.status_code == 400 and bad.json["field"] == "event_id"


def test_incidents_endpoint_lists_seal_mismatches(client, auth, db, engine):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000001")
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)
    do_scan(engine, bag, "arrive", "WS-10", seal="SEAL-000002")
    auth.login("supervisor")
    [incident] = client.get("/api/v1/incidents").json["incidents"]
    assert (incident["bag"], incident["seal_read"], incident["seal_expected"]) == (bag, "SEAL-000002", "SEAL-000001")
    page = client.get("/station/supervisor").get_data(as_text=True)
    assert "SEAL-000002" in page and bag in page


def test_supervisor_page_forms_undo_reopen_release(client, auth, db, engine):
    a = item(db, status="received")
    captured = do_scan(engine, a.credential_no, "capture", "WS-03", waybill="EE471108151FR")
    held = item(db, status="received", hold=True, hold_reason="call holder")
    auth.login("supervisor")
    page = client.get(f"/station/supervisor?code={a.credential_no}").get_data(as_text=True)
    assert f'name="event_id" value="{captured.event_id}"' in page
    client.post("/station/supervisor/undo", data={"event_id": captured.event_id, "reason": "wrong",
                                                  "csrf_token": auth.csrf})
    assert reload(engine, a.credential_no).status == "received"
    client.post("/station/supervisor/release", data={"code": held.credential_no, "reason": "fine",
                                                     "csrf_token": auth.csrf})
    assert reload(engine, held.credential_no).hold is False
    # a refusal comes back as a message, nothing changes
    client.post("/station/supervisor/reopen", data={"bag": "BAG-999999", "reason": "x", "csrf_token": auth.csrf})
    assert "BAG-999999" in client.get("/station/supervisor").get_data(as_text=True)
    db.rollback()
    assert db.exec(select(Bag)).first() is None


def test_supervisor_undoes_a_load_from_the_bag_timeline(client, auth, db, engine):
    c = item(db, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000001")
    trip = make_trip(engine)
    loaded = do_scan(engine, bag, "load", "WS-09", trip=trip)
    auth.login("supervisor")
    page = client.get(f"/station/supervisor?code={bag}").get_data(as_text=True)
    assert f'name="event_id" value="{loaded.event_id}"' in page
    client.post("/station/supervisor/undo", data={"event_id": loaded.event_id, "reason": "wrong truck",
                                                  "csrf_token": auth.csrf})
    db.rollback()
    assert db.exec(select(Bag)).one().state == "sealed"


def test_every_station_workflow_through_the_endpoints_the_pages_call(client, auth, db, engine):
    """Signed in as an operator in a browser session (cookie + CSRF), as the
    station pages are: capture with a correction and an allocated number,
    accept with the default weight, bag, seal, load, depart, arrive."""
    c = item(db, status="received", recipient_phone="123")
    auth.login("operator")

    def scan(code, action, station, **context):
        resp = post(client, auth, "/api/v1/scans", {"code": code, "action": action, "station": station,
                                                     "nonce": uuid.uuid4().hex, "context": context})
        assert resp.status_code == 200, resp.json
        return resp.json

    view = client.get(f"/api/v1/station/capture/{c.credential_no}?station=WS-03").json
    assert view["problems"] == {"recipient_phone": "invalid_phone"}
    fixed = post(client, auth, f"/api/v1/station/recipient/{c.credential_no}",
                 {"changes": {"recipient_phone": "13811112222"}, "station": "WS-03"}).json
    assert fixed["problems"] == {}
    captured = scan(c.credential_no, "capture", "WS-03")
    assert captured["result"] == "ok" and "Waybill EE20000000" in captured["message"]
    waybill = captured["item"]["waybill_no"]
    assert scan(waybill, "accept", "WS-06")["item"]["status"] == "accepted"
    assert reload(engine, c.credential_no).weight_g == 45

    bag = post(client, auth, "/api/v1/bags", {"route": c.route, "station": "WS-07"}).json["code"]
    assert scan(waybill, "bag", "WS-07", bag=bag)["bag"]["item_count"] == 1
    sealed = scan(bag, "seal", "WS-07", seal="SEAL-000777")
    assert (sealed["result"], sealed["bag"]["state"]) == ("ok", "sealed")

    trip = post(client, auth, "/api/v1/trips", {"vehicle": "沪A·1", "driver": "王", "escorts": ["李", "赵"],
                                               "origin": "分拣中心", "destination": "处理中心"}).json["code"]
    assert scan(bag, "load", "WS-09", trip=trip)["result"] == "ok"
    assert post(client, auth, f"/api/v1/trips/{trip}/depart", {}).json["state"] == "departed"
    wrong = scan(bag, "arrive", "WS-10", seal="SEAL-000778")
    assert (wrong["reason"], wrong["message"]) == (
        "seal_mismatch", "Seal mismatch: stop, do not open the bag, call a supervisor.")
    assert scan(bag, "arrive", "WS-10", seal="SEAL-000777")["bag"]["state"] == "arrived"
    assert reload(engine, c.credential_no).status == "arrived"
    actions = [e.action for e in db.exec(select(Event).where(Event.credential_id == c.id).order_by(Event.id))]
    assert actions == ["recipient_read", "correct", "capture", "accept", "bag", "seal", "depart", "arrive"]
