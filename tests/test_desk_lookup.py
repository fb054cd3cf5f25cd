"""Hotline lookup: every search key, masking, and the recorded reveal."""
from __future__ import annotations

import json

from sqlmodel import Session, select

from credential_track.models import Event

from .desk_helpers import item_at


def _lookup(client, q):
    r = client.get("/api/v1/lookup", query_string={"q": q})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json["results"]


def test_lookup_by_waybill(client, auth, engine):
    it = item_at(engine, "captured")
    item_at(engine, "captured")
    auth.login("agent")
    results = _lookup(client, it["waybill"])
    assert [r["credential_no"] for r in results] == [it["no"]]
    assert results[0]["waybill_no"] == it["waybill"]


def test_lookup_by_credential_number(client, auth, engine):
    it = item_at(engine)
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, it["no"])] == [it["no"]]


def test_lookup_by_full_phone(client, auth, engine):
    it = item_at(engine, recipient_phone="13900001111", phone_last4="1111")
    item_at(engine, recipient_phone="13900002222", phone_last4="2222")
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, "139-0000-1111")] == [it["no"]]


def test_lookup_by_last4_and_name_in_either_order(client, auth, engine):
    it = item_at(engine, recipient_name="欧阳娜娜", holder_name="欧阳娜娜", recipient_phone="13700004321",
                 phone_last4="4321")
    item_at(engine, recipient_name="欧阳娜娜", holder_name="欧阳娜娜", recipient_phone="13700009999",
            phone_last4="9999")
    item_at(engine, recipient_name="李雷", holder_name="李雷", recipient_phone="13700004321", phone_last4="4321")
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, "4321 欧阳娜娜")] == [it["no"]]
    assert [r["credential_no"] for r in _lookup(client, "欧阳娜娜4321")] == [it["no"]]


def test_lookup_by_two_character_name_exact_and_prefix(client, auth, engine):
    a = item_at(engine, recipient_name="王芳", holder_name="王芳")
    b = item_at(engine, recipient_name="王芳华", holder_name="王芳华")
    item_at(engine, recipient_name="李芳", holder_name="李芳")
    auth.login("agent")
    found = [r["credential_no"] for r in _lookup(client, "王芳")]
    assert found == [a["no"], b["no"]]  # the exact match first, then names starting with it


def test_lookup_by_holder_name_when_recipient_differs(client, auth, engine):
    it = item_at(engine, recipient_name="前台收发室", holder_name="赵子涵")
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, "赵子涵")] == [it["no"]]


def test_lookup_by_organization_substring(client, auth, engine):
    it = item_at(engine, organization="宏达医疗器械有限公司")
    item_at(engine, organization="国泰食品有限公司")
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, "医疗器械")] == [it["no"]]
    assert [r["credential_no"] for r in _lookup(client, "宏达医疗器械有限公司")] == [it["no"]]


def test_name_search_sees_names_changed_after_insert(client, auth, engine, db):
    it = item_at(engine, organization="旧名称贸易公司")
    from credential_track.models import Credential
    item = db.get(Credential, it["id"])
    item.organization = "新世纪科技股份有限公司"
    db.add(item)
    db.commit()
    auth.login("agent")
    assert [r["credential_no"] for r in _lookup(client, "新世纪科技")] == [it["no"]]
    assert _lookup(client, "旧名称贸易") == []


def test_sql_and_like_metacharacters_are_plain_text(client, auth, engine):
    item_at(engine, organization="百分百%公司")
    auth.login("agent")
    assert _lookup(client, "' OR 1=1 --") == []
    assert _lookup(client, "%") == []
    assert _lookup(client, '"百分百') == []


def test_lookup_masks_personal_data_for_agents(client, auth, engine):
    it = item_at(engine, recipient_name="张伟", holder_name="张伟", recipient_phone="13812345678",
                 address="世纪大道100号8楼")
    auth.login("agent")
    r = _lookup(client, it["no"])[0]
    assert r["recipient_name"] == "张*"
    assert r["recipient_phone"] == "*******5678"
    assert "100号" not in r["address"]
    assert r["masked"] is True


def test_organizer_sees_personal_data_unmasked(client, auth, engine):
    it = item_at(engine, recipient_phone="13812345678")
    auth.login("organizer")
    r = _lookup(client, it["no"])[0]
    assert r["recipient_phone"] == "13812345678" and r["masked"] is False


def test_reveal_needs_a_reason_and_records_an_event(client, auth, engine):
    it = item_at(engine, recipient_phone="13812345678")
    auth.login("agent", username="agent-li")
    headers = {"X-CSRFToken": auth.csrf}
    bad = client.post(f"/api/v1/credentials/{it['no']}/reveal", json={}, headers=headers)
    assert bad.status_code == 400 and bad.json["field"] == "reason"
    ok = client.post(f"/api/v1/credentials/{it['no']}/reveal", json={"reason": "caller gave name and phone"},
                     headers=headers)
    assert ok.status_code == 200
    assert ok.json["item"]["recipient_phone"] == "13812345678"
    assert _lookup(client, it["no"])[0]["recipient_phone"] == "13812345678"
    with Session(engine) as s:
        ev = s.exec(select(Event).where(Event.credential_id == it["id"], Event.action == "reveal")).one()
        assert json.loads(ev.details)["reason"] == "caller gave name and phone"
        assert ev.user_id is not None and ev.at is not None


def test_a_reveal_by_one_agent_does_not_unmask_for_another(client, auth, engine, app):
    it = item_at(engine, recipient_phone="13812345678")
    auth.login("agent", username="agent-a")
    client.post(f"/api/v1/credentials/{it['no']}/reveal", json={"reason": "confirmed"},
                headers={"X-CSRFToken": auth.csrf})
    other = app.test_client()
    from .conftest import Auth
    Auth(other, engine).login("agent", username="agent-b")
    r = other.get("/api/v1/lookup", query_string={"q": it["no"]}).json["results"][0]
    assert r["recipient_phone"] == "*******5678"


def test_operators_may_not_look_up(client, auth, engine):
    auth.login("operator")
    assert client.get("/api/v1/lookup", query_string={"q": "张伟"}).status_code == 403


def test_lookup_without_query_names_the_field(client, auth):
    auth.login("agent")
    r = client.get("/api/v1/lookup")
    assert r.status_code == 400 and r.json["field"] == "q"


def test_search_text_is_classified_by_its_shape():
    from credential_track.services.lookup import parse_query

    assert parse_query(" ee471108151fr ").kind == "waybill"
    assert parse_query("EE471108152FR").kind == "invalid_waybill"
    assert parse_query("1100000000015").kind == "waybill"
    assert parse_query("138 1234 5678").value == "13812345678"
    q = parse_query("张伟 5678")
    assert (q.kind, q.name, q.last4) == ("last4_name", "张伟", "5678")
    assert parse_query("CIIE2600000123").kind == "text"
    assert parse_query("   ").kind == "empty"
