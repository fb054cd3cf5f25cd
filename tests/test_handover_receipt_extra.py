"""The handover receipt lists the extra items reconciliation found."""
import io

from pypdf import PdfReader
from sqlmodel import select

from credential_track.db import write_session
from credential_track.models import HandoverBatch
from credential_track.services import scan as scans

from .factories import make_credential, nonce


def test_receipt_lists_missing_and_extra(engine, db, runner, tmp_path):
    batch = HandoverBatch(name="第一批", expected=2)
    db.add(batch)
    db.flush()
    got = make_credential(db, batch_id=batch.id)
    lost = make_credential(db, batch_id=batch.id)
    db.commit()
    for code in (got.credential_no, "NOT-IN-MANIFEST-7"):
        with write_session(engine) as s:
            scans.scan(s, scans.ScanRequest(code=code, action="handover", station="WS-01", nonce=nonce(),
                                             context={"batch": str(batch.id)}))
    out = tmp_path / "receipt.pdf"
    r = runner.invoke(args=["print", "handover", "第一批", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "missing 1" in r.output and "extra 1" in r.output
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert lost.credential_no in text and "NOT-IN-MANIFEST-7" in text
    assert got.credential_no not in text.replace(lost.credential_no, "")
    assert db.exec(select(HandoverBatch).where(HandoverBatch.name == "第一批")).one().expected == 2
