"""Pages: login, home per role, the station scan page, the language switch."""
from .factories import make_credential


def test_login_rejects_a_wrong_password(client, auth):
    auth.ensure_user("op1", "operator")
    r = client.post("/login", data={"username": "op1", "password": "wrong password!",
                                    "csrf_token": auth.token("/login")})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, auth):
    auth.ensure_user("op1", "operator")
    r = client.post("/login", data={"username": "op1", "password": "correct horse battery"})
    assert r.status_code == 400


def test_operator_goes_to_the_station_picker_and_scans_through_the_page_session(client, auth, db):
    c = make_credential(db)
    db.commit()
    auth.login("operator")
    assert client.get("/").headers["Location"].endswith("/station/")
    r = client.post("/station/", data={"station": "WS-01", "csrf_token": auth.token("/station/")})
    assert r.headers["Location"].endswith("/station/home")  # station, site, operator, actions
    page = client.get("/station/scan").get_data(as_text=True)
    assert "WS-01" in page and 'id="scan-input"' in page
    csrf = auth.token("/station/scan")
    r = client.post("/api/v1/scans", headers={"X-CSRFToken": csrf},
                    json={"code": c.credential_no, "action": "handover", "station": "WS-01", "nonce": "web-1"})
    assert r.json["result"] == "ok"
    no_csrf = client.post("/api/v1/scans", json={"code": c.credential_no, "action": "handover",
                                                  "station": "WS-01", "nonce": "web-2"})
    assert no_csrf.status_code == 400


def test_station_page_refuses_actions_the_station_may_not_do(client, auth):
    auth.login("operator")
    client.post("/station/", data={"station": "WS-01", "csrf_token": auth.token("/station/")})
    assert client.get("/station/scan?action=seal").status_code == 404


def test_organizer_home_shows_counts_and_may_not_open_stations(client, auth, db):
    make_credential(db)
    db.commit()
    auth.login("organizer")
    page = client.get("/").get_data(as_text=True)
    assert "共 1 张证件" in page
    assert client.get("/station/").status_code == 403


def test_pages_need_login(client):
    r = client.get("/station/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_language_switch_sticks(client, auth):
    auth.login("organizer")
    client.post("/lang/en", data={"csrf_token": auth.csrf, "next": "/"})
    assert "Log out" in client.get("/").get_data(as_text=True)
    client.post("/lang/zh", data={"csrf_token": auth.token("/"), "next": "/"})
    assert "退出" in client.get("/").get_data(as_text=True)


def test_security_headers_are_set(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_logout(client, auth):
    auth.login("agent")
    client.post("/logout", data={"csrf_token": auth.csrf})
    assert client.get("/").status_code == 302
