"""Station pages: sign-in at a station, the scan page of every action, the
pull tray, trips and the supervisor's corrections, through the browser
session (server-rendered parts; the scan loop itself is in tests/browser)."""
from sqlmodel import select

from credential_track.models import Bag, Event, Trip

from .factories import do_scan, make_credential, open_bag


def pick(client, auth, station):
    return client.post("/station/", data={"station": station, "csrf_token": auth.csrf})


def test_picking_a_station_shows_station_site_operator_and_actions(client, auth):
    auth.login("operator")
    assert pick(client, auth, "WS-07").status_code == 302
    page = client.get("/station/home", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "WS-07" in page and "Dispatch station 7" in page
    assert "Postal credential sorting site" in page
    assert "test-operator" in page
    for words in ("Bagging", "Remove from bag", "Sealing", "Pull revoked"):
        assert words in page


def test_station_pages_need_a_chosen_station(client, auth):
    auth.login("operator")
    assert client.get("/station/scan?action=bag").headers["Location"].endswith("/station/")
    assert client.get("/station/home").headers["Location"].endswith("/station/")


def test_a_station_may_only_open_its_own_actions(client, auth):
    auth.login("operator")
    pick(client, auth, "WS-03")
    assert client.get("/station/scan?action=capture").status_code == 200
    assert client.get("/station/scan?action=seal").status_code == 404


def test_a_bound_device_goes_straight_to_its_station(client, auth):
    auth.login("operator")
    client.post("/station/", data={"station": "WS-05", "bind": "1", "csrf_token": auth.csrf})
    client.post("/logout", data={"csrf_token": auth.csrf})
    client.post("/login", data={"username": "test-operator", "password": "correct horse battery",
                                "csrf_token": auth.token("/login")})
    resp = client.get("/station/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/station/home")
    assert "WS-05" in client.get("/station/home").get_data(as_text=True)
    # and the picker is still reachable to change station
    assert client.get("/station/?change=1").status_code == 200
    # unbinding forgets the device's station
    token = auth.token("/station/?change=1")
    client.post("/station/", data={"unbind": "1", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    client.post("/login", data={"username": "test-operator", "password": "correct horse battery",
                                "csrf_token": auth.token("/login")})
    assert client.get("/station/").status_code == 200


def test_every_scan_page_renders_with_its_context_fields(client, auth):
    auth.login("supervisor")
    expect = {"WS-03": {"capture": "capture-panel", "accept": "ctx-weight_g"},
              "WS-07": {"bag": "open-bag-btn", "unbag": "ctx-bag", "seal": "pending-bag", "pull": "scan-input"},
              "WS-10": {"load": "ctx-trip", "arrive": "pending-bag"}}
    for station, pages in expect.items():
        pick(client, auth, station)
        for action, marker in pages.items():
            page = client.get(f"/station/scan?action={action}").get_data(as_text=True)
            assert f'id="{marker}"' in page, (station, action)
            assert 'data-stop-reasons="wrong_route seal_mismatch revoked on_hold"' in page


def test_opening_a_bag_from_the_page_records_an_event_and_presets_the_bag(client, auth, db):
    auth.login("operator")
    pick(client, auth, "WS-07")
    resp = client.post("/station/bags", data={"route": "SH-E", "csrf_token": auth.csrf})
    bag = db.exec(select(Bag)).one()
    assert resp.headers["Location"].endswith(f"/station/scan?action=bag&bag={bag.code}")
    assert bag.route == "SH-E"
    ev = db.exec(select(Event).where(Event.bag_id == bag.id)).one()
    assert (ev.action, ev.station) == ("open_bag", "WS-07")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'value="{bag.code}"' in page


def test_creating_a_trip_needs_two_escorts(client, auth, db):
    auth.login("operator")
    pick(client, auth, "WS-09")
    form = {"vehicle": "沪A·12345", "driver": "王师傅", "escort": ["李强"], "destination": "国际邮件处理中心",
            "csrf_token": auth.csrf}
    client.post("/station/trips", data=form)
    assert db.exec(select(Trip)).first() is None
    assert "押运车次至少需要两名押运员" in client.get("/station/trips").get_data(as_text=True)
    form["escort"] = ["李强", "赵磊"]
    resp = client.post("/station/trips", data=form)
    db.rollback()
    trip = db.exec(select(Trip)).one()
    assert resp.headers["Location"].endswith(f"action=load&trip={trip.code}")
    assert trip.escorts == "李强、赵磊" and trip.origin == "邮政证件分拣中心"


def test_departing_from_the_trips_page_puts_bags_on_the_road(client, auth, engine, db):
    from .factories import make_trip

    c = make_credential(db, status="accepted", waybill_no="EE471108151FR")
    db.commit()
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000001")
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    auth.login("operator")
    pick(client, auth, "WS-09")
    page = client.get("/station/trips").get_data(as_text=True)
    assert f"/print/trips/{trip}.pdf" in page
    client.post(f"/station/trips/{trip}/depart", data={"csrf_token": auth.csrf})
    db.rollback()
    assert db.exec(select(Trip)).one().state == "departed"
    assert db.exec(select(Bag)).one().state == "in_transit"


def test_supervisor_page_is_for_supervisors_only(client, auth):
    auth.login("operator")
    assert client.get("/station/supervisor").status_code == 403
