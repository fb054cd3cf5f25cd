"""The capture page in headless Chromium: every scan starts from an empty
panel, refusals look and sound like any refused scan, the import's contact
problems show, a correction that changes nothing says so."""
from __future__ import annotations

from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import Event

from ..factories import make_credential
from .conftest import counter, scan, shot, sign_in, wait_settled

BUZZ = 160  # the stop sound's frequency (scan.js)


def _capture_page(page, server):
    sign_in(page, server, "WS-03")
    page.goto(server.url + "/station/scan?action=capture")


def _panel_values(page) -> list[str]:
    return [page.input_value(f"#field-{f} input") for f in ("recipient_name", "recipient_phone", "address")]


def test_an_unknown_number_after_a_holder_clears_the_panel_with_a_red_card_and_a_buzz(page, server, engine):
    with write_session(engine) as s:
        first = make_credential(s, status="received", holder_name="李娜", recipient_name="李娜",
                                recipient_phone="13911112222", address="南京西路1266号").credential_no
    _capture_page(page, server)
    scan(page, first)
    page.wait_for_function("() => document.querySelector('#field-recipient_name input').value === '李娜'")
    assert "李娜" in page.text_content("#cap-holder")

    scan(page, "T9999999")  # a number that is not in the system
    page.wait_for_function("() => document.getElementById('count-stop').textContent === '1'")
    card = page.locator("#result-card")
    assert "stop" in card.get_attribute("class").split()
    assert card.get_attribute("data-reason") == "unknown_code"
    assert page.locator("#capture-panel").is_hidden()
    assert _panel_values(page) == ["", "", ""]
    assert "李娜" not in page.text_content("#scan-app")
    assert BUZZ in page.evaluate("window.__tones")
    shot(page, "capture_unknown_after_holder")
    # the refusal is in the audit trail like any refused scan
    with Session(engine) as s:
        refused = s.exec(select(Event).where(Event.action == "capture")).all()
        assert [(e.code, e.result, e.reason) for e in refused] == [("T9999999", "rejected", "unknown_code")]


def test_each_new_credential_shows_only_its_own_holder(page, server, engine):
    with write_session(engine) as s:
        a = make_credential(s, status="received", holder_name="李娜", recipient_name="李娜",
                            recipient_phone="13911112222").credential_no
        # the second holder's data is incomplete: nothing of the first may fill the gaps
        b = make_credential(s, status="received", holder_name="王芳", recipient_name="王芳",
                            recipient_phone="13922223333", address="", postcode="").credential_no
    _capture_page(page, server)
    scan(page, a)
    page.wait_for_function("() => document.querySelector('#field-recipient_name input').value === '李娜'")
    scan(page, b)
    page.wait_for_function("() => document.querySelector('#field-recipient_name input').value === '王芳'")
    assert page.input_value("#field-address input") == ""
    assert page.input_value("#field-postcode input") == ""
    assert "李娜" not in page.text_content("#capture-panel")
    assert page.text_content("#cap-credential") == b
    shot(page, "capture_second_holder")


def test_an_item_past_capture_or_revoked_is_refused_like_any_scan(page, server, engine):
    with write_session(engine) as s:
        a = make_credential(s, status="received", recipient_name="李娜").credential_no
        delivered = make_credential(s, status="delivered", waybill_no="1100000000015").credential_no
        revoked = make_credential(s, status="received", revoked=True, recipient_name="赵敏").credential_no
    _capture_page(page, server)
    scan(page, a)
    page.wait_for_selector("#capture-panel", state="visible")
    scan(page, delivered)
    page.wait_for_function("() => document.getElementById('result-card').dataset.result === 'rejected'")
    assert page.locator("#result-card").get_attribute("data-reason") in ("wrong_stage", "already_done")
    assert page.locator("#capture-panel").is_hidden()
    assert _panel_values(page) == ["", "", ""]
    scan(page, revoked)  # revoked stops the line, and its data is not shown
    page.wait_for_selector("#stop-overlay", state="visible")
    assert "赵敏" not in page.text_content("#scan-app")
    assert page.locator("#capture-panel").is_hidden()
    shot(page, "capture_revoked_stops")


def test_a_landline_flagged_at_import_is_highlighted_and_an_unchanged_correction_says_so(page, server, engine):
    with write_session(engine) as s:
        no = make_credential(s, status="received", recipient_phone="021-68881234",
                             contact_problem="landline only: no text messages").credential_no
    _capture_page(page, server)
    scan(page, no)
    page.wait_for_selector("#field-recipient_phone.has-problem")
    assert "landline only" in page.text_content("#field-recipient_phone .problem")
    shot(page, "capture_landline")
    # typed again as it was, with spaces: the server finds nothing to change
    page.fill("#field-recipient_phone input", " 021 6888 1234 ")
    page.click("#cap-save")
    page.wait_for_function("() => document.getElementById('cap-note').textContent !== ''")
    assert "Nothing changed" in page.text_content("#cap-note")
    assert "Correction saved" not in page.text_content("#cap-note")
    with Session(engine) as s:
        assert not s.exec(select(Event).where(Event.action == "correct")).all()
    # a mobile number clears the highlight and is saved
    page.fill("#field-recipient_phone input", "13812345678")
    page.click("#cap-save")
    page.wait_for_function("() => !document.getElementById('field-recipient_phone').classList.contains('has-problem')")
    assert "Correction saved." in page.text_content("#cap-note")
    assert counter(page, "stop") == 0
    wait_settled(page)
