"""Station pages in headless Chromium, driven by the keyboard as a USB
scanner drives them."""
from __future__ import annotations

import json

from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.domain.codes import make_s10
from credential_track.models import Bag, Credential, Event
from credential_track.services import dispatch, stations

from ..factories import do_scan, make_credential, make_trip, open_bag
from .conftest import counter, new_context, scan, shot, sign_in, wait_settled


def captured_items(engine, n: int, first_serial: int = 50000000, **kw) -> list[str]:
    """n items ready for acceptance; returns their waybill numbers."""
    codes = []
    with write_session(engine) as s:
        for i in range(n):
            w = make_s10("EE", first_serial + i)
            make_credential(s, status="captured", waybill_no=w, **kw)
            codes.append(w)
    return codes


QUEUE_OF_THIS_TAB = ("() => localStorage.getItem('credtrack.queue.WS-06.' + "
                     "sessionStorage.getItem('credtrack.tab'))")


def goto_settled(page, url: str) -> None:
    """Navigate, retrying while Chromium's error page reloads itself."""
    for attempt in range(10):
        try:
            page.goto(url)
            return
        except PlaywrightError:
            page.wait_for_timeout(200)
    page.goto(url)


def events(engine, action: str) -> list[Event]:
    with Session(engine) as s:
        return s.exec(select(Event).where(Event.action == action).order_by(Event.id)).all()


def test_a_burst_of_50_scans_arrives_as_50_events_in_order(page, server, engine):
    codes = captured_items(engine, 50)
    sign_in(page, server, "WS-06")
    page.goto(server.url + "/station/scan?action=accept")
    # as fast as the keyboard goes, no waiting for answers: one stream of
    # keystrokes, each code followed by Enter
    page.keyboard.type("\n".join(codes) + "\n")
    wait_settled(page, ok=50)
    evs = events(engine, "accept")
    assert [e.code for e in evs] == codes
    assert all(e.result == "ok" for e in evs)
    assert len({e.nonce for e in evs}) == 50
    assert counter(page, "warn") == counter(page, "stop") == 0
    assert page.locator("#recent li").count() == 30  # the running list keeps the last 30
    shot(page, "burst_50_accepted")


def test_result_card_counters_and_sounds_for_ok_repeat_and_refusal(page, server, engine):
    [code] = captured_items(engine, 1)
    sign_in(page, server, "WS-06")
    assert "Acceptance station 6" in page.text_content("#station-head")
    assert "B operator" in page.text_content("#station-head")
    shot(page, "station_home")
    page.keyboard.press("1")  # the number keys open the station's actions
    page.wait_for_url("**/station/scan?action=accept")
    card = page.locator("#result-card")

    scan(page, code)
    wait_settled(page, ok=1)
    assert "ok" in card.get_attribute("class").split()
    assert "Accepted into EMS." in card.text_content()
    shot(page, "card_ok")

    scan(page, code)
    page.wait_for_function("() => document.getElementById('count-warn').textContent === '1'")
    assert "warn" in card.get_attribute("class").split()
    assert "Already done" in card.text_content()
    shot(page, "card_already_done")

    scan(page, "NO-SUCH-THING")
    page.wait_for_function("() => document.getElementById('count-stop').textContent === '1'")
    assert "stop" in card.get_attribute("class").split()
    assert "Unknown code: this number is not in the system." in card.text_content()
    assert card.get_attribute("data-reason") == "unknown_code"
    assert page.locator("#stop-overlay").is_hidden()  # a plain refusal does not stop the line
    shot(page, "card_refused")

    assert (counter(page, "ok"), counter(page, "warn"), counter(page, "stop")) == (1, 1, 1)
    assert [li.get_attribute("class") for li in page.locator("#recent li").all()] == ["stop", "warn", "ok"]
    # three different sounds: one high beep, two mid beeps, one low buzz
    assert page.evaluate("window.__tones") == [1320, 660, 660, 160]
    # the session counters survive a reload
    page.reload()
    assert (counter(page, "ok"), counter(page, "warn"), counter(page, "stop")) == (1, 1, 1)


def test_a_station_page_not_served_over_https_says_it_cannot_work_offline(page, server):
    """A service worker needs a secure context (HTTPS, or this machine): a
    station reached over plain HTTP says so at once instead of failing the
    day the network does. (The test browser reaches the server on this
    machine, a secure context: the page is told it is not.)"""
    sign_in(page, server, "WS-06")
    page.goto(server.url + "/station/scan?action=accept")
    page.wait_for_selector("html[data-offline-ready]")
    assert page.locator("#offline-unsafe").is_hidden()
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', { get: () => false })")
    page.reload()
    page.wait_for_selector("#offline-unsafe", state="visible")
    assert "HTTPS" in page.text_content("#offline-unsafe")


def test_scans_queue_while_the_server_is_down_survive_a_reload_and_are_sent_once(page, server, engine):
    codes = captured_items(engine, 5)
    sign_in(page, server, "WS-06")
    url = server.url + "/station/scan?action=accept"
    page.goto(url)
    page.wait_for_selector("html[data-offline-ready]")  # the station shell is kept on this device
    server.stop()
    for code in codes[:3]:
        scan(page, code)
    page.wait_for_selector("#net-status", state="visible")
    page.wait_for_function("() => document.getElementById('count-pending').textContent === '3'")
    assert "Server not reachable" in page.text_content("#net-status")
    assert "Pending: 3" in page.text_content("#net-status")
    # the card says the last scan is kept, not that it counted
    assert "queued" in page.get_attribute("#result-card", "class").split()
    assert "Kept on this device, not sent yet" in page.text_content("#result-card")
    assert "wait" in page.text_content("#offline-checks")
    shot(page, "offline_queued")
    queued = json.loads(page.evaluate(QUEUE_OF_THIS_TAB))
    assert [q["code"] for q in queued] == codes[:3]
    assert events(engine, "accept") == []

    # the operator reloads while the server is still down: the page comes
    # from this device, says it is offline and what waits, and keeps scanning
    page.reload()
    assert page.locator("#scan-app").count() == 1
    page.wait_for_selector("#net-status", state="visible")
    assert page.locator("#offline-checks").is_visible()
    assert "whether the number exists" in page.text_content("#offline-checks")
    for code in codes[3:]:
        scan(page, code)
    page.wait_for_function("() => document.getElementById('count-pending').textContent === '5'")
    shot(page, "offline_reloaded_still_scanning")
    queued = json.loads(page.evaluate(QUEUE_OF_THIS_TAB))
    assert [q["code"] for q in queued] == codes

    server.start()
    wait_settled(page, ok=5)
    evs = events(engine, "accept")
    assert [e.code for e in evs] == codes  # once each, in order
    assert [e.nonce for e in evs] == [q["nonce"] for q in queued]  # with their original nonces
    assert page.evaluate(QUEUE_OF_THIS_TAB) == "[]"
    assert page.locator("#net-status").is_hidden()
    assert page.locator("#offline-checks").is_hidden()
    shot(page, "offline_sent_after_reload")


def test_the_station_home_and_a_scan_page_never_opened_load_while_the_server_is_down(page, server, engine):
    [code] = captured_items(engine, 1)
    sign_in(page, server, "WS-07")
    page.wait_for_selector("html[data-offline-ready]")
    server.stop()
    page.reload()  # the station's home
    assert page.locator("#offline-copy").is_visible()
    assert page.locator(".action-tile").count() >= 3
    page.click("#go-bag")  # never opened before, kept from the home's links
    page.wait_for_selector("#scan-app")
    page.wait_for_selector("#offline-checks", state="visible")
    assert "wrong route" in page.text_content("#offline-checks")
    assert page.evaluate("document.documentElement.dataset.offlineCopy") == "1"
    scan(page, code)
    page.wait_for_function("() => document.getElementById('count-pending').textContent === '1'")
    shot(page, "offline_bag_page_from_cache")
    server.start()
    # nothing else to send: the page notices the server is back by itself
    page.wait_for_function("() => document.getElementById('count-pending').textContent === '0'", timeout=15000)
    page.wait_for_selector("#offline-checks", state="hidden", timeout=15000)


def test_wrong_route_stops_the_line_until_the_operator_confirms(page, server, engine):
    with write_session(engine) as s:
        right = make_credential(s, status="accepted", waybill_no=make_s10("EE", 60000000),
                                province="上海市", district="浦东新区")
        wrong = make_credential(s, status="accepted", waybill_no=make_s10("EE", 60000001),
                                province="北京市", city="北京市", district="朝阳区")
        other = make_credential(s, status="accepted", waybill_no=make_s10("EE", 60000002),
                                province="上海市", district="浦东新区")
        right_no, wrong_no, other_no = right.waybill_no, wrong.waybill_no, other.waybill_no
    bag = open_bag(engine, "SH-E")
    sign_in(page, server, "WS-07")
    page.goto(server.url + "/station/scan?action=bag")
    scan(page, bag)  # the bag label sets the bag in use
    page.wait_for_selector("#bag-panel", state="visible")
    scan(page, right_no)
    wait_settled(page, ok=1)
    scan(page, wrong_no)
    page.wait_for_selector("#stop-overlay", state="visible")
    assert "Wrong route: this item does not belong in this bag. Its route is BJ Beijing." in page.text_content("#stop-message")
    assert page.text_content("#stop-code") == wrong_no
    shot(page, "wrong_route_stop")

    scan(page, other_no)  # the line is stopped: this scan is not taken
    page.wait_for_timeout(300)
    assert counter(page, "pending") == 0
    assert [e.code for e in events(engine, "bag")] == [right_no, wrong_no]

    page.keyboard.press("Escape")
    assert page.locator("#stop-overlay").is_hidden()
    scan(page, other_no)
    wait_settled(page, ok=2)
    assert page.text_content("#bag-count") == "2"


def test_seal_mismatch_on_arrival_stops_the_line_and_is_an_incident(page, server, engine):
    with write_session(engine) as s:
        item = make_credential(s, status="accepted", waybill_no=make_s10("EE", 70000000))
        route, no = item.route, item.credential_no
    bag = open_bag(engine, route)
    assert do_scan(engine, no, "bag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000123").result == "ok"
    trip = make_trip(engine)
    assert do_scan(engine, bag, "load", "WS-09", trip=trip).result == "ok"
    with write_session(engine) as s:
        dispatch.depart_trip(s, code=trip)

    sign_in(page, server, "WS-10")
    page.goto(server.url + "/station/scan?action=arrive")
    scan(page, bag)
    page.wait_for_selector("#pending-bag", state="visible")
    scan(page, "SEAL-000124")
    page.wait_for_selector("#stop-overlay", state="visible")
    assert "Seal mismatch: stop, do not open the bag, call a supervisor." in page.text_content("#stop-message")
    shot(page, "seal_mismatch_stop")
    with Session(engine) as s:
        [incident] = stations.incidents(s)
        assert s.exec(select(Bag)).one().state == "in_transit"
    assert (incident["bag"], incident["seal_read"], incident["seal_expected"]) == (bag, "SEAL-000124", "SEAL-000123")

    page.keyboard.press("Escape")
    scan(page, bag)
    scan(page, "SEAL-000123")
    wait_settled(page, ok=1)
    with Session(engine) as s:
        assert s.exec(select(Bag)).one().state == "arrived"


def test_capture_shows_problems_takes_a_correction_and_allocates_with_one_key(page, server, engine):
    with write_session(engine) as s:
        item = make_credential(s, status="received", recipient_phone="1381234", address="世纪大道")
        no = item.credential_no
    sign_in(page, server, "WS-03")
    page.goto(server.url + "/station/scan?action=capture")
    assert page.locator("#capture-panel").is_hidden()
    scan(page, no)
    page.wait_for_selector("#field-recipient_phone.has-problem")
    assert "not a valid phone number" in page.text_content("#field-recipient_phone .problem")
    assert "incomplete address" in page.text_content("#field-address .problem")
    assert page.input_value("#field-recipient_phone input") == "1381234"
    shot(page, "capture_problems")

    page.fill("#field-recipient_phone input", "13812345678")
    page.fill("#field-address input", "世纪大道100号")
    page.click("#cap-save")
    page.wait_for_function("() => !document.getElementById('field-recipient_phone').classList.contains('has-problem')")
    assert not page.locator(".cap-field.has-problem").count()

    page.keyboard.press("F2")  # allocate a number and print
    wait_settled(page, ok=1)
    assert page.locator("#capture-panel").is_hidden()  # recipient data only while capturing
    assert page.input_value("#field-recipient_phone input") == ""
    link = page.locator("#result-card a.print-link")
    assert link.get_attribute("href") == f"/print/labels/{no}.pdf"
    shot(page, "capture_done")
    with Session(engine) as s:
        row = s.exec(select(Credential).where(Credential.credential_no == no)).one()
        assert (row.status, row.recipient_phone, row.waybill_no) == ("captured", "13812345678", make_s10("EE", 20000000))
        # the page read the recipient data once (recorded, with its station), corrected it, captured
        evs = list(s.exec(select(Event).where(Event.credential_id == row.id).order_by(Event.id)))
        assert [e.action for e in evs] == ["recipient_read", "correct", "capture"]
        assert evs[0].station == evs[1].station


def test_capture_warns_about_a_name_the_label_cannot_print(page, server, engine):
    with write_session(engine) as s:
        no = make_credential(s, status="received", recipient_name="王\U0001F600").credential_no
    sign_in(page, server, "WS-03")
    page.goto(server.url + "/station/scan?action=capture")
    scan(page, no)
    page.wait_for_selector("#field-recipient_name.has-problem")
    warning = page.text_content("#field-recipient_name .problem")
    assert "cannot print" in warning and "U+1F600" in warning
    shot(page, "capture_unprintable")


# A camera that "sees" whatever the test puts in window.__seen.
_FAKE_CAMERA = """
window.__seen = [];
window.BarcodeDetector = class {
  detect() { return Promise.resolve(window.__seen.splice(0).map(function (c) { return { rawValue: c }; })); }
};
if (!navigator.mediaDevices) { Object.defineProperty(navigator, 'mediaDevices', { value: {} }); }
navigator.mediaDevices.getUserMedia = function () {
  var c = document.createElement('canvas'); c.width = 16; c.height = 16;
  c.getContext('2d').fillRect(0, 0, 16, 16);
  return Promise.resolve(c.captureStream());
};
"""


def test_the_scan_page_fits_a_phone_and_its_camera_feeds_the_same_loop(browser, operator_cookies, server, engine):
    [code] = captured_items(engine, 1)
    context = new_context(browser, operator_cookies, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    context.add_init_script(_FAKE_CAMERA)
    page = context.new_page()
    page.set_default_timeout(8000)
    try:
        sign_in(page, server, "WS-06")
        page.goto(server.url + "/station/scan?action=accept")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("#scan-input").is_visible()
        page.tap("#camera-btn")
        page.wait_for_selector("#camera-view", state="visible")
        page.evaluate("(c) => window.__seen.push(c, c)", code)  # read twice in a row: one scan
        wait_settled(page, ok=1)
        page.wait_for_timeout(300)
        assert counter(page, "warn") == 0
        assert [e.code for e in events(engine, "accept")] == [code]
        assert "已收寄。" in page.text_content("#result-card")  # the phone speaks Chinese
        shot(page, "phone_accept_camera")
    finally:
        context.close()


def test_scans_made_after_sign_out_are_kept_and_sent_after_signing_in_again(page, server, engine):
    codes = captured_items(engine, 2)
    sign_in(page, server, "WS-06")
    page.goto(server.url + "/station/scan?action=accept")
    other = page.context.new_page()  # the session ends elsewhere (idle timeout, log out)
    other.goto(server.url + "/station/home")
    other.click("form[action='/logout'] button")
    for code in codes:
        scan(page, code)
    page.wait_for_selector("#net-status[data-state=session]", state="visible")
    assert counter(page, "pending") == 2
    assert "signed out" in page.text_content("#net-status")
    shot(page, "signed_out_kept")
    sign_in(other, server, "WS-06")
    wait_settled(page, ok=2)
    assert [e.code for e in events(engine, "accept")] == codes


# The markup of a page that reuses the loop with only the basic elements (as
# the handover page does): no #scan-texts, no stop overlay, no stop reasons.
_BASIC_LOOP_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="csrf-token" content="{{ csrf_token() }}">
<link rel="stylesheet" href="/static/css/app.css"><link rel="stylesheet" href="/static/css/station.css"></head><body>
<div id="scan-app" class="scan" data-station="WS-01" data-action="handover" data-endpoint="/api/v1/scans"
     data-lang="en" data-offline="Server not reachable" data-pending="pending">
  <form id="scan-form" autocomplete="off"><input id="scan-input" class="scan-input" autofocus></form>
  <div id="net-status" class="net-status" hidden></div>
  <div id="result-card" class="result-card idle">Ready</div>
  <div class="counters"><b id="count-ok">0</b><b id="count-warn">0</b><b id="count-stop">0</b><b id="count-pending">0</b></div>
  <ol id="recent" class="recent"></ol>
</div>
<script src="/static/js/scan.js"></script></body></html>"""


def test_a_page_with_only_the_basic_loop_elements_still_scans_and_stops_the_line(page, server, engine, live_app):
    from flask import render_template_string

    live_app.add_url_rule("/test-basic-loop", "test_basic_loop", lambda: render_template_string(_BASIC_LOOP_PAGE))
    with write_session(engine) as s:
        fine = make_credential(s, status="registered").credential_no
        revoked = make_credential(s, status="registered", revoked=True).credential_no
    sign_in(page, server, "WS-01")
    page.goto(server.url + "/test-basic-loop")
    scan(page, fine)
    wait_settled(page, ok=1)
    scan(page, revoked)
    page.wait_for_selector("#stop-overlay", state="visible")
    assert "Revoked credential: put this item in the red tray." in page.text_content("#stop-message")
    page.keyboard.press("Escape")
    assert page.locator("#stop-overlay").is_hidden()
    assert [e.code for e in events(engine, "handover")] == [fine, revoked]


def test_scans_left_behind_by_a_closed_tab_are_sent_by_the_next_one(page, server, engine):
    codes = captured_items(engine, 2)
    sign_in(page, server, "WS-06")
    left = [{"code": c, "action": "accept", "station": "WS-06", "nonce": f"left-{i}", "context": {},
             "scanned_at": "2026-11-28T09:00:00Z"} for i, c in enumerate(codes)]
    # a tab that died with two scans queued (its last sign of life long ago)
    page.evaluate("""(q) => {
        localStorage.setItem('credtrack.queue.WS-06.deadtab', JSON.stringify(q));
        localStorage.setItem('credtrack.alive.deadtab', '1');
    }""", left)
    page.goto(server.url + "/station/scan?action=accept")
    wait_settled(page, ok=2)
    evs = events(engine, "accept")
    assert [(e.code, e.nonce) for e in evs] == [(q["code"], q["nonce"]) for q in left]
    assert page.evaluate("() => localStorage.getItem('credtrack.queue.WS-06.deadtab')") is None


def test_a_scan_the_server_refuses_as_malformed_is_set_aside_and_the_line_goes_on(page, server, engine):
    first, second, third = captured_items(engine, 3, first_serial=70000000)
    sign_in(page, server, "WS-06")
    page.goto(server.url + "/station/scan?action=accept")
    page.fill("#ctx-weight_g", "²")  # passes isdigit(); the server answers 400 naming context.weight_g
    page.focus("#scan-input")
    scan(page, first)
    page.wait_for_selector("#aside:not([hidden])")
    page.fill("#ctx-weight_g", "")
    page.focus("#scan-input")
    scan(page, second)
    scan(page, third)
    wait_settled(page, ok=2)
    assert [e.code for e in events(engine, "accept")] == [second, third]
    aside = page.locator("#aside-list li")
    assert aside.count() == 1 and first in aside.text_content() and "weight_g" in aside.text_content()
    assert "Set aside" in page.text_content("#aside-title")
    # when, on the configured clock (Shanghai), not the device's (this browser runs in UTC)
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert any((local - timedelta(minutes=m)).strftime("%H:%M") in aside.text_content() for m in (0, 1, 2))
    shot(page, "malformed_scan_set_aside")
    # sent again with the same nonce: still malformed, still set aside, nothing counted
    page.click("#aside-list li .aside-resend")
    page.wait_for_function("() => document.querySelectorAll('#aside-list li').length === 1 && "
                           "document.getElementById('count-pending').textContent === '0'")
    assert len(events(engine, "accept")) == 2
    page.click("#aside-list li .aside-dismiss")
    page.wait_for_selector("#aside", state="hidden")


def test_a_scan_the_server_keeps_failing_on_is_set_aside_once_the_next_scan_goes_through(page, server, engine):
    bad, good, later = captured_items(engine, 3, first_serial=71000000)

    def fail_the_bad_one(route):
        if bad in (route.request.post_data or ""):
            route.fulfill(status=500, content_type="application/json", body='{"error": "internal error"}')
        else:
            route.continue_()

    page.route("**/api/v1/scans", fail_the_bad_one)
    sign_in(page, server, "WS-06")
    page.goto(server.url + "/station/scan?action=accept")
    for code in (bad, good, later):
        scan(page, code)
    page.wait_for_function("() => document.getElementById('count-ok').textContent === '2'", timeout=20000)
    wait_settled(page, ok=2)
    assert [e.code for e in events(engine, "accept")] == [good, later]
    aside = page.locator("#aside-list li")
    assert aside.count() == 1 and bad in aside.text_content() and "HTTP 500" in aside.text_content()
    assert page.locator("#net-status").is_hidden()
    shot(page, "server_error_scan_set_aside")
    # the fault was repaired: sent again, it counts once
    page.unroute("**/api/v1/scans")
    page.click("#aside-list li .aside-resend")
    wait_settled(page, ok=3)
    assert [e.code for e in events(engine, "accept")] == [good, later, bad]
    assert page.locator("#aside").is_hidden()


def test_the_handover_page_sends_its_batch_through_the_scan_context(page, server, engine):
    """Unknown codes scanned on a batch's page are that batch's extras: the
    batch reaches the scan as the loop's context (a .ctx field of the page),
    with nothing patched around the scan loop."""
    from credential_track.models import HandoverBatch

    with write_session(engine) as s:
        batch = HandoverBatch(name="浏览器批次", expected=1)
        s.add(batch)
        s.flush()
        item = make_credential(s, batch_id=batch.id)
        batch_id, code = batch.id, item.credential_no
    sign_in(page, server, "WS-01")
    page.goto(server.url + f"/handover/{batch_id}?station=WS-01")
    assert "[native code]" in page.evaluate("() => window.fetch.toString()")
    scan(page, code)
    scan(page, "NOT-IN-THIS-MANIFEST-1")
    wait_settled(page, ok=1)
    evs = events(engine, "handover")
    assert [(e.code, e.result) for e in evs] == [(code, "ok"), ("NOT-IN-THIS-MANIFEST-1", "rejected")]
    page.wait_for_function("() => document.getElementById('hb-extra').textContent === '1'")
    assert "NOT-IN-THIS-MANIFEST-1" in page.text_content("#extra-list")
    assert page.text_content("#hb-received") == "1"
