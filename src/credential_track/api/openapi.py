"""The OpenAPI 3.1 document of /api/v1, generated from the views' contracts.

`document(app)` walks the app's URL rules of the API blueprint: every view
declares its contract (api/validation.py `@contract`) and its permission
(`api_require`), and the document is built from those and the pydantic
models alone, so that it describes what the code checks and answers. It is
served at /api/v1/openapi.json and rendered as a reference page at
/api/v1/docs (no script of its own, nothing from another host)."""
from __future__ import annotations

import copy
import json
import re
from typing import Any, Literal

from flask import Response, current_app, render_template
from flask_babel import gettext as _
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..domain.numbers import MAX_INT32
from ..permissions import PERMISSIONS, ROLES
from .blueprint import bp
from .models.common import Error
from .validation import Contract

API_VERSION = "1.0.0"  # the document's version; the API's major version is the /v1 of its paths
PREFIX = "/api/v1"

ERRORS = {
    400: "Malformed request: `field` names the field, parameter or header at fault",
    401: "No credentials, or a token or session that is not (or no longer) valid",
    403: "The role may not do this, or a station token acts for another station",
    404: "No such object (`field` names what was looked for)",
    405: "Method not allowed",
    409: "Conflict with the current state (`field` says what): a nonce reused for another scan, a batch "
         "already closed, a trip that departed…",
    413: "The body is larger than the configured limit (`field` is `body`)",
    429: "Too many searches by phone or name this hour",
}
_ARG = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
TAGS = [
    ("scans", "Scans, bags and trips"), ("items", "Items, their timelines, stations, statistics"),
    ("feed", "The change feed and the dashboard"), ("desk", "Hotline lookup and EMS delivery events"),
    ("handover", "Handover batches"), ("station", "Station pages"), ("supervisor", "Supervisors' corrections"),
    ("admin", "Tokens, users and the audit log"),
]


def contract_of(view) -> Contract | None:
    return getattr(view, "contract", None)


def api_rules(app) -> list[tuple[Any, str, Any]]:
    """(rule, method, view) for every API operation, in path order."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api.") or rule.endpoint in _META:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method, view))
    return out


def document(app=None) -> dict:
    """The OpenAPI document (built once per app)."""
    app = app or current_app
    cached = app.extensions.get("credtrack_openapi")
    if cached is None:
        cached = app.extensions["credtrack_openapi"] = _build(app)
    return cached


def _build(app) -> dict:
    ops = []
    wanted: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [(Error, "serialization")]
    for rule, method, view in api_rules(app):
        spec = contract_of(view)
        if spec is None:
            raise RuntimeError(f"{rule.endpoint} has no @contract: every API view must declare one")
        ops.append((rule, method, view, spec))
        for model in (spec.body, spec.query):
            if model is not None:
                wanted.append((model, "validation"))
        for answer in spec.answers.values():
            if isinstance(answer, type):
                wanted.append((answer, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template="#/components/schemas/{model}",
                                   by_alias=True)
    schemas = top.get("$defs", {})
    paths: dict[str, dict] = {}
    used_query = set()
    for rule, method, view, spec in ops:
        path, params = _path(rule, spec)
        op: dict[str, Any] = {
            "operationId": rule.endpoint.split(".", 1)[1],
            "summary": spec.summary or rule.endpoint,
            "tags": [spec.tag] if spec.tag else [],
            "description": _description(spec, getattr(view, "permission", None)),
            "x-permission": getattr(view, "permission", None),
        }
        if spec.query is not None:
            name = refs[(spec.query, "validation")]["$ref"].rsplit("/", 1)[1]
            used_query.add(name)
            params += _query_params(schemas[name])
        if params:
            op["parameters"] = params
        if spec.body is not None:
            content: dict[str, Any] = {"schema": refs[(spec.body, "validation")]}
            if spec.examples:
                content["examples"] = {k: {"value": v} for k, v in spec.examples.items()}
            op["requestBody"] = {"required": True, "content": {"application/json": content}}
        op["responses"] = _responses(spec, refs, has_path=bool(_ARG.search(rule.rule)))
        paths.setdefault(path, {})[method.lower()] = op
    for name in used_query:  # query models are parameters, not schemas
        if not _referenced(name, schemas, paths):
            schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Credential Track API", "version": API_VERSION,
            "description": "The JSON API of Credential Track: scans from stations and scanner apps, items "
                           "and their timelines, the change feed for the organizer's systems, EMS delivery "
                           "events, the hotline lookup. What may change within v1 and what needs v2: "
                           "docs/API.md.",
        },
        "servers": [{"url": PREFIX}],
        "tags": [{"name": n, "description": d} for n, d in TAGS],
        "security": [{"token": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {f"E{code}": {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in ERRORS.items()},
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer",
                          "description": "A station token acts as its station; a user token as its user "
                                         "(`credtrack token create`, or POST /tokens)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "A logged-in browser session; requests that change state also "
                                           "send the page's CSRF token in `X-CSRFToken`."},
            },
        },
    }


def _referenced(name: str, schemas: dict, paths: dict) -> bool:
    needle = f"#/components/schemas/{name}"
    return needle in repr(paths) or any(needle in repr(s) for k, s in schemas.items() if k != name)


def _description(spec: Contract, permission: str | None) -> str:
    text = spec.description
    if permission:
        roles = ", ".join(r for r in ROLES if r in PERMISSIONS.get(permission, ()))
        text = (text + "\n\n" if text else "") + f"Permission `{permission}`: {roles}."
    return text


def _path(rule, spec: Contract) -> tuple[str, list[dict]]:
    params = []

    def sub(m: re.Match) -> str:
        conv, name = m.group("conv"), m.group("name")
        if conv == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": MAX_INT32}
        else:
            schema = {"type": "string", "minLength": 1}
            if conv != "path":
                schema["pattern"] = "^[^/]+$"
        param = {"name": name, "in": "path", "required": True, "schema": schema}
        extra = spec.path_params.get(name, {})
        if "description" in extra:
            param["description"] = extra["description"]
        elif conv == "path":
            param["description"] = "may contain /"
        params.append(param)
        return "{" + name + "}"

    path = _ARG.sub(sub, rule.rule)
    return path[len(PREFIX):] or "/", params


def _query_params(schema: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = copy.deepcopy(prop)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        if prop.pop("deprecated", False):
            param["deprecated"] = True
        prop.pop("title", None)
        if prop.get("default", 0) is None:
            prop.pop("default")  # absent: no filter (a query string has no null)
        prop = _not_null(prop)
        if name not in required and ("enum" in prop or "$ref" in prop):
            # an empty choice in a query string is no filter (as an absent one)
            prop = {"anyOf": [prop, {"type": "string", "maxLength": 0}]}
        param["schema"] = prop
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        out.append(param)
    return out


def _not_null(schema: dict) -> dict:
    """A query parameter's schema without the `null` member of an optional
    one: a query string holds text or nothing."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        others = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**rest[0], **others} if len(rest) == 1 else {**others, "anyOf": rest}
    return schema


def _responses(spec: Contract, refs: dict, *, has_path: bool) -> dict:
    out: dict[str, Any] = {}
    for status, answer in spec.answers.items():
        if isinstance(answer, str):
            out[str(status)] = {"description": "the file", "content": {answer: {"schema": {"type": "string"}}}}
        else:
            out[str(status)] = {"description": (answer.__doc__ or "").strip().split("\n")[0] or "OK",
                                "content": {"application/json": {"schema": refs[(answer, "serialization")]}}}
    codes = {401, 403, 405, *spec.errors}
    if spec.body is not None or spec.query is not None or has_path:
        codes.add(400)  # a path with NUL is a 400 naming the parameter
    if spec.body is not None:
        codes.add(413)  # MAX_CONTENT_LENGTH, answered before the view
    if has_path:
        codes.add(404)
    for code in sorted(codes):
        out[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return out


def documented_statuses(rule, method: str) -> set[int]:
    """The statuses the document lists for an operation."""
    path = _ARG.sub(lambda m: "{" + m.group("name") + "}", rule.rule)[len(PREFIX):] or "/"
    op = document()["paths"].get(path, {}).get("get" if method == "HEAD" else method.lower(), {})
    return {int(code) for code in op.get("responses", {})}


# ---- serving it ----------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_json():
    """The document (no credentials needed: it describes, it discloses nothing),
    its keys in the order the models declare their fields."""
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")


@bp.get("/docs")
def reference():
    """The reference page: the document rendered as HTML, nothing loaded from elsewhere."""
    doc = document()
    return render_template("api/reference.html", doc=doc, ops=_operations(doc), schemas=doc["components"]["schemas"],
                           title=_("API reference"))


_TICKS = re.compile(r"`([^`]+)`")


@bp.app_template_filter("api_ticks")
def _ticks(text: str | None):
    """Markdown's `code` spans of the document's descriptions as <code>."""
    from markupsafe import Markup, escape

    return Markup(_TICKS.sub(r"<code>\1</code>", str(escape(text or ""))))


def _operations(doc: dict) -> list[tuple[dict, list[tuple[str, str, dict]]]]:
    by_tag: dict[str, list] = {t["name"]: [] for t in doc["tags"]}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault((op.get("tags") or [""])[0], []).append((method.upper(), path, op))
    return [(t, by_tag[t["name"]]) for t in doc["tags"] if by_tag.get(t["name"])]


_META = {"api.openapi_json", "api.reference"}
