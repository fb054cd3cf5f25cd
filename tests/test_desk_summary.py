"""Tickets and outreach on the dashboard and in the daily report."""
from datetime import UTC, datetime, timedelta

from credential_track.models import OutreachTask, Ticket
from credential_track.services.dashboard import data
from credential_track.services.desk_summary import desk_summary

from .factories import make_credential

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def h(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _arrange(db):
    c = make_credential(db)
    db.add_all([
        # open all along, due after 4 h: breached from hour 4
        Ticket(category="where", subject="a", created_at=h(0), due_at=h(4)),
        # resolved at hour 2, within its SLA
        Ticket(category="where", subject="b", created_at=h(0), due_at=h(4), resolved_at=h(2)),
        # created later
        Ticket(category="complaint", subject="c", created_at=h(10), due_at=h(11)),
        OutreachTask(credential_id=c.id, rule="stuck", created_at=h(0), due_at=h(1)),
        OutreachTask(credential_id=c.id, rule="returned", state="closed", outcome="resolved",
                     created_at=h(0), due_at=h(8), closed_at=h(3)),
    ])
    db.commit()


def test_counts_as_they_stood_at_a_past_time(db):
    _arrange(db)
    assert desk_summary(db, h(1)) == {"open_tickets": 2, "tickets_sla_breached": 0, "outreach_open": 2,
                                      "outreach_sla_breached": 0, "outreach_done": 0}
    assert desk_summary(db, h(5)) == {"open_tickets": 1, "tickets_sla_breached": 1, "outreach_open": 1,
                                      "outreach_sla_breached": 1, "outreach_done": 1}
    assert desk_summary(db, h(12))["open_tickets"] == 2
    assert desk_summary(db, h(12))["tickets_sla_breached"] == 2


def test_dashboard_shows_the_live_desk_figures(db, client, auth):
    _arrange(db)
    assert data.service_source is desk_summary
    auth.login("organizer")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "not connected" not in page and "未接入" not in page
    live = desk_summary(db)
    assert live["open_tickets"] == 2 and live["outreach_open"] == 1


def test_the_live_figures_from_the_task_states_equal_those_from_the_times(db):
    """Now, the outreach figures are counted by state (an index); a moment
    in the past by the created/closed times: the same at the same moment."""
    c = make_credential(db)
    now = datetime.now(UTC)
    db.add_all([
        OutreachTask(credential_id=c.id, rule="stuck", created_at=now - timedelta(hours=5),
                     due_at=now - timedelta(hours=1)),  # open, breached
        OutreachTask(credential_id=c.id, rule="intercept", state="claimed", created_at=now - timedelta(hours=2),
                     due_at=now + timedelta(hours=1)),  # claimed: open, within its time
        OutreachTask(credential_id=c.id, rule="returned", state="closed", outcome="resolved",
                     created_at=now - timedelta(hours=9), due_at=now - timedelta(hours=8),
                     closed_at=now - timedelta(hours=3)),
    ])
    db.commit()
    live = desk_summary(db)
    assert (live["outreach_open"], live["outreach_sla_breached"], live["outreach_done"]) == (2, 1, 1)
    assert live == desk_summary(db, datetime.now(UTC))
