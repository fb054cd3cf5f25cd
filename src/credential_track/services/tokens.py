"""API token administration: issue, list, expire, revoke.

The secret is shown once, when the token is issued; only its SHA-256 is
stored. Every change is recorded as an event.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlmodel import Session, select

from ..models import ApiToken, Station, User
from ..models.base import utcnow
from ..permissions import ROLES, role_within
from ..vocabulary import role_text
from . import accounts, events
from .errors import NotFound, ServiceError, one_of, too_long


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """`active`, `expired` or `revoked`."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def token_dict(token: ApiToken, *, station: str | None, user: str | None) -> dict:
    """A token as listings show it: never the secret nor its hash."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "id": token.id, "prefix": token.prefix, "name": token.name, "role": token.role,
        "station": station, "user": user, "state": token_state(token),
        "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at), "last_used_at": iso(token.last_used_at),
    }


def issue_token(
    session: Session, *, station_code: str | None = None, username: str | None = None,
    role: str | None = None, name: str = "", days: int | None = None, by: int | None = None,
) -> accounts.IssuedToken:
    """Issue a token for one station or one user, optionally narrowed to a
    role with fewer permissions than its owner's. Returns the secret once."""
    name = (name or "").strip()
    if len(name) > 100:
        raise too_long("name", 100)
    if days is not None and not 1 <= days <= 3650:
        raise ServiceError(_("The number of days must be between 1 and 3650."), field="days")
    issued = accounts.create_token(session, station_code=station_code or None, username=username or None,
                                   name=name, days=days, created_by=by)
    if role:
        if role not in ROLES:
            raise one_of("role", role, ROLES, "role")
        if not role_within(role, issued.token.role):
            raise ServiceError(_("A token of a %(owner)s cannot have the wider role %(role)s.",
                                 owner=role_text(issued.token.role), role=role_text(role)), field="role")
        issued.token.role = role
        session.add(issued.token)
        session.flush()
    events.record(session, action="token_create", user_id=by, station=station_code or None,
                  details={"token": issued.token.id, "prefix": issued.token.prefix, "role": issued.token.role,
                           "user": username or None, "name": name or None,
                           "expires_at": issued.token.expires_at.isoformat() if issued.token.expires_at else None})
    return issued


def list_tokens(session: Session, *, state: str | None = None) -> list[dict]:
    """Every token, newest first, with its owner, state and last use."""
    rows = session.exec(
        select(ApiToken, Station.code, User.username)
        .join(Station, Station.id == ApiToken.station_id, isouter=True)
        .join(User, User.id == ApiToken.user_id, isouter=True)
        .order_by(ApiToken.id.desc())
    ).all()
    out = [token_dict(t, station=s, user=u) for t, s, u in rows]
    return [t for t in out if state is None or t["state"] == state]


def _get(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("There is no token %(id)s.", id=token_id), field="token")
    return token


def revoke_token(session: Session, token_id: int, *, by: int | None) -> ApiToken:
    """Revoke a token for good (idempotent: revoking twice changes nothing)."""
    token = _get(session, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        events.record(session, action="token_revoke", user_id=by,
                      details={"token": token.id, "prefix": token.prefix})
    return token


def expire_token(session: Session, token_id: int, *, by: int | None, at: datetime | None = None) -> ApiToken:
    """Set a token's expiry (now unless `at`); a revoked token stays revoked."""
    token = _get(session, token_id)
    when = at or utcnow()
    if token.revoked_at is not None:
        raise ServiceError(_("Token %(prefix)s… is revoked already.", prefix=token.prefix), field="token")
    token.expires_at = when
    session.add(token)
    events.record(session, action="token_expire", user_id=by,
                  details={"token": token.id, "prefix": token.prefix, "expires_at": when.isoformat()})
    return token
