"""The written API reference cannot drift from the code: docs/API.md embeds
the reference generated from the served OpenAPI document, the reference
page renders every operation, and every API view declares its contract."""
from __future__ import annotations

import re
from pathlib import Path

from credential_track.api import reference
from credential_track.domain.status import Reason

DOC = Path(__file__).resolve().parents[1] / "docs" / "API.md"


def test_docs_api_md_embeds_the_reference_of_the_served_document(client):
    served = client.get("/api/v1/openapi.json").json
    written = reference.embedded(DOC.read_text(encoding="utf-8"))
    assert written is not None, "docs/API.md lost its generated reference: run python scripts/api_doc.py"
    assert written == reference.markdown(served), "docs/API.md is behind the API: run python scripts/api_doc.py"


def test_docs_api_md_explains_every_refusal_reason():
    text = DOC.read_text(encoding="utf-8")
    assert [r.value for r in Reason if f"| `{r.value}` |" not in text] == []


def test_every_api_operation_is_in_the_document_with_its_permission(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi_json", "api.reference"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)[len("/api/v1"):]
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
            assert getattr(app.view_functions[rule.endpoint], "contract", None) is not None, rule.endpoint
    assert documented == served
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["x-permission"] and "Permission `" in op["description"], (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_the_reference_page_shows_every_operation_and_loads_nothing_from_elsewhere(client):
    doc = client.get("/api/v1/openapi.json").json
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert f'id="op-{op["operationId"]}"' in html and f"{method.upper()}</span> <code>/api/v1{path}" in html
    # no script of its own: only the site's shared ones, from this host
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all(re.search(r'src="/static/js/[\w.-]+\.js"', attrs) for attrs in scripts), scripts
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "the page loads something from another host"


def test_an_oversized_body_is_a_documented_413_naming_the_body(app, client, station_token):
    from .factories import configure

    configure(app, MAX_CONTENT_LENGTH=2000)
    resp = client.post("/api/v1/scans", data=b"{" + b" " * 4000 + b"}", content_type="application/json",
                       headers=station_token("WS-01"))
    assert resp.status_code == 413 and resp.json["field"] == "body"
    doc = client.get("/api/v1/openapi.json").json
    assert "413" in doc["paths"]["/scans"]["post"]["responses"]
    assert all("413" in op["responses"] for ops in doc["paths"].values() for op in ops.values()
               if "requestBody" in op)


def test_401_and_403_answers_speak_the_requests_language(client, station_token):
    zh = client.get("/api/v1/credentials", headers={"Accept-Language": "zh-CN"})
    en = client.get("/api/v1/credentials", headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 401
    assert "令牌" in zh.json["error"] and "token" in en.json["error"] and zh.json["field"] == "Authorization"
    # a station token may not use the admin API
    refused = client.get("/api/v1/tokens", headers={**station_token("WS-01"), "Accept-Language": "zh-CN"})
    assert refused.status_code == 403 and "无权" in refused.json["error"]
