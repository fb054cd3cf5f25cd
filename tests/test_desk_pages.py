"""The desk pages and the public tracking page."""
from __future__ import annotations

import re

from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import Event, OutreachTask, Ticket
from credential_track.services import outreach

from .desk_helpers import item_at
from .factories import configure, reload

PII = ("张伟", "13812345678", "世纪大道", "华东贸易", "浦东新区")


def _track(client, no, last4):
    page = client.get("/track/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/track/", data={"credential_no": no, "last4": last4, "csrf_token": token})


def test_tracking_page_shows_status_waybill_and_timeline_but_no_personal_data(client, engine):
    it = item_at(engine, "captured")
    with write_session(engine) as s:
        from credential_track.services import events
        events.record(s, action="capture", credential_id=it["id"], from_status="received", to_status="captured")
        events.record(s, action="reveal", credential_id=it["id"], from_status="captured", to_status="captured",
                      details={"reason": "caller 张伟 confirmed"})
    r = _track(client, it["no"], "5678")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert it["waybill"] in html and it["no"] in html
    for secret in PII:
        assert secret not in html
    assert "reveal" not in html.lower()


def test_tracking_page_says_the_same_for_a_wrong_number_and_a_wrong_phone(client, engine):
    it = item_at(engine, "captured")
    wrong_phone = _track(client, it["no"], "0000").get_data(as_text=True)
    unknown = _track(client, "NO-SUCH-1", "5678").get_data(as_text=True)
    # the echoed inputs differ, and so may the CSRF token when the second
    # answer is signed in a later second than the first
    strip = lambda html: re.sub(r'(value|content)="[^"]*"', "", html)  # noqa: E731
    assert it["waybill"] not in wrong_phone
    assert strip(wrong_phone) == strip(unknown)


def test_tracking_page_refuses_after_the_rate_limit(app, client, engine):
    configure(app, TRACK_RATE_LIMIT="3 per minute")
    it = item_at(engine, "captured")
    codes = [_track(client, it["no"], f"{n:04d}").status_code for n in range(3)]
    assert codes == [200, 200, 200]
    assert _track(client, it["no"], "5678").status_code == 429


def test_tracking_page_needs_no_login(client):
    assert client.get("/track/").status_code == 200


def test_desk_search_page_masks_personal_data(client, auth, engine):
    it = item_at(engine, "captured")
    auth.login("agent")
    html = client.get("/desk/", query_string={"q": it["no"]}).get_data(as_text=True)
    assert it["no"] in html and "*******5678" in html and "13812345678" not in html
    assert "张*" in html


def test_desk_reveal_form_records_the_event_and_unmasks(client, auth, engine):
    it = item_at(engine, "captured")
    auth.login("agent")
    r = client.post(f"/desk/item/{it['no']}/reveal", data={"reason": "name and phone confirmed",
                                                          "csrf_token": auth.csrf}, follow_redirects=True)
    assert "13812345678" in r.get_data(as_text=True)
    with Session(engine) as s:
        assert s.exec(select(Event).where(Event.action == "reveal")).one().credential_id == it["id"]


def test_operators_cannot_open_the_desk_and_agents_cannot_decide_intercepts(client, auth):
    auth.login("operator")
    assert client.get("/desk/").status_code == 403
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("agent")
    assert client.get("/desk/").status_code == 200
    assert client.get("/desk/intercepts").status_code == 403


def test_call_with_ticket_then_hold_from_the_ticket_page(client, auth, engine):
    it = item_at(engine, "received")
    auth.login("agent")
    r = client.post("/desk/calls", data={
        "csrf_token": auth.csrf, "credential_no": it["no"], "category": "wrong_data", "caller_number": "13812345678",
        "outcome": "name misspelt", "minutes": "2", "seconds": "5", "open_ticket": "1", "subject": "fix the name"})
    assert r.status_code == 302 and "/desk/tickets/" in r.headers["Location"]
    with Session(engine) as s:
        ticket = s.exec(select(Ticket)).one()
    page = client.get(f"/desk/tickets/{ticket.id}").get_data(as_text=True)
    assert "fix the name" in page and it["no"] in page
    client.post(f"/desk/tickets/{ticket.id}/action", data={"csrf_token": auth.csrf, "action": "hold",
                                                          "credential_no": it["no"], "reason": "await new data"})
    assert reload(engine, it["no"]).hold is True
    r = client.post(f"/desk/tickets/{ticket.id}/state", data={"csrf_token": auth.csrf, "state": "pending"},
                    follow_redirects=True)
    assert r.status_code == 200
    with Session(engine) as s:
        assert s.get(Ticket, ticket.id).state == "pending"


def test_outreach_queue_page_claim_and_outcome(client, auth, engine):
    it = item_at(engine, "returned")
    with write_session(engine) as s:
        outreach.sweep(s)
    auth.login("agent")
    html = client.get("/desk/outreach").get_data(as_text=True)
    assert it["no"] in html
    with Session(engine) as s:
        task = s.exec(select(OutreachTask)).one()
    client.post(f"/desk/outreach/{task.id}/claim", data={"csrf_token": auth.csrf})
    client.post(f"/desk/outreach/{task.id}/outcome", data={"csrf_token": auth.csrf, "outcome": "resolved",
                                                          "note": "will pick up"})
    with Session(engine) as s:
        assert s.get(OutreachTask, task.id).state == "closed"


def test_desk_pages_render_for_every_queue(client, auth, engine):
    item_at(engine, "delivery_failed")
    auth.login("supervisor")
    for path in ("/desk/tickets?view=mine", "/desk/tickets?view=overdue", "/desk/tickets?view=all",
                 "/desk/tickets?view=done", "/desk/tickets/new", "/desk/calls", "/desk/calls?all=1",
                 "/desk/replies", "/desk/outreach?state=closed", "/desk/intercepts"):
        assert client.get(path).status_code == 200, path


def test_search_as_you_type_returns_the_masked_rows(client, auth, engine):
    it = item_at(engine, "captured")
    auth.login("agent")
    html = client.get("/desk/results", query_string={"q": it["no"]}).get_data(as_text=True)
    assert it["no"] in html and "*******5678" in html and "13812345678" not in html
    assert "<html" not in html  # a fragment for the page to swap in
