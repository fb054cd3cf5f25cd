"""Manifest import: formats, headers, validation, all-or-nothing, re-import, updates."""
from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook
from sqlmodel import Session, func, select

from credential_track.domain.manifest import Manifest, ManifestError, Validator
from credential_track.domain.recipient import FieldError, parse_phone
from credential_track.models import Credential, Event, HandoverBatch
from credential_track.services.imports import import_manifest

from .factories import do_scan, reload

EN = ["credential_no", "credential_type", "holder_name", "organization", "recipient_name", "recipient_phone",
      "province", "city", "district", "address", "postcode"]
ZH = ["证件号", "证件类型", "姓名", "单位", "收件人", "电话", "省", "市", "区", "地址", "邮编"]


def row(no="M0001", ctype="展商", name="张伟", org="华东贸易有限公司", rec="", phone="13812345678",
        prov="上海", city="上海市", dist="浦东新区", addr="世纪大道100号8楼", post="200120"):
    return [no, ctype, name, org, rec, phone, prov, city, dist, addr, post]


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(engine, model=Credential, *where):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding_imports_chinese_text_intact(engine, tmp_path, encoding):
    path = write_csv(tmp_path / "m.csv", ZH, [row("E1", name="欧阳娜"), row("E2", ctype="采购商", prov="广西", city="南宁市",
                                                                                dist="青秀区")],
                     encoding)
    result = import_manifest(engine, path)
    assert result.committed and result.new == 2
    assert reload(engine, "E1").holder_name == "欧阳娜"
    item = reload(engine, "E2")
    assert (item.credential_type, item.province, item.route) == ("buyer", "广西壮族自治区", "GX")


def test_xlsx_with_numeric_postcode_imports(engine, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(EN)
    ws.append(["X1", "media", "李娜", "", "", "13912345678", "北京", "北京市", "朝阳区", "建国路88号SOHO现代城", 100020])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    result = import_manifest(engine, path)
    assert result.new == 1
    item = reload(engine, "X1")
    assert (item.recipient_phone, item.postcode, item.recipient_name, item.route) == ("13912345678", "100020",
                                                                                      "李娜", "BJ")


def test_headers_in_any_order_with_extra_columns_ignored(engine, tmp_path):
    header = ["备注", "地址", "电话", "姓名", "credential_type", "证件号", "province"]
    path = write_csv(tmp_path / "m.csv", header, [["VIP", "浦东新区世纪大道1号", "021-6888-1234", "王强", "staff",
                                                   "H1", "上海市"]])
    result = import_manifest(engine, path)
    assert result.new == 1
    item = reload(engine, "H1")
    assert (item.recipient_phone, item.credential_type, item.holder_name) == ("021-68881234", "staff", "王强")
    assert item.contact_problem == "landline only: no text messages"


def test_missing_required_column_is_one_error_before_any_row(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", ["证件号", "姓名", "地址"], [["A", "B", "C"]])
    with pytest.raises(ManifestError) as exc:
        import_manifest(engine, path)
    assert "missing required column(s): credential_type (证件类型), recipient_phone (电话), province (省)" \
        in str(exc.value)
    assert count(engine) == 0 and count(engine, HandoverBatch) == 0


@pytest.mark.parametrize("raw,expected", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("0086 13812345678", "13812345678"),
    ("8613812345678", "13812345678"), ("(021) 6888 1234", "021-68881234"), ("0755-88881234", "0755-88881234"),
    ("010 12345678", "010-12345678"), ("12812345678", None), ("1381234567", None), ("68881234", None),
    # Shenzhen numbers have 8 digits: a 7-digit one was accepted before
    ("0755-8888123", None),
])
def test_phone_normalisation(raw, expected):
    try:
        got = parse_phone(raw).display
    except FieldError:
        got = None
    assert got == expected


TYPES = {"exhibitor": "exhibitor", "展商": "exhibitor", "buyer": "buyer"}


@pytest.mark.parametrize("overrides,column,value,message", [
    ({"name": ""}, "holder_name", "", "is required"),
    ({"phone": "12345"}, "recipient_phone", "12345",
     "is not a phone number: a mainland mobile (11 digits), a landline with its area code, "
     "or a foreign number with + and its country code"),
    ({"post": "2001"}, "postcode", "2001", "must be 6 digits"),
    ({"prov": "火星"}, "province", "火星", "is not a province, municipality or region of China"),
    ({"ctype": "VIP"}, "credential_type", "VIP", "is not a known credential type (buyer, exhibitor)"),
    ({"no": "EE471108151FR"}, "credential_no", "EE471108151FR",
     "is not a credential number (it reads as a waybill code)"),
    ({"addr": "路" * 501}, "address", "路" * 501, "is longer than 500 characters"),
])
def test_each_validation_rule_names_row_column_value(overrides, column, value, message):
    v = Validator(TYPES, {f: i for i, f in enumerate(EN)})
    record, errors = v.check(7, row(**overrides))
    assert record is None
    assert [(e.row, e.column, e.value, e.message) for e in errors] == [(7, column, value, message)]


def test_duplicate_credential_number_in_file_names_first_row():
    v = Validator(TYPES, {f: i for i, f in enumerate(EN)})
    assert v.check(2, row("D1"))[1] == []
    errors = v.check(5, row("D1"))[1]
    assert str(errors[0]) == "row 5, credential_no 'D1': appears twice in the file (first in row 2)"


def test_invalid_last_row_leaves_database_untouched(engine, tmp_path, runner):
    rows = [row(f"A{i}") for i in range(1, 5000)] + [row("A9999", post="12")]
    path = write_csv(tmp_path / "m.csv", EN, rows)
    res = runner.invoke(args=["import", "manifest", str(path)])
    assert res.exit_code != 0
    assert "row 5001, postcode “12”: must be 6 digits" in res.output
    assert "nothing was imported" in res.output
    assert count(engine) == 0 and count(engine, Event) == 0 and count(engine, HandoverBatch) == 0


def test_skip_invalid_imports_valid_rows_and_writes_rejects(engine, tmp_path, runner):
    path = write_csv(tmp_path / "m.csv", EN, [row("S1"), row("S2", phone="555"), row("S3"),
                                              row("S4", prov="", city="", dist="")])
    rejects = tmp_path / "rejects.csv"
    res = runner.invoke(args=["import", "manifest", str(path), "--skip-invalid", "--rejects", str(rejects),
                              "--batch", "day 1"])
    assert res.exit_code == 0, res.output
    assert "2 new, 0 unchanged, 0 updated, 0 conflicts, 2 rejected" in res.output
    with open(rejects, encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    # the rejects in the reader's words, the column's code kept for machines
    assert lines[0] == ["row", "column", "column (code)", "value", "problem"]
    assert lines[1][:4] == ["3", "recipient's phone", "recipient_phone", "555"]
    assert lines[2] == ["5", "province", "province", "", "is empty, and the address does not name a province"]
    assert count(engine) == 2
    assert count(engine, Event, Event.action == "import", Event.to_status == "registered") == 2
    with Session(engine) as s:
        batch = s.exec(select(HandoverBatch).where(HandoverBatch.name == "day 1")).one()
        assert batch.expected == 2 and reload(engine, "S1").batch_id == batch.id


def test_identical_reimport_changes_nothing(engine, tmp_path, runner):
    path = write_csv(tmp_path / "m.csv", EN, [row("R1"), row("R2")])
    assert runner.invoke(args=["import", "manifest", str(path)]).exit_code == 0
    res = runner.invoke(args=["import", "manifest", str(path)])
    assert res.exit_code == 0
    assert "0 new, 2 unchanged" in res.output
    assert count(engine, Event) == 2


def test_changed_rows_are_conflicts_without_update_and_updates_with_it(engine, tmp_path, runner):
    write_csv(tmp_path / "a.csv", EN, [row("U1"), row("U2")])
    assert runner.invoke(args=["import", "manifest", str(tmp_path / "a.csv")]).exit_code == 0
    do_scan(engine, "U2", "handover", "WS-02")
    do_scan(engine, "U2", "capture", "WS-02", waybill="EE471108151FR")
    write_csv(tmp_path / "b.csv", EN, [row("U1", addr="世纪大道200号"), row("U2", addr="世纪大道200号"), row("U3")])

    res = runner.invoke(args=["import", "manifest", str(tmp_path / "b.csv"), "--batch", "a.csv"])
    assert "1 new, 0 unchanged, 0 updated, 2 conflicts" in res.output
    assert reload(engine, "U1").address == "世纪大道100号8楼"

    res = runner.invoke(args=["import", "manifest", str(tmp_path / "b.csv"), "--batch", "a.csv", "--update"])
    assert "0 new, 1 unchanged, 1 updated, 1 conflicts" in res.output
    assert "row 3, credential number “U2”: differs from the stored item in address; item is captured" in res.output
    assert reload(engine, "U1").address == "世纪大道200号"
    assert reload(engine, "U2").address == "世纪大道100号8楼"
    assert count(engine, Event, Event.action == "update") == 1


def test_manifest_reader_reports_undecodable_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(",".join(EN).encode() + b"\n\xff\xfe\xfa\x80\x81\n")
    with pytest.raises(ManifestError, match="UTF-8"):
        Manifest(path)


def test_interrupt_halfway_leaves_database_as_it_was(engine, tmp_path):
    path = write_csv(tmp_path / "m.csv", EN, [row(f"K{i}") for i in range(6000)])

    def interrupt(n, seen=[0]):
        seen[0] += n
        if seen[0] >= 4000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_manifest(engine, path, progress=interrupt)
    assert count(engine) == 0 and count(engine, Event) == 0 and count(engine, HandoverBatch) == 0
    assert import_manifest(engine, path).new == 6000
