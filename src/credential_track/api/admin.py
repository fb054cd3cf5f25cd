"""Token administration, users and the audit log over the API."""
from __future__ import annotations

from flask import jsonify, request

from ..unit_of_work import get_db
from ..models import User
from ..security import api_require, current_actor
from ..services import audit, tokens, users
from . import BadRequest, bp
from .parse import cursor_arg, int_arg, json_body, text, whole


@bp.get("/tokens")
@api_require("admin")
def list_tokens():
    state = request.args.get("state")
    if state not in (None, "active", "expired", "revoked"):
        raise BadRequest("state", "state must be active, expired or revoked")
    return jsonify({"tokens": tokens.list_tokens(get_db(), state=state)})


@bp.post("/tokens")
@api_require("admin")
def create_token():
    data = json_body()
    days = whole(data, "days", lo=1, hi=3650)
    db = get_db()
    issued = tokens.issue_token(
        db, station_code=text(data, "station", required=False, max_len=16),
        username=text(data, "user", required=False, max_len=64),
        role=text(data, "role", required=False, max_len=16), name=text(data, "name", required=False, max_len=100) or "",
        days=days, by=current_actor().user_id,
    )
    body = tokens.token_dict(issued.token, station=text(data, "station", required=False, max_len=16),
                             user=text(data, "user", required=False, max_len=64))
    body["secret"] = issued.secret  # the only time it is ever answered
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp, 201


@bp.post("/tokens/<int:token_id>/revoke")
@api_require("admin")
def revoke_token(token_id: int):
    db = get_db()
    t = tokens.revoke_token(db, token_id, by=current_actor().user_id)
    return jsonify(tokens.token_dict(t, station=None, user=None))


@bp.post("/tokens/<int:token_id>/expire")
@api_require("admin")
def expire_token(token_id: int):
    db = get_db()
    t = tokens.expire_token(db, token_id, by=current_actor().user_id)
    return jsonify(tokens.token_dict(t, station=None, user=None))


@bp.get("/users")
@api_require("manage_users")
def list_users():
    actor = current_actor()
    db = get_db()
    me = db.get(User, actor.user_id) if actor.user_id else None
    manager = users.Manager(actor.user_id, actor.role, me.site_id if me else None)
    return jsonify({"users": users.list_users(db, manager, q=request.args.get("q"))})


@bp.get("/audit/events")
@api_require("audit")
def audit_events():
    a = request.args
    f = audit.AuditFilter(**{k: a.get(k) or None for k in ("item", "user", "station", "action", "result",
                                                           "since", "until")})
    before = cursor_arg("before")
    return jsonify(audit.search(get_db(), f, role=current_actor().role, limit=int_arg("limit", 100),
                                before=int(before) if before else None))
