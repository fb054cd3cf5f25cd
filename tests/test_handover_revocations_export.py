"""Revocations, handover reconciliation and the status export."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlmodel import Session, func, select

from credential_track.db import write_session
from credential_track.models import Event, HandoverBatch
from credential_track.services import handover
from credential_track.services.imports import import_manifest

from .factories import do_scan, make_credential, reload
from .test_import_manifest import EN, row, write_csv


def imported(engine, tmp_path, nos, batch="box-1"):
    path = write_csv(tmp_path / f"{batch}.csv", EN, [row(no) for no in nos])
    result = import_manifest(engine, path, batch=batch)
    assert result.committed
    return result.batch_id


def test_revoked_item_is_refused_at_a_later_scan(engine, tmp_path, runner):
    imported(engine, tmp_path, ["V1", "V2"])
    (tmp_path / "rev.csv").write_text("证件号,原因\nV1,重复制证\nNOPE,\n", encoding="utf-8")
    res = runner.invoke(args=["import", "revocations", str(tmp_path / "rev.csv")])
    assert "1 revoked (0 already dispatched: intercept), 0 already revoked, 1 unknown" in res.output
    assert "row 3, credential number “NOPE”: no such credential" in res.output
    assert res.exit_code == 1
    item = reload(engine, "V1")
    assert item.revoked and item.revoked_reason == "重复制证" and not item.intercept
    out = do_scan(engine, "V1", "handover", "WS-01")
    assert (out.result, out.reason) == ("rejected", "revoked")
    assert do_scan(engine, "V2", "handover", "WS-01").result == "ok"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.action == "revoke")) == 1


def test_revoking_a_dispatched_item_sets_intercept(engine, tmp_path, runner):
    with write_session(engine) as s:
        make_credential(s, credential_no="D9", status="dispatched", province="北京市", district="朝阳区")
    (tmp_path / "rev.csv").write_text("D9\n", encoding="utf-8")
    res = runner.invoke(args=["import", "revocations", str(tmp_path / "rev.csv")])
    assert res.exit_code == 0, res.output
    assert "1 revoked (1 already dispatched: intercept)" in res.output
    item = reload(engine, "D9")
    assert item.revoked and item.intercept
    again = runner.invoke(args=["import", "revocations", str(tmp_path / "rev.csv")])
    assert "0 revoked (0 already dispatched: intercept), 1 already revoked" in again.output


def test_closing_a_batch_lists_missing_and_extra_items(engine, tmp_path):
    batch_id = imported(engine, tmp_path, ["B1", "B2", "B3"])
    imported(engine, tmp_path, ["O1"], batch="box-2")
    assert do_scan(engine, "B1", "handover", "WS-01", batch=str(batch_id)).result == "ok"
    assert do_scan(engine, "B2", "handover", "WS-01", batch=str(batch_id)).result == "ok"
    unknown = do_scan(engine, "ZZ404", "handover", "WS-01", batch=str(batch_id))
    assert (unknown.result, unknown.reason) == ("rejected", "unknown_code")
    assert do_scan(engine, "O1", "handover", "WS-01", batch="box-1").result == "ok"

    with write_session(engine) as s:
        out = handover.close_batch(s, batch_id)
    assert (out["expected"], out["received"], out["missing"], out["extra"]) == (3, 2, 1, 2)
    assert [m["credential_no"] for m in out["missing_items"]] == ["B3"]
    assert [(e["code"], e["reason"], e["other_batch"]) for e in out["extra_items"]] == [
        ("ZZ404", "unknown_code", None), ("O1", "other_batch", "box-2")]
    with Session(engine) as s:
        batch = s.get(HandoverBatch, batch_id)
        assert batch.state == "closed"
        rows = list(csv.reader(io.StringIO("".join(handover.discrepancy_csv(s, batch)).lstrip("\ufeff"))))
    assert [(r[1], r[2], r[9]) for r in rows[1:]] == [
        ("missing", "B3", "not_received"), ("extra", "ZZ404", "unknown_code"), ("extra", "O1", "other_batch")]
    # for people: the kind and the reason in words (the session has no request: the CLI's language)
    assert rows[1][0] in ("缺件", "missing") and rows[3][-1].endswith("+08:00")


def test_receive_batch_as_a_whole_through_the_api(engine, tmp_path, client, auth):
    batch_id = imported(engine, tmp_path, ["W1", "W2", "W3"])
    do_scan(engine, "W1", "handover", "WS-01")
    auth.login("operator")
    resp = client.post(f"/api/v1/handover-batches/{batch_id}/receive", json={"counted": 2},
                       headers={"X-CSRFToken": auth.csrf})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["moved"], body["received"], body["counted"], body["difference"]) == (2, 3, 2, -1)
    assert reload(engine, "W3").status == "received"
    bad = client.post(f"/api/v1/handover-batches/{batch_id}/receive", json={"counted": "x"},
                      headers={"X-CSRFToken": auth.csrf})
    assert bad.status_code == 400 and bad.get_json()["field"] == "counted"
    closed = client.post(f"/api/v1/handover-batches/{batch_id}/close", headers={"X-CSRFToken": auth.csrf})
    assert closed.get_json()["missing"] == 0
    again = client.post(f"/api/v1/handover-batches/{batch_id}/receive", json={"counted": 3},
                        headers={"X-CSRFToken": auth.csrf})
    assert again.status_code == 409


def test_status_export_round_trips_through_import(engine, tmp_path, runner):
    imported(engine, tmp_path, ["X1", "X2", "X3"])
    do_scan(engine, "X1", "handover", "WS-01")
    out = tmp_path / "status.csv"
    # a Chinese export (the default): headers an importer reads, labels for
    # people with the codes beside them, local times with their offset
    res = runner.invoke(args=["export", "status", "--out", str(out), "--personal"], env={"CREDTRACK_LANGUAGE": "zh"})
    assert res.exit_code == 0, res.output
    with open(out, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["证件号"], r["状态"], r["状态代码"], r["交接批次"]) for r in rows] == [
        ("X1", "已交接", "received", "box-1"), ("X2", "已登记", "registered", "box-1"),
        ("X3", "已登记", "registered", "box-1")]
    assert rows[0]["交接时间"].endswith("+08:00") and rows[1]["交接时间"] == ""
    # the personal columns read back as a manifest: nothing differs
    again = import_manifest(engine, out, batch="box-1")
    assert (again.new, again.unchanged, again.rejected, len(again.conflicts)) == (0, 3, 0, 0)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.action == "export")) == 1


def test_status_export_filters_and_xlsx(engine, tmp_path, runner):
    imported(engine, tmp_path, ["F1", "F2"])
    do_scan(engine, "F2", "handover", "WS-01")
    out = tmp_path / "s.xlsx"
    res = runner.invoke(args=["export", "status", "--format", "xlsx", "--out", str(out), "--status", "received"])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out, read_only=True)
    values = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert values[0][:3] == ("credential number", "credential type", "credential type (code)")
    assert "holder's name" not in values[0]
    assert [v[0] for v in values[1:]] == ["F2"]


def test_a_closed_batch_takes_no_more_imports(engine, tmp_path, runner):
    batch_id = imported(engine, tmp_path, ["C1"])
    with write_session(engine) as s:
        handover.close_batch(s, batch_id)
    path = write_csv(tmp_path / "more.csv", EN, [row("C2")])
    res = runner.invoke(args=["import", "manifest", str(path), "--batch", "box-1"])
    assert res.exit_code != 0
    assert "The handover batch “box-1” is closed; import under another batch name." in res.output
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.action == "import")) == 1


def test_discrepancy_list_is_for_the_organizer_not_the_operator(engine, tmp_path, client, auth):
    batch_id = imported(engine, tmp_path, ["G1", "G2"])
    do_scan(engine, "G1", "handover", "WS-01", batch=str(batch_id))
    auth.login("operator")
    assert client.get(f"/api/v1/handover-batches/{batch_id}/discrepancies.csv").status_code == 403
    auth.login("organizer", username="org-1")
    resp = client.get(f"/api/v1/handover-batches/{batch_id}/discrepancies.csv")
    assert resp.status_code == 200
    lines = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("类别,类别代码,编码,证件号") and lines[1].startswith("缺件,missing,G2,G2")
