"""EMS delivery events: moving items, idempotent, per-event results, files."""
from __future__ import annotations

import json
from datetime import UTC

from sqlmodel import Session, func, select

from credential_track.db import write_session
from credential_track.models import Event, Notification, OutreachTask
from credential_track.services import accounts

from .desk_helpers import item_at
from .factories import reload


def _headers(engine, role="supervisor"):
    with write_session(engine) as s:
        from credential_track.models import User
        u = s.exec(select(User).where(User.username == f"feed-{role}")).first()
        if u is None:
            accounts.create_user(s, username=f"feed-{role}", password="correct horse battery", role=role)
        issued = accounts.create_token(s, username=f"feed-{role}")
    return {"Authorization": f"Bearer {issued.secret}"}


def _post(client, headers, events):
    return client.post("/api/v1/delivery-events", json={"events": events}, headers=headers)


def test_ems_codes_and_normalized_names_move_the_item(client, engine):
    a = item_at(engine, "arrived")
    b = item_at(engine, "arrived")
    h = _headers(engine)
    r = _post(client, h, [
        {"waybill": a["waybill"], "event": "EMG", "at": "2026-11-06T09:00:00+08:00"},
        {"waybill": a["waybill"], "event": "EMI", "at": "2026-11-06T11:00:00+08:00", "location": "浦东"},
        {"waybill": b["waybill"], "event": "out_for_delivery", "at": "2026-11-06T09:00:00+08:00"},
        {"waybill": b["waybill"], "event": "delivered", "at": "2026-11-06T10:00:00+08:00"},
    ])
    assert r.status_code == 200
    assert [x["result"] for x in r.json["results"]] == ["applied"] * 4
    assert reload(engine, a["no"]).status == "delivered"
    assert reload(engine, b["no"]).status == "delivered"
    with Session(engine) as s:
        actions = s.exec(select(Event.action).where(Event.credential_id == a["id"]).order_by(Event.id)).all()
    assert actions == ["out_for_delivery", "delivered"]


def test_the_same_event_twice_is_applied_once(client, engine):
    it = item_at(engine, "out_for_delivery")
    h = _headers(engine)
    ev = {"waybill": it["waybill"], "event": "EMH", "at": "2026-11-06T09:00:00Z", "reason": "无人签收"}
    first = _post(client, h, [ev]).json["results"][0]
    again = _post(client, h, [ev, {**ev, "event": "delivery_failed"}]).json["results"]
    assert first["result"] == "applied"
    assert [x["result"] for x in again] == ["duplicate", "duplicate"]
    with Session(engine) as s:
        n = s.exec(select(func.count()).select_from(Event).where(Event.credential_id == it["id"],
                                                                  Event.action == "delivery_failed")).one()
    assert n == 1


def test_informational_ems_events_are_recorded_without_moving(client, engine):
    it = item_at(engine, "in_transit")
    r = _post(client, _headers(engine), [{"waybill": it["waybill"], "event": "EMD", "at": "2026-11-06T09:00:00Z"}])
    assert r.json["results"][0]["result"] == "recorded"
    assert reload(engine, it["no"]).status == "in_transit"


def test_refused_and_unknown_events_get_a_reason_and_may_be_sent_again(client, engine):
    it = item_at(engine, "captured")
    h = _headers(engine)
    ev = {"waybill": it["waybill"], "event": "delivered", "at": "2026-11-06T09:00:00Z"}
    res = _post(client, h, [ev, {"waybill": "EE999999995CN", "event": "EMI", "at": "2026-11-06T09:00:00Z"}])
    assert [(x["result"], x.get("reason")) for x in res.json["results"]] == [
        ("rejected", "wrong_stage"), ("rejected", "unknown_code")]
    with write_session(engine) as s:
        from credential_track.models import Credential
        item = s.get(Credential, it["id"])
        item.status = "arrived"
    assert _post(client, h, [ev]).json["results"][0]["result"] == "applied"


def test_malformed_events_get_per_event_errors_naming_the_field(client, engine):
    it = item_at(engine, "arrived")
    r = _post(client, _headers(engine), [
        {"event": "EMI", "at": "2026-11-06T09:00:00Z"},
        {"waybill": it["waybill"], "event": "EMZ", "at": "2026-11-06T09:00:00Z"},
        {"waybill": it["waybill"], "event": "EMI", "at": "yesterday"},
        {"waybill": it["waybill"], "event": "EMG", "at": "2026-11-06T09:00:00Z"},
    ])
    assert r.status_code == 200
    res = r.json["results"]
    assert [(x["result"], x.get("field")) for x in res[:3]] == [
        ("error", "events[0].waybill"), ("error", "events[1].event"), ("error", "events[2].at")]
    assert res[3]["result"] == "applied"


def test_malformed_json_is_a_400_naming_the_field(client, engine):
    h = _headers(engine)
    r = client.post("/api/v1/delivery-events", data="{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json["field"] == "body"
    r = client.post("/api/v1/delivery-events", json={"events": "EMI"}, headers=h)
    assert r.status_code == 400 and r.json["field"] == "events"


def test_agents_may_not_post_delivery_events(client, engine):
    r = _post(client, _headers(engine, role="agent"), [])
    assert r.status_code == 403


def test_a_failed_delivery_queues_outreach_and_a_message(client, engine):
    it = item_at(engine, "out_for_delivery")
    _post(client, _headers(engine), [{"waybill": it["waybill"], "event": "EMH", "at": "2026-11-06T09:00:00Z"}])
    with Session(engine) as s:
        tasks = s.exec(select(OutreachTask).where(OutreachTask.credential_id == it["id"])).all()
        notes = s.exec(select(Notification).where(Notification.credential_id == it["id"])).all()
    assert [(t.rule, t.state) for t in tasks] == [("delivery_failed", "open")]
    assert [n.kind for n in notes] == ["delivery_failed"]


def test_import_delivery_events_from_csv_and_json(runner, engine, tmp_path):
    a = item_at(engine, "arrived")
    b = item_at(engine, "out_for_delivery")
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(f"运单号,事件,时间,地点\n{a['waybill']},EMG,2026-11-06 09:00:00,浦东\n"
                        f"{a['waybill']},EMI,2026-11-06 12:00:00,浦东\n", encoding="utf-8-sig")
    r = runner.invoke(args=["import", "delivery-events", str(csv_file)])
    assert r.exit_code == 0, r.output
    assert "2 applied" in r.output
    assert reload(engine, a["no"]).status == "delivered"
    json_file = tmp_path / "events.json"
    json_file.write_text(json.dumps({"events": [{"waybill": b["waybill"], "event": "returned",
                                                 "at": "2026-11-07T09:00:00+08:00"}]}))
    r = runner.invoke(args=["import", "delivery-events", str(json_file)])
    assert r.exit_code == 0, r.output
    assert reload(engine, b["no"]).status == "returned"
    again = runner.invoke(args=["import", "delivery-events", str(csv_file)])
    assert again.exit_code == 0 and "2 duplicate" in again.output


def test_import_with_a_malformed_row_writes_nothing(runner, engine, tmp_path):
    a = item_at(engine, "arrived")
    f = tmp_path / "bad.csv"
    f.write_text(f"waybill,event,at\n{a['waybill']},EMG,2026-11-06T09:00:00Z\n{a['waybill']},EMX,2026-11-06T10:00:00Z\n")
    r = runner.invoke(args=["import", "delivery-events", str(f)])
    assert r.exit_code != 0
    assert "row 3: the event “EMX”" in r.output
    assert reload(engine, a["no"]).status == "arrived"


def test_the_same_event_from_two_feeds_at_once_is_applied_once(engine):
    import threading
    from datetime import datetime

    from credential_track.services import delivery

    it = item_at(engine, "arrived")
    ev = delivery.DeliveryInput(waybill=it["waybill"], code="EMI", event="delivered",
                                at=datetime(2026, 11, 6, 3, 0, tzinfo=UTC))
    barrier = threading.Barrier(2)
    results = []

    def feed():
        barrier.wait()
        with write_session(engine) as s:
            results.append(delivery.apply_events(s, [ev])[0]["result"])

    threads = [threading.Thread(target=feed) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["applied", "duplicate"]
    with Session(engine) as s:
        n = s.exec(select(func.count()).select_from(Event).where(Event.credential_id == it["id"],
                                                                  Event.action == "delivered")).one()
    assert n == 1


def test_ems_codes_map_to_the_normalized_events():
    from credential_track.services.delivery import normalize_event

    assert [normalize_event(c) for c in ("EMG", "emh", "EMI", "returned", "Delivered", "EMA", "EMX")] == [
        "out_for_delivery", "delivery_failed", "delivered", "returned", "delivered", "EMA", None]
