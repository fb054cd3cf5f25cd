"""The upload page, the export download and the handover station page."""
from __future__ import annotations

import csv
import io
import re

from sqlmodel import Session, func, select

from credential_track.models import Event

from .factories import configure
from .test_import_manifest import EN, row


def manifest_bytes(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EN)
    w.writerows(rows)
    return buf.getvalue().encode("gbk")


def upload(client, auth, rows, **form):
    data = {"csrf_token": auth.csrf, "file": (io.BytesIO(manifest_bytes(rows)), "清单.csv"), **form}
    return client.post("/imports/", data=data, content_type="multipart/form-data")


def test_upload_shows_summary_and_error_report(app, tmp_path, client, auth):
    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    resp = upload(client, auth, [row("P1"), row("P2", post="1")], skip_invalid="1", batch="第一批")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="n-new">1<', page) and re.search(r'id="n-rejected">1<', page)
    assert "必须是6位数字" in page  # the row message, translated by its key
    rejects = re.search(r'href="(/imports/jobs/[0-9a-f]+/rejects.csv)"', page).group(1)
    with client.get(rejects) as resp:
        body = resp.get_data(as_text=True)
    # in the uploader's language (Chinese): the field in words, its code kept
    assert "行号,列,列代码,内容,问题" in body and "3,邮编,postcode,1,必须是6位数字" in body
    assert "personal=1" not in page  # a supervisor is not offered personal data


def test_upload_with_an_invalid_row_imports_nothing(app, tmp_path, client, auth, engine):
    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    client.post("/lang/en", data={"csrf_token": auth.csrf})
    resp = upload(client, auth, [row("Q1"), row("Q2", prov="火星")])
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "nothing was imported" in page
    assert "is not a province, municipality or region of China" in page
    job = resp.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/imports/jobs/{job}.json").get_json()["state"] == "done"


def test_organizer_may_export_but_not_import(app, tmp_path, client, auth, engine):
    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    upload(client, auth, [row("E1"), row("E2")])
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("organizer")
    assert client.get("/imports/").status_code == 403
    plain = client.get("/exports/status").get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(plain)))
    # headers in the reader's language (Chinese by default), labels with the codes kept beside them
    assert lines[0][:6] == ["证件号", "证件类型", "证件类型代码", "交接批次", "状态", "状态代码"]
    assert [r[0] for r in lines[1:]] == ["E1", "E2"] and "持证人" not in lines[0]
    with Session(engine) as s:
        plain_ev = s.exec(select(Event).where(Event.action == "export")).one()  # every export is recorded
        assert '"personal_data": false' in plain_ev.details
    with client.get("/exports/status?personal=1&format=xlsx") as personal:
        assert personal.status_code == 200 and personal.data[:2] == b"PK"
    with Session(engine) as s:
        ev = s.exec(select(Event).where(Event.action == "export").order_by(Event.id.desc())).first()
        assert '"personal_data": true' in ev.details and ev.user_id is not None


def test_a_large_spreadsheet_is_prepared_on_the_queue_not_in_the_request(app, tmp_path, client, auth, engine,
                                                                           monkeypatch):
    """Over XLSX_WHILE_YOU_WAIT rows the status export's XLSX is queued and
    its page gives the download; the dashboard list's XLSX says to take the
    CSV instead, and records no export it did not make."""
    from credential_track.services import exports

    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    upload(client, auth, [row("E1"), row("E2"), row("E3")])
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("organizer")
    client.post("/lang/en", data={"csrf_token": auth.csrf})
    monkeypatch.setattr(exports, "XLSX_WHILE_YOU_WAIT", 2)
    resp = client.get("/exports/status?format=xlsx")
    assert resp.status_code == 302 and "/exports/jobs/" in resp.headers["Location"]
    job = resp.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/exports/jobs/{job}.json").get_json()["state"] == "done"  # the queue runs at once here
    with client.get(f"/exports/jobs/{job}/file") as f:
        assert f.status_code == 200 and f.data[:2] == b"PK"
    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(Event).where(Event.action == "export")).one()
    listing = client.get("/dashboard/items.xlsx?status=registered")
    assert listing.status_code == 302 and "/dashboard/items" in listing.headers["Location"]
    page = client.get(listing.headers["Location"]).get_data(as_text=True)
    assert "3 items are too many for a spreadsheet" in page
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Event).where(Event.action == "export")).one() == before
    monkeypatch.setattr(exports, "XLSX_WHILE_YOU_WAIT", 3)  # at the limit: made at once
    with client.get("/dashboard/items.xlsx?status=registered") as small:
        assert small.status_code == 200 and small.data[:2] == b"PK"
    with client.get("/exports/status?format=xlsx") as small:
        assert small.status_code == 200 and small.data[:2] == b"PK"


def test_handover_page_runs_the_scan_loop_for_its_batch(app, tmp_path, client, auth):
    configure(app, IMPORT_WAIT=True, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    upload(client, auth, [row("H1")], batch="box")
    auth.login("operator")
    page = client.get("/handover/1?station=WS-01").get_data(as_text=True)
    assert 'data-action="handover"' in page and 'data-station="WS-01"' in page
    assert page.index("js/handover.js") < page.index("js/scan.js")
    resp = client.post("/handover/1/receive", data={"counted": "1", "csrf_token": auth.csrf})
    assert resp.status_code == 302
    after = client.get("/handover/1").get_data(as_text=True)
    assert 'id="hb-received">1<' in after
    client.post("/handover/1/close", data={"csrf_token": auth.csrf})
    closed = client.get("/handover/1").get_data(as_text=True)
    assert "scan-app" not in closed
