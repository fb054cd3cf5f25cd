"""Outreach rules fire once and only once; agents work the queue; the outbox
never sends a milestone twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from credential_track.db import write_session
from credential_track.models import Credential, Notification, NotificationAttempt, OutreachTask
from credential_track.models.base import utcnow
from credential_track.services import notify, outreach
from credential_track.services.errors import Conflict

from .desk_helpers import item_at, user_id
from .factories import configure


def _sweep(engine, **kw):
    with write_session(engine) as s:
        return outreach.sweep(s, **kw)


def _tasks(engine, cid):
    with Session(engine) as s:
        return [(t.rule, t.state) for t in s.exec(select(OutreachTask).where(OutreachTask.credential_id == cid))]


@pytest.mark.parametrize("setup, rule", [
    (dict(status="registered", contact_problem="phone has 9 digits"), "contact_problem"),
    (dict(status="delivery_failed"), "delivery_failed"),
    (dict(status="returned"), "returned"),
    (dict(status="in_transit", revoked=True, intercept=True), "intercept"),
])
def test_each_rule_fires_once_and_only_once(engine, setup, rule):
    it = item_at(engine, **setup)
    quiet = item_at(engine, "captured")
    first = _sweep(engine)
    assert first["created"][rule] == 1
    second = _sweep(engine)
    assert second["created"][rule] == 0
    assert _tasks(engine, it["id"]) == [(rule, "open")]
    assert _tasks(engine, quiet["id"]) == []


def test_stuck_rule_uses_the_threshold_of_the_status(engine):
    old = utcnow() - timedelta(hours=13)
    stuck = item_at(engine, "captured", updated_at=old)  # captured: 12 h
    fresh = item_at(engine, "in_transit", updated_at=old)  # in transit: 24 h
    assert _sweep(engine)["created"]["stuck"] == 1
    assert _tasks(engine, stuck["id"]) == [("stuck", "open")]
    assert _tasks(engine, fresh["id"]) == []
    settings = outreach.OutreachSettings()
    settings.stuck_hours["in_transit"] = 6
    assert _sweep(engine, settings=settings)["created"]["stuck"] == 1
    assert _sweep(engine, settings=settings)["created"]["stuck"] == 0


def test_a_closed_task_is_not_recreated_until_the_item_changes_again(engine):
    it = item_at(engine, "delivery_failed")
    _sweep(engine)
    agent = user_id(engine, "agent-w", "agent")
    with write_session(engine) as s:
        task = s.exec(select(OutreachTask).where(OutreachTask.credential_id == it["id"])).one()
        outreach.claim(s, task_id=task.id, user_id=agent)
        outreach.record_outcome(s, task_id=task.id, user_id=agent, outcome="resolved", note="redelivery tomorrow")
    assert _sweep(engine)["created"]["delivery_failed"] == 0
    # a second failed delivery later is a new occurrence
    with write_session(engine) as s:
        item = s.get(Credential, it["id"])
        item.updated_at = utcnow() + timedelta(seconds=1)
    assert _sweep(engine)["created"]["delivery_failed"] == 1


def test_two_rules_for_one_item_make_two_tasks(engine):
    it = item_at(engine, "delivery_failed", contact_problem="address incomplete")
    _sweep(engine)
    assert sorted(_tasks(engine, it["id"])) == [("contact_problem", "open"), ("delivery_failed", "open")]


def test_the_database_refuses_a_second_open_task(engine):
    it = item_at(engine, "returned")
    _sweep(engine)
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):
        with write_session(engine) as s:
            s.add(OutreachTask(credential_id=it["id"], rule="returned", due_at=utcnow()))
            s.flush()


def test_outcomes_retry_or_close_and_claims_are_exclusive(engine):
    it = item_at(engine, "delivery_failed")
    _sweep(engine)
    a, b = user_id(engine, "agent-a", "agent"), user_id(engine, "agent-b", "agent")
    with write_session(engine) as s:
        task = s.exec(select(OutreachTask).where(OutreachTask.credential_id == it["id"])).one()
        outreach.claim(s, task_id=task.id, user_id=a)
        with pytest.raises(Conflict):
            outreach.claim(s, task_id=task.id, user_id=b)
        before = utcnow()
        outreach.record_outcome(s, task_id=task.id, user_id=a, outcome="no_answer")
        assert task.state == "open" and task.attempts == 1 and task.due_at > before + timedelta(hours=1)
        outreach.record_outcome(s, task_id=task.id, user_id=b, outcome="resolved")
        assert task.state == "closed" and task.attempts == 2
        with pytest.raises(Conflict):
            outreach.record_outcome(s, task_id=task.id, user_id=b, outcome="reached")


def test_sweep_closes_tasks_whose_reason_has_gone(engine):
    it = item_at(engine, "delivery_failed")
    _sweep(engine)
    with write_session(engine) as s:
        s.get(Credential, it["id"]).status = "delivered"
    assert _sweep(engine)["closed"] == 1
    assert _tasks(engine, it["id"]) == [("delivery_failed", "closed")]


def test_outreach_sweep_command(runner, engine):
    item_at(engine, "returned")
    r = runner.invoke(args=["outreach", "sweep"])
    assert r.exit_code == 0, r.output
    assert "1 tasks created" in r.output and "Returned to sender 1" in r.output


class FlakySender:
    name = "flaky"

    def __init__(self, fail_times: int):
        self.fail_times, self.sent = fail_times, []

    def send(self, message):
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("gateway down")
        self.sent.append(message)
        return notify.SendResult(ok=True, provider_ref=f"p{message.notification_id}")


def test_outbox_never_queues_or_sends_a_milestone_twice(engine):
    it = item_at(engine, "dispatched", language="en")
    zh = item_at(engine, "in_transit")
    assert _sweep(engine)["notifications_queued"] == 2
    assert _sweep(engine)["notifications_queued"] == 0
    sender = FlakySender(0)
    with write_session(engine) as s:
        assert notify.send_due(s, sender, base_url="https://track.example")["sent"] == 2
        assert notify.send_due(s, sender)["sent"] == 0
    by_id = {m.notification_id: m for m in sender.sent}
    with Session(engine) as s:
        rows = {n.credential_id: n for n in s.exec(select(Notification))}
    en = by_id[rows[it["id"]].id]
    assert en.language == "en" and it["waybill"] in en.body and "https://track.example/track?no=" in en.body
    assert by_id[rows[zh["id"]].id].body.startswith("【进博会证件】")


def test_failed_sends_are_retried_with_backoff_and_each_attempt_recorded(engine):
    item_at(engine, "dispatched")
    _sweep(engine)
    sender = FlakySender(2)
    now = utcnow()
    with write_session(engine) as s:
        assert notify.send_due(s, sender, now=now)["failed"] == 1
        assert notify.send_due(s, sender, now=now + timedelta(seconds=30))["failed"] == 0  # not due yet
        assert notify.send_due(s, sender, now=now + timedelta(seconds=61))["failed"] == 1
        assert notify.send_due(s, sender, now=now + timedelta(seconds=61 + 119))["sent"] == 0
        assert notify.send_due(s, sender, now=now + timedelta(seconds=61 + 121))["sent"] == 1
    with Session(engine) as s:
        attempts = s.exec(select(NotificationAttempt).order_by(NotificationAttempt.id)).all()
        assert [a.ok for a in attempts] == [False, False, True]
        assert "gateway down" in attempts[0].error
        assert s.exec(select(func.count()).select_from(Notification).where(Notification.state == "sent")).one() == 1


def test_default_backend_writes_the_outbox_file(runner, engine, app, tmp_path):
    item_at(engine, "dispatched")
    _sweep(engine)
    configure(app, NOTIFY_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    r = runner.invoke(args=["notify", "send"])
    assert r.exit_code == 0 and "1 sent" in r.output
    assert "EMS" in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8")


def test_the_dashboard_counts_and_lists_as_stuck_what_the_stuck_rule_calls_for(engine):
    """One definition of "stuck": the dashboard's count, its drill-down list
    and the sweep's tasks pick the same items (per-status hours, neither held
    nor revoked)."""
    from credential_track.services.dashboard import data, lists

    old = utcnow() - timedelta(hours=13)
    stuck = item_at(engine, "captured", updated_at=old)  # captured: 12 h
    item_at(engine, "in_transit", updated_at=old)  # in transit: 24 h, not yet
    item_at(engine, "captured", updated_at=old - timedelta(days=3), hold=True)  # held: its own rule
    item_at(engine, "bagged", updated_at=old - timedelta(days=3), revoked=True)  # revoked: its own rule
    with Session(engine) as s:
        count = data.dashboard(s, now=utcnow())["exceptions"]["stuck"]
        listed = lists.item_page(s, lists.ItemFilter(exception="stuck"))
    _sweep(engine)
    with Session(engine) as s:
        tasked = set(s.exec(select(OutreachTask.credential_id).where(OutreachTask.rule == "stuck")))
    assert count == 1 and tasked == {stuck["id"]}
    assert [it["credential_no"] for it in listed["items"]] == [stuck["no"]]
