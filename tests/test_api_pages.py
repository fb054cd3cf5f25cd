"""Lists, filters and errors are alike across the API: cursor pages
(`limit`, `after`, `next` null after the last page), filters refused with a
400 naming the parameter when outside their vocabulary, every error
`{"error", "field"}`; and answers are held to their documented models."""
from __future__ import annotations

import pytest

from credential_track.api.models.items import CredentialSummary
from credential_track.api.validation import AnswerBreaksContract, Contract, check_answer
from credential_track.db import write_session
from credential_track.services import accounts

from .factories import PASSWORD, do_scan, make_credential, open_bag


def _token(engine, role: str) -> dict:
    with write_session(engine) as s:
        accounts.create_user(s, username=f"pg-{role}", password=PASSWORD, role=role)
        return {"Authorization": f"Bearer {accounts.create_token(s, username=f'pg-{role}').secret}"}


def _walk(client, headers, path, key, limit=2):
    """Every entry of a cursor page, following `next` to the end."""
    seen, after, pages = [], "", 0
    while True:
        page = client.get(path, query_string={"limit": limit, "after": after}, headers=headers).json
        seen += page[key]
        pages += 1
        if page["next"] is None:
            return seen, pages
        assert isinstance(page["next"], str)
        after = page["next"]


def test_held_items_incidents_and_the_audit_log_are_cursor_pages_to_the_end(client, engine):
    with write_session(engine) as s:
        for n in range(5):
            make_credential(s, credential_no=f"HOLD-{n}", hold=True, hold_reason="asked")
        make_credential(s, credential_no="FREE-1")
    bag = open_bag(engine, "SH-E")
    with write_session(engine) as s:
        make_credential(s, credential_no="IN-BAG", status="accepted", waybill_no="EE100000048CN")
    assert do_scan(engine, "IN-BAG", "bag", "WS-07", bag=bag).result == "ok"
    assert do_scan(engine, bag, "seal", "WS-07", seal="SEAL-1").result == "ok"
    h = _token(engine, "supervisor")

    held, pages = _walk(client, h, "/api/v1/corrections/held", "items")
    assert [i["credential_no"] for i in held] == [f"HOLD-{n}" for n in range(5)] and pages == 3

    audit, _ = _walk(client, h, "/api/v1/audit/events", "events")
    ids = [e["id"] for e in audit]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) >= 3
    # the former name of the cursor still works (deprecated within v1)
    first = client.get("/api/v1/audit/events", query_string={"limit": 1}, headers=h).json
    older = client.get("/api/v1/audit/events", query_string={"limit": 1, "before": first["next"]}, headers=h).json
    assert older["events"][0]["id"] == ids[1]

    incidents = client.get("/api/v1/incidents", headers=h).json
    assert incidents == {"incidents": [], "next": None}


@pytest.mark.parametrize("query, field", [
    ({"status": "lost"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"),
    ({"limit": "²"}, "limit"), ({"after": "x"}, "after"), ({"route": "R" * 9}, "route"),
])
def test_an_item_filter_outside_its_vocabulary_is_a_400_naming_the_parameter(client, station_token, query, field):
    r = client.get("/api/v1/credentials", query_string=query, headers=station_token("WS-01"))
    assert r.status_code == 400 and r.json["field"] == field and field in r.json["error"]


def test_every_kind_of_refusal_has_the_same_error_shape(client, engine, station_token):
    h = station_token("WS-01")
    answers = [
        client.post("/api/v1/scans", json={"action": "handover"}, headers=h),  # 400
        client.get("/api/v1/stats"),  # 401
        client.get("/api/v1/stats", headers=h),  # 403
        client.get("/api/v1/credentials/NOPE", headers=h),  # 404
        client.get("/api/v1/no-such-thing", headers=h),  # 404 for a path no rule has
        client.delete("/api/v1/scans", headers=h),  # 405
    ]
    assert [a.status_code for a in answers] == [400, 401, 403, 404, 404, 405]
    for a in answers:
        assert a.mimetype == "application/json" and set(a.json) == {"error", "field"}, a.json


def test_an_answer_that_breaks_its_model_or_status_is_caught_under_test():
    spec = Contract(answers={200: CredentialSummary})
    good = {"credential_no": "A", "waybill_no": None, "status": "received", "route": "SH-E",
            "credential_type": "exhibitor", "province": None, "city": None, "hold": False, "hold_reason": None,
            "revoked": False, "intercept": False, "bag": None, "batch_id": None, "updated_at": None}
    check_answer(spec, {200, 404}, 200, good)
    with pytest.raises(AnswerBreaksContract):
        check_answer(spec, {200, 404}, 200, {**good, "undocumented": 1})
    with pytest.raises(AnswerBreaksContract):
        check_answer(spec, {200, 404}, 200, {**good, "status": "lost"})
    with pytest.raises(AnswerBreaksContract):
        check_answer(spec, {200, 404}, 409, {"error": "x", "field": None})
