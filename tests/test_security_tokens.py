"""API tokens: issued once, stored hashed, listed without secrets, expired,
revoked, scoped to a station or a user and a role, last use recorded."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.models import ApiToken, Event
from credential_track.models.base import utcnow
from credential_track.services import accounts, tokens, users

from .factories import PASSWORD


def _user_token(engine, user_role: str, username: str | None = None, **kw) -> tuple[int, str]:
    username = username or f"tok-{user_role}"
    with write_session(engine) as s:
        accounts.create_user(s, username=username, password=PASSWORD, role=user_role)
        issued = tokens.issue_token(s, username=username, **kw)
    return issued.token.id, issued.secret


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_only_the_hash_of_a_secret_is_stored(engine):
    tid, secret = _user_token(engine, "admin")
    with Session(engine) as s:
        row = s.get(ApiToken, tid)
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert secret.startswith(row.prefix)


def test_an_expired_token_is_refused(client, engine):
    tid, secret = _user_token(engine, "admin", days=1)
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 200
    with write_session(engine) as s:
        s.get(ApiToken, tid).expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 401


def test_expire_now_and_revoke_stop_a_token_at_once(client, engine):
    _aid, admin = _user_token(engine, "admin")
    t1, s1 = _user_token(engine, "agent", "one")
    t2, s2 = _user_token(engine, "agent", "two")
    for tid, secret, op in ((t1, s1, "expire"), (t2, s2, "revoke")):
        assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 200
        assert client.post(f"/api/v1/tokens/{tid}/{op}", headers=_bearer(admin)).status_code == 200
        assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 401
    listed = {t["id"]: t["state"] for t in client.get("/api/v1/tokens", headers=_bearer(admin)).json["tokens"]}
    assert listed[t1] == "expired" and listed[t2] == "revoked"
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(Event).order_by(Event.id))]
    assert "token_expire" in actions and "token_revoke" in actions


def test_a_created_token_is_shown_once_and_never_listed(client, engine):
    _aid, admin = _user_token(engine, "admin")
    created = client.post("/api/v1/tokens", json={"station": "WS-05", "name": "scanner 5", "days": 30},
                          headers=_bearer(admin))
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret = created.json["secret"]
    listing = client.get("/api/v1/tokens", headers=_bearer(admin)).get_data(as_text=True)
    assert secret not in listing and admin not in listing
    assert created.json["prefix"] in listing
    assert client.post("/api/v1/scans", headers=_bearer(secret),
                       json={"code": "NOPE", "action": "capture", "station": "WS-05", "nonce": "t-1"}).status_code == 200


def test_the_token_page_shows_the_secret_once_then_only_its_prefix(auth, engine):
    auth.login("admin")
    resp = auth.client.post("/admin/tokens", data={"owner": "station:WS-03", "name": "capture",
                                                   "csrf_token": auth.csrf})
    page = resp.get_data(as_text=True)
    with Session(engine) as s:
        token = s.exec(select(ApiToken).order_by(ApiToken.id.desc())).first()
    secret = page.split('id="token-secret">')[1].split("<")[0]
    with Session(engine) as s:
        assert accounts.token_for_secret(s, secret).id == token.id
    assert resp.headers["Cache-Control"] == "no-store"
    listing = auth.client.get("/admin/tokens").get_data(as_text=True)
    assert secret not in listing and token.prefix in listing


def test_last_use_is_recorded(client, engine):
    tid, secret = _user_token(engine, "agent")
    with Session(engine) as s:
        assert s.get(ApiToken, tid).last_used_at is None
    client.get("/api/v1/stations", headers=_bearer(secret))
    with Session(engine) as s:
        assert s.get(ApiToken, tid).last_used_at is not None


def test_a_token_can_be_narrowed_to_a_smaller_role_but_never_widened(client, engine):
    _tid, narrow = _user_token(engine, "admin", role="organizer")
    assert client.get("/api/v1/stats", headers=_bearer(narrow)).status_code == 200
    assert client.get("/api/v1/tokens", headers=_bearer(narrow)).status_code == 403
    assert client.post("/api/v1/scans", headers=_bearer(narrow), json={}).status_code == 403
    _aid, admin = _user_token(engine, "admin", "boss")
    with write_session(engine) as s:
        accounts.create_user(s, username="clerk", password=PASSWORD, role="agent")
    wide = client.post("/api/v1/tokens", json={"user": "clerk", "role": "admin"}, headers=_bearer(admin))
    assert wide.status_code == 400 and wide.json["field"] == "role"


def test_a_station_token_acts_as_an_operator_of_that_station_only(client, station_token):
    headers = station_token("WS-01")
    assert client.get("/api/v1/tokens", headers=headers).status_code == 403
    other = client.post("/api/v1/scans", headers=headers,
                        json={"code": "X", "action": "handover", "station": "WS-02", "nonce": "st-1"})
    assert other.status_code == 403


def test_a_deactivated_or_demoted_users_token_stops_working(client, engine):
    sup_token, secret = _user_token(engine, "supervisor", "sup")
    adm_token, secret2 = _user_token(engine, "admin", "adm2")
    with Session(engine) as s:
        adm_id, sup_id = s.get(ApiToken, adm_token).user_id, s.get(ApiToken, sup_token).user_id
    admin = users.Manager(None, "admin", None)
    _user_token(engine, "admin", "keeps-an-admin")  # the last administrator cannot be demoted
    assert client.get("/api/v1/tokens", headers=_bearer(secret2)).status_code == 200
    with write_session(engine) as s:
        users.set_role(s, admin, adm_id, "agent")
    assert client.get("/api/v1/stations", headers=_bearer(secret2)).status_code == 401
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 200
    with write_session(engine) as s:
        users.set_active(s, admin, sup_id, False)
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 401


def test_token_commands_list_without_secret_and_revoke(runner, engine):
    tid, secret = _user_token(engine, "agent")
    out = runner.invoke(args=["token", "list"])
    assert out.exit_code == 0 and secret not in out.output and secret[:10] in out.output
    out = runner.invoke(args=["token", "revoke", str(tid)])
    assert out.exit_code == 0
    with Session(engine) as s:
        assert s.get(ApiToken, tid).revoked_at is not None
    assert runner.invoke(args=["token", "revoke", "999999"]).exit_code != 0


def test_a_revocation_made_by_another_process_is_seen_within_the_cache_time(client, engine, monkeypatch):
    from sqlalchemy import update

    from credential_track.services import recent

    _tid, secret = _user_token(engine, "agent", "elsewhere")
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 200
    # another server process revokes it: nothing in this process hears of it
    with engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.token_hash == accounts._hash_token(secret))
                     .values(revoked_at=utcnow()))
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 200  # still in memory
    later = recent.time.monotonic() + recent.SECONDS + 0.01
    monkeypatch.setattr(recent.time, "monotonic", lambda: later)
    assert client.get("/api/v1/stations", headers=_bearer(secret)).status_code == 401
