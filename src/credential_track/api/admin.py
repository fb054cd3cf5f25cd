"""Token administration, users and the audit log over the API."""
from __future__ import annotations

from flask import jsonify

from ..models import User
from ..security import api_require, current_actor
from ..services import audit, tokens, users
from ..unit_of_work import get_db
from .blueprint import bp
from .models import admin as m
from .validation import contract

TAG = "admin"


@bp.get("/tokens")
@api_require("admin")
@contract(query=m.TokenQuery, answer=m.TokenList, tag=TAG, summary="API tokens (never their secrets)")
def list_tokens(query: m.TokenQuery):
    return jsonify({"tokens": tokens.list_tokens(get_db(), state=query.state)})


@bp.post("/tokens")
@api_require("admin")
@contract(body=m.TokenIn, answer=m.TokenCreated, status=201, errors=(404,), tag=TAG, summary="Issue a token",
          description="For one station or one user, optionally narrowed to a role with fewer permissions. "
          "The secret is answered this once (`Cache-Control: no-store`).")
def create_token(body: m.TokenIn):
    issued = tokens.issue_token(
        get_db(), station_code=body.station, username=body.user, role=body.role, name=body.name or "",
        days=body.days, by=current_actor().user_id,
    )
    answer = tokens.token_dict(issued.token, station=body.station, user=body.user)
    answer["secret"] = issued.secret  # the only time it is ever answered
    resp = jsonify(answer)
    resp.headers["Cache-Control"] = "no-store"
    return resp, 201


def _token_answer(token_id: int) -> dict:
    return next(t for t in tokens.list_tokens(get_db()) if t["id"] == token_id)


@bp.post("/tokens/<int:token_id>/revoke")
@api_require("admin")
@contract(answer=m.Token, tag=TAG, summary="Revoke a token for good")
def revoke_token(token_id: int):
    tokens.revoke_token(get_db(), token_id, by=current_actor().user_id)
    return jsonify(_token_answer(token_id))


@bp.post("/tokens/<int:token_id>/expire")
@api_require("admin")
@contract(answer=m.Token, tag=TAG, summary="Expire a token now")
def expire_token(token_id: int):
    tokens.expire_token(get_db(), token_id, by=current_actor().user_id)
    return jsonify(_token_answer(token_id))


@bp.get("/users")
@api_require("manage_users")
@contract(query=m.UserQuery, answer=m.UserList, tag=TAG, summary="Users",
          description="A supervisor sees their site's users, an admin all.")
def list_users(query: m.UserQuery):
    actor = current_actor()
    db = get_db()
    me = db.get(User, actor.user_id) if actor.user_id else None
    manager = users.Manager(actor.user_id, actor.role, me.site_id if me else None)
    return jsonify({"users": users.list_users(db, manager, q=query.q)})


@bp.get("/audit/events")
@api_require("audit")
@contract(query=m.AuditQuery, answer=m.AuditPage, tag=TAG, summary="Search the audit log",
          description="Newest first. `item` matches a credential number, waybill number or scanned code "
          "exactly; dates are local (Asia/Shanghai) days, both ends included; personal data in `details` is "
          "masked unless the role sees it in full on the `audit` path (docs/PERMISSIONS.md).")
def audit_events(query: m.AuditQuery):
    f = audit.AuditFilter(item=query.item, user=query.user, station=query.station, action=query.action,
                          result=query.result, since=query.since, until=query.until)
    cursor = query.after or query.before
    page = audit.search(get_db(), f, role=current_actor().role, limit=query.limit,
                        before=int(cursor) if cursor else None)
    return jsonify({**page, "next": str(page["next"]) if page["next"] is not None else None})
