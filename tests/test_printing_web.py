"""Print downloads and `credtrack print`: loaders read the database, routes
check the print permission, the station's label format is the default."""
from __future__ import annotations

import io

import pypdf
from sqlmodel import select

from credential_track.db import write_session
from credential_track.domain.codes import make_s10
from credential_track.models import Bag, HandoverBatch, Station, Trip
from credential_track.services import print_data

from .factories import configure, make_credential, make_trip, open_bag


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def pages(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def captured(engine, n: int, **over) -> list[str]:
    """n items with a waybill bound; returns their credential numbers."""
    out = []
    with write_session(engine) as s:
        for _ in range(n):
            item = make_credential(s, status="captured", **over)
            item.waybill_no = make_s10("EE", 30_000_000 + item.id)
            s.add(item)
            out.append(item.credential_no)
    return out


def test_operator_downloads_a_label_with_the_recipient_in_chinese(client, auth, engine):
    [no] = captured(engine, 1, recipient_name="欧阳娜娜", address="崧泽大道333号")
    auth.login("operator")
    resp = client.get(f"/print/labels/{no}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    assert "欧阳娜娜" in text and "崧泽大道333号" in text and "138****5678" in text
    assert "进博会证件管理中心" in text  # the configured organizer is the sender


def test_label_needs_the_print_permission(client, auth, engine):
    [no] = captured(engine, 1)
    assert client.get(f"/print/labels/{no}.pdf").status_code == 302  # to the login page
    auth.login("agent")
    assert client.get(f"/print/labels/{no}.pdf").status_code == 403


def test_station_token_gets_its_stations_label_format(client, engine, station_token):
    [no] = captured(engine, 1)
    headers = station_token("WS-03")
    assert client.get(f"/print/labels/{no}.pdf", headers=headers).mimetype == "application/pdf"
    with write_session(engine) as s:
        st = s.exec(select(Station).where(Station.code == "WS-03")).one()
        st.label_format = "zpl"
        s.add(st)
    resp = client.get(f"/print/labels/{no}.pdf", headers=headers)
    assert resp.status_code == 200 and resp.data.startswith(b"^XA")
    assert client.get(f"/print/labels/{no}.pdf?format=pdf", headers=headers).mimetype == "application/pdf"


def test_a_station_token_gets_documents_with_names_only_for_its_stations_work(client, engine, station_token):
    """Labels where items are captured, bag manifests where bags are filled,
    sealed, loaded or received: a loading bay's or a handover desk's token
    gets neither label (403, nothing recorded), a capture station's does."""
    from sqlmodel import Session, func

    from credential_track.models import Event

    nos = captured(engine, 2)
    def downloads() -> int:
        with Session(engine) as s:
            return s.exec(select(func.count()).select_from(Event).where(Event.action == "label_download")).one()
    for code in ("WS-01", "WS-10"):  # handover and pull; load, arrive and pull
        assert client.get(f"/print/labels/{nos[0]}.pdf", headers=station_token(code)).status_code == 403
        assert client.get(f"/print/labels.pdf?credential={nos[0]}&credential={nos[1]}",
                          headers=station_token(code)).status_code == 403
    assert downloads() == 0
    assert client.get(f"/print/labels/{nos[0]}.pdf", headers=station_token("WS-02")).status_code == 200
    assert downloads() == 1


def test_bad_token_is_401_not_a_login_redirect(client, engine):
    [no] = captured(engine, 1)
    assert client.get(f"/print/labels/{no}.pdf", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_label_errors_name_the_problem(client, auth, engine):
    with write_session(engine) as s:
        fresh = make_credential(s).credential_no  # registered: no waybill yet
    auth.login("operator")
    resp = client.get("/print/labels/NO-SUCH.pdf")
    assert resp.status_code == 404 and "NO-SUCH" in resp.get_data(as_text=True)
    resp = client.get(f"/print/labels/{fresh}.pdf")
    assert resp.status_code == 400 and "还没有运单号" in resp.get_data(as_text=True)
    [no] = captured(engine, 1)
    resp = client.get(f"/print/labels/{no}.pdf?format=png")
    assert resp.status_code == 400 and "png" in resp.get_data(as_text=True)


def test_bulk_labels_by_status_batch_and_list_skip_items_without_label(client, auth, engine):
    with write_session(engine) as s:
        batch = HandoverBatch(name="第二批", expected=4)
        s.add(batch)
        s.flush()
        batch_id = batch.id
    nos = captured(engine, 3, batch_id=batch_id)
    revoked = captured(engine, 1, batch_id=batch_id, revoked=True)
    auth.login("operator")
    resp = client.get("/print/labels.pdf?batch=第二批")
    assert resp.status_code == 200 and pages(resp.data) == 3
    assert revoked[0] not in pdf_text(resp.data)
    resp = client.get("/print/labels.pdf?status=captured")
    assert pages(resp.data) == 3
    resp = client.get(f"/print/labels.pdf?credential={nos[0]}&credential={nos[2]}")
    text = pdf_text(resp.data)
    assert pages(resp.data) == 2 and nos[0] in text and nos[2] in text and nos[1] not in text
    resp = client.get(f"/print/labels.pdf?credential={nos[0]}&credential={revoked[0]}")
    assert resp.status_code == 400 and "已作废" in resp.get_data(as_text=True)
    resp = client.get("/print/labels.pdf?status=captured&format=zpl")
    assert resp.data.count(b"^XA") == 3
    assert client.get("/print/labels.pdf?status=flying").status_code == 400
    assert client.get("/print/labels.pdf?batch=nope").status_code == 404
    assert client.get("/print/labels.pdf").status_code == 400


def test_bulk_labels_over_the_web_limit_point_to_the_command_line(app, client, auth, engine):
    captured(engine, 3)
    configure(app, PRINT_MAX_WEB_LABELS=2)
    auth.login("operator")
    resp = client.get("/print/labels.pdf?status=captured")
    assert resp.status_code == 400 and "credtrack print labels" in resp.get_data(as_text=True)


def sealed_bag_on_trip(engine) -> tuple[str, str, list[str]]:
    bag_code = open_bag(engine, "SH-E")
    trip_code = make_trip(engine)
    with write_session(engine) as s:
        bag = s.exec(select(Bag).where(Bag.code == bag_code)).one()
        trip = s.exec(select(Trip).where(Trip.code == trip_code)).one()
        items = []
        for name in ("司马相如", "李清照"):
            item = make_credential(s, status="dispatched", recipient_name=name, city="上海市", bag_id=bag.id)
            item.waybill_no = make_s10("EE", 40_000_000 + item.id)
            items.append(item.waybill_no)
        bag.item_count, bag.state, bag.seal_no, bag.trip_id = 2, "loaded", "SEAL-00000777", trip.id
        s.add(bag)
    return bag_code, trip_code, items


def test_bag_label_manifest_and_trip_sheet_routes(client, auth, engine):
    bag_code, trip_code, waybills = sealed_bag_on_trip(engine)
    auth.login("operator")
    label = client.get(f"/print/bags/{bag_code}/label.pdf")
    assert label.status_code == 200 and "SEAL-00000777" in pdf_text(label.data)
    assert client.get(f"/print/bags/{bag_code}/label.pdf?format=zpl").data.startswith(b"^XA")
    manifest = pdf_text(client.get(f"/print/bags/{bag_code}/manifest.pdf").data)
    assert "司马相如" in manifest and "李清照" in manifest and all(w in manifest for w in waybills)
    sheet = pdf_text(client.get(f"/print/trips/{trip_code}.pdf").data)
    assert bag_code in sheet and "SEAL-00000777" in sheet and "沪A·12345" in sheet and "李强" in sheet
    assert client.get("/print/bags/BAG-999999/manifest.pdf").status_code == 404
    assert client.get("/print/trips/TRIP-999999.pdf").status_code == 404


def test_handover_receipt_lists_items_of_the_batch_still_registered_as_missing(client, auth, engine, db):
    with write_session(engine) as s:
        batch = HandoverBatch(name="第三批", expected=3, counted=3)
        s.add(batch)
        s.flush()
        got = make_credential(s, batch_id=batch.id, status="received").credential_no
        lost = [make_credential(s, batch_id=batch.id).credential_no for _ in range(2)]
        batch_id = batch.id
    data = print_data.handover_data(db, "第三批", organizer="主办方")
    assert data.missing == lost and data.received == 1 and data.expected == 3 and data.counted == 3
    auth.login("supervisor")
    text = pdf_text(client.get(f"/print/handover/{batch_id}.pdf").data)
    assert all(no in text for no in lost) and got not in text and "第三批" in text
    assert client.get("/print/handover/99999.pdf").status_code == 404


def test_cli_prints_labels_and_reports_a_summary(runner, engine, tmp_path):
    nos = captured(engine, 2)
    out = tmp_path / "labels.pdf"
    result = runner.invoke(args=["print", "labels", *nos, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 labels" in result.output and pages(out.read_bytes()) == 2
    result = runner.invoke(args=["print", "labels", "--status", "captured", "--out", str(tmp_path / "l.zpl"),
                                 "--format", "zpl"])
    assert result.exit_code == 0 and (tmp_path / "l.zpl").read_text().count("^XA") == 2


def test_cli_refuses_bad_input_with_a_clear_message_and_writes_nothing(runner, engine, tmp_path):
    out = tmp_path / "x.pdf"
    cases = [
        (["print", "labels", "NOPE-1", "--out", str(out)], "NOPE-1"),
        (["print", "labels", "--status", "flying", "--out", str(out)], "flying"),
        (["print", "labels", "--out", str(out)], "exactly one"),
        (["print", "bag", "BAG-424242", "--out", str(out)], "BAG-424242"),
        (["print", "trip", "TRIP-424242", "--out", str(out)], "TRIP-424242"),
        (["print", "handover", "no-such-batch", "--out", str(out)], "no-such-batch"),
    ]
    for args, needle in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and needle in result.output, (args, result.output)
    assert not out.exists()


def test_cli_prints_bag_trip_and_handover_documents(runner, engine, tmp_path):
    bag_code, trip_code, _ = sealed_bag_on_trip(engine)
    with write_session(engine) as s:
        s.add(HandoverBatch(name="B-1", expected=0))
    for args, needle in [(["print", "bag", bag_code], "2 items"), (["print", "bag", bag_code, "--label"], bag_code),
                         (["print", "trip", trip_code], "1 bags"), (["print", "handover", "B-1"], "missing 0")]:
        out = tmp_path / "doc.pdf"
        result = runner.invoke(args=[*args, "--out", str(out)])
        assert result.exit_code == 0 and needle in result.output, result.output
        assert pages(out.read_bytes()) >= 1
        out.unlink()


def test_browser_at_a_zpl_station_gets_zpl_labels_by_default(client, auth, engine):
    [no] = captured(engine, 1)
    with write_session(engine) as s:
        st = s.exec(select(Station).where(Station.code == "WS-03")).one()
        st.label_format = "zpl"
        s.add(st)
    auth.login("operator")
    assert client.get(f"/print/labels/{no}.pdf").mimetype == "application/pdf"  # no station picked yet
    client.post("/station/", data={"station": "WS-03", "csrf_token": auth.csrf})
    assert client.get(f"/print/labels/{no}.pdf").data.startswith(b"^XA")


def test_label_with_unprintable_characters_is_printed_and_the_response_names_them(client, auth, engine):
    [bad] = captured(engine, 1, recipient_name="王\U0001F600", address="世纪大道100号")
    [good] = captured(engine, 1, recipient_name="王𠮷", address="世纪大道100号")
    auth.login("operator")
    resp = client.get(f"/print/labels/{bad}.pdf")
    assert resp.status_code == 200 and pages(resp.data) == 1
    assert resp.headers["X-Unprintable-Characters"] == f"{bad}: recipient_name U+1F600"
    resp = client.get(f"/print/labels/{good}.pdf")
    assert "X-Unprintable-Characters" not in resp.headers  # Extension B prints
    resp = client.get(f"/print/labels.pdf?credential={bad}&credential={good}")
    assert pages(resp.data) == 2 and resp.headers["X-Unprintable-Characters"] == f"{bad}: recipient_name U+1F600"
    resp = client.get(f"/print/labels/{bad}.pdf?format=zpl")
    assert resp.headers["X-Unprintable-Characters"] == f"{bad}: recipient_name U+1F600"


def test_cli_prints_labels_with_unprintable_characters_and_says_which(runner, engine, tmp_path):
    [bad] = captured(engine, 1, recipient_name="王\U0001F600")
    out = tmp_path / "labels.pdf"
    result = runner.invoke(args=["print", "labels", bad, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pages(out.read_bytes()) == 1
    assert "1 labels have characters the fonts cannot print" in result.output
    assert f"{bad}: recipient" in result.output and "U+1F600" in result.output
