"""Escaping, search boxes, uploads, the audit log (read only) and user
administration by role."""
from __future__ import annotations

import csv
import io
import json

import pytest
from markupsafe import escape
from openpyxl import Workbook
from sqlalchemy import inspect, text
from sqlmodel import Session, select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import IntegerConverter

from credential_track import create_app
from credential_track.db import write_session
from credential_track.models import Event, Station, User
from credential_track.permissions import ROLES, PiiAccess, PiiPath, personal_data_access
from credential_track.security import check_upload
from credential_track.services import accounts, events
from credential_track.services.errors import ServiceError

from .factories import PASSWORD, do_scan, make_credential

XSS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
]
SQL = ["' OR '1'='1", "'; DROP TABLE event; --", '" OR ""="', "%", "_", "\\", "%' --", "1; SELECT 1"]


def _event_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM event ORDER BY id"))]


# --- personal data policy ---------------------------------------------------

def test_only_organizers_and_admins_see_personal_data_unmasked():
    assert {r for r in ROLES if personal_data_access(r, PiiPath.lookup) == PiiAccess.full} == {"organizer", "admin"}
    assert {r for r in ROLES if personal_data_access(r, PiiPath.export) == PiiAccess.full} == {"organizer", "admin"}
    assert personal_data_access(None, PiiPath.lookup) == PiiAccess.none


# --- escaping ---------------------------------------------------------------

@pytest.mark.parametrize("payload", XSS)
def test_free_text_is_rendered_as_text_on_admin_and_audit_pages(auth, engine, payload):
    with write_session(engine) as s:
        accounts.create_user(s, username="victim", password=PASSWORD, role="agent", display_name=payload)
        accounts.create_token(s, station_code="WS-01", name=payload)
        item = make_credential(s, credential_no="XSS-1", holder_name=payload, recipient_name=payload)
        events.record(s, action="hold", credential_id=item.id, details={"reason": payload, "note": payload})
    do_scan(engine, payload[:60], "handover", "WS-01")  # the scanned code is kept on the refused event
    auth.login("admin")
    for path in ("/admin/users", "/admin/tokens", "/audit/", "/audit/?item=XSS-1"):
        page = auth.client.get(path).get_data(as_text=True)
        assert str(escape(payload)) in page, path  # shown, as text
        if set(payload) & set("<>\"'"):
            assert payload not in page, path
        assert 'href="javascript:' not in page


def test_a_display_name_with_markup_is_escaped_in_the_top_bar(client, engine):
    with write_session(engine) as s:
        accounts.create_user(s, username="marked", password=PASSWORD, role="agent", display_name=XSS[0])
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"username": "marked", "password": PASSWORD, "csrf_token": token})
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert XSS[0] not in home and "&lt;script&gt;" in home


# --- search boxes -----------------------------------------------------------

@pytest.mark.parametrize("field", ["item", "user", "station", "action"])
def test_sql_metacharacters_in_audit_search_match_nothing_and_break_nothing(auth, engine, field):
    with write_session(engine) as s:
        make_credential(s, credential_no="PLAIN-1")
    do_scan(engine, "PLAIN-1", "handover", "WS-01")
    auth.login("admin")
    before = _event_rows(engine)
    for payload in SQL:
        resp = auth.client.get("/audit/", query_string={field: payload})
        assert resp.status_code == 200, payload
        assert "PLAIN-1" not in resp.get_data(as_text=True), payload
        api = auth.client.get("/api/v1/audit/events", query_string={field: payload})
        assert api.status_code == 200 and api.json["events"] == [], payload
    assert "event" in inspect(engine).get_table_names()
    assert _event_rows(engine) == before


def test_sql_metacharacters_in_the_user_search_match_literally(auth, engine):
    with write_session(engine) as s:
        accounts.create_user(s, username="hundred%", password=PASSWORD, role="agent")
        accounts.create_user(s, username="plainuser", password=PASSWORD, role="agent")
    auth.login("admin")
    for payload in SQL:
        resp = auth.client.get("/admin/users", query_string={"q": payload})
        assert resp.status_code == 200
        assert "plainuser" not in resp.get_data(as_text=True), payload
    assert "hundred%" in auth.client.get("/admin/users", query_string={"q": "%"}).get_data(as_text=True)
    users_api = auth.client.get("/api/v1/users", query_string={"q": "' OR '1'='1"}).json["users"]
    assert users_api == []


# --- uploads ----------------------------------------------------------------

def _xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active.append(["credential_no", "holder_name"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def upload_app(db_url):
    """A test app with one upload route that uses check_upload as an import page would."""
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "UPLOAD_MAX_BYTES": 1000, "MAX_CONTENT_LENGTH": 5000})

    def upload():
        from flask import jsonify, request

        try:
            kind = check_upload(request.files.get("file"), kinds=("csv", "xlsx"))
        except ServiceError as exc:
            return jsonify(error=exc.message, field=exc.field), 400
        return jsonify(kind=kind)

    app.add_url_rule("/upload-test", "upload_test", upload, methods=["POST"])
    yield app
    app.extensions["credtrack_engine"].dispose()


def _post(app, name: str, content: bytes):
    return app.test_client().post("/upload-test", data={"file": (io.BytesIO(content), name)},
                                  content_type="multipart/form-data")


def test_accepted_uploads_pass_the_check(upload_app, app):
    assert _post(upload_app, "m.csv", "证件号,姓名\nA1,张伟\n".encode("gb18030")).json == {"kind": "csv"}
    assert _post(upload_app, "m.csv", "\ufeffcredential_no\nA1\n".encode("utf-8")).json == {"kind": "csv"}
    empty = _post(upload_app, "m.csv", b"")
    assert empty.status_code == 400 and "文件是空的" in empty.json["error"]
    with app.test_request_context():
        book = FileStorage(io.BytesIO(_xlsx_bytes()), filename="Manifest.XLSX")
        assert check_upload(book, kinds=("csv", "xlsx")) == "xlsx"


def test_an_oversized_upload_is_refused_naming_the_file(upload_app):
    resp = _post(upload_app, "big.csv", b"a,b\n" * 300)
    assert resp.status_code == 400 and resp.json["field"] == "file"
    assert "big.csv" in resp.json["error"] and "超过上限" in resp.json["error"]


def test_a_request_over_max_content_length_gets_413_without_a_trace(upload_app):
    resp = _post(upload_app, "huge.csv", b"a" * 6000)
    assert resp.status_code == 413 and "Traceback" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("name,content", [
    ("tool.exe", b"MZ\x90\x00"),
    ("manifest", b"a,b\n"),
    ("fake.xlsx", b"credential_no\nA1\n"),
    ("zip.xlsx", b"PK\x03\x04 not really a zip"),
    ("binary.csv", b"a,b\n\x00\x01\x02"),
    ("disguised.csv", b"%PDF-1.7 ..."),
])
def test_a_wrong_type_upload_is_refused(upload_app, name, content):
    resp = _post(upload_app, name, content)
    assert resp.status_code == 400 and resp.json["field"] == "file" and name.split("/")[-1] in resp.json["error"]


def test_check_upload_rewinds_the_stream(app):
    f = FileStorage(io.BytesIO(b"a,b\n1,2\n"), filename="x.csv")
    with app.test_request_context():
        assert check_upload(f, kinds=("csv",)) == "csv"
    assert f.stream.read() == b"a,b\n1,2\n"


# --- audit log --------------------------------------------------------------

def test_no_route_can_edit_or_delete_an_event(app, auth, engine):
    with write_session(engine) as s:
        item = make_credential(s, credential_no="AUD-1")
        events.record(s, action="hold", credential_id=item.id, details={"reason": "check"})
    do_scan(engine, "AUD-1", "handover", "WS-01")
    before = _event_rows(engine)
    event_id = before[-1][0]
    assert not [r.rule for r in app.url_map.iter_rules() if r.methods & {"PUT", "PATCH", "DELETE"}
                and ("event" in r.rule or "audit" in r.rule)]
    auth.login("admin")
    with write_session(engine) as s:
        bearer = accounts.create_token(s, username="test-admin").secret
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("auth.logout", "static"):
            continue
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            values = {a: event_id if isinstance(rule._converters[a], IntegerConverter) else str(event_id)
                      for a in rule.arguments}
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
            payload = {"id": event_id, "event_id": event_id, "action": "delete", "details": "x"}
            if rule.endpoint.startswith("api."):
                auth.client.open(url, method=method, json=payload, headers={"Authorization": f"Bearer {bearer}"})
            else:
                auth.client.open(url, method=method, data={**payload, "csrf_token": auth.csrf})
    assert _event_rows(engine)[:len(before)] == before


def test_the_audit_log_finds_events_by_item_user_station_action_and_time(auth, engine):
    with write_session(engine) as s:
        make_credential(s, credential_no="FIND-1")
        make_credential(s, credential_no="FIND-2")
        uid = accounts.create_user(s, username="scanner", password=PASSWORD, role="operator").id
    do_scan(engine, "FIND-1", "handover", "WS-01")
    do_scan(engine, "FIND-2", "handover", "WS-02")
    with write_session(engine) as s:
        events.record(s, action="hold", user_id=uid, station="CS-1", details={"reason": "call back"})
    auth.login("supervisor")
    api = lambda **q: auth.client.get("/api/v1/audit/events", query_string=q).json["events"]  # noqa: E731
    assert {e["credential_no"] for e in api(item="FIND-1")} == {"FIND-1"}
    assert [e["action"] for e in api(user="scanner")] == ["hold"]
    assert {e["credential_no"] for e in api(station="ws-02")} == {"FIND-2"}
    assert all(e["action"] == "handover" for e in api(action="handover"))
    assert len(api(since="2000-01-01", until="2999-12-31")) >= 3
    assert api(until="2000-01-01") == []
    bad = auth.client.get("/api/v1/audit/events", query_string={"since": "yesterday"})
    assert bad.status_code == 400 and bad.json["field"] == "since"


def test_audit_pages_page_backwards_without_gaps(auth, engine):
    with write_session(engine) as s:
        for i in range(7):
            events.record(s, action="hold", details={"n": i})
    auth.login("admin")
    seen, before = [], None
    while True:
        q = {"action": "hold", "limit": 3, **({"before": before} if before else {})}
        page = auth.client.get("/api/v1/audit/events", query_string=q).json
        seen += [e["id"] for e in page["events"]]
        before = page["next"]
        if before is None:
            break
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)


def test_the_audit_export_is_csv_of_every_match_and_is_recorded(auth, engine):
    with write_session(engine) as s:
        make_credential(s, credential_no="EXP-1")
    do_scan(engine, "EXP-1", "handover", "WS-01")
    do_scan(engine, "=HYPERLINK(1)", "handover", "WS-01")  # a refused scan keeps what was scanned
    auth.login("supervisor")
    resp = auth.client.get("/audit/export.csv", query_string={"item": "EXP-1"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    # Chinese headers, the action in words with its code beside it
    assert [r["证件号"] for r in rows] == ["EXP-1"] and (rows[0]["操作"], rows[0]["操作代码"]) == ("交接", "handover")
    formula = auth.client.get("/audit/export.csv", query_string={"item": "=HYPERLINK(1)"}).get_data(as_text=True)
    cells = list(csv.DictReader(io.StringIO(formula.lstrip("\ufeff"))))
    assert [c["编码"] for c in cells] == ["'=HYPERLINK(1)"]  # a spreadsheet shows it, never runs it
    with Session(engine) as s:
        exports = s.exec(select(Event).where(Event.action == "export")).all()
    first = json.loads(exports[0].details)
    assert len(exports) == 2 and first["filters"] == {"item": "EXP-1"}
    assert (first["kind"], first["personal_data"]) == ("audit_csv", False)


def test_personal_data_in_event_details_is_masked_for_supervisors_not_admins(auth, engine, app):
    with write_session(engine) as s:
        events.record(s, action="correct", details={"recipient_phone": "13812345678", "recipient_name": "张伟",
                                                        "address": "世纪大道100号8楼"})
    auth.login("supervisor")
    sup = auth.client.get("/api/v1/audit/events", query_string={"action": "correct"}).json["events"][0]
    assert "13812345678" not in sup["details"] and "*******5678" in sup["details"]
    admin_client = app.test_client()
    from .conftest import Auth

    Auth(admin_client, engine).login("admin")
    adm = admin_client.get("/api/v1/audit/events", query_string={"action": "correct"}).json["events"][0]
    assert "13812345678" in adm["details"]


# --- user administration ----------------------------------------------------

def _site_user(engine, username, role, site_code):
    from credential_track.models import Site

    with write_session(engine) as s:
        site = s.exec(select(Site).where(Site.code == site_code)).one()
        return accounts.create_user(s, username=username, password=PASSWORD, role=role, site_id=site.id).id


def test_a_supervisor_manages_only_operators_and_agents_of_their_site(auth, engine):
    sup = _site_user(engine, "sup-pcs", "supervisor", "PCS")
    mine = _site_user(engine, "op-pcs", "operator", "PCS")
    theirs = _site_user(engine, "op-rcc", "operator", "RCC")
    peer = _site_user(engine, "sup2-pcs", "supervisor", "PCS")
    auth.ensure_user("sup-pcs", "supervisor")
    auth.login("supervisor", username="sup-pcs")
    page = auth.client.get("/admin/users").get_data(as_text=True)
    assert "op-pcs" in page and "op-rcc" not in page
    for uid, expect_active in ((mine, False), (theirs, True), (peer, True), (sup, True)):
        auth.client.post(f"/admin/users/{uid}/deactivate", data={"csrf_token": auth.csrf})
        with Session(engine) as s:
            assert s.get(User, uid).active is expect_active, uid
    auth.client.post("/admin/users", data={"username": "new-admin", "password": PASSWORD, "role": "admin",
                                           "csrf_token": auth.csrf})
    auth.client.post("/admin/users", data={"username": "new-agent", "password": PASSWORD, "role": "agent",
                                           "site": "RCC", "csrf_token": auth.csrf})
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "new-admin")).first() is None
        new = s.exec(select(User).where(User.username == "new-agent")).one()
        assert s.get(User, sup).site_id == new.site_id  # always the supervisor's own site
        actions = {e.action for e in s.exec(select(Event))}
    assert {"user_deactivate", "user_create"} <= actions


def test_an_admin_sets_passwords_roles_and_unlocks_with_each_change_recorded(auth, engine):
    uid = _site_user(engine, "worker", "agent", "RCC")
    with write_session(engine) as s:
        s.get(User, uid).failed_logins = 9
    auth.login("admin")
    short = auth.client.post(f"/admin/users/{uid}/password", data={"password": "short", "csrf_token": auth.csrf},
                             follow_redirects=True)
    assert "password" in short.get_data(as_text=True)
    for op, data in (("password", {"password": "a brand new pass"}), ("role", {"role": "organizer"}),
                     ("unlock", {})):
        auth.client.post(f"/admin/users/{uid}/{op}", data={**data, "csrf_token": auth.csrf})
    with Session(engine) as s:
        user = s.get(User, uid)
        actions = [e.action for e in s.exec(select(Event).order_by(Event.id))]
    assert user.role == "organizer" and user.failed_logins == 0
    with Session(engine) as s:
        assert accounts.authenticate(s, "worker", "a brand new pass") is not None
    assert actions[-3:] == ["user_password", "user_role", "user_unlock"]


def test_station_settings_change_is_recorded(auth, engine):
    auth.login("admin")
    auth.client.post("/admin/stations/WS-03", data={"actions": ["capture"], "label_format": "zpl",
                                                    "csrf_token": auth.csrf})
    bad = auth.client.post("/admin/stations/WS-03", data={"actions": ["fly"], "label_format": "pdf",
                                                          "csrf_token": auth.csrf}, follow_redirects=True)
    assert "fly" in bad.get_data(as_text=True)
    with Session(engine) as s:
        st = s.exec(select(Station).where(Station.code == "WS-03")).one()
        ev = s.exec(select(Event).where(Event.action == "station_update")).one()
    assert (st.actions, st.label_format) == ("capture", "zpl") and ev.station == "WS-03"


def test_exports_with_personal_data_are_limited_to_organizer_and_admin_and_recorded(engine):
    from credential_track.services import disclosure
    from credential_track.services.errors import Forbidden

    for role in ROLES:
        if role in ("organizer", "admin"):
            disclosure.authorise_export(engine, user_id=None, role=role, kind="credentials", personal_data=True,
                                        rows=3)
        else:
            with pytest.raises(Forbidden):
                disclosure.authorise_export(engine, user_id=None, role=role, kind="credentials", personal_data=True)
            disclosure.authorise_export(engine, user_id=None, role=role, kind="stats", personal_data=False)
    with Session(engine) as s:
        recorded = [json.loads(e.details) for e in s.exec(select(Event).where(Event.action == "export"))]
    assert sorted(d["kind"] for d in recorded if d["personal_data"]) == ["credentials", "credentials"]
    assert len(recorded) == len(ROLES)


def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(engine):
    from credential_track.services import users

    root = users.Manager(None, "admin", None)
    with write_session(engine) as s:
        only = accounts.create_user(s, username="only-admin", password=PASSWORD, role="admin").id
    for change in (lambda s: users.set_role(s, root, only, "agent"), lambda s: users.set_active(s, root, only, False)):
        with pytest.raises(ServiceError) as exc:
            with write_session(engine) as s:
                change(s)
        assert "last active administrator" in exc.value.message
    with write_session(engine) as s:
        accounts.create_user(s, username="second-admin", password=PASSWORD, role="admin")
    with write_session(engine) as s:
        assert users.set_role(s, root, only, "agent").role == "agent"


PROBE = '<script>xssProbe()</script>"><img src=x onerror=xssProbe()>'


def test_no_page_renders_item_free_text_as_markup(app, auth, engine):
    """Every GET page of every area, opened for an item whose free-text fields
    carry markup, shows it as text (covers pages added by any area)."""
    with write_session(engine) as s:
        item = make_credential(s, credential_no="XSSITEM1", holder_name=PROBE, recipient_name=PROBE,
                               organization=PROBE, address=PROBE, city="上海市", district="浦东新区")
        events.record(s, action="hold", credential_id=item.id, details={"reason": PROBE})
        item_id = item.id
    auth.login("admin")
    opened = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.startswith("api.") or rule.endpoint == "static":
            continue
        values = {a: item_id if isinstance(rule._converters[a], IntegerConverter) else "XSSITEM1"
                  for a in rule.arguments}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        for query in ({}, {"q": "XSSITEM1"}, {"item": "XSSITEM1"}):
            resp = auth.client.get(url, query_string=query)
            if resp.mimetype == "text/html":
                opened += 1
                assert PROBE not in resp.get_data(as_text=True), url
                assert "<script>xssProbe" not in resp.get_data(as_text=True), url
            resp.close()
    assert opened > 0
