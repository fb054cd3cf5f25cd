"""Real-world input: phones, addresses, encodings, Excel files, typed and
scanned codes, names as they really come. Every case is either right or
refused with a message naming row, field and value — never silently wrong.

The corpora: hand-written hard cases, Faker's zh_CN and other locales, files
saved in each encoding, workbooks made with openpyxl the way Excel stores
them; phones are checked against phonenumbers itself."""
from __future__ import annotations

import csv
import unicodedata
import zipfile

import phonenumbers
import pytest
from faker import Faker
from openpyxl import Workbook
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.domain.codes import CodeKind, classify, normalize_code
from credential_track.domain.manifest import Manifest, ManifestError, Validator
from credential_track.domain.recipient import FieldError, check_recipient, parse_phone
from credential_track.domain.regions import SHANGHAI_DISTRICT_ROUTES, PlaceError, _data, place
from credential_track.models import Credential
from credential_track.services import lookup, tickets
from credential_track.services.errors import ServiceError
from credential_track.services.imports import import_manifest

from .factories import make_credential, reload

EN = ["credential_no", "credential_type", "holder_name", "organization", "recipient_name", "recipient_phone",
      "province", "city", "district", "address", "postcode"]
TYPES = {"exhibitor": "exhibitor", "展商": "exhibitor", "buyer": "buyer"}


def row(no="R0001", name="张伟", phone="13812345678", prov="上海", city="上海市", dist="浦东新区",
        addr="世纪大道100号8楼", post="200120", ctype="展商", org="华东贸易有限公司", rec=""):
    return [no, ctype, name, org, rec, phone, prov, city, dist, addr, post]


def validator(**kw):
    return Validator(TYPES, {f: i for i, f in enumerate(EN)}, **kw)


def write_csv(path, rows, encoding="utf-8", header=EN, errors="strict"):
    with open(path, "w", newline="", encoding=encoding, errors=errors) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# ---- phones -----------------------------------------------------------------------

@pytest.mark.parametrize("raw,e164,display,kind", [
    ("１３８１２３４５６７８", "+8613812345678", "13812345678", "mobile"),  # full-width digits
    ("+86 21 6888 1234", "+862168881234", "021-68881234", "landline"),
    ("+86 (0)21 6888 1234", "+862168881234", "021-68881234", "landline"),
    ("138–1234–5678", "+8613812345678", "13812345678", "mobile"),  # en-dashes
    ("手机：138 1234 5678", "+8613812345678", "13812345678", "mobile"),
    ("电话: 021-6888-1234 转 802", "+862168881234", "021-68881234转802", "landline"),
    ("Tel: +86 10 8888 1234 ext. 12", "+861088881234", "010-88881234转12", "landline"),
    ("0086 138 1234 5678", "+8613812345678", "13812345678", "mobile"),
    ("+852 2123 4567", "+85221234567", "+852 2123 4567", "landline"),
    ("+853 6612 3456", "+85366123456", "+853 6612 3456", "mobile"),
    ("+886 912 345 678", "+886912345678", "+886 912 345 678", "mobile"),
    ("+1 415 555 2671", "+14155552671", "+1 415-555-2671", "other"),
    ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958", "landline"),
    ("+44 7911 123456", "+447911123456", "+44 7911 123456", "mobile"),
])
def test_phones_as_people_write_them_are_stored_right(raw, e164, display, kind):
    phone = parse_phone(raw)
    assert (phone.e164, phone.display, phone.kind) == (e164, display, kind)
    assert phone.last4 == e164[-4:]


@pytest.mark.parametrize("raw,key", [
    ("14012345678", "phone_unallocated"),  # 140 is not an allocated mobile range
    ("15412345678", "phone_unallocated"),
    ("0755-8888123", "phone_unallocated"),  # Shenzhen numbers have 8 digits
    ("1234567", "bad_phone"),
    ("68881234", "bad_phone"),  # a landline without its area code
    ("13812345678/13912345678", "bad_phone_chars"),  # two numbers in one cell
    ("138l2345678", "bad_phone_chars"),
    ("400-800-1234", "phone_service"),
    ("+852 1234", "bad_phone"),
])
def test_phones_that_cannot_be_read_with_certainty_are_refused(raw, key):
    with pytest.raises(FieldError) as err:
        parse_phone(raw)
    assert (err.value.field, err.value.key) == ("recipient_phone", key)


def test_a_mainland_mobile_for_an_item_sent_to_hong_kong_is_a_mainland_number():
    assert parse_phone("13812345678", region="HK").e164 == "+8613812345678"
    assert parse_phone("2123 4567", region="HK").e164 == "+85221234567"


@pytest.mark.parametrize("locale,region", [("zh_CN", "CN"), ("zh_TW", "TW"), ("en_US", "US"), ("en_GB", "GB"),
                                           ("ja_JP", "JP"), ("ko_KR", "KR"), ("de_DE", "DE")])
def test_faker_phones_agree_with_phonenumbers_or_are_refused(locale, region):
    fake = Faker(locale)
    fake.seed_instance(2026)
    for _ in range(300):
        raw = fake.phone_number()
        if region != "CN" and not raw.startswith("+"):
            try:
                raw = phonenumbers.format_number(phonenumbers.parse(raw, region),
                                                 phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            except phonenumbers.NumberParseException:
                continue
        try:
            ours = parse_phone(raw)
        except FieldError:
            continue  # refused: never wrong
        ref = phonenumbers.parse(raw.replace("转", " ext "), "CN")
        assert phonenumbers.is_valid_number(ref), raw
        assert ours.e164 == phonenumbers.format_number(ref, phonenumbers.PhoneNumberFormat.E164), raw


def test_landline_only_sets_contact_problem_and_mobile_does_not():
    v = validator()
    landline, _ = v.check(2, row("L1", phone="+86 21 6888 1234"))
    mobile, _ = v.check(3, row("L2", phone="+86 138 1234 5678"))
    assert landline[13] == "landline only: no text messages"
    assert mobile[13] is None
    assert (mobile[5], mobile[6], mobile[14]) == ("13812345678", "5678", "+8613812345678")


# ---- addresses --------------------------------------------------------------------

PLACED = [
    # (province, city, district, address) → (province, district, route)
    (("上海", "", "", "浦东新区世纪大道100号"), ("上海市", "浦东新区", "SH-E")),
    (("上海", "", "浦东", "世纪大道100号"), ("上海市", "浦东新区", "SH-E")),
    (("上海", "徐汇区", "徐汇区", "漕溪北路100号"), ("上海市", "徐汇区", "SH-C")),  # the district in both columns
    (("上海", "浦东", "浦东新区", "世纪大道100号"), ("上海市", "浦东新区", "SH-E")),
    (("上海", "", "閔行區", "莘庄镇1号"), ("上海市", "闵行区", "SH-W")),
    (("上海", "", "Pudong", "100 Century Avenue"), ("上海市", "浦东新区", "SH-E")),
    (("Shanghai", "", "", "Room 5, 100 Century Ave, Pudong New Area, Shanghai"), ("上海市", "浦东新区", "SH-E")),
    (("沪", "", "", "闵行区莘庄镇1号"), ("上海市", "闵行区", "SH-W")),
    (("", "", "", "沪青浦区崧泽大道333号"), ("上海市", "青浦区", "SH-W")),
    (("", "", "", "上海浦东张江路100号"), ("上海市", "浦东新区", "SH-E")),
    (("上海", "", "南汇区", "惠南镇人民路1号"), ("上海市", "浦东新区", "SH-E")),  # merged 2009
    (("上海", "", "闸北区", "天目中路1号"), ("上海市", "静安区", "SH-C")),  # merged 2015
    (("上海", "", "卢湾区", "淮海中路1号"), ("上海市", "黄浦区", "SH-C")),
    (("上海", "", "崇明县", "城桥镇1号"), ("上海市", "崇明区", "SH-N")),
    (("上海", "上海市", "上海市", "上海市上海市徐汇区漕溪北路1号"), ("上海市", "徐汇区", "SH-C")),
    (("上海市", "浦东新区", "", "世纪大道1号"), ("上海市", "浦东新区", "SH-E")),  # district in the city column
    (("", "", "", "中国上海市宝山区友谊路1号"), ("上海市", "宝山区", "SH-N")),
    (("上海", "", "奉贤", "南桥镇1号"), ("上海市", "奉贤区", "SH-S")),
    (("京", "", "朝阳区", "建国路88号"), ("北京市", "朝阳区", "BJ")),
    (("粤", "", "", "广州市天河区天河路1号"), ("广东省", "天河区", "GD")),
    (("广西壮族自治区", "南宁市", "青秀区", "民族大道1号"), ("广西壮族自治区", "青秀区", "GX")),
    (("廣西壯族自治區", "", "", "南寧市青秀區民族大道1號"), ("广西壮族自治区", "青秀区", "GX")),
    (("新疆维吾尔族自治区", "乌鲁木齐", "天山区", "1号"), ("新疆维吾尔自治区", "天山区", "XJ")),
    (("内蒙古", "呼和浩特", "新城区", "1号"), ("内蒙古自治区", "新城区", "NM")),
    (("", "", "", "杭州市西湖区文三路1号"), ("浙江省", "西湖区", "ZJ")),
    (("湖北省", "", "", "襄樊市樊城区人民路1号"), ("湖北省", "樊城区", "HB")),  # 襄樊 → 襄阳 2010
    (("Guangdong", "", "", "天河区天河路1号"), ("广东省", "天河区", "GD")),
    (("上海", "", "浦东新区", "北京东路1号"), ("上海市", "浦东新区", "SH-E")),  # a street named after Beijing
    (("香港", "", "", "九龙弥敦道1号"), ("香港特别行政区", "", "HK")),
]


@pytest.mark.parametrize("given,expected", PLACED)
def test_addresses_are_placed_from_columns_and_text(given, expected):
    p = place(*given)
    assert (p.province, p.district, p.route) == expected


REFUSED = [
    # (province, city, district, address) → field named
    (("上海", "", "", "世纪大道100号"), "district"),  # no district anywhere: no default route
    (("上海", "浦东新区", "闵行区", "世纪大道100号"), "city"),  # one district in the city column, another beside it
    (("北京", "朝阳区", "海淀区", "1号"), "city"),
    (("上海", "", "", "长宁路100号"), "district"),  # a road, not the district
    (("上海", "", "张江镇", "1号"), "district"),  # a town, not a district
    (("上海", "", "浦东新区", "北京市朝阳区建国路1号"), "address"),  # address says Beijing
    (("上海", "", "", "杭州市西湖区文三路1号"), "address"),
    (("上海", "", "徐汇区", "浦东新区世纪大道1号"), "address"),  # two districts
    (("北京", "", "浦东新区", "1号"), "district"),
    (("浙江", "杭州市", "闵行区", "1号"), "district"),
    (("江苏", "苏州市", "玄武区", "1号"), "district"),  # 玄武区 is in Nanjing
    (("火星", "", "", "1号"), "province"),
    (("", "", "", "人民路1号"), "province"),
    (("", "", "", "朝阳区建国路1号"), "address"),  # 朝阳区: Beijing or Changchun
    (("广东", "杭州市", "", "1号"), "city"),
]


@pytest.mark.parametrize("given,field", REFUSED)
def test_unplaceable_or_contradicting_addresses_are_refused_naming_the_field(given, field):
    with pytest.raises(PlaceError) as err:
        place(*given)
    assert err.value.field == field


def test_faker_addresses_are_placed_consistently_or_refused():
    """Faker's zh_CN addresses join a random province, city and district:
    every placement must agree with the division data, the rest refused."""
    data = _data()
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    placed = refused = 0
    for _ in range(2000):
        address = fake.address().split(" ")[0]
        try:
            p = place("", "", "", address)
        except PlaceError:
            refused += 1
            continue
        placed += 1
        assert address.startswith(p.province[:2]), address
        if p.district:
            names = {d.name for entries in data.counties[p.province].values() for d in entries}
            assert p.district in names, address
        if p.province == "上海市":
            assert p.route == SHANGHAI_DISTRICT_ROUTES[p.district]
    assert placed + refused == 2000


def test_divisions_whose_names_start_like_a_province_are_placed_in_their_own():
    """河北区 is Tianjin's, 港北区 Guigang's (Guangxi), 海南藏族自治州 and
    河南蒙古族自治县 Qinghai's, 海南区 Wuhai's: every city and county whose
    official name starts with a province's name or one-character short form
    is placed in its own province, alone and after its province's name
    (a name several provinces have is refused as ambiguous)."""
    from credential_track.domain.regions import _ABBR, _BY_NAME

    data = _data()
    checked, wrong = 0, []
    for index in (data.all_cities, data.all_counties):
        for name, divs in index.items():
            if name != divs[0].name or not (name[0] in _ABBR or any(name.startswith(k) and len(name) > len(k)
                                                                     for k in _BY_NAME)):
                continue
            provinces = {d.province for d in divs}
            if provinces == {"上海市"}:
                continue  # the city itself: a Shanghai address needs its district
            checked += 1
            texts = [name + "人民路1号"] + ([divs[0].province + name + "人民路1号"] if len(provinces) == 1 else [])
            for text in texts:
                try:
                    got = place("", "", "", text).province
                except PlaceError as exc:
                    got = "ambiguous" if exc.key == "ambiguous" and len(provinces) > 1 else exc.key
                if got not in provinces and got != "ambiguous":
                    wrong.append((text, got))
    assert checked > 250 and wrong == []


def test_shanghai_districts_in_every_written_form_reach_their_route():
    forms = {"浦东新区": ["浦东新区", "浦东", "Pudong", "Pudong New Area", "浦東新區"],
             "闵行区": ["闵行区", "闵行", "閔行區", "Minhang District"],
             "静安区": ["静安区", "靜安區", "Jing'an", "闸北区"]}
    for district, written in forms.items():
        for w in written:
            assert place("上海", "", w, "1号").route == SHANGHAI_DISTRICT_ROUTES[district], w


# ---- names ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["王?", "王\ufffd", "？？"])
def test_a_name_with_lost_characters_is_a_row_error(name):
    _record, errors = validator().check(4, row("N1", name=name))
    assert [(e.row, e.column, e.key) for e in errors][:1] == [(4, "holder_name", "lost_chars")]


def test_names_are_cleaned_of_full_width_letters_and_zero_width_spaces():
    rec, errors = check_recipient({"recipient_name": "Ｊｏｈｎ\u200b  Ｓｍｉｔｈ"}, fields=("recipient_name",))
    assert errors == [] and rec.values["recipient_name"] == "John Smith"


def test_a_name_the_label_fonts_cannot_print_is_a_counted_warning(engine, tmp_path):
    linear_b = "\U00010000"  # in no font we could ship
    path = write_csv(tmp_path / "m.csv", [row("W1", name="王" + linear_b), row("W2")])
    result = import_manifest(engine, path)
    assert result.committed and result.new == 2
    assert result.warned == 1
    assert [(w.row, w.column, w.key) for w in result.first_warnings][:1] == [(2, "recipient_name", "unprintable")]
    assert "1 with warnings" in result.summary()


# ---- encodings --------------------------------------------------------------------

@pytest.mark.parametrize("locale,encoding,looks", [("zh_TW", "big5", "Big5"), ("ja_JP", "shift_jis", "Shift-JIS"),
                                                   ("ko_KR", "euc_kr", "EUC-KR")])
def test_files_in_other_encodings_are_refused_naming_the_encoding(tmp_path, locale, encoding, looks):
    fake = Faker(locale)
    fake.seed_instance(1)
    rows = [row(f"B{i}", name=fake.name(), prov="台湾" if locale == "zh_TW" else "上海", city="", dist="",
                addr=fake.address().replace("\n", " ")) for i in range(20)]
    path = write_csv(tmp_path / "m.csv", rows, encoding=encoding, errors="replace")
    with pytest.raises(ManifestError) as err:
        Manifest(path)
    assert looks in str(err.value)


def _bare(tmp_path, text: str, encoding: str, i: int = 0):
    path = tmp_path / f"t{i}.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))  # what the encoding cannot hold becomes ?
    return path


@pytest.mark.parametrize("locale,encoding,looks", [("zh_TW", "big5", "Big5"), ("ko_KR", "euc_kr", "EUC-KR"),
                                                   ("ja_JP", "shift_jis", "Shift-JIS"), ("ja_JP", "euc_jp", "EUC-JP"),
                                                   ("ja_JP", "iso2022_jp", "ISO-2022-JP"),
                                                   ("ko_KR", "iso2022_kr", "ISO-2022-KR"), ("zh_CN", "hz", "HZ")])
def test_a_file_of_one_or_two_rows_in_another_encoding_is_refused_too(tmp_path, locale, encoding, looks):
    """A short file gives little to tell encodings apart by: Big5's 鄭國榮
    decodes as GB18030's 綠瓣篴, Korean Hangul as common hanzi; the 7-bit
    encodings (ISO-2022, HZ) are plain ASCII bytes, valid UTF-8. None of 150
    such files is taken for GB18030 or UTF-8."""
    fake = Faker(locale)
    fake.seed_instance(7)
    for i in range(150):
        lines = "".join(f"E{i}{j},{fake.name()},{fake.address().replace(chr(10), ' ').replace(',', ' ')}\n"
                        for j in range(1 + i % 2))
        path = _bare(tmp_path, "credential_no,recipient_name,address\n" + lines, encoding, i)
        with pytest.raises(ManifestError) as err:
            Manifest(path)
        assert err.value.key in ("other_encoding", "ambiguous_encoding"), (lines, err.value)
    with pytest.raises(ManifestError) as err:  # the file of many rows is named for what it is
        Manifest(_bare(tmp_path, "credential_no,recipient_name,address\n" + "".join(
            f"F{j},{fake.name()},{fake.address().replace(chr(10), ' ').replace(',', ' ')}\n" for j in range(40)),
            encoding, 999))
    assert looks in str(err.value)
    if encoding == "big5":
        path = _bare(tmp_path, "credential_no,recipient_name,address\nE1,鄭國榮,Taipei\n", "big5")
        with pytest.raises(ManifestError, match="Big5"):
            Manifest(path)


def test_gb18030_files_with_letters_symbols_and_rare_characters_are_read_as_written(engine, tmp_path):
    odd = ["José", "Müller", "Дмитрий", "王Ⅱ", "①号", "℃", "™", "王𠮷", "王䶮", "陳大文"]
    names = odd + [f"李{chr(0x660E + i)}" for i in range(40)]
    path = write_csv(tmp_path / "m.csv", [row(f"G{i}", name=n) for i, n in enumerate(names)], encoding="gb18030")
    result = import_manifest(engine, path)
    assert result.committed and result.new == 50, result.first_errors
    # decoded as written; then cleaned as every name is (NFKC: Ⅱ → II, ① → 1, ℃ → °C)
    assert [reload(engine, f"G{i}").holder_name for i in range(10)] == [unicodedata.normalize("NFKC", n) for n in odd]
    fake = Faker("zh_CN")
    fake.seed_instance(9)
    for i in range(100):  # one row, as a small file comes
        one = row(f"E{i}", name=fake.name(), addr=fake.street_address())
        for encoding in ("gbk", "gb18030"):
            with Manifest(write_csv(tmp_path / f"{encoding}{i}.csv", [one], encoding=encoding)) as m:
                assert m.encoding == "gb18030", one


def test_a_name_alone_that_reads_as_gb18030_and_as_big5_is_refused_as_a_tie(tmp_path):
    # 李明 is C0EE C3F7 in GB2312 and 燎嶸 in Big5's common characters: nothing to tell them apart
    path = _bare(tmp_path, "credential_no,recipient_name,address\nE1,李明,Beijing\n", "gb18030")
    with pytest.raises(ManifestError) as err:
        Manifest(path)
    assert err.value.key == "ambiguous_encoding" and "Big5" in str(err.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030"])
def test_faker_names_survive_every_accepted_encoding(engine, tmp_path, encoding):
    fake = Faker("zh_CN")
    fake.seed_instance(3)
    names = [fake.name() for _ in range(30)]
    path = write_csv(tmp_path / "m.csv", [row(f"G{i}", name=n) for i, n in enumerate(names)], encoding=encoding)
    result = import_manifest(engine, path)
    assert result.committed and result.new == 30, result.first_errors
    assert [reload(engine, f"G{i}").holder_name for i in range(30)] == names


@pytest.mark.parametrize("field,value", [("organization", "上海?有限公司"), ("organization", "华东\ufffd贸易"),
                                         ("address", "世纪大道?路100号"), ("address", "世纪大道100号\ufffd")])
def test_an_organization_or_address_that_lost_characters_is_refused(field, value):
    values = {"recipient_name": "张伟", "recipient_phone": "13812345678", "province": "上海", "city": "上海市",
              "district": "浦东新区", "address": "世纪大道100号", "organization": "华东贸易", field: value}
    _rec, errors = check_recipient(values)
    assert [(e.field, e.key) for e in errors] == [(field, "lost_chars")]


def test_a_question_mark_among_latin_letters_is_kept():
    values = {"recipient_name": "Anna Berg", "recipient_phone": "13812345678", "province": "上海",
              "city": "上海市", "district": "浦东新区", "address": "世纪大道100号", "organization": "Why? Studio"}
    rec, errors = check_recipient(values)
    assert errors == [] and rec.values["organization"] == "Why? Studio"


@pytest.mark.parametrize("written", ["1.23457E+15", "1.2E+15", "2026/3/15", "2026-03-15 00:00:00", "3/15/2026"])
def test_a_csv_credential_number_excel_rewrote_is_a_row_error(engine, tmp_path, written):
    path = write_csv(tmp_path / "m.csv", [row(written), row("GOOD1")])
    result = import_manifest(engine, path)
    assert not result.committed
    assert [(e.row, e.column, e.key) for e in result.first_errors] == [(2, "credential_no", "excel_rewritten")]


def test_a_name_saved_in_gbk_without_its_rare_character_is_refused(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row("Q1", name="王𠮷")], encoding="gbk", errors="replace")
    result = import_manifest(engine, path)
    assert not result.committed
    assert [(e.row, e.column, e.value) for e in result.first_errors] == [(2, "holder_name", "王?")]


# ---- Excel ------------------------------------------------------------------------

def workbook(tmp_path, rows, header=EN, hide=()):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    for letter in hide:
        ws.column_dimensions[letter].hidden = True
    path = tmp_path / "m.xlsx"
    wb.save(path)
    return path


def test_a_hidden_stale_sheet_before_the_manifest_is_not_imported(engine, tmp_path):
    wb = Workbook()
    stale = wb.active
    stale.title = "旧版"
    stale.append(EN)
    stale.append(row("OLD1"))
    stale.sheet_state = "hidden"
    ws = wb.create_sheet("名单")
    ws.append(EN)
    ws.append(row("NEW1"))
    wb.active = 1
    wb.save(tmp_path / "m.xlsx")
    result = import_manifest(engine, tmp_path / "m.xlsx")
    assert result.committed and result.new == 1
    with Session(engine) as s:
        assert list(s.exec(select(Credential.credential_no))) == ["NEW1"]


def test_number_and_date_cells_for_codes_and_phones_are_row_errors_that_say_how_to_fix(engine, tmp_path):
    import datetime

    r1 = row("X1")
    r1[0] = 123  # credential number typed as a number: leading zeros lost
    r2 = row("X2")
    r2[5] = 13812345678  # phone as a number
    r3 = row("X3")
    r3[0] = datetime.datetime(2026, 3, 15)
    path = workbook(tmp_path, [r1, r2, r3])
    result = import_manifest(engine, path)
    assert not result.committed
    got = [(e.row, e.column, e.key) for e in result.first_errors]
    assert got == [(2, "credential_no", "number_cell"), (3, "recipient_phone", "number_cell"),
                   (4, "credential_no", "date_cell")]
    assert "设置单元格格式 → 文本" in result.first_errors[0].message


def test_hidden_columns_are_ignored(engine, tmp_path):
    header = EN + ["电话"]
    stale = row("H1", phone="13812345678") + ["13900000000"]
    stale_first = ["电话"] + EN
    path = workbook(tmp_path, [["13900000000"] + row("H2", phone="13812345678")], header=stale_first, hide="A")
    result = import_manifest(engine, path)
    assert result.committed and reload(engine, "H2").recipient_phone == "13812345678"
    path2 = workbook(tmp_path, [stale], header=header, hide="L")
    assert import_manifest(engine, path2).new == 1


def test_two_columns_for_one_field_is_a_file_error_naming_both(tmp_path):
    header = EN + ["手机"]
    path = workbook(tmp_path, [row("D1", phone="021-68881234") + ["13812345678"]], header=header)
    with pytest.raises(ManifestError) as err:
        Manifest(path)
    assert "recipient_phone (F)" in str(err.value) and "手机 (L)" in str(err.value)


def test_a_workbook_whose_shared_strings_unpack_huge_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    good = workbook(tmp_path, [row("Z1")])
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>A</t></si>" * 2_000_000 + "</sst>")
    with pytest.raises(ManifestError) as err:
        Manifest(path)
    assert "sharedStrings.xml" in str(err.value) and "CSV" in str(err.value)


def test_an_invalid_file_keeps_only_the_first_errors_and_counts_the_rest(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(f"E{i}", phone="12", post="1") for i in range(300)])
    out = tmp_path / "rejects.csv"
    with open(out, "w", newline="", encoding="utf-8") as rejects:
        result = import_manifest(engine, path, keep_errors=10, rejects=rejects)
    assert len(result.first_errors) == 10 and result.error_count == 600 and result.rejected == 300
    with open(out, encoding="utf-8") as f:
        assert sum(1 for _ in f) == 601  # every error in the rejects file, from the spool


# ---- codes ------------------------------------------------------------------------

@pytest.mark.parametrize("raw,code", [
    ("ＥＥ４７１１０８１５１ＦＲ", "EE471108151FR"),
    ("ee471108151fr\u200b", "EE471108151FR"),
    ('="000123"', "000123"),
    ("\ufeff000123", "000123"),
    ("'000123", "000123"),
    ("１１０００００００００１５", "1100000000015"),
])
def test_every_typed_or_scanned_code_is_normalised_once(raw, code):
    assert normalize_code(raw) == code


def test_non_ascii_digits_never_make_a_waybill():
    assert classify("EE٤٧١١٠٨١٥١FR").kind == CodeKind.credential  # Arabic-Indic digits
    assert classify("EE4711081５1FR").kind == CodeKind.waybill  # full-width: normalised first


def test_manifest_credential_numbers_are_normalised_or_refused(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row('="000123"'), row("ＡＢ\u200b0042")])
    result = import_manifest(engine, path)
    assert result.committed and result.new == 2
    assert reload(engine, "000123").holder_name == "张伟"
    assert reload(engine, "AB0042").holder_name == "张伟"
    _record, errors = validator().check(2, row("证件0042"))
    assert [(e.column, e.key) for e in errors] == [("credential_no", "bad_code_chars")]


# ---- the same rule everywhere -----------------------------------------------------

def test_desk_refuses_a_phone_the_station_refuses(engine, db):
    item = make_credential(db, status="registered")
    db.commit()
    with write_session(engine) as s:
        ticket_id = tickets.open_ticket(s, category="address_change", subject="新电话", created_by=None,
                                        desk="CS-1", credential_nos=[item.credential_no]).id
    for phone in ("1234567", "14012345678"):
        with pytest.raises(ServiceError) as err, write_session(engine) as s:
            tickets.change_address(s, ticket_id=ticket_id, credential_no=item.credential_no,
                                   fields={"recipient_phone": phone}, user_id=None)
        assert err.value.field == "recipient_phone" and phone in err.value.message
    assert reload(engine, item.credential_no).recipient_phone == "13812345678"
    with write_session(engine) as s:
        tickets.change_address(s, ticket_id=ticket_id, credential_no=item.credential_no,
                               fields={"recipient_phone": "+86 139–0000–2222"}, user_id=None)
    fixed = reload(engine, item.credential_no)
    assert (fixed.recipient_phone, fixed.phone_last4, fixed.recipient_phone_e164) == (
        "13900002222", "2222", "+8613900002222")


def test_hotline_finds_an_item_by_the_phone_as_the_caller_says_it(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row("P1", phone="+86 139-0000-1111")])
    assert import_manifest(engine, path).new == 1
    with Session(engine) as s:
        for typed in ("13900001111", "+86 139 0000 1111", "１３９００００１１１１", "0086-139-0000-1111"):
            _query, ids = lookup.search_ids(s, typed)
            assert [s.get(Credential, i).credential_no for i in ids] == ["P1"], typed
        assert lookup.track(s, credential_no="Ｐ１", last4="１１１１") is not None


def test_e164_is_stored_next_to_the_display_form(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row("F1", phone="+852 2123 4567", prov="香港", city="", dist="",
                                              addr="九龙弥敦道1号", post="")])
    assert import_manifest(engine, path).new == 1
    with Session(engine) as s:
        item = s.exec(select(Credential).where(Credential.credential_no == "F1")).one()
        assert (item.recipient_phone, item.recipient_phone_e164, item.phone_last4, item.route) == (
            "+852 2123 4567", "+85221234567", "4567", "HK")


def test_capture_screen_flags_a_name_the_label_cannot_print():
    from credential_track.services.capture import recipient_problems

    data = {"recipient_name": "王\U00010000", "recipient_phone": "13812345678", "province": "上海市",
            "city": "上海市", "district": "浦东新区", "address": "世纪大道100号8楼", "postcode": "200120"}
    assert recipient_problems(data) == {"recipient_name": "unprintable"}


def test_a_full_width_waybill_scanned_at_capture_is_bound_normalised(engine, db):
    from .factories import do_scan

    item = make_credential(db, status="received")
    db.commit()
    out = do_scan(engine, item.credential_no, "capture", "WS-02", waybill="ＥＥ４７１１０８１５１ＦＲ")
    assert out.result == "ok", out.reason
    assert reload(engine, item.credential_no).waybill_no == "EE471108151FR"
    with Session(engine) as s:
        _query, ids = lookup.search_ids(s, "ｅｅ４７１１０８１５１ｆｒ")
        assert [s.get(Credential, i).credential_no for i in ids] == [item.credential_no]
