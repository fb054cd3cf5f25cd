"""Users and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ApiToken, Station, User
from ..models.base import utcnow
from . import recent
from .errors import NotFound, ServiceError, one_of

ROLES = ("admin", "supervisor", "operator", "agent", "organizer")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "ct_"


def check_role(role: str) -> None:
    """Refuse a role that does not exist."""
    if role not in ROLES:
        raise one_of("role", role, ROLES, "role")


def check_password(password: str) -> None:
    """The one password rule: at least MIN_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(_("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
                           field="password")


def create_user(
    session: Session, *, username: str, password: str, role: str,
    display_name: str = "", site_id: int | None = None,
) -> User:
    """Add a user; the password is stored as a salted scrypt hash."""
    username = username.strip()
    if not username:
        raise ServiceError(_("The user name must not be empty."), field="username")
    check_role(role)
    check_password(password)
    if session.exec(select(User).where(User.username == username)).first():
        raise ServiceError(_("The user “%(name)s” exists already.", name=username), field="username")
    user = User(
        username=username, password_hash=generate_password_hash(password), role=role,
        display_name=display_name or username, site_id=site_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        # spend the same time as a real check so names cannot be probed
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str


def create_token(
    session: Session, *, station_code: str | None = None, username: str | None = None,
    name: str = "", days: int | None = None, created_by: int | None = None,
) -> IssuedToken:
    """Issue an API token for a station or a user. The secret is returned
    once; only its hash is stored."""
    if bool(station_code) == bool(username):
        raise ServiceError(_("A token belongs to exactly one station or one user."), field="station")
    station_id = user_id = None
    if station_code:
        station = session.exec(select(Station).where(Station.code == station_code)).first()
        if station is None:
            raise NotFound(_("There is no station %(station)s.", station=station_code), field="station")
        station_id, role = station.id, "operator"
    else:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(_("There is no user “%(name)s”.", name=username), field="user")
        user_id, role = user.id, user.role
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=_hash_token(secret), prefix=secret[:10], name=name, station_id=station_id,
        user_id=user_id, role=role, created_by=created_by,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


@dataclass(frozen=True)
class TokenActor:
    """What a presented token may do: its role, its user, its station."""

    token_id: int
    role: str
    user_id: int | None
    station: str | None
    user_role: str | None
    user_active: bool | None
    last_used_at: datetime | None
    expires_at: datetime | None = None


_ACTOR_QUERY = (
    sa_select(ApiToken.id, ApiToken.role, ApiToken.user_id, Station.code, User.role, User.active,
              ApiToken.last_used_at, ApiToken.revoked_at, ApiToken.expires_at)
    .select_from(ApiToken)
    .outerjoin(Station, Station.id == ApiToken.station_id)
    .outerjoin(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def actor_for_secret(conn, secret: str, now: datetime | None = None) -> TokenActor | None:
    """The live token for a presented secret with its station code and its
    user's state, in one query built once (this runs on every API request).
    `conn` is a Connection or a Session."""
    row = conn.execute(_ACTOR_QUERY, {"token_hash": _hash_token(secret)}).first()
    now = now or utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return TokenActor(row[0], row[1], row[2], row[3], row[4], row[5], row.last_used_at, row.expires_at)


class TokenCache:
    """Tokens this process looked up a moment ago (see services/recent.py):
    a station scanning all day is not looked up on every scan. Expiry is
    checked on every hit."""

    def __init__(self):
        self._recent = recent.Recent()

    def lookup(self, conn_factory, secret: str, now: datetime | None = None) -> TokenActor | None:
        """The live token for `secret`: from memory, else from the database
        through a connection from `conn_factory()`."""
        now = now or utcnow()

        def load() -> TokenActor | None:
            with conn_factory() as conn:
                return actor_for_secret(conn, secret, now)

        actor = self._recent.fetch(_hash_token(secret), load)
        if actor is not None and actor.expires_at is not None and actor.expires_at <= now:
            return None
        return actor

    def touched(self, secret: str, at: datetime) -> None:
        """The token's last use was just recorded as `at`."""
        key = _hash_token(secret)
        actor = self._recent.get(key)
        if actor is not None:
            self._recent.update(key, replace(actor, last_used_at=at))


def token_for_secret(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token (not revoked, not expired) for a presented secret."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret))).first()
    now = now or utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return token
