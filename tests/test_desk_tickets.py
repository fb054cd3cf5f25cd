"""Calls, tickets with SLA, and the actions taken from a ticket as events."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import Event, InterceptRequest, Notification, TicketNote
from credential_track.models.base import utcnow
from credential_track.services import tickets
from credential_track.services.errors import Conflict, ServiceError

from .desk_helpers import item_at, user_id
from .factories import do_scan, reload


def _ticket(engine, agent, nos=(), **kw):
    with write_session(engine) as s:
        t = tickets.open_ticket(s, category=kw.pop("category", "address_change"), subject="caller asks",
                                created_by=agent, desk="CS-1", credential_nos=list(nos), **kw)
        return t.id


def _events(engine, cid, action):
    with Session(engine) as s:
        return s.exec(select(Event).where(Event.credential_id == cid, Event.action == action)).all()


def test_call_is_logged_with_line_desk_agent_item_and_duration(engine):
    it = item_at(engine)
    agent = user_id(engine, "agent-c", "agent")
    with write_session(engine) as s:
        call = tickets.log_call(s, line="HL-2", desk="CS-1", agent_id=agent, category="where_is_it",
                                caller_number="13812345678", credential_no=it["no"], outcome="told status",
                                duration_s=95)
        assert (call.line, call.desk, call.credential_id, call.duration_s) == ("HL-2", "CS-1", it["id"], 95)
        with pytest.raises(ServiceError) as e:
            tickets.log_call(s, line="WS-01", desk="CS-1", agent_id=agent, category="other")
        assert e.value.field == "line"


def test_ticket_lifecycle_and_sla_per_priority(engine):
    agent = user_id(engine, "agent-t", "agent")
    now = utcnow()
    with write_session(engine) as s:
        urgent = tickets.open_ticket(s, category="complaint", subject="angry", priority="urgent",
                                     created_by=agent, now=now)
        low = tickets.open_ticket(s, category="other", subject="later", priority="low", created_by=agent, now=now)
        assert urgent.due_at == now + timedelta(hours=2)
        assert low.due_at == now + timedelta(hours=72)
        settings = tickets.TicketSettings()
        settings.sla_hours["urgent"] = 1
        faster = tickets.open_ticket(s, category="complaint", subject="x", priority="urgent", created_by=agent,
                                     now=now, settings=settings)
        assert faster.due_at == now + timedelta(hours=1)
        tid = urgent.id
        for state in ("pending", "open", "resolved", "closed"):
            tickets.set_state(s, ticket_id=tid, state=state, user_id=agent)
        assert urgent.closed_at is not None and urgent.resolved_at is not None
        with pytest.raises(Conflict):
            tickets.set_state(s, ticket_id=tid, state="open", user_id=agent)
        with pytest.raises(Conflict):
            tickets.set_state(s, ticket_id=low.id, state="closed", user_id=agent)  # resolve first
        history = [n.body for n in s.exec(select(TicketNote).where(TicketNote.ticket_id == tid))]
        assert history == ["open → pending", "pending → open", "open → resolved", "resolved → closed"]


def test_overdue_tickets_are_in_the_overdue_queue(engine):
    agent = user_id(engine, "agent-o", "agent")
    past = utcnow() - timedelta(hours=5)
    with write_session(engine) as s:
        late = tickets.open_ticket(s, category="other", subject="late", priority="urgent", created_by=agent, now=past)
        on_time = tickets.open_ticket(s, category="other", subject="fine", created_by=agent)
        overdue = tickets.ticket_queue(s, view="overdue")
        assert [t.id for t in overdue] == [late.id]
        assert tickets.is_overdue(late) and not tickets.is_overdue(on_time)
        assert {t.id for t in tickets.ticket_queue(s, view="mine", user_id=agent)} == {late.id, on_time.id}
        assert {t.id for t in tickets.ticket_queue(s, view="desk", desk="CS-2")} == set()


def test_change_address_before_acceptance_updates_and_flags_reprint(engine):
    it = item_at(engine, "captured", contact_problem="address incomplete")
    agent = user_id(engine, "agent-x", "agent")
    tid = _ticket(engine, agent, [it["no"]])
    with write_session(engine) as s:
        out = tickets.change_address(s, ticket_id=tid, credential_no=it["no"], user_id=agent,
                                     fields={"province": "浙江", "city": "杭州市", "address": "文三路1号"})
    assert out["result"] == "updated" and out["label_reprint"] is True
    item = reload(engine, it["no"])
    assert (item.province, item.address, item.label_reprint, item.contact_problem) == \
        ("浙江省", "文三路1号", True, None)
    assert item.route != "SH"  # re-routed with the province
    [ev] = _events(engine, it["id"], "update")
    assert json.loads(ev.details)["old"]["address"] == "世纪大道100号8楼"


def test_change_address_after_dispatch_raises_an_intercept_request(engine):
    it = item_at(engine, "in_transit")
    agent = user_id(engine, "agent-y", "agent")
    sup = user_id(engine, "sup-y", "supervisor")
    tid = _ticket(engine, agent, [it["no"]])
    with write_session(engine) as s:
        out = tickets.change_address(s, ticket_id=tid, credential_no=it["no"], user_id=agent,
                                     fields={"address": "新地址88号"})
    assert out["result"] == "intercept_requested"
    item = reload(engine, it["no"])
    assert item.intercept is True and item.address == "世纪大道100号8楼"
    assert len(_events(engine, it["id"], "intercept")) == 1
    with write_session(engine) as s:
        [(req, _item)] = tickets.intercept_requests(s)
        tickets.decide_intercept(s, request_id=req.id, done=True, user_id=sup, note="stopped at office")
    item = reload(engine, it["no"])
    assert item.address == "新地址88号" and item.intercept is False
    with Session(engine) as s:
        assert s.exec(select(InterceptRequest)).one().state == "done"


def test_change_address_of_a_delivered_item_is_refused(engine):
    it = item_at(engine, "delivered")
    agent = user_id(engine, "agent-z", "agent")
    tid = _ticket(engine, agent)
    with write_session(engine) as s, pytest.raises(Conflict):
        tickets.change_address(s, ticket_id=tid, credential_no=it["no"], user_id=agent, fields={"address": "x路"})


def test_hold_and_release_from_a_ticket_are_events_and_stop_scans(engine):
    it = item_at(engine, "received")
    agent = user_id(engine, "agent-h", "agent")
    tid = _ticket(engine, agent, category="wrong_data")
    with write_session(engine) as s:
        tickets.hold(s, ticket_id=tid, credential_no=it["no"], reason="name misspelt", user_id=agent)
    assert do_scan(engine, it["no"], "capture", "WS-03", waybill="EE000000019CN").reason == "on_hold"
    with write_session(engine) as s:
        with pytest.raises(Conflict):
            tickets.hold(s, ticket_id=tid, credential_no=it["no"], reason="again", user_id=agent)
    with write_session(engine) as s, pytest.raises(ServiceError) as no_reason:
        tickets.release(s, ticket_id=tid, credential_no=it["no"], reason=" ", user_id=agent)
    assert no_reason.value.field == "reason"
    with write_session(engine) as s:
        tickets.release(s, ticket_id=tid, credential_no=it["no"], reason="holder confirmed", user_id=agent)
    assert reload(engine, it["no"]).hold is False
    assert len(_events(engine, it["id"], "hold")) == 1 and len(_events(engine, it["id"], "release")) == 1
    with Session(engine) as s:
        kinds = [n.kind for n in s.exec(select(TicketNote).where(TicketNote.ticket_id == tid))]
    assert kinds.count("action") == 2


def test_self_pickup_holds_an_item_at_the_site_and_tells_the_holder(engine):
    it = item_at(engine, "accepted")
    agent = user_id(engine, "agent-p", "agent")
    tid = _ticket(engine, agent, category="other")
    with write_session(engine) as s:
        out = tickets.arrange_self_pickup(s, ticket_id=tid, credential_no=it["no"], user_id=agent)
    assert out == {"result": "held_for_pickup", "event_id": out["event_id"], "notified": True}
    item = reload(engine, it["no"])
    assert item.hold and item.hold_reason == "self_pickup"
    [ev] = _events(engine, it["id"], "hold")
    assert json.loads(ev.details)["kind"] == "self_pickup"
    with Session(engine) as s:
        assert [n.kind for n in s.exec(select(Notification))] == ["ready_for_pickup"]


def test_self_pickup_after_dispatch_is_an_intercept_request(engine):
    it = item_at(engine, "dispatched")
    agent = user_id(engine, "agent-q", "agent")
    tid = _ticket(engine, agent, category="other")
    with write_session(engine) as s:
        out = tickets.arrange_self_pickup(s, ticket_id=tid, credential_no=it["no"], user_id=agent)
    assert out["result"] == "intercept_requested"
    assert reload(engine, it["no"]).intercept is True
    assert len(_events(engine, it["id"], "intercept")) == 1


def test_desk_and_station_release_a_hold_by_one_rule(engine):
    """A release needs a reason wherever it is made, and records the same
    facts: the reason and the hold it ends."""
    from credential_track.services import corrections

    agent = user_id(engine, "agent-r", "agent")
    tid = _ticket(engine, agent, category="wrong_data")
    recorded = []
    for how in ("desk", "station"):
        it = item_at(engine, "received")
        with write_session(engine) as s:
            tickets.link_item(s, ticket_id=tid, credential_no=it["no"])
            tickets.hold(s, ticket_id=tid, credential_no=it["no"], reason="check the name", user_id=agent)
        with write_session(engine) as s, pytest.raises(ServiceError):
            if how == "desk":
                tickets.release(s, ticket_id=tid, credential_no=it["no"], reason="", user_id=agent)
            else:
                corrections.release_hold(s, code=it["no"], reason="", user_id=agent)
        with write_session(engine) as s:
            if how == "desk":
                tickets.release(s, ticket_id=tid, credential_no=it["no"], reason="name is right", user_id=agent)
            else:
                corrections.release_hold(s, code=it["no"], reason="name is right", user_id=agent)
        (ev,) = _events(engine, it["id"], "release")
        details = json.loads(ev.details)
        recorded.append({k: details[k] for k in ("reason", "hold_reason")})
    assert recorded[0] == recorded[1] == {"reason": "name is right", "hold_reason": "check the name"}
