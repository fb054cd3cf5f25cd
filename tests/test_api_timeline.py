"""Refused scans are part of an item's story: the timeline of
GET /api/v1/credentials/<no> shows them marked as refusals (reason, station,
time), the change feed carries them naming the item, and the desk's item
page shows them."""
from __future__ import annotations

from credential_track.db import write_session
from credential_track.services import accounts

from .factories import PASSWORD, do_scan, make_credential, open_bag


def _token(engine, role: str) -> dict:
    with write_session(engine) as s:
        accounts.create_user(s, username=f"tl-{role}", password=PASSWORD, role=role)
        return {"Authorization": f"Bearer {accounts.create_token(s, username=f'tl-{role}').secret}"}


def _refusals(client, headers, credential_no):
    detail = client.get(f"/api/v1/credentials/{credential_no}", headers=headers).json
    return [(e["action"], e["reason"], e["station"]) for e in detail["events"] if e["refused"]], detail


def test_refused_scans_of_every_kind_are_in_the_item_timeline_marked_as_refusals(client, engine, station_token):
    with write_session(engine) as s:
        item = make_credential(s, status="captured", waybill_no="EE100000048CN").credential_no
        held = make_credential(s, hold=True, hold_reason="caller asked").credential_no
        other_route = make_credential(s, status="accepted", waybill_no="EE100000051CN",
                                      province="北京市", city="北京市", district="朝阳区").credential_no
    bag = open_bag(engine, "SH-E")
    assert do_scan(engine, item, "accept", "WS-01").reason == "not_allowed_here"  # WS-01 does handover
    assert do_scan(engine, item, "bag", "WS-07", bag=bag).reason == "wrong_stage"  # not accepted yet
    assert do_scan(engine, "EE100000048CN", "accept", "WS-05").result == "ok"
    assert do_scan(engine, item, "handover", "WS-01").reason == "already_done"
    assert do_scan(engine, held, "handover", "WS-01").reason == "on_hold"
    assert do_scan(engine, other_route, "bag", "WS-07", bag=bag).reason == "wrong_route"

    h = _token(engine, "agent")
    refused, detail = _refusals(client, h, item)
    assert refused == [("accept", "not_allowed_here", "WS-01"), ("bag", "wrong_stage", "WS-07"),
                       ("handover", "already_done", "WS-01")]
    assert [e["refused"] for e in detail["events"]] == [True, True, False, True]
    accepted = detail["events"][2]
    assert (accepted["result"], accepted["reason"], accepted["to"]) == ("ok", None, "accepted")
    assert all(e["at"] and e["result"] == "rejected" for e in detail["events"] if e["refused"])
    assert _refusals(client, h, held)[0] == [("handover", "on_hold", "WS-01")]
    assert _refusals(client, h, other_route)[0] == [("bag", "wrong_route", "WS-07")]


def test_the_change_feed_carries_refused_scans_naming_the_item(client, engine):
    with write_session(engine) as s:
        item = make_credential(s).credential_no
    refused = do_scan(engine, item, "accept", "WS-01")
    assert refused.reason == "not_allowed_here"
    feed = client.get("/api/v1/changes", headers=_token(engine, "organizer")).json["events"]
    mine = [e for e in feed if e["id"] == refused.event_id]
    assert [(e["credential_no"], e["result"], e["reason"], e["station"]) for e in mine] == [
        (item, "rejected", "not_allowed_here", "WS-01")]


def test_the_desk_item_page_shows_refused_scans(client, engine, auth):
    with write_session(engine) as s:
        item = make_credential(s).credential_no
    assert do_scan(engine, item, "accept", "WS-01").reason == "not_allowed_here"
    auth.login("agent")
    page = client.get(f"/desk/item/{item}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Refused" in page and "not allowed at this station" in page
    assert 'class="refusal-reason" translate="no">not_allowed_here<' in page and "WS-01" in page
