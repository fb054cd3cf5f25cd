"""Tokens, users and the audit log."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ...permissions import ROLES
from ...services.audit import MAX_PAGE as AUDIT_MAX
from ..validation import Cursor, RequestModel, Text, query_whole, whole
from .common import Answer, Page, iso

Role = Literal[ROLES]


def _blank_none(value: Any) -> Any:
    return None if value == "" else value


class TokenQuery(RequestModel):
    state: Annotated[Literal["active", "expired", "revoked"] | None, BeforeValidator(_blank_none)] = None


class TokenIn(RequestModel):
    """A token for one station or one user (name exactly one)."""

    station: Text(16, required=False, description="a station code") = None
    user: Text(64, required=False, description="a user name") = None
    role: Annotated[Role | None, BeforeValidator(_blank_none)] = Field(
        default=None, description="a narrower role than the owner's")
    name: Text(100, required=False, description="what the token is for") = None
    days: whole(1, 3650, description="days until it expires") | None = None


class Token(Answer):
    id: int
    prefix: str = Field(description="the first characters of the secret, to recognise it")
    name: str | None
    role: str
    station: str | None
    user: str | None
    state: Literal["active", "expired", "revoked"]
    created_at: str | None = iso()
    expires_at: str | None = iso()
    revoked_at: str | None = iso()
    last_used_at: str | None = iso()


class TokenCreated(Token):
    secret: str = Field(description="the bearer secret: answered this once (Cache-Control: no-store)")


class TokenList(Answer):
    tokens: list[Token]


class UserQuery(RequestModel):
    q: Text(100, required=False, description="part of a user name or display name") = None


class User(Answer):
    id: int
    username: str
    display_name: str | None
    role: str
    site: str | None
    active: bool
    failed_logins: int
    locked_until: str | None = iso()
    locked: bool


class UserList(Answer):
    users: list[User]


Day = Annotated[Annotated[str, Field(max_length=10)] | None, BeforeValidator(_blank_none),
                Field(default=None, description="a local (Asia/Shanghai) day, YYYY-MM-DD, included")]


class AuditQuery(RequestModel):
    """Search terms are compared exactly: a longer one than any column holds matches nothing."""

    item: Text(200, required=False, description="a credential number, waybill number or scanned code, exactly"
               ) = None
    user: Text(200, required=False, description="a user name") = None
    station: Text(200, required=False) = None
    action: Text(200, required=False) = None
    result: Annotated[Literal["ok", "rejected"] | None, BeforeValidator(_blank_none)] = None
    since: Day = None
    until: Day = None
    limit: query_whole(1, AUDIT_MAX, description="events per page") = 100
    after: Cursor() = None
    before: Cursor("deprecated: the same as `after`") = Field(default=None, json_schema_extra={"deprecated": True})


class AuditEvent(Answer):
    id: int
    at: str | None = iso()
    action: str
    result: Literal["ok", "rejected"]
    reason: str | None
    credential_no: str | None
    waybill_no: str | None
    code: str | None
    station: str | None
    user: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    nonce: str | None
    details: str | None = Field(description="the event's details as JSON text; personal data masked unless "
                                "the role sees it in full on the audit path")


class AuditPage(Page[AuditEvent]):
    """Events newest first."""

    events: list[AuditEvent]
