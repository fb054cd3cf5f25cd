"""The station and office screens as people hit them on day one: hidden
panels stay hidden, printing stays on the scan page, a refused form keeps
what was typed, a supervisor sees the user they add."""
from __future__ import annotations

from datetime import UTC

import pytest

from credential_track.db import write_session
from credential_track.services import accounts

from ..factories import PASSWORD, make_credential
from .conftest import scan, shot, sign_in, wait_settled

SHOWN_THOUGH_HIDDEN = """() => Array.from(document.querySelectorAll('[hidden]'))
    .filter(e => getComputedStyle(e).display !== 'none').map(e => e.id || e.className)"""


def login_as(page, server, engine, role: str, site_id: int | None = None) -> None:
    """A fresh user of `role`, signed in in this browser."""
    with write_session(engine) as s:
        accounts.create_user(s, username=f"t-{role}", password=PASSWORD, role=role, display_name=f"T {role}",
                             site_id=site_id)
    page.context.clear_cookies()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", f"t-{role}")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("station,action", [("WS-07", "bag"), ("WS-07", "unbag"), ("WS-07", "seal"),
                                            ("WS-10", "arrive"), ("WS-03", "capture"), ("WS-10", "load")])
def test_a_scan_page_shows_nothing_hidden_before_its_first_scan(page, server, station, action):
    sign_in(page, server, station)
    page.goto(server.url + f"/station/scan?action={action}")
    assert page.evaluate(SHOWN_THOUGH_HIDDEN) == []
    if action in ("bag", "unbag"):
        assert page.locator("#bag-panel").is_hidden()
        assert not page.locator("#bag-label-link").is_visible()
    if action in ("seal", "arrive"):
        assert page.locator("#pending-bag").is_hidden()
    shot(page, f"before_first_scan_{action}")


# Headless Chromium cannot open a print dialog: each frame's print() records
# what it would have printed, in the page that holds the frame.
_PRINT_SPY = """
window.print = function () {
  var top = window.top;
  top.__printed = (top.__printed || []).concat([location.href]);
};
"""


@pytest.mark.parametrize("station", ["WS-03", "WS-04"])  # PDF labels; ZPL labels (the frame prints the PDF)
def test_f2_prints_the_label_on_the_scan_page_and_the_scan_field_keeps_the_focus(page, server, engine, station):
    page.context.add_init_script(_PRINT_SPY)
    with write_session(engine) as s:
        first = make_credential(s, status="received").credential_no
        second = make_credential(s, status="received").credential_no
    sign_in(page, server, station)
    page.goto(server.url + "/station/scan?action=capture")
    scan(page, first)
    page.wait_for_selector("#capture-panel", state="visible")
    page.keyboard.press("F2")
    wait_settled(page, ok=1)
    page.wait_for_function("() => { const f = document.getElementById('print-frame');"
                           " return f && f.dataset.printed; }")
    assert page.get_attribute("#print-frame", "data-printed") == f"/print/labels/{first}.pdf?format=pdf"
    # the label really is in the frame (framing it is allowed) and was printed from there
    page.wait_for_function("() => { try { const d = document.getElementById('print-frame').contentDocument;"
                           " return !!d && d.contentType === 'application/pdf'; } catch (e) { return false; } }")
    page.wait_for_function("() => (window.__printed || []).length === 1")
    assert page.evaluate("window.__printed")[0].endswith(f"/print/labels/{first}.pdf?format=pdf")
    assert len(page.context.pages) == 1  # no new tab
    assert page.url.endswith("/station/scan?action=capture")
    page.wait_for_function("() => document.activeElement.id === 'scan-input'")
    # the card's print link prints the same way
    page.click("#result-card a.print-link")
    page.wait_for_timeout(300)
    assert len(page.context.pages) == 1
    assert page.evaluate("document.activeElement.id") == "scan-input"
    # and the next scan goes straight on
    scan(page, second)
    page.wait_for_selector("#capture-panel", state="visible")
    assert page.text_content("#cap-credential") == second
    shot(page, f"capture_printed_in_page_{station}")


def test_a_refused_trip_keeps_what_was_typed_and_marks_the_escorts(page, server):
    sign_in(page, server, "WS-09")
    page.goto(server.url + "/station/trips")
    page.fill("#trip-vehicle", "沪A·12345")
    page.fill("#trip-driver", "刘强")
    page.fill("#trip-escort1", "陈杰")
    page.fill("#trip-escort2", "  ")  # not a name: one escort only
    page.fill("#trip-destination", "国家会展中心")
    page.click("#trip-create")
    page.wait_for_selector("p.flash.error")
    assert "two escorts" in page.text_content("p.flash.error")
    assert page.input_value("#trip-vehicle") == "沪A·12345"
    assert page.input_value("#trip-driver") == "刘强"
    assert page.input_value("#trip-escort1") == "陈杰"
    assert page.input_value("#trip-destination") == "国家会展中心"
    assert "field-error" in page.get_attribute("#trip-escort2", "class")
    assert page.evaluate("document.activeElement.id") == "trip-escort1"
    shot(page, "trip_refused_kept")


def test_a_refused_ticket_keeps_what_was_typed(page, server, engine):
    login_as(page, server, engine, "agent")
    page.goto(server.url + "/desk/tickets/new")
    page.fill("input[name=subject]", "证件未收到")
    page.fill("input[name=credential_nos]", "NOSUCH123")
    page.fill("input[name=caller_number]", "13800001111")
    page.fill("textarea[name=note]", "来电人称上周已发货")
    page.click("main form button[type=submit]")
    page.wait_for_selector("p.flash.error")
    assert page.input_value("input[name=subject]") == "证件未收到"
    assert page.input_value("input[name=caller_number]") == "13800001111"
    assert page.input_value("textarea[name=note]") == "来电人称上周已发货"
    assert page.input_value("input[name=credential_nos]") == "NOSUCH123"
    assert "field-error" in (page.get_attribute("input[name=credential_nos]", "class") or "")
    shot(page, "ticket_refused_kept")


def test_a_refused_user_keeps_what_was_typed_but_not_the_password_and_an_added_one_is_listed(page, server, engine):
    login_as(page, server, engine, "supervisor")  # a supervisor without a site
    page.goto(server.url + "/admin/users")
    form = "form[action='/admin/users']"
    page.fill(f"{form} input[name=username]", "b-operator")  # taken
    page.fill(f"{form} input[name=display_name]", "周敏")
    page.fill(f"{form} input[name=password]", "a-long-password-2026")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("p.flash.error")
    assert page.input_value(f"{form} input[name=username]") == "b-operator"
    assert page.input_value(f"{form} input[name=display_name]") == "周敏"
    assert page.input_value(f"{form} input[name=password]") == ""
    assert "field-error" in page.get_attribute(f"{form} input[name=username]", "class")
    shot(page, "user_refused_kept")

    page.fill(f"{form} input[name=username]", "new-op")
    page.fill(f"{form} input[name=password]", "a-long-password-2026")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("p.flash.ok")
    assert "new-op" in page.text_content("main table")
    shot(page, "user_added_listed")


def test_departing_a_trip_asks_first(page, server, engine):
    from sqlmodel import Session, select

    from credential_track.models import Trip

    from ..factories import do_scan, make_trip, open_bag

    with write_session(engine) as s:
        item = make_credential(s, status="accepted", waybill_no="1100000000015")
        route, no = item.route, item.credential_no
    bag = open_bag(engine, route)
    do_scan(engine, no, "bag", "WS-07", bag=bag)
    do_scan(engine, bag, "seal", "WS-07", seal="SEAL-000777")
    trip = make_trip(engine)
    do_scan(engine, bag, "load", "WS-09", trip=trip)
    sign_in(page, server, "WS-09")
    page.goto(server.url + "/station/trips")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click(f"#depart-{trip}")
    page.wait_for_timeout(300)
    assert asked and trip in asked[0] and "1 bags" in asked[0]
    with Session(engine) as s:
        assert s.exec(select(Trip)).one().state == "loading"  # dismissed: nothing happened
    page.once("dialog", lambda d: d.accept())
    page.click(f"#depart-{trip}")
    page.wait_for_selector("p.flash")
    with Session(engine) as s:
        assert s.exec(select(Trip)).one().state == "departed"


def test_a_batch_says_how_many_it_lists_offers_the_csv_and_asks_before_closing(page, server, engine):
    import csv
    import io

    from sqlmodel import Session

    from credential_track.models import HandoverBatch

    with write_session(engine) as s:
        batch = HandoverBatch(name="大批次", expected=230)
        s.add(batch)
        s.flush()
        batch_id = batch.id
        for i in range(230):
            make_credential(s, batch_id=batch_id, holder_name="=HYPERLINK(\"http://x\")")
    sign_in(page, server, "WS-01")
    page.goto(server.url + f"/handover/{batch_id}?station=WS-01")
    assert page.locator("#missing-list li").count() == 200
    assert "Showing 200 of 230 missing" in page.text_content("#missing-shown")
    with page.expect_download() as dl:
        page.click("#discrepancy-csv")
    rows = list(csv.reader(io.StringIO(dl.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 231  # header + every missing item, not 200
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    shot(page, "handover_batch_showing_of")

    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#close-batch")
    page.wait_for_timeout(300)
    assert asked and "230" in asked[0]
    with Session(engine) as s:
        assert s.get(HandoverBatch, batch_id).state == "open"
    page.once("dialog", lambda d: d.accept())
    page.click("#close-batch")
    page.wait_for_selector("p.flash")
    with Session(engine) as s:
        assert s.get(HandoverBatch, batch_id).state == "closed"


@pytest.mark.parametrize("role,full", [("organizer", True), ("supervisor", False)])
def test_the_item_page_opens_from_a_drill_down_row_with_refusals_and_data_per_role(page, server, engine, role, full):
    from ..factories import do_scan

    with write_session(engine) as s:
        no = make_credential(s, status="registered", holder_name="欧阳娜娜", recipient_name="欧阳娜娜",
                             recipient_phone="13987654321").credential_no
    assert do_scan(engine, no, "accept", "WS-06").result == "rejected"  # not handed over yet
    assert do_scan(engine, no, "handover", "WS-01").result == "ok"
    login_as(page, server, engine, role)
    page.goto(server.url + "/dashboard/items?status=received")
    page.click(f"text={no}")
    page.wait_for_url(f"**/{no}")
    timeline = page.text_content(".timeline")
    assert "Refused" in timeline and "wrong stage" in timeline.lower()
    assert page.locator(".timeline li.refused").count() == 1
    person = page.text_content("#item-person")
    if full:
        assert "欧阳娜娜" in person and "13987654321" in person
        assert page.locator("#item-masked").count() == 0
    else:
        assert "欧阳娜娜" not in person and "13987654321" not in person
        assert page.locator("#item-masked").is_visible()
    shot(page, f"item_page_{role}")


def test_tracking_takes_lower_case_numbers_and_a_failed_delivery_says_what_to_do(browser, server, engine):
    with write_session(engine) as s:
        failed = make_credential(s, credential_no="EXPO-A1234", status="delivery_failed",
                                 waybill_no="EE123456785CN", recipient_phone="13800005678")
        moving = make_credential(s, credential_no="EXPO-B5678", status="in_transit", recipient_phone="13800001234",
                                 phone_last4="1234")
        failed_no, moving_no = failed.credential_no, moving.credential_no
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(8000)
    try:
        for typed, last4, status in (("expo-a1234", "5678", failed_no), ("ee123456785cn", "5678", failed_no),
                                     ("expo-b5678", "1234", moving_no)):
            page.goto(server.url + "/track/")
            page.fill("input[name=credential_no]", typed)
            page.fill("input[name=last4]", last4)
            page.click("main form button[type=submit]")
            page.wait_for_selector(".track-result")
            assert status in page.text_content(".track-result h2"), typed
            assert page.text_content("#track-next").strip()
        assert page.locator("#track-call").count() == 0  # on its way: no call needed
        assert "mail centre" in page.text_content("#track-next")
        page.goto(server.url + "/track/")
        page.fill("input[name=credential_no]", "expo-a1234")
        page.fill("input[name=last4]", "5678")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#track-call")
        assert "11183" in page.text_content("#track-call")
        assert "redelivery or pickup" in page.text_content("#track-next")
        shot(page, "track_delivery_failed")
    finally:
        context.close()


def test_outreach_is_paged_says_who_to_call_and_why_and_confirms_the_outcome(page, server, engine):
    from datetime import datetime, timedelta

    from credential_track.models import OutreachTask

    due = datetime.now(UTC) - timedelta(hours=1)
    with write_session(engine) as s:
        for i in range(30):
            item = make_credential(s, status="delivery_failed", recipient_name=f"周{i:02d}",
                                   recipient_phone=f"139000{i:05d}", phone_last4=f"{i:04d}")
            s.add(OutreachTask(credential_id=item.id, rule="delivery_failed", due_at=due + timedelta(minutes=i)))
    login_as(page, server, engine, "agent")
    page.goto(server.url + "/desk/outreach")
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 25
    assert "1–25 of 30" in page.text_content("#outreach-shown")
    first = page.text_content("table.results tbody tr:first-child")
    assert "Delivery failed" in first or "delivery failed" in first.lower()
    who = page.text_content("table.results tbody tr:first-child .who-to-call")
    assert "00000" in who or "0000" in who  # the last digits, masked for an agent
    assert "13900000000" not in who and "周00" not in who
    assert "Reveal to call" in who
    shot(page, "outreach_paged")
    page.click("#outreach-next")
    assert page.locator("table.results tbody tr").count() == 5
    assert "26–30 of 30" in page.text_content("#outreach-shown")
    page.goto(server.url + "/desk/outreach")
    form = page.locator("table.results tbody tr:first-child form.outcome-form")
    form.locator("select[name=outcome]").select_option("no_answer")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash.ok")
    assert "back in the queue" in page.text_content("p.flash.ok")
    shot(page, "outreach_outcome_confirmed")


def test_last_four_digits_alone_explain_what_to_add_and_with_a_name_find_the_holder(page, server, engine):
    with write_session(engine) as s:
        no = make_credential(s, status="in_transit", recipient_name="韩梅梅", holder_name="韩梅梅",
                             recipient_phone="13812344321", phone_last4="4321").credential_no
    login_as(page, server, engine, "agent")
    page.goto(server.url + "/desk/?q=4321")
    assert "Nothing found" in page.text_content("main")
    assert "caller’s name" in page.text_content("#search-hint")
    shot(page, "desk_last4_hint")
    page.goto(server.url + "/desk/?q=4321+韩梅梅")
    assert no in page.text_content("table.results")
    assert page.locator("#search-hint").count() == 0


def test_a_supervisor_adds_edits_and_removes_saved_replies_an_agent_only_reads_them(page, server, engine):
    login_as(page, server, engine, "supervisor")
    page.goto(server.url + "/desk/replies")
    page.fill("form#reply-add input[name=title]", "再投递")
    page.fill("form#reply-add textarea[name=body_zh]", "我们将安排再次投递。")
    page.fill("form#reply-add textarea[name=body_en]", "We will arrange a new delivery.")
    page.click("form#reply-add button[type=submit]")
    page.wait_for_selector("p.flash.ok")
    assert "我们将安排再次投递。" in page.text_content("dl.replies")
    shot(page, "saved_reply_added")
    page.click("details.reply-manage summary")
    edit = page.locator("form.reply-edit").first
    edit.locator("textarea[name=body_zh]").fill("我们将在明天安排再次投递。")
    edit.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash.ok")
    assert "明天" in page.text_content("dl.replies")
    page.click("details.reply-manage summary")
    page.once("dialog", lambda d: d.accept())
    page.locator("form.reply-delete button[type=submit]").first.click()
    page.wait_for_selector("p.flash.ok")
    assert "再投递" not in page.text_content("dl.replies")
    page.fill("form#reply-add input[name=title]", "自取")
    page.fill("form#reply-add textarea[name=body_zh]", "可到注册中心自取。")
    page.click("form#reply-add button[type=submit]")
    page.wait_for_selector("p.flash.ok")
    login_as(page, server, engine, "agent")
    page.goto(server.url + "/desk/replies")
    assert "可到注册中心自取。" in page.text_content("dl.replies")
    assert page.locator("form#reply-add").count() == 0 and page.locator("form.reply-edit").count() == 0


def test_the_missing_at_handover_tile_stays_quiet_for_an_open_batch_and_counts_a_closed_one(page, server, engine):
    from credential_track.models import HandoverBatch
    from credential_track.services import events, handover

    from ..factories import do_scan

    with write_session(engine) as s:
        batch = HandoverBatch(name="进行中", expected=4)
        s.add(batch)
        s.flush()
        batch_id = batch.id
        items = [make_credential(s, batch_id=batch_id) for _ in range(4)]
        for it in items:
            events.record(s, action="import", credential_id=it.id, to_status="registered", code=it.credential_no)
        first = items[0].credential_no
    do_scan(engine, first, "handover", "WS-01", batch=str(batch_id))
    login_as(page, server, engine, "organizer")
    tile = "a.tile[href$='exception=missing_at_handover']"
    page.goto(server.url + "/dashboard/")
    assert page.text_content(f"{tile} .big").strip() == "0"
    assert "alert" not in page.get_attribute(tile, "class")
    shot(page, "dashboard_open_batch_not_missing")
    with write_session(engine) as s:
        handover.close_batch(s, batch_id)
    page.goto(server.url + "/dashboard/")
    assert page.text_content(f"{tile} .big").strip() == "3"
    assert "alert" in page.get_attribute(tile, "class")
    page.click(tile)
    assert page.locator("table.list tbody tr").count() == 3
