"""Passwords, login slow-down, sessions, cookies, CSRF, headers, error pages."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from credential_track import create_app
from credential_track.db import write_session
from credential_track.models import Event, User
from credential_track.models.base import utcnow
from credential_track.services import accounts, logins
from credential_track.services.errors import ServiceError

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _csrf(client, path="/login") -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _login(client, username, password=PASSWORD, **kw):
    return client.post("/login", data={"username": username, "password": password,
                                      "csrf_token": _csrf(client)}, **kw)


def _user(engine, username="lockme", role="agent") -> int:
    with write_session(engine) as s:
        return accounts.create_user(s, username=username, password=PASSWORD, role=role).id


def test_passwords_shorter_than_the_minimum_are_refused_and_stored_hashed(db):
    with pytest.raises(ServiceError) as exc:
        accounts.create_user(db, username="shorty", password="x" * (accounts.MIN_PASSWORD_LENGTH - 1), role="agent")
    assert exc.value.field == "password"
    user = accounts.create_user(db, username="longer", password=PASSWORD, role="agent")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(app, client, engine):
    _user(engine)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert _login(client, "lockme", "wrong password!").status_code == 401
    assert _login(client, "lockme", "wrong password!").status_code == 429
    locked = _login(client, "lockme", headers={"Accept-Language": "en"})
    assert locked.status_code == 429 and "locked until" in locked.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "lockme")).one()
        assert user.failed_logins == limit and user.locked_until > utcnow()
        assert s.exec(select(Event).where(Event.action == "login_locked", Event.user_id == user.id)).one()


def test_failures_count_across_app_processes_sharing_the_database(app, db_url, engine):
    _user(engine)
    other = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret"})
    try:
        clients = [app.test_client(), other.test_client()]
        for i in range(app.config["LOGIN_MAX_FAILURES"]):
            _login(clients[i % 2], "lockme", "wrong password!")
        # the process that saw fewer failures refuses the right password too
        assert _login(clients[1], "lockme").status_code == 429
    finally:
        other.extensions["credtrack_engine"].dispose()


def test_lock_ends_after_its_time_and_a_success_resets_the_count(engine):
    _user(engine, "later")
    now = utcnow()
    policy = logins.Policy(max_failures=3, lock_minutes=10)

    def attempt(password, minutes=0):
        return logins.attempt_login(engine, "later", password, address="10.0.0.1", policy=policy,
                                    now=now + timedelta(minutes=minutes))

    for _ in range(3):
        assert attempt("nope nope nope").user is None
    assert attempt(PASSWORD, 9).locked_until is not None
    ok = attempt(PASSWORD, 11)
    assert ok.user is not None and ok.user.failed_logins == 0 and ok.user.locked_until is None
    with Session(engine) as s:
        assert s.get(User, ok.user.id).locked_until is None


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def test_logout_ends_the_session_even_for_a_captured_copy_of_its_cookie(app, engine, client):
    _user(engine, "captured", "agent")
    assert _login(client, "captured").status_code == 302
    assert client.get("/desk/").status_code == 200
    stolen = _cookie(client)
    assert _with_cookie(app, stolen).get("/desk/").status_code == 200  # a copy works while the session lives
    client.post("/logout", data={"csrf_token": _csrf(client, "/desk/")})
    replay = _with_cookie(app, stolen).get("/desk/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(Event).order_by(Event.id))]
    assert actions[-2:] == ["login", "logout"]


def test_logging_out_one_device_leaves_the_others_signed_in(app, engine):
    _user(engine, "twodevices2", "agent")
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        assert _login(c, "twodevices2").status_code == 302
    phone.post("/logout", data={"csrf_token": _csrf(phone, "/desk/")})
    assert phone.get("/desk/").status_code == 302
    assert desk.get("/desk/").status_code == 200


def test_log_out_everywhere_from_my_sessions_page_ends_every_device_and_captured_cookies(app, engine):
    _user(engine, "mine", "agent")
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        assert _login(c, "mine").status_code == 302
    stolen = _cookie(phone)
    page = desk.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("<tr><td>") == 2 and "this browser" in page
    r = desk.post("/logout/everywhere", data={"csrf_token": _csrf(desk, "/account")})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    for c in (phone, desk, _with_cookie(app, stolen)):
        r = c.get("/desk/")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert _login(desk, "mine").status_code == 302  # signing in again works


def test_an_admin_logging_a_user_out_everywhere_ends_a_captured_cookie(app, engine, auth, client):
    uid = _user(engine, "victim", "agent")
    assert _login(client, "victim").status_code == 302
    stolen = _cookie(client)
    auth.login("admin")
    auth.client.post(f"/admin/users/{uid}/logout", data={"csrf_token": auth.csrf})
    assert _with_cookie(app, stolen).get("/desk/").status_code == 302


def _login_from(app, address, username, password=PASSWORD, lang="en"):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(c)},
                  headers={"Accept-Language": lang})


@pytest.fixture
def roomy(db_url):
    """An app whose per-address rate limit does not get in the way."""
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "LOGIN_RATE_LIMIT": "1000 per minute"})
    yield app
    app.extensions["credtrack_engine"].dispose()


def test_an_unknown_user_name_gets_the_very_answers_a_real_one_gets(roomy):
    _user(roomy.extensions["credtrack_engine"], "realname", "agent")
    answers = {}
    for name in ("realname", "no-such-name"):
        got = [_login_from(roomy, "10.1.1.1", name, "wrong password!") for _ in range(6)]
        answers[name] = [(r.status_code, re.sub(r"locked until [^<.]*", "locked until T",
                                                 re.search(r'class="flash[^"]*">([^<]*)<', r.get_data(as_text=True))
                                                 .group(1))) for r in got]
    assert answers["realname"] == answers["no-such-name"]
    assert [code for code, _t in answers["realname"]] == [401, 401, 401, 401, 429, 429]


def test_five_wrong_guesses_from_one_address_do_not_lock_the_admin_out_from_another(roomy):
    engine = roomy.extensions["credtrack_engine"]
    _user(engine, "boss", "admin")
    for _ in range(5):
        _login_from(roomy, "203.0.113.9", "boss", "guess guess guess")
    assert _login_from(roomy, "203.0.113.9", "boss").status_code == 429  # the guesser's address is locked
    assert _login_from(roomy, "10.0.0.2", "boss").status_code == 302  # the admin's is not


def test_guessing_one_name_from_many_addresses_is_slowed_down_for_real_and_unknown_names(engine, monkeypatch):
    _user(engine, "target")
    waits = []
    policy = logins.Policy(slowdown_after=4, slowdown_step=0.5, slowdown_max=2.0)
    for name in ("target", "ghost"):
        waits.clear()
        for i in range(8):
            logins.attempt_login(engine, name, "wrong wrong wrong", address=f"198.51.100.{i}", policy=policy,
                                 sleep=waits.append)
        assert waits == [0.5, 1.0, 1.5, 2.0]
    # slowed, not locked: the right password from a new address still gets in (after the wait)
    ok = logins.attempt_login(engine, "target", PASSWORD, address="10.9.9.9", policy=policy, sleep=waits.append)
    assert ok.user is not None and waits[-1] == 2.0


def test_login_posts_from_one_address_are_rate_limited(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "LOGIN_RATE_LIMIT": "3 per minute"})
    try:
        client = app.test_client()
        codes = [_login(client, f"nobody{i}", "whatever whatever").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
    finally:
        app.extensions["credtrack_engine"].dispose()


def test_an_idle_session_is_logged_out(app, auth):
    auth.login("operator")
    assert auth.client.get("/station/").status_code == 200
    with auth.client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - app.config["IDLE_TIMEOUT_MINUTES"] * 60 - 5
    resp = auth.client.get("/station/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert auth.client.get("/station/").status_code == 302  # the session is gone, not just refused once


def test_an_idle_api_session_gets_401(app, auth):
    auth.login("admin")
    with auth.client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - app.config["IDLE_TIMEOUT_MINUTES"] * 60 - 5
    resp = auth.client.get("/api/v1/stations")
    assert resp.status_code == 401 and resp.json["field"] == "session"


def test_an_active_session_stays_logged_in(app, auth):
    auth.login("operator")
    with auth.client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 60
    assert auth.client.get("/station/").status_code == 200


def test_log_out_everywhere_ends_every_session_of_the_user(app, engine, auth):
    uid = _user(engine, "twodevices", "agent")
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        assert _login(c, "twodevices").status_code == 302
        assert c.get("/desk/").status_code == 200
    auth.login("admin")
    r = auth.client.post(f"/admin/users/{uid}/logout", data={"csrf_token": auth.csrf})
    assert r.status_code == 302
    for c in (phone, desk):
        r = c.get("/desk/")
        assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_session_cookie_is_httponly_samesite_and_not_secure_over_plain_http(engine, client):
    _user(engine, "cookie", "agent")
    cookie = _login(client, "cookie").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(engine, client):
    _user(engine, "cookie", "agent")
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    resp = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                        data={"username": "cookie", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and "Secure" in resp.headers["Set-Cookie"]


def test_behind_a_trusted_proxy_x_forwarded_proto_makes_the_cookie_secure(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "PROXY_HOPS": 1})
    try:
        resp = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in resp.headers["Set-Cookie"]
        plain = app.test_client().get("/login")
        assert "Secure" not in plain.headers["Set-Cookie"]
    finally:
        app.extensions["credtrack_engine"].dispose()


def test_configured_secure_cookie_is_secure_even_over_http(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": True})
    try:
        assert "Secure" in app.test_client().get("/login").headers["Set-Cookie"]
    finally:
        app.extensions["credtrack_engine"].dispose()


def test_a_form_post_without_csrf_token_is_refused_and_changes_nothing(auth, engine):
    auth.login("admin")
    resp = auth.client.post("/admin/users", data={"username": "sneaky", "password": PASSWORD, "role": "admin"})
    assert resp.status_code == 400
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "sneaky")).first() is None
    ok = auth.client.post("/admin/users", data={"username": "sneaky", "password": PASSWORD, "role": "admin",
                                                "csrf_token": auth.csrf})
    assert ok.status_code == 302


def test_a_session_api_call_needs_the_csrf_header_but_a_bearer_call_does_not(auth, station_token):
    auth.login("operator")
    body = {"code": "NOPE-1", "action": "handover", "station": "WS-01", "nonce": "csrf-1"}
    assert auth.client.post("/api/v1/scans", json=body).status_code == 400
    assert auth.client.post("/api/v1/scans", json=body, headers={"X-CSRFToken": auth.csrf}).status_code == 200
    fresh = auth.client.application.test_client()
    assert fresh.post("/api/v1/scans", json={**body, "nonce": "csrf-2"}, headers=station_token("WS-01")).status_code == 200


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    missing = []
    for path in (ROOT / "src" / "credential_track" / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I):
            if "csrf_token()" not in m.group(1):
                missing.append(f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}")
    assert missing == []


def test_templates_have_no_inline_script_style_or_event_handler():
    bad = []
    for path in (ROOT / "src" / "credential_track" / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        # a JSON data block (type="application/json", filled with |tojson) is never run
        for pattern in (r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", r"\sstyle=\"",
                        r"\son[a-z]+=\""):
            if re.search(pattern, text, re.I):
                bad.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert bad == []


@pytest.mark.parametrize("path", ["/login", "/api/v1/stations"])
def test_security_headers_are_sent(client, path):
    h = client.get(path).headers
    csp = h["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "DENY"


@pytest.fixture
def production_app(db_url):
    app = create_app({"TESTING": False, "DEBUG": False, "PROPAGATE_EXCEPTIONS": False,
                      "DATABASE_URL": db_url, "SECRET_KEY": "t"})

    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    yield app
    app.extensions["credtrack_engine"].dispose()


def test_an_unexpected_error_shows_a_plain_page_without_a_trace(production_app):
    resp = production_app.test_client().get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "<h1>" in body
    assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body


def test_an_unexpected_api_error_answers_json_without_a_trace(production_app):
    resp = production_app.test_client().get("/api/v1/boom")
    assert resp.status_code == 500 and resp.is_json and "error" in resp.json
    assert "hunter2" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)


def _session_cookie(resp) -> str | None:
    """The session cookie a response sets, or None when it sets none."""
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


@pytest.mark.parametrize("late", ["/favicon.ico", "/static/css/station.css", "/station/home", "/station/scan?action=capture"])
def test_an_answer_to_a_request_sent_before_a_station_choice_does_not_undo_it(app, auth, late):
    """The browser sends the favicon, an asset or a page the station keeps for
    offline use alongside the operator's choice of station; when such an answer
    arrives after the choice's, the cookie it carries must not be the older
    session (without the station): only an answer that changes the session
    sets the cookie."""
    auth.login("operator")
    client = auth.client
    client.post("/station/", data={"station": "WS-02", "csrf_token": auth.csrf})
    before = client.get_cookie("session").value  # the session as the earlier request carried it
    client.post("/station/", data={"station": "WS-03", "csrf_token": auth.csrf})
    older = app.test_client()
    older.set_cookie("session", before)
    resp = older.get(late)
    stale = _session_cookie(resp)
    resp.close()
    if stale is not None:  # what a browser does with it: keeps the last cookie it was given
        client.set_cookie("session", stale)
    assert "WS-03" in client.get("/station/home").get_data(as_text=True)


def test_the_idle_clock_still_moves_with_activity(app, auth):
    auth.login("operator")
    with auth.client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 120
    assert _session_cookie(auth.client.get("/station/")) is not None  # a minute or more: kept anew
    with auth.client.session_transaction() as sess:
        assert int(time.time()) - sess["seen"] < 5
    assert _session_cookie(auth.client.get("/station/")) is None  # within the minute: nothing to set
