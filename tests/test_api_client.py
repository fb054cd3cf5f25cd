"""The document is good enough to generate a client from: openapi-python-client
turns the served /api/v1/openapi.json into a Python package without a
warning, and that package, knowing nothing but the document, scans an item
(accepted and refused) and reads its timeline."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from credential_track.db import write_session

from .factories import make_credential

PACKAGE = "credtrack_client"


def test_the_served_document_validates_as_openapi_3_1(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    validate(doc)


@pytest.fixture
def generated(client, tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(client.get("/api/v1/openapi.json").json), encoding="utf-8")
    tool = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run([str(tool), "generate", "--path", str(tmp_path / "openapi.json"), "--meta", "none",
                          "--output-path", str(tmp_path / PACKAGE)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    # a part of the document the generator could not turn into code is a warning
    assert "warning" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_scans_an_item_and_reads_its_timeline(app, engine, station_token, generated):
    with write_session(engine) as s:
        credential_no = make_credential(s).credential_no
    secret = station_token("WS-01")["Authorization"].split(" ", 1)[1]
    api = generated("client").AuthenticatedClient(
        base_url="http://localhost/api/v1", token=secret,
        httpx_args={"transport": httpx.WSGITransport(app=app)})
    models = generated("models")
    post_scan, get_credential = generated("api.scans.post_scan"), generated("api.items.get_credential")

    ok = post_scan.sync(client=api, body=models.ScanIn(code=credential_no, action=models.Action.HANDOVER,
                                                       nonce="client-1"))
    assert isinstance(ok, models.ScanAnswer), ok
    assert (ok.result, ok.item.status, ok.replayed) == (models.ScanAnswerResult.OK, models.Status.RECEIVED, False)
    refused = post_scan.sync(client=api, body=models.ScanIn(code=credential_no, action=models.Action.ACCEPT,
                                                            nonce="client-2"))
    assert (refused.result, refused.reason) == (models.ScanAnswerResult.REJECTED, "not_allowed_here")

    detail = get_credential.sync(client=api, credential_no=credential_no)
    assert isinstance(detail, models.CredentialDetail), detail
    assert detail.status == models.Status.RECEIVED
    assert [(e.action, e.refused, e.reason, e.station) for e in detail.events] == [
        ("handover", False, None, "WS-01"), ("accept", True, "not_allowed_here", "WS-01")]

    missing = get_credential.sync(client=api, credential_no="NO-SUCH-ITEM")
    assert isinstance(missing, models.Error) and missing.field == "credential_no"
