"""Personal data (names, phone numbers, addresses) reachable only as
docs/PERMISSIONS.md says: one test (or more) per path of the personal-data
table, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from credential_track.db import write_session
from credential_track.models import Credential, Event, InterceptRequest, User
from credential_track.permissions import ROLES, PiiAccess, PiiPath, allowed, personal_data_access
from credential_track.services import accounts, audit, corrections, disclosure, tickets

from .conftest import Auth
from .desk_helpers import item_at
from .factories import PASSWORD, configure, do_scan, make_credential, open_bag, reload

PHONE, NAME, ADDRESS = "16512342559", "欧阳娜娜", "崧泽大道333号9楼"


def _item(engine, status="received", **kw) -> Credential:
    kw = {"recipient_phone": PHONE, "phone_last4": PHONE[-4:], "recipient_name": NAME, "holder_name": NAME,
          "address": ADDRESS, **kw}
    with write_session(engine) as s:
        return make_credential(s, status=status, **kw)


def _bearer(engine, role: str) -> dict:
    """A user token of `role` (a cheap password hash keeps the test fast)."""
    name = f"pii-{role}"
    with write_session(engine) as s:
        if s.exec(select(User).where(User.username == name)).first() is None:
            s.add(User(username=name, role=role, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")))
            s.flush()
        return {"Authorization": f"Bearer {accounts.create_token(s, username=name).secret}"}


def _login(app, engine, role: str) -> Auth:
    return Auth(app.test_client(), engine).login(role)


def _events(engine, action: str) -> list[Event]:
    with Session(engine) as s:
        return list(s.exec(select(Event).where(Event.action == action).order_by(Event.id)))


def _holds_pii(text: str) -> bool:
    """Any of the item's personal data, or a mask that keeps the phone's prefix."""
    return PHONE in text or NAME in text or ADDRESS in text or "165*" in text


# ---- lookup ------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_lookup_answers_personal_data_as_the_table_says(client, engine, role):
    it = _item(engine)
    resp = client.get("/api/v1/lookup", query_string={"q": it.credential_no}, headers=_bearer(engine, role))
    access = personal_data_access(role, PiiPath.lookup)
    if access == PiiAccess.none:
        assert resp.status_code == 403
        return
    [r] = resp.json["results"]
    if access == PiiAccess.full:
        assert (r["recipient_phone"], r["recipient_name"], r["address"]) == (PHONE, NAME, ADDRESS)
    else:
        assert r["masked"] and not _holds_pii(json.dumps(r, ensure_ascii=False))
        assert r["recipient_phone"] == "*******2559"  # the last four digits only: no prefix to brute-force from


def test_a_brute_force_of_the_hidden_phone_digits_does_not_reveal_them(app, client, engine):
    """An agent who knows the prefix and the last four digits (a printed
    label shows 165****2559) tries every middle value: the searches past the
    hourly limit are refused, each allowed one is recorded, and the one that
    would match (1234, the 1235th try) is never answered."""
    configure(app, PERSONAL_SEARCHES_PER_HOUR=10)
    it = _item(engine)
    agent = _bearer(engine, "agent")
    found, refused = [], 0
    for middle in range(0, 1300):
        resp = client.get("/api/v1/lookup", query_string={"q": f"165{middle:04d}2559"}, headers=agent)
        if resp.status_code == 429:
            refused += 1
            assert resp.json["field"] == "q"
            continue
        assert resp.status_code == 200
        found += [r["credential_no"] for r in resp.json["results"]]
    assert it.credential_no not in found
    assert refused == 1300 - 10
    searches = _events(engine, "personal_search")
    assert len(searches) == 10 and all(e.user_id is not None for e in searches)
    assert json.loads(searches[0].details) == {"search": {"kind": "phone", "phone": "16500002559"}}
    # a search by credential number is not a search over personal data: still answered
    ok = client.get("/api/v1/lookup", query_string={"q": it.credential_no}, headers=agent)
    assert ok.status_code == 200 and ok.json["results"][0]["recipient_phone"] == "*******2559"


def test_an_incomplete_phone_number_is_not_searched_for_a_masked_role(client, engine):
    _item(engine)
    agent = _bearer(engine, "agent")
    for typed in ("16512", "165123", "1651234255"):  # search-as-you-type on the way to a number
        assert client.get("/api/v1/lookup", query_string={"q": typed}, headers=agent).json["results"] == []
    assert _events(engine, "personal_search") == []
    full = client.get("/api/v1/lookup", query_string={"q": PHONE}, headers=agent).json["results"]
    assert [r["recipient_phone"] for r in full] == ["*******2559"]
    assert len(_events(engine, "personal_search")) == 1


def test_name_and_last4_searches_by_masked_roles_are_recorded_and_organizers_are_not_limited(app, client, engine):
    configure(app, PERSONAL_SEARCHES_PER_HOUR=2)
    it = _item(engine)
    agent = _bearer(engine, "agent")
    assert client.get("/api/v1/lookup", query_string={"q": NAME}, headers=agent).status_code == 200
    assert client.get("/api/v1/lookup", query_string={"q": f"2559 {NAME}"}, headers=agent).status_code == 200
    assert client.get("/api/v1/lookup", query_string={"q": f"2559 {NAME}"}, headers=agent).status_code == 429
    kinds = [json.loads(e.details)["search"]["kind"] for e in _events(engine, "personal_search")]
    assert kinds == ["name", "phone_last4_name"]
    organizer = _bearer(engine, "organizer")
    for _ in range(4):
        r = client.get("/api/v1/lookup", query_string={"q": PHONE}, headers=organizer).json["results"]
        assert r[0]["credential_no"] == it.credential_no and r[0]["recipient_phone"] == PHONE
    assert len(_events(engine, "personal_search")) == 2


def test_an_older_search_no_longer_counts_against_the_hour(engine):
    from credential_track.models.base import utcnow

    now = utcnow()
    disclosure.guard_personal_search(engine, user_id=None, terms={"kind": "name"}, per_hour=1,
                                     now=now - timedelta(minutes=61))
    disclosure.guard_personal_search(engine, user_id=None, terms={"kind": "name"}, per_hour=1, now=now)
    with pytest.raises(disclosure.TooManySearches):
        disclosure.guard_personal_search(engine, user_id=None, terms={"kind": "name"}, per_hour=1, now=now)


def test_the_desk_pages_mask_for_agents_and_say_when_the_search_limit_is_reached(app, engine):
    configure(app, PERSONAL_SEARCHES_PER_HOUR=1)
    it = _item(engine)
    agent = _login(app, engine, "agent")
    html = agent.client.get(f"/desk/item/{it.credential_no}").get_data(as_text=True)
    assert "*******2559" in html and not _holds_pii(html)
    first = agent.client.get("/desk/results", query_string={"q": PHONE}).get_data(as_text=True)
    assert it.credential_no in first and not _holds_pii(first)
    second = agent.client.get("/desk/results", query_string={"q": PHONE}, headers={"Accept-Language": "zh"})
    assert "已达上限" in second.get_data(as_text=True) and it.credential_no not in second.get_data(as_text=True)


# ---- audit ---------------------------------------------------------------------

def _correction(engine) -> Credential:
    it = _item(engine, recipient_phone="13312797009", phone_last4="7009")
    with write_session(engine) as s:
        corrections.correct_recipient(s, code=it.credential_no, station="WS-03",
                                      changes={"recipient_phone": "13900001111", "recipient_name": "司马相如",
                                               "address": "南京西路1266号恒隆广场"})
    return it


def test_nested_personal_data_is_masked_on_the_audit_page_its_api_and_its_csv(app, engine):
    it = _correction(engine)
    sup = _login(app, engine, "supervisor")
    q = {"item": it.credential_no, "action": "correct"}
    page = sup.client.get("/audit/", query_string=q).get_data(as_text=True)
    api = json.dumps(sup.client.get("/api/v1/audit/events", query_string=q).json, ensure_ascii=False)
    csv_text = sup.client.get("/audit/export.csv", query_string=q).get_data(as_text=True)
    for shown in (page, api, csv_text):
        assert "13312797009" not in shown and "13900001111" not in shown
        assert "*******7009" in shown and "*******1111" in shown
        assert NAME not in shown and "司马相如" not in shown and "1266" not in shown and "333" not in shown
    admin = _login(app, engine, "admin")
    assert "13900001111" in admin.client.get("/audit/", query_string=q).get_data(as_text=True)
    # the admin's CSV holds personal data only when asked for, and is then recorded as such
    assert "13900001111" not in admin.client.get("/audit/export.csv", query_string=q).get_data(as_text=True)
    full = admin.client.get("/audit/export.csv", query_string={**q, "personal": "1"}).get_data(as_text=True)
    assert "13312797009" in full and "13900001111" in full
    assert [json.loads(e.details)["personal_data"] for e in _events(engine, "export")] == [False, False, True]


def test_audit_masking_follows_the_key_path_and_catches_mobile_numbers_anywhere():
    details = json.dumps({"fields": {"recipient_phone": {"from": "13312797009", "to": "13900001111"},
                                     "recipient_name": {"from": "张伟", "to": "李娜"},
                                     "address": {"from": "世纪大道100号8楼", "to": ["崧泽大道333号9楼"]}},
                          "old": {"holder_name": "王芳"}, "note": "caller gave 13812345678", "phone": 13812345678,
                          "username": "agent1", "route": {"from": "SH", "to": "ZJ"}}, ensure_ascii=False)
    masked = json.loads(audit.mask_details(details, "supervisor"))
    f = masked["fields"]
    assert f["recipient_phone"] == {"from": "*******7009", "to": "*******1111"}
    assert f["recipient_name"] == {"from": "张*", "to": "李*"}
    assert "333" not in f["address"]["to"][0] and "100" not in f["address"]["from"]
    assert masked["old"]["holder_name"] == "王*"
    assert masked["note"] == "caller gave *******5678" and masked["phone"] == "*******5678"
    assert masked["username"] == "agent1" and masked["route"] == {"from": "SH", "to": "ZJ"}
    assert audit.mask_details(details, "admin") == details


# ---- export --------------------------------------------------------------------

def _job_with_rejects(app, engine, tmp_path, sup: Auth) -> str:
    from .test_import_manifest import row
    from .test_import_pages import upload

    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path / "jobs"))
    resp = upload(sup.client, sup, [row("R1"), row("R2", phone="1651234255", name=NAME)], skip_invalid="1")
    return resp.headers["Location"].rsplit("/", 1)[1]


PERSONAL_EXPORTS = {
    "status_csv": "/exports/status?personal=1&format=csv",
    "status_xlsx": "/exports/status?personal=1&format=xlsx",
    "audit_csv": "/audit/export.csv?personal=1",
    "import_rejects": "/imports/jobs/{job}/rejects.csv?personal=1",
}


@pytest.mark.parametrize("path", list(PERSONAL_EXPORTS))
def test_supervisor_gets_403_on_every_personal_data_export(app, engine, tmp_path, path):
    _item(engine)
    sup = _login(app, engine, "supervisor")
    url = PERSONAL_EXPORTS[path].format(job=_job_with_rejects(app, engine, tmp_path, sup))
    before = len(_events(engine, "export"))
    resp = sup.client.get(url)
    assert resp.status_code == 403 and not _holds_pii(resp.get_data(as_text=True))
    assert len(_events(engine, "export")) == before  # refused before anything was produced
    # the administrator gets it, recorded as an export with personal data
    admin = _login(app, engine, "admin")
    with admin.client.get(url) as ok:
        assert ok.status_code == 200
        body = ok.data
    if path == "status_xlsx":
        wb = load_workbook(io.BytesIO(body), read_only=True)
        body = "\n".join(str(c) for r in wb.active.iter_rows(values_only=True) for c in r).encode()
    if path == "audit_csv":
        assert b"export" in body
    else:
        assert PHONE.encode() in body or b"1651234255" in body
    last = json.loads(_events(engine, "export")[-1].details)
    assert last["personal_data"] is True


def test_the_organizer_exports_personal_data_and_the_cli_too(app, engine, tmp_path, runner):
    _item(engine)
    org = _login(app, engine, "organizer")
    assert PHONE in org.client.get("/exports/status?personal=1").get_data(as_text=True)
    out = tmp_path / "status.csv"
    res = runner.invoke(args=["export", "status", "--out", str(out), "--personal"])
    assert res.exit_code == 0, res.output
    assert PHONE in out.read_text(encoding="utf-8-sig")
    assert os.stat(out).st_mode & 0o777 == 0o600
    recorded = [json.loads(e.details) for e in _events(engine, "export")]
    assert [(d["kind"], d["personal_data"]) for d in recorded] == [("status", True), ("status", True)]
    assert _events(engine, "export")[-1].user_id is None  # the command line: made on the server


def _text_of(resp) -> str:
    data = resp.data
    if data[:4] == b"%PDF":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    if data[:2] == b"PK":
        wb = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r)
    return data.decode("utf-8")


def test_exports_without_personal_data_hold_none_and_are_recorded(app, engine, tmp_path):
    """What a supervisor may export: the plain status export, the dashboard
    lists, the daily report, handover discrepancies, the audit CSV and the
    rejects of an import hold no name, phone or address."""
    it = _item(engine, status="registered", batch_id=None)
    do_scan(engine, it.credential_no, "handover", "WS-01")
    with write_session(engine) as s:  # a note that quotes the caller's number
        from credential_track.services import events

        events.record(s, action="hold", credential_id=it.id, details={"note": f"rang {PHONE}"})
    sup = _login(app, engine, "supervisor")
    job = _job_with_rejects(app, engine, tmp_path, sup)
    from credential_track.services.handover import list_batches

    with Session(engine) as s:
        batch = list_batches(s)[0]["id"]
    urls = ["/exports/status", "/exports/status?format=xlsx", "/dashboard/items.csv", "/dashboard/items.xlsx",
            "/dashboard/report.pdf", "/dashboard/report.xlsx", f"/api/v1/handover-batches/{batch}/discrepancies.csv",
            "/audit/export.csv", f"/imports/jobs/{job}/rejects.csv"]
    job_page = sup.client.get(f"/imports/jobs/{job}").get_data(as_text=True)
    assert "1651234255" not in job_page and "******4255" in job_page
    before = len(_events(engine, "export"))
    for url in urls:
        with sup.client.get(url) as resp:
            assert resp.status_code == 200, url
            text = _text_of(resp)
        assert not _holds_pii(text) and "1651234255" not in text, url
    recorded = [json.loads(e.details) for e in _events(engine, "export")[before:]]
    assert len(recorded) == len(urls) and not any(d["personal_data"] for d in recorded)


# ---- capture -------------------------------------------------------------------

def test_a_station_that_does_not_capture_reads_no_recipient_data(client, engine, station_token):
    it = _item(engine)
    resp = client.get(f"/api/v1/station/capture/{it.credential_no}", headers=station_token("WS-09"))
    assert resp.status_code == 403 and resp.json["field"] == "station"
    assert not _holds_pii(resp.get_data(as_text=True)) and _events(engine, "recipient_read") == []


def test_every_full_read_at_capture_is_an_event_with_station_and_time(client, engine, station_token):
    it = _item(engine)
    resp = client.get(f"/api/v1/station/capture/{it.credential_no}", headers=station_token("WS-03"))
    assert resp.status_code == 200 and resp.json["recipient"]["recipient_phone"] == PHONE
    [ev] = _events(engine, "recipient_read")
    assert (ev.credential_id, ev.station, ev.user_id) == (it.id, "WS-03", None) and ev.at is not None


@pytest.mark.parametrize("status", ["registered", "accepted", "bagged", "delivered"])
def test_an_item_not_at_capture_is_answered_without_personal_data(client, engine, station_token, status):
    it = _item(engine, status=status, waybill_no=None if status == "registered" else "EE471108151FR")
    resp = client.get(f"/api/v1/station/capture/{it.credential_no}", headers=station_token("WS-03"))
    assert resp.status_code == 200 and resp.json["recipient"] is None and resp.json["holder_name"] is None
    assert not _holds_pii(resp.get_data(as_text=True)) and _events(engine, "recipient_read") == []


def test_a_correction_that_changes_nothing_is_answered_as_a_recorded_read(client, engine, station_token):
    it = _item(engine)
    resp = client.post(f"/api/v1/station/recipient/{it.credential_no}", headers=station_token("WS-03"),
                       json={"changes": {"address": ADDRESS}})
    assert resp.json["result"] == "unchanged" and resp.json["recipient"]["recipient_phone"] == PHONE
    [ev] = _events(engine, "recipient_read")
    assert ev.station == "WS-03"
    for changes in ({"address": ADDRESS}, {"address": "世纪大道1号"}):
        refused = client.post(f"/api/v1/station/recipient/{it.credential_no}", headers=station_token("WS-09"),
                              json={"changes": changes})
        assert refused.status_code == 403 and not _holds_pii(refused.get_data(as_text=True))
    assert reload(engine, it.credential_no).address == ADDRESS


def test_a_session_names_its_capture_station(app, engine):
    it = _item(engine)
    op = _login(app, engine, "operator")
    assert op.client.get(f"/api/v1/station/capture/{it.credential_no}").status_code == 400
    assert op.client.get(f"/api/v1/station/capture/{it.credential_no}?station=WS-09").status_code == 403
    ok = op.client.get(f"/api/v1/station/capture/{it.credential_no}?station=WS-03")
    assert ok.status_code == 200 and ok.json["recipient"]["address"] == ADDRESS
    assert _events(engine, "recipient_read")[0].station == "WS-03"


def test_station_item_lists_hold_no_personal_data(client, engine, station_token):
    it = _item(engine)
    for headers in (station_token("WS-09"), station_token("WS-03")):
        listing = client.get("/api/v1/credentials?status=received", headers=headers)
        detail = client.get(f"/api/v1/credentials/{it.credential_no}", headers=headers)
        assert listing.json["items"][0]["credential_no"] == it.credential_no
        assert not _holds_pii(listing.get_data(as_text=True)) and not _holds_pii(detail.get_data(as_text=True))


# ---- changes of address after capture ----------------------------------------------

@pytest.mark.parametrize("status", ["accepted", "bagged", "dispatched"])
def test_a_station_cannot_readdress_an_item_past_capture(client, engine, station_token, status):
    it = item_at(engine, status)
    route = reload(engine, it["no"]).route
    resp = client.post(f"/api/v1/station/recipient/{it['no']}", headers=station_token("WS-03"),
                       json={"changes": {"recipient_phone": "13900001111", "province": "浙江", "city": "杭州市"}})
    assert resp.status_code == 200 and resp.json["result"] == "intercept_requested"
    assert resp.json["recipient"] is None
    after = reload(engine, it["no"])
    assert (after.recipient_phone, after.phone_last4, after.route) == ("13812345678", "5678", route)
    assert after.intercept is True
    with Session(engine) as s:
        [req] = s.exec(select(InterceptRequest).where(InterceptRequest.credential_id == it["id"])).all()
        ev = s.get(Event, resp.json["event_id"])
    assert (req.kind, req.state, ev.action, ev.station) == ("readdress", "open", "intercept", "WS-03")
    # the supervisor's decision applies it, as for the desk's request
    with write_session(engine) as s:
        tickets.decide_intercept(s, request_id=req.id, done=True, user_id=None)
    after = reload(engine, it["no"])
    assert (after.recipient_phone, after.route[:2], after.intercept) == ("13900001111", "ZJ", False)


def test_a_bagged_item_is_not_rerouted_by_a_station(client, engine, station_token):
    with write_session(engine) as s:
        c = make_credential(s, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    resp = client.post(f"/api/v1/station/recipient/{c.credential_no}", headers=station_token("WS-04"),
                       json={"changes": {"province": "浙江", "city": "杭州市"}})
    assert resp.json["result"] == "intercept_requested" and reload(engine, c.credential_no).route == c.route


@pytest.mark.parametrize("status", ["registered", "received", "captured", "accepted", "bagged", "dispatched",
                                    "in_transit", "delivered", "withdrawn"])
def test_the_station_and_the_desk_follow_one_rule_for_a_change_of_address(engine, status):
    """Applied, intercept request or refused: the same answer for the same
    status whoever asks."""
    from credential_track.services.errors import Conflict

    def outcome(fn) -> str:
        it = item_at(engine, status)
        try:
            with write_session(engine) as s:
                return fn(s, it)
        except Conflict:
            return "refused"

    def station(s, it):
        _item, ev = corrections.correct_recipient(s, code=it["no"], changes={"address": "新地址88号"},
                                                  station="WS-03")
        return "intercept" if ev.action == "intercept" else "apply"

    def desk(s, it):
        t = tickets.open_ticket(s, category="address_change", subject="x", created_by=None)
        out = tickets.change_address(s, ticket_id=t.id, credential_no=it["no"], fields={"address": "新地址88号"},
                                     user_id=None)
        return "intercept" if out["result"] == "intercept_requested" else "apply"

    from credential_track.domain.address_change import address_change

    assert outcome(station) == outcome(desk) == address_change(status).value


# ---- labels ---------------------------------------------------------------------

def test_label_downloads_by_a_station_token_are_recorded(client, engine, station_token):
    items = [item_at(engine, "captured") for _ in range(3)]
    headers = station_token("WS-03")
    bulk = client.get("/print/labels.pdf?status=captured", headers=headers)
    assert bulk.status_code == 200 and bulk.data[:4] == b"%PDF"
    one = client.get(f"/print/labels/{items[0]['no']}.pdf", headers=headers)
    assert one.status_code == 200
    recorded = _events(engine, "label_download")
    assert [(e.station, json.loads(e.details)["kind"], json.loads(e.details)["count"]) for e in recorded] == [
        ("WS-03", "labels", 3), ("WS-03", "label", 1)]
    assert recorded[1].code == items[0]["no"]


def test_a_bag_manifest_download_is_recorded(client, engine, station_token):
    with write_session(engine) as s:
        c = make_credential(s, status="accepted", waybill_no="EE471108151FR")
    bag = open_bag(engine, c.route)
    do_scan(engine, c.credential_no, "bag", "WS-07", bag=bag)
    assert client.get(f"/print/bags/{bag}/manifest.pdf", headers=station_token("WS-07")).status_code == 200
    [ev] = _events(engine, "label_download")
    assert (ev.station, ev.code, json.loads(ev.details)["kind"]) == ("WS-07", bag, "bag_manifest")


def test_roles_without_label_access_get_no_label(client, engine):
    it = item_at(engine, "captured")
    for role in ROLES:
        resp = client.get(f"/print/labels/{it['no']}.pdf", headers=_bearer(engine, role))
        full = personal_data_access(role, PiiPath.label) == PiiAccess.full
        assert (resp.status_code == 200) == full and (resp.status_code == 403) == (not allowed(role, "print"))


# ---- logs and files -----------------------------------------------------------------

def test_the_access_log_holds_no_query_string(capsys):
    from datetime import timedelta as td

    from gunicorn.config import Config

    from credential_track.access_log import PrivateAccessLogger
    from credential_track.cli.commands import gunicorn_settings

    assert gunicorn_settings(host="h", port=1, workers=1, threads=1)["logger_class"] == (
        "credential_track.access_log.PrivateAccessLogger")
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", cfg.access_log_format + ' %(q)s %({referer}i)s %({location}o)s')
    logger = PrivateAccessLogger(cfg)
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]

    class Resp:
        status, sent = "302 FOUND", 10
        headers = [("Location", f"/desk/?q={PHONE}")]

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/api/v1/lookup?q={PHONE}", "PATH_INFO": "/api/v1/lookup",
               "QUERY_STRING": f"q={PHONE}", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": f"http://x/desk/results?q={PHONE}"}
    logger.access(Resp(), [("Referer", f"http://x/desk/results?q={PHONE}")], environ, td(seconds=0.01))
    line = stream.getvalue()
    assert "GET /api/v1/lookup?- HTTP/1.1" in line and "/desk/results?-" in line
    assert PHONE not in line and "2559" not in line


def test_a_notification_log_line_names_the_phone_by_its_last_four_digits(caplog, tmp_path):
    from credential_track.services.notify import LogSender, OutboundMessage

    outbox = tmp_path / "outbox.jsonl"
    with caplog.at_level(logging.INFO, logger="credential_track.notify"):
        LogSender(outbox).send(OutboundMessage(1, PHONE, "zh", "dispatched", "body"))
    assert PHONE not in caplog.text and "*******2559" in caplog.text
    assert os.stat(outbox).st_mode & 0o777 == 0o600


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_the_database_its_wal_and_shm_and_a_backup_are_created_0600(tmp_path):
    from sqlalchemy import text

    from credential_track.db import make_engine, writer
    from credential_track.services import backup

    old = os.umask(0o022)
    try:
        path = tmp_path / "new.db"
        engine = make_engine(f"sqlite:///{path}")
        with writer(engine).begin() as conn:
            conn.execute(text("CREATE TABLE t (x)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:  # keeps the WAL and SHM files open
            conn.execute(text("SELECT * FROM t")).all()
            modes = {p.name: _mode(p) for p in tmp_path.iterdir()}
            assert {"new.db", "new.db-wal", "new.db-shm"} <= set(modes)
            assert set(modes.values()) == {0o600}, modes
        result = backup.backup(engine, tmp_path / "copy.db")
        assert _mode(result.path) == 0o600
        engine.dispose()
        # an existing world-readable database is narrowed when it is opened
        os.chmod(path, 0o644)
        make_engine(f"sqlite:///{path}").dispose()
        assert _mode(path) == 0o600
    finally:
        os.umask(old)


def test_uploads_and_rejects_are_0600(app, engine, tmp_path, monkeypatch):
    from credential_track.domain.manifest import ManifestError
    from credential_track.services import import_jobs
    from credential_track.tasks import imports as task_imports

    seen = {}

    def fake_import(engine, path, *, rejects, **kw):
        seen["upload"] = _mode(path)
        seen["rejects"] = os.fstat(rejects.fileno()).st_mode & 0o777
        raise ManifestError("stop here")

    monkeypatch.setattr(import_jobs, "import_manifest", fake_import)
    old = os.umask(0o022)
    try:
        configure(app, IMPORT_JOBS_DIR=str(tmp_path / "jobs"))
        with app.app_context():
            job = task_imports.submit(filename="m.csv", stream=io.BytesIO(b"x,y\n"), batch=None, skip_invalid=False,
                                      update=False, user_id=None, lang=None)
    finally:
        os.umask(old)
    assert seen == {"upload": 0o600, "rejects": 0o600}
    folder = tmp_path / "jobs" / job
    assert _mode(tmp_path / "jobs") == 0o700 and _mode(folder) == 0o700
    assert _mode(folder / "rejects.csv") == 0o600
    assert not (folder / "m.csv").exists()  # the upload is removed once imported (or refused)


def test_a_rejects_file_written_by_the_cli_is_0600(tmp_path, runner):
    from .test_import_manifest import EN, row, write_csv

    src = write_csv(tmp_path / "m.csv", EN, [row("C1"), row("C2", phone="12")])
    out = tmp_path / "rejects.csv"
    runner.invoke(args=["import", "manifest", str(src), "--skip-invalid", "--rejects", str(out)])
    assert out.exists() and _mode(out) == 0o600
    with open(out, encoding="utf-8-sig") as f:
        assert any(r[2] == "recipient_phone" for r in csv.reader(f))


def test_no_page_shows_a_phone_in_full_to_a_masked_role_after_a_correction(app, engine):
    """The class, end to end: a corrected phone is not shown to an agent on
    the desk nor to a supervisor in the audit log."""
    it = _correction(engine)
    agent = _login(app, engine, "agent")
    sup = _login(app, engine, "supervisor")
    pages = [agent.client.get(f"/desk/item/{it.credential_no}"), agent.client.get(f"/desk/?q={it.credential_no}"),
             sup.client.get(f"/audit/?item={it.credential_no}")]
    for p in pages:
        text = p.get_data(as_text=True)
        assert "13900001111" not in text and "13312797009" not in text and re.search(r"\*{7}1111", text)


def test_the_personal_variant_of_an_export_is_offered_only_to_roles_that_may_export_it(app, engine):
    sup, org, admin = (_login(app, engine, r) for r in ("supervisor", "organizer", "admin"))
    assert 'name="personal"' not in sup.client.get("/exports/").get_data(as_text=True)
    assert 'name="personal"' in org.client.get("/exports/").get_data(as_text=True)
    assert "personal=1" not in sup.client.get("/audit/").get_data(as_text=True)
    assert "personal=1" in admin.client.get("/audit/").get_data(as_text=True)
