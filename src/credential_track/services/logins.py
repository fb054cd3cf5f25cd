"""Logins: sessions that logging out really ends, and a lockout that neither
tells real user names from unknown ones nor lets anyone lock a user out.

Lockout. Failed logins are counted per (user name, client address), whether
the name exists or not (LoginThrottle). After `max_failures` in a row that
address may not log in under that name for `lock_minutes`, the right
password included, and each further failure after the lock ends locks it
again; a success resets the count. Unknown names get the very same answers
at the same cost (a password hash is checked either way), so the lockout
reveals nothing. Another address is not affected, so guessing cannot lock
the administrator out. Against guessing spread over many addresses, every
attempt for a name that failed more than `slowdown_after` times within
`window_minutes` (from anywhere: the "*" row) waits `slowdown_step` seconds
per failure beyond that, at most `slowdown_max`, before the password is
looked at.

Sessions. Each sign-in is a LoginSession row; the cookie carries a random
secret of which only the hash is stored, and every request checks that its
row has not ended. Logging out ends the row, so a copy of the cookie is
worthless afterwards; "log out everywhere" ends every row of the user.

Everything here runs in short transactions of its own: the password hash
and the wait happen outside any write transaction (on SQLite the write lock
is the stations' too).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from werkzeug.security import check_password_hash

from ..db import write_session
from ..domain.status import SystemAction
from ..models import LoginSession, LoginThrottle, User
from ..models.base import utcnow
from ..settings import Settings
from . import accounts, events

EVERY_ADDRESS = "*"


@dataclass
class Policy:
    """The numbers of the lockout and the slow-down (see the module docstring)."""

    max_failures: int = field(default_factory=lambda: Settings().login_max_failures)
    lock_minutes: int = field(default_factory=lambda: Settings().login_lock_minutes)
    slowdown_after: int = field(default_factory=lambda: Settings().login_slowdown_after)
    slowdown_step: float = field(default_factory=lambda: Settings().login_slowdown_step)
    slowdown_max: float = field(default_factory=lambda: Settings().login_slowdown_max)
    window_minutes: int = field(default_factory=lambda: Settings().login_window_minutes)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(max_failures=settings.login_max_failures, lock_minutes=settings.login_lock_minutes,
                   slowdown_after=settings.login_slowdown_after, slowdown_step=settings.login_slowdown_step,
                   slowdown_max=settings.login_slowdown_max, window_minutes=settings.login_window_minutes)


@dataclass
class LoginAttempt:
    """The outcome: `user` and `session_secret` (for the cookie) on success;
    otherwise `locked_until` tells whether this name is (now) locked for
    this address. `waited`: the slow-down's seconds."""

    user: User | None
    locked_until: datetime | None = None
    session_secret: str | None = None
    waited: float = 0.0


def _key(username: str, address: str | None) -> tuple[str, str]:
    return username[:64], (address or "unknown")[:64]


def attempt_login(engine: Engine, username: str, password: str, *, address: str | None,
                  policy: Policy | None = None, now: datetime | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> LoginAttempt:
    """Check a password under the lockout and the slow-down; on success
    start a session (a `login` event). Commits its own short transactions."""
    policy = policy or Policy()
    now = now or utcnow()
    name, addr = _key(username, address)
    with Session(engine) as rs:
        pair = rs.exec(select(LoginThrottle).where(LoginThrottle.username == name,
                                                   LoginThrottle.address == addr)).first()
        spread = rs.exec(select(LoginThrottle).where(LoginThrottle.username == name,
                                                     LoginThrottle.address == EVERY_ADDRESS)).first()
    if pair is not None and pair.locked_until is not None and pair.locked_until > now:
        check_password_hash(accounts._DUMMY_HASH, password)  # the same time either way
        _count_metric()
        return LoginAttempt(None, pair.locked_until)
    waited = 0.0
    if spread is not None and spread.window_start > now - timedelta(minutes=policy.window_minutes):
        beyond = spread.failures - policy.slowdown_after
        if beyond >= 0:
            waited = min(policy.slowdown_max, policy.slowdown_step * (beyond + 1))
            sleep(waited)
    with Session(engine, expire_on_commit=False) as rs:
        user = accounts.authenticate(rs, username, password)
    if user is not None:
        with write_session(engine) as s:
            s.execute(delete(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.address == addr))
            if user.failed_logins or user.locked_until:
                s.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
                user.failed_logins, user.locked_until = 0, None
            secret = start_session(s, user, address=addr, now=now)
        return LoginAttempt(user, session_secret=secret, waited=waited)
    _count_metric()
    with write_session(engine) as s:
        failures = _count_failure(s, name, addr, now=now, window=None)
        _count_failure(s, name, EVERY_ADDRESS, now=now, window=timedelta(minutes=policy.window_minutes))
        real = s.exec(select(User).where(User.username == username)).first()
        if real is not None:
            # what the user list shows (the lock itself is per address, above)
            s.execute(update(User).where(User.id == real.id).values(failed_logins=failures))
        if failures < policy.max_failures:
            return LoginAttempt(None, waited=waited)
        until = now + timedelta(minutes=policy.lock_minutes)
        s.execute(update(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.address == addr)
                  .values(locked_until=until))
        if real is not None:
            s.execute(update(User).where(User.id == real.id).values(locked_until=until))
        events.record(s, action="login_locked", user_id=real.id if real is not None else None,
                      details={"username": name, "address": addr, "failures": failures,
                               "until": until.isoformat()})
        _forget_old(s, now)
    return LoginAttempt(None, until, waited=waited)


def _count_metric() -> None:
    from .. import metrics  # imported at first use: see metrics.py

    metrics.LOGIN_FAILURES.inc()


def _count_failure(s: Session, name: str, addr: str, *, now: datetime, window: timedelta | None) -> int:
    """One more failure for (name, addr), atomically; with a `window`, a
    count older than it starts again. Returns the count."""
    t = LoginThrottle.__table__
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(t).values(username=name, address=addr, failures=1, window_start=now)
    if window is None:
        changes = {"failures": t.c.failures + 1}
    else:
        stale = t.c.window_start < now - window
        changes = {"failures": case((stale, 1), else_=t.c.failures + 1),
                   "window_start": case((stale, now), else_=t.c.window_start)}
    s.execute(stmt.on_conflict_do_update(index_elements=["username", "address"], set_=changes))
    return s.exec(select(LoginThrottle.failures).where(LoginThrottle.username == name,
                                                       LoginThrottle.address == addr)).one()


def _forget_old(s: Session, now: datetime) -> None:
    """Counts of names nobody has tried for a day, and no lock: gone (a
    spray of made-up names must not grow the table for ever)."""
    s.execute(delete(LoginThrottle).where(
        LoginThrottle.window_start < now - timedelta(days=1),
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))


def unlock(session: Session, user: User, *, by: int | None) -> None:
    """Clear a lockout from every address (an administrator vouches for the user); recorded."""
    session.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == user.username[:64]))
    events.record(session, action="user_unlock", user_id=by, details={"username": user.username})
    session.refresh(user)


# ---------------------------------------------------------------- sessions


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: User, *, address: str | None, now: datetime | None = None) -> str:
    """A new session row for `user` (a `login` event); returns the secret
    the cookie carries. Flushes, does not commit."""
    secret = secrets.token_urlsafe(32)
    session.add(LoginSession(sid_hash=_hash(secret), user_id=user.id, address=(address or "")[:64],
                             created_at=now or utcnow()))
    events.record(session, action=SystemAction.login.value, user_id=user.id, details={"address": address})
    session.flush()
    return secret


def session_alive(session: Session, secret: str | None, user_id: int) -> bool:
    """Whether the cookie's session is one of `user_id`'s and not ended."""
    if not secret or not isinstance(secret, str):
        return False
    row = session.exec(select(LoginSession.user_id, LoginSession.ended_at)
                       .where(LoginSession.sid_hash == _hash(secret))).first()
    return row is not None and row[0] == user_id and row[1] is None


def end_session(engine: Engine, secret: str | None, *, user_id: int | None, reason: str = "logout") -> None:
    """End the cookie's session (a `logout` event when the user asked)."""
    if not secret or not isinstance(secret, str):
        return
    with write_session(engine) as s:
        done = s.execute(update(LoginSession).where(LoginSession.sid_hash == _hash(secret),
                                                    LoginSession.ended_at.is_(None))
                         .values(ended_at=utcnow(), ended_reason=reason)).rowcount
        if done and reason == "logout":
            events.record(s, action=SystemAction.logout.value, user_id=user_id)


def end_all_sessions(session: Session, user_id: int, *, reason: str = "logout_all") -> int:
    """End every open session of a user; returns how many. Flushes."""
    return session.execute(update(LoginSession).where(LoginSession.user_id == user_id,
                                                      LoginSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), ended_reason=reason)).rowcount


def open_sessions(session: Session, user_id: int) -> list[LoginSession]:
    """A user's sessions not ended, newest first."""
    return list(session.exec(select(LoginSession).where(LoginSession.user_id == user_id,
                                                         LoginSession.ended_at.is_(None))
                             .order_by(LoginSession.id.desc())))


def is_current(row: LoginSession, secret: str | None) -> bool:
    return bool(secret) and row.sid_hash == _hash(secret)
