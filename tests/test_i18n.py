"""Every user-facing string has its Chinese translation, and the UI speaks it."""
from pathlib import Path

from babel.messages.pofile import read_po

from credential_track.i18n import PO_PATH, extract_messages, untranslated_calls

ROOT = Path(__file__).resolve().parents[1]


def test_every_string_in_code_and_templates_is_translated():
    with open(PO_PATH, "rb") as f:
        catalog = read_po(f)
    missing = [m for m in extract_messages(ROOT) if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == [], f"untranslated (run scripts/i18n.py missing): {missing[:20]}"


def test_every_message_a_person_reads_in_python_goes_through_gettext():
    found = untranslated_calls(ROOT)
    assert found == [], f"English literals where a person reads them (run scripts/i18n.py untranslated): {found[:20]}"


def test_the_message_check_finds_an_english_literal(tmp_path):
    pkg = tmp_path / "src" / "credential_track" / "services"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text('def f(n):\n    raise ServiceError(f"no ticket {n}", field="ticket")\n'
                              'def g():\n    raise ServiceError(_("There is no ticket."), field="ticket")\n')
    assert untranslated_calls(tmp_path) == ["services/x.py:2: no ticket "]


def test_service_errors_speak_the_request_language_and_name_the_field_in_words(client, auth):
    auth.login("agent")
    zh = client.post("/desk/tickets", data={"subject": "", "category": "other", "csrf_token": auth.csrf},
                     headers={"Accept-Language": "zh-CN"}, follow_redirects=True).get_data(as_text=True)
    assert "主题为必填项" in zh and "subject is required" not in zh


def test_login_page_speaks_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_scan_messages_follow_the_request_language(client, station_token):
    headers = station_token("WS-01")
    body = {"code": "NOPE-1", "action": "handover", "station": "WS-01"}
    zh = client.post("/api/v1/scans", json={**body, "nonce": "zh-1"}, headers={**headers, "Accept-Language": "zh-CN"})
    en = client.post("/api/v1/scans", json={**body, "nonce": "en-1"}, headers={**headers, "Accept-Language": "en"})
    assert zh.json["reason"] == en.json["reason"] == "unknown_code"
    assert "未知编码" in zh.json["message"]
    assert "Unknown code" in en.json["message"]
