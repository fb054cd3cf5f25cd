"""No file the system writes holds a cell that a spreadsheet runs as a
formula: every CSV and XLSX writer, opened as a user would open it."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from credential_track import clock
from credential_track.db import write_session
from credential_track.domain.cells import FORMULA_STARTS, csv_cell, is_formula_like
from credential_track.services.imports import import_manifest

from .factories import do_scan, make_credential
from .test_import_manifest import EN, row, write_csv

# what an attacker types into a manifest field or scans as a code
PAYLOADS = ["=HYPERLINK(\"http://x.example/\",\"A\")", "+1+2", "-3+4", "@SUM(A1)", "\t=1+1", "\r=1+1"]
FORMULA = PAYLOADS[0]


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _assert_csv_safe(rows: list[list[str]], payload: str = FORMULA) -> None:
    """The payload is there, as text behind an apostrophe, and no cell of
    the file starts like a formula."""
    cells = [c for r in rows for c in r]
    assert "'" + payload in cells, rows
    assert not [c for c in cells if is_formula_like(c)], rows


def _get(client, path, **query) -> bytes:
    with client.get(path, query_string=query) as resp:
        assert resp.status_code == 200, resp.status_code
        return resp.get_data()


def _assert_xlsx_safe(data: bytes, payload: str = FORMULA) -> None:
    """The payload is a text cell with its exact value; no cell is a formula."""
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r]
    assert [c for c in cells if c.data_type == "f"] == []
    hits = [c for c in cells if c.value == payload]
    assert hits and all(c.data_type == "s" for c in hits), [(c.value, c.data_type) for c in cells]


def test_the_rule_covers_every_formula_start_and_leaves_other_values_alone():
    for p in PAYLOADS:
        assert is_formula_like(p) and csv_cell(p) == "'" + p
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}
    assert [csv_cell(v) for v in ("EE471108151FR", "张伟", -5, 0, None, "")] == ["EE471108151FR", "张伟", -5, 0, "", ""]


@pytest.fixture
def formula_item(engine):
    with write_session(engine) as s:
        make_credential(s, credential_no=FORMULA, holder_name="+1+2", organization="@SUM(A1)")


def test_status_export_csv_and_xlsx_write_formulas_as_text(formula_item, auth, client):
    auth.login("organizer")
    _assert_csv_safe(_csv_rows(_get(client, "/exports/status", format="csv").decode()))
    _assert_xlsx_safe(_get(client, "/exports/status", format="xlsx"))


def test_status_export_cli_files_write_formulas_as_text(formula_item, runner, tmp_path):
    out = tmp_path / "status.csv"
    assert runner.invoke(args=["export", "status", "--out", str(out)]).exit_code == 0
    _assert_csv_safe(_csv_rows(out.read_text(encoding="utf-8-sig")))
    out = tmp_path / "status.xlsx"
    assert runner.invoke(args=["export", "status", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    _assert_xlsx_safe(out.read_bytes())


def test_a_scanned_formula_in_the_handover_discrepancy_csv_is_text(engine, tmp_path, auth, client):
    path = write_csv(tmp_path / "box.csv", EN, [row("H1")])
    batch_id = import_manifest(engine, path, batch="box").batch_id
    assert do_scan(engine, FORMULA, "handover", "WS-01", batch=str(batch_id)).result == "rejected"
    auth.login("organizer")
    resp = client.get(f"/api/v1/handover-batches/{batch_id}/discrepancies.csv")
    assert resp.status_code == 200
    _assert_csv_safe(_csv_rows(resp.get_data(as_text=True)))


def test_the_rejects_csv_of_an_import_writes_formulas_as_text(engine, tmp_path):
    bad = row("R1")
    bad[5] = "=1+2"  # recipient_phone: not a phone, so the row is rejected with its value
    path = write_csv(tmp_path / "bad.csv", EN, [bad])
    with open(tmp_path / "rejects.csv", "w", newline="", encoding="utf-8-sig") as out:
        result = import_manifest(engine, path, rejects=out)
    assert result.rejected == 1
    _assert_csv_safe(_csv_rows((tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")), "=1+2")


def test_the_audit_csv_writes_a_scanned_formula_as_text(engine, auth, client):
    do_scan(engine, FORMULA, "handover", "WS-01")
    auth.login("supervisor")
    resp = client.get("/audit/export.csv")
    assert resp.status_code == 200
    _assert_csv_safe(_csv_rows(resp.get_data(as_text=True)))


def test_dashboard_item_lists_write_formulas_as_text(formula_item, auth, client):
    auth.login("organizer")
    _assert_csv_safe(_csv_rows(_get(client, "/dashboard/items.csv").decode()))
    _assert_xlsx_safe(_get(client, "/dashboard/items.xlsx"))


def test_the_daily_report_xlsx_writes_a_scanned_formula_as_text(engine, auth, client):
    do_scan(engine, FORMULA, "handover", "WS-01")  # a refusal: listed in the report's appendix
    today = datetime.now(clock.local_zone()).date()
    auth.login("organizer")
    _assert_xlsx_safe(_get(client, "/dashboard/report.xlsx", date=today.isoformat()))


def test_control_characters_do_not_break_an_xlsx_export(engine, auth, client):
    with write_session(engine) as s:
        make_credential(s, credential_no="CTRL\x01X")
    auth.login("organizer")
    data = _get(client, "/dashboard/items.xlsx")
    values = [c.value for r in load_workbook(io.BytesIO(data)).active.iter_rows() for c in r]
    assert "CTRL\ufffdX" in values
