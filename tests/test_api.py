"""The JSON API: the scan contract, bags and trips, items, stations, stats."""
from .factories import make_credential


def scan(client, headers, code, action, station, nonce, **context):
    return client.post("/api/v1/scans", headers=headers, json={
        "code": code, "action": action, "station": station, "nonce": nonce, "context": context,
        "scanned_at": "2026-11-05T09:12:03+08:00"})


def test_scan_contract_ok_and_replay(client, db, station_token):
    c = make_credential(db)
    db.commit()
    h = station_token("WS-01")
    r = scan(client, h, c.credential_no, "handover", "WS-01", "n-1")
    assert r.status_code == 200
    body = r.json
    assert set(body) >= {"result", "reason", "message", "item", "event_id", "replayed"}
    assert (body["result"], body["reason"], body["replayed"]) == ("ok", None, False)
    assert body["item"]["credential_no"] == c.credential_no and body["item"]["status"] == "received"
    again = scan(client, h, c.credential_no, "handover", "WS-01", "n-1").json
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == {k: v for k, v in body.items() if k != "replayed"}
    detail = client.get(f"/api/v1/credentials/{c.credential_no}", headers=h).json
    assert len(detail["events"]) == 1


def test_refused_scan_is_http_200_with_reason(client, station_token):
    r = scan(client, station_token("WS-01"), "NOPE", "handover", "WS-01", "n-2")
    assert r.status_code == 200
    assert (r.json["result"], r.json["reason"], r.json["item"]) == ("rejected", "unknown_code", None)
    assert r.json["message"]


def test_malformed_requests_are_400_naming_the_field(client, station_token):
    h = station_token("WS-01")
    cases = [
        ({"action": "handover", "station": "WS-01", "nonce": "x"}, "code"),
        ({"code": "A", "action": "fly", "station": "WS-01", "nonce": "x"}, "action"),
        ({"code": "A", "action": "handover", "station": "WS-01"}, "nonce"),
        ({"code": "A", "action": "handover", "station": "WS-01", "nonce": "x", "context": []}, "context"),
        ({"code": "A", "action": "handover", "station": "WS-01", "nonce": "x", "scanned_at": "yesterday"}, "scanned_at"),
        ({"code": 5, "action": "handover", "station": "WS-01", "nonce": "x"}, "code"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/scans", headers=h, json=body)
        assert r.status_code == 400, body
        assert r.json["field"] == field
    r = client.post("/api/v1/scans", headers=h, data="not json", content_type="application/json")
    assert (r.status_code, r.json["field"]) == (400, "body")


def test_auth_required_and_station_token_acts_for_its_station(client, station_token):
    body = {"code": "A", "action": "handover", "station": "WS-01", "nonce": "x"}
    assert client.post("/api/v1/scans", json=body).status_code in (400, 401)
    assert client.post("/api/v1/scans", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = client.post("/api/v1/scans", json={**body, "station": "WS-02"}, headers=station_token("WS-01"))
    assert r.status_code == 403


def test_station_token_may_omit_station(client, db, station_token):
    c = make_credential(db)
    db.commit()
    r = client.post("/api/v1/scans", headers=station_token("WS-01"),
                    json={"code": c.credential_no, "action": "handover", "nonce": "n-9"})
    assert r.json["result"] == "ok"


def test_user_token_must_name_a_station(client, runner, engine):
    from credential_track.db import write_session
    from credential_track.services import accounts

    with write_session(engine) as s:
        accounts.create_user(s, username="op", password="long enough pw", role="operator")
        secret = accounts.create_token(s, username="op").secret
    r = client.post("/api/v1/scans", headers={"Authorization": f"Bearer {secret}"},
                    json={"code": "A", "action": "handover", "nonce": "n"})
    assert (r.status_code, r.json["field"]) == (400, "station")


def test_organizer_may_not_scan(client, engine):
    from credential_track.db import write_session
    from credential_track.services import accounts

    with write_session(engine) as s:
        accounts.create_user(s, username="org", password="long enough pw", role="organizer")
        secret = accounts.create_token(s, username="org").secret
    r = client.post("/api/v1/scans", headers={"Authorization": f"Bearer {secret}"},
                    json={"code": "A", "action": "handover", "station": "WS-01", "nonce": "n"})
    assert r.status_code == 403


def test_whole_chain_through_the_api(client, db, station_token):
    c = make_credential(db, status="registered")
    db.commit()
    ws = {code: station_token(code) for code in ("WS-01", "WS-03", "WS-05", "WS-07", "WS-09", "WS-10")}
    assert scan(client, ws["WS-01"], c.credential_no, "handover", "WS-01", "c1").json["result"] == "ok"
    cap = scan(client, ws["WS-03"], c.credential_no, "capture", "WS-03", "c2").json
    waybill = cap["item"]["waybill_no"]
    assert waybill and "Waybill" in cap["message"] or "运单号" in cap["message"]
    assert scan(client, ws["WS-05"], waybill, "accept", "WS-05", "c3", weight_g=52).json["result"] == "ok"
    bag = client.post("/api/v1/bags", headers=ws["WS-07"], json={"route": c.route}).json["code"]
    assert scan(client, ws["WS-07"], waybill, "bag", "WS-07", "c4", bag=bag).json["result"] == "ok"
    assert scan(client, ws["WS-07"], bag, "seal", "WS-07", "c5", seal="SEAL-00004242").json["result"] == "ok"
    trip = client.post("/api/v1/trips", headers=ws["WS-09"], json={
        "vehicle": "沪A·88888", "driver": "王师傅", "escorts": ["李强", "赵磊"],
        "origin": "分拣中心", "destination": "国际邮件处理中心"}).json
    assert trip["state"] == "loading"
    assert scan(client, ws["WS-09"], bag, "load", "WS-09", "c6", trip=trip["code"]).json["result"] == "ok"
    dep = client.post(f"/api/v1/trips/{trip['code']}/depart", headers=ws["WS-09"]).json
    assert dep["state"] == "departed" and dep["bags"][0]["code"] == bag
    arr = scan(client, ws["WS-10"], bag, "arrive", "WS-10", "c7", seal="SEAL-00004242").json
    assert arr["result"] == "ok"
    detail = client.get(f"/api/v1/credentials/{c.credential_no}", headers=ws["WS-10"]).json
    assert detail["status"] == "arrived"
    assert [e["to"] for e in detail["events"]] == [
        "received", "captured", "accepted", "bagged", "dispatched", "in_transit", "arrived"]
    assert set(detail["events"][0]) >= {"id", "action", "result", "reason", "from", "to", "station", "at"}


def test_trip_needs_two_escorts(client, station_token):
    r = client.post("/api/v1/trips", headers=station_token("WS-09"), json={
        "vehicle": "沪A·1", "driver": "王", "escorts": ["李"], "origin": "a", "destination": "b"})
    assert (r.status_code, r.json["field"]) == (400, "escorts")


def test_bag_for_unknown_route_is_400(client, station_token):
    r = client.post("/api/v1/bags", headers=station_token("WS-07"), json={"route": "XX"})
    assert (r.status_code, r.json["field"]) == (400, "route")


def test_credentials_page_with_cursor(client, db, station_token):
    for _ in range(5):
        make_credential(db, status="received")
    make_credential(db, status="registered")
    db.commit()
    h = station_token("WS-01")
    first = client.get("/api/v1/credentials?status=received&limit=3", headers=h).json
    assert len(first["items"]) == 3 and first["next"]
    second = client.get(f"/api/v1/credentials?status=received&limit=3&after={first['next']}", headers=h).json
    assert len(second["items"]) == 2 and second["next"] is None
    nos = [i["credential_no"] for i in first["items"] + second["items"]]
    assert len(set(nos)) == 5
    assert set(first["items"][0]) >= {"credential_no", "waybill_no", "status", "route", "credential_type"}


def test_stations_list(client, station_token):
    stations = client.get("/api/v1/stations", headers=station_token("WS-01")).json["stations"]
    by_code = {s["code"]: s for s in stations}
    assert len([s for s in stations if s["kind"] == "work"]) == 10
    assert {"CS-1", "CS-2", "HL-1", "HL-2", "HL-3", "TS-1", "TS-2"} <= set(by_code)
    assert by_code["WS-01"]["actions"] and by_code["WS-01"]["site"]
    every = {a for s in stations for a in s["actions"]}
    assert every == {"handover", "capture", "accept", "bag", "unbag", "seal", "load", "arrive", "pull"}


def test_unknown_credential_is_404(client, station_token):
    r = client.get("/api/v1/credentials/NOPE", headers=station_token("WS-01"))
    assert r.status_code == 404


def test_nonce_reused_for_another_scan_is_409_naming_what_differs(client, db, station_token):
    first, second = make_credential(db), make_credential(db)
    db.commit()
    h1, h2 = station_token("WS-01"), station_token("WS-02")
    assert scan(client, h1, first.credential_no, "handover", "WS-01", "n-shared").json["result"] == "ok"
    for headers, code, action, station, differs in (
            (h1, second.credential_no, "handover", "WS-01", "code"),
            (h1, first.credential_no, "pull", "WS-01", "action"),
            (h2, first.credential_no, "handover", "WS-02", "station")):
        r = scan(client, headers, code, action, station, "n-shared")
        assert r.status_code == 409, (differs, r.json)
        assert r.json["field"] == "nonce" and differs in r.json["error"]
    detail = client.get(f"/api/v1/credentials/{second.credential_no}", headers=h1).json
    assert detail["status"] == "registered" and detail["events"] == []
    # the same scan again is still a replay
    again = scan(client, h1, first.credential_no, "handover", "WS-01", "n-shared").json
    assert again["replayed"] is True
