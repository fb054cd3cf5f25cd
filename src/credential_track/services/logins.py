"""Login attempts: slow-down and lockout after repeated failures.

The counters live on the user row (failed_logins, locked_until), so every
app process behind the proxy sees the same count; the increment is one
UPDATE ... SET failed_logins = failed_logins + 1, safe under concurrency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select
from werkzeug.security import check_password_hash

from ..models import User
from ..models.base import utcnow
from . import accounts, events


@dataclass
class LoginAttempt:
    """The outcome: `user` on success; otherwise `locked_until` tells whether
    the account is (now) locked."""

    user: User | None
    locked_until: datetime | None = None


def attempt_login(
    session: Session, username: str, password: str, *, max_failures: int = 5,
    lock_minutes: int = 15, now: datetime | None = None,
) -> LoginAttempt:
    """Check a password, counting failures per user.

    After `max_failures` wrong passwords in a row the account is locked for
    `lock_minutes`; while locked even the right password is refused, and each
    further failure after the lock ends locks it again. A success resets the
    count. Locking is recorded as a `login_locked` event. Flushes, does not
    commit: the caller commits the counters whether or not the login worked."""
    now = now or utcnow()
    user = session.exec(select(User).where(User.username == username)).first()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        check_password_hash(accounts._DUMMY_HASH, password)  # same time either way
        return LoginAttempt(None, user.locked_until)
    ok = accounts.authenticate(session, username, password)
    if ok is not None:
        if ok.failed_logins or ok.locked_until:
            session.execute(update(User).where(User.id == ok.id).values(failed_logins=0, locked_until=None))
            session.refresh(ok)
        return LoginAttempt(ok)
    if user is None or not user.active:
        return LoginAttempt(None)
    session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1))
    session.refresh(user)
    if user.failed_logins >= max_failures:
        until = now + timedelta(minutes=lock_minutes)
        session.execute(update(User).where(User.id == user.id).values(locked_until=until))
        events.record(session, action="login_locked", user_id=user.id,
                      details={"username": user.username, "failures": user.failed_logins,
                               "until": until.isoformat()})
        session.refresh(user)
        return LoginAttempt(None, until)
    return LoginAttempt(None)


def unlock(session: Session, user: User, *, by: int | None) -> None:
    """Clear a lockout (an administrator vouches for the user); recorded."""
    session.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
    events.record(session, action="user_unlock", user_id=by, details={"username": user.username})
    session.refresh(user)
