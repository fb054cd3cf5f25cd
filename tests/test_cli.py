"""The credtrack command line."""
import json

from sqlmodel import Session, func, select

from credential_track.db import write_session
from credential_track.models import Credential, Event, Station, User


def test_init_is_idempotent(runner, engine):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "stations +0" in first.output  # the fixture database is seeded already
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Station)).one() == 17


def test_demo_command_is_deterministic(runner, engine):
    r = runner.invoke(args=["demo", "--credentials", "1500", "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert "1,500 credentials" in r.output and "admin / admin-demo-2026" in r.output
    with Session(engine) as s:
        first = s.exec(select(Credential.holder_name).order_by(Credential.id).limit(5)).all()
        per_item = s.exec(select(func.count()).select_from(Event).where(Event.credential_id == 1)).one()
    assert per_item >= 1
    again = runner.invoke(args=["demo", "--credentials", "1500", "--force"])
    assert again.exit_code == 0 and "already present" in again.output
    from credential_track.services.synthetic import Generator
    gen = Generator(7)
    assert [gen.person(i).holder_name for i in range(1, 6)] == first


def test_demo_builds_every_status_during_working_hours(engine):
    """What is on the floor depends on the demo's "now": over the lunch break
    1,500 items may have no open bag (every bag sealed), so the statuses are
    checked at a fixed working hour (10:10 in Shanghai)."""
    from datetime import UTC, datetime

    from credential_track.services.demo import build_demo

    build_demo(engine, credentials=1500, seed=7, now=datetime(2026, 12, 2, 2, 10, tzinfo=UTC))
    with Session(engine) as s:
        statuses = set(s.exec(select(Credential.status)))
    assert statuses >= {"registered", "received", "captured", "accepted", "bagged", "dispatched",
                        "in_transit", "arrived", "out_for_delivery", "delivered"}


def test_demo_status_matches_last_event(runner, engine):
    runner.invoke(args=["demo", "--credentials", "500"])
    with Session(engine) as s:
        last = s.exec(select(Event.credential_id, func.max(Event.id)).where(Event.credential_id.is_not(None))
                      .group_by(Event.credential_id)).all()
        last_to = {cid: s.get(Event, eid).to_status for cid, eid in last}
        for c in s.exec(select(Credential)):
            assert last_to[c.id] == c.status


def test_user_add_and_token_create(runner, engine):
    r = runner.invoke(args=["user", "add", "li", "--role", "agent", "--password-stdin"], input="a-long-password\n")
    assert r.exit_code == 0, r.output
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "li")).one().role == "agent"
    short = runner.invoke(args=["user", "add", "wu", "--role", "agent", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    tok = runner.invoke(args=["token", "create", "--station", "WS-05"])
    assert tok.exit_code == 0
    secret = tok.output.strip().splitlines()[-1]
    assert secret.startswith("ct_")
    bad = runner.invoke(args=["token", "create", "--station", "WS-99"])
    assert bad.exit_code != 0 and "WS-99" in bad.output


def test_token_from_cli_works_on_the_api(runner, client):
    secret = runner.invoke(args=["token", "create", "--station", "WS-01"]).output.strip().splitlines()[-1]
    r = client.get("/api/v1/stations", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200


def test_stats_json(runner):
    runner.invoke(args=["demo", "--credentials", "300"])
    r = runner.invoke(args=["stats", "--json"])
    data = json.loads(r.output)
    assert data["total"] == 300
    assert sum(data["by_status"].values()) == sum(data["by_route"].values()) == sum(data["by_type"].values()) == 300


def test_demo_refuses_a_database_that_holds_data_unless_forced(runner, engine):
    from credential_track.services import accounts

    with write_session(engine) as s:
        accounts.create_user(s, username="real-admin", password="a real password 1", role="admin")
    r = runner.invoke(args=["demo", "--credentials", "50"])
    assert r.exit_code != 0 and "--force" in r.output and "users: 1" in r.output
    with Session(engine) as s:
        assert s.exec(select(User.username)).all() == ["real-admin"]  # no public demo accounts added
        assert s.exec(select(func.count()).select_from(Credential)).one() == 0
    forced = runner.invoke(args=["demo", "--credentials", "50", "--force"])
    assert forced.exit_code == 0, forced.output
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Credential)).one() == 50


def test_demo_refuses_to_run_twice(runner, engine):
    assert runner.invoke(args=["demo", "--credentials", "50"]).exit_code == 0
    again = runner.invoke(args=["demo", "--credentials", "50"])
    assert again.exit_code != 0 and "--force" in again.output
