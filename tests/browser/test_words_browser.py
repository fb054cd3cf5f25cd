"""The pages in both languages as a browser shows them: the station scripts
take their words and their clock from the page, the desk, dashboard, audit
log and tracking page show labels and local times. Screenshots of each go to
artifacts/screenshots/words-<page>-<lang>.png."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from credential_track import clock
from credential_track.db import write_session
from credential_track.models import Credential
from credential_track.services import accounts
from credential_track.services.demo import build_demo

from ..factories import PASSWORD
from .conftest import new_context, shot

LANGS = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture
def demo(engine):
    with write_session(engine) as s:
        accounts.create_user(s, username="b-agent", password=PASSWORD, role="agent", display_name="客服小李")
        accounts.create_user(s, username="b-admin", password=PASSWORD, role="admin", display_name="系统管理员")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    build_demo(engine, credentials=200, seed=5, now=now)
    with Session(engine) as s:
        # items in the flow: a held or revoked one is refused at capture, its
        # data not shown; "in_transit" stands for any item past departure (the
        # demo's clock decides whether one is on the road right now)
        wanted = {"received": ("received",), "delivered": ("delivered",),
                  "in_transit": ("in_transit", "arrived", "out_for_delivery", "delivery_failed", "delivered")}
        return {key: s.execute(select(Credential).where(Credential.status.in_(sts), Credential.hold == False,  # noqa: E712
                                                        Credential.revoked == False)  # noqa: E712
                               .order_by(Credential.id)).scalars().first()
                for key, sts in wanted.items()}


def _page(browser, server, lang: str, role: str):
    context = new_context(browser, [], locale=LANGS[lang], viewport={"width": 1280, "height": 900},
                          extra_http_headers={"Accept-Language": LANGS[lang]})
    page = context.new_page()
    page.set_default_timeout(8000)
    page.goto(server.url + "/login")
    page.fill("input[name=username]", f"b-{role}")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_capture_station_speaks_the_page_language_on_the_configured_clock(browser, server, demo, lang):
    context, page = _page(browser, server, lang, "operator")
    try:
        page.goto(server.url + "/station/?change=1")
        page.click("#pick-WS-03")
        page.wait_for_url("**/station/home")
        page.goto(server.url + "/station/scan?action=capture")
        page.keyboard.type(demo["received"].credential_no)
        page.keyboard.press("Enter")
        page.wait_for_selector("#capture-panel", state="visible")
        page.wait_for_selector("#cap-status:not(:empty)")
        status = page.text_content("#cap-status")
        assert status == ("已交接" if lang == "zh" else "received")  # the page's catalogue, not the code
        shot(page, f"words-capture-{lang}")
        # the waybill binds it; then an unknown code with a waybill: refused, in
        # words, and the list shows the time on the configured clock
        for code in ("EE471108151FR", "NOPE-404", "EE471108152FR"):
            page.keyboard.type(code)
            page.keyboard.press("Enter")
        page.wait_for_selector("#recent li:nth-child(2)")
        first = page.text_content("#recent li")
        shown = re.match(r"(\d\d):(\d\d):\d\d", first)
        assert shown, first
        local = clock.now()
        assert abs((int(shown.group(1)) * 60 + int(shown.group(2))) - (local.hour * 60 + local.minute)) % 1440 <= 2
        assert ("未知编码" if lang == "zh" else "Unknown code") in first
        shot(page, f"words-capture-refused-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_desk_dashboard_audit_and_tracking_pages_in_both_languages(browser, server, demo, lang):
    item = demo["in_transit"]
    context, page = _page(browser, server, lang, "admin")
    try:
        page.goto(server.url + f"/desk/item/{item.credential_no}")
        timeline = page.text_content(".timeline")
        assert ("押运专车发车" if lang == "zh" else "Departed on the escorted vehicle") in timeline
        route = page.text_content("dl.facts")
        assert re.search(rf"{re.escape(item.route)} \S", route)  # the route code beside its name
        shot(page, f"words-desk-item-{lang}")
        page.goto(server.url + "/dashboard/")
        assert ("北京时间" if lang == "zh" else "China time") in page.text_content(".headline")
        shot(page, f"words-dashboard-{lang}")
        page.goto(server.url + "/audit/?action=" + ("交接" if lang == "zh" else "Handover"))
        rows = page.locator("table.grid tr").count()
        assert rows > 1
        assert ("交接" if lang == "zh" else "Handover") in page.text_content("table.grid")
        shot(page, f"words-audit-{lang}")
    finally:
        context.close()
    delivered = demo["delivered"]
    public = new_context(browser, [], locale=LANGS[lang], extra_http_headers={"Accept-Language": LANGS[lang]},
                         viewport={"width": 900, "height": 900})
    try:
        page = public.new_page()
        page.goto(server.url + "/track/")
        page.fill("input[name=credential_no]", delivered.credential_no)
        page.fill("input[name=last4]", delivered.phone_last4)
        page.click("main button[type=submit]")
        page.wait_for_selector(".track-result")
        text = page.text_content(".track-result")
        assert "UTC " not in text and ("已妥投" if lang == "zh" else "delivered") in text
        shot(page, f"words-tracking-{lang}")
    finally:
        public.close()
