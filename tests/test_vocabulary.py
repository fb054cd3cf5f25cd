"""The presentation vocabulary: every code has its words in both languages,
and the pages, exports and filters use them."""
import pytest

from credential_track import vocabulary
from credential_track.domain.status import EventAction, Reason, Status


def test_every_event_action_has_a_label_in_chinese_and_english():
    missing = [a.value for a in EventAction if a.value not in vocabulary.ACTION]
    assert missing == [], f"event actions without a label: {missing}"
    assert vocabulary.missing_labels() == []
    for a in EventAction:
        zh, en = vocabulary.ACTION[a.value]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{a.value}: no Chinese"
        assert en.isascii() and en.strip(), f"{a.value}: no English"


def test_every_status_and_reason_has_its_words():
    assert set(vocabulary.STATUS) == {s.value for s in Status}
    assert {r.value for r in Reason} <= set(vocabulary.REASON)
    assert {r.value for r in Reason} == set(vocabulary.REASON_HELP)


def test_every_field_a_service_error_names_has_a_label():
    import re
    from pathlib import Path

    src = Path(vocabulary.__file__).parent
    names = set()
    for path in src.rglob("*.py"):
        names |= set(re.findall(r'field="([a-z_]+)"', path.read_text(encoding="utf-8")))
    missing = sorted(n for n in names if n not in vocabulary.FIELD and n not in vocabulary.COLUMN)
    assert missing == []


def test_a_route_shows_its_code_beside_its_name():
    assert vocabulary.route_label("ZJ", "zh") == "ZJ 浙江"
    assert vocabulary.route_label("JS", "en") == "JS Jiangsu"
    assert vocabulary.route_label("SH-W", "zh").startswith("SH-W 上海西部")


def test_provinces_are_english_on_the_english_pages_and_as_stored_on_the_chinese():
    assert vocabulary.province_label("浙江省", "en") == "Zhejiang"
    assert vocabulary.province_label("浙江省", "zh") == "浙江省"


@pytest.mark.parametrize("kind, text, codes", [
    ("action", "交接", ["handover"]), ("action", "Handover", ["handover"]), ("action", "handover", ["handover"]),
    ("status", "已妥投", ["delivered"]), ("route", "ZJ 浙江", ["ZJ"]), ("route", "Zhejiang", ["ZJ"]),
    ("credential_type", "展商", ["exhibitor"]), ("result", "拒绝", ["rejected"]), ("action", "nothing", []),
])
def test_filters_take_a_label_in_either_language_or_the_code(kind, text, codes):
    assert vocabulary.codes_for(kind, text) == codes


def test_system_notes_are_stored_as_written_and_shown_in_the_readers_language():
    body = vocabulary.system_note("address_changed_reprint", fields=["city", "district"])
    assert body == "address changed (city, district); label to reprint"
    assert vocabulary.note_text(body, "action", "zh") == "已修改地址（城市、区县）；面单需重打"
    assert vocabulary.note_text("open → resolved", "state", "zh") == "待处理 → 已解决"
    assert vocabulary.note_text("call back after 5pm", "note", "zh") == "call back after 5pm"


def test_event_details_are_shown_in_words_with_local_times():
    text = vocabulary.details_text('{"undone_action": "bag", "reason": "wrong bag", '
                                   '"expires_at": "2026-11-05T01:00:00+00:00", "personal_data": false}', "zh")
    assert text == "被撤销的操作：装袋；原因：wrong bag；到期时间：2026-11-05 09:00:00；含个人信息：否"


def test_the_audit_log_finds_handover_events_by_their_chinese_name(auth, engine):
    from credential_track.db import write_session

    from .factories import do_scan, make_credential

    with write_session(engine) as s:
        code = make_credential(s).credential_no
    do_scan(engine, code, "handover", "WS-01")
    auth.login("supervisor")
    page = auth.client.get("/audit/", query_string={"action": "交接"}, headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and code in html and "交接" in html
    english = auth.client.get("/audit/", query_string={"action": "Handover"}, headers={"Accept-Language": "en"})
    assert code in english.get_data(as_text=True)
    other = auth.client.get("/audit/", query_string={"action": "交界"}, headers={"Accept-Language": "zh-CN"})
    assert other.status_code == 200 and code not in other.get_data(as_text=True)
