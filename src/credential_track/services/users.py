"""User administration: admins manage everyone, supervisors the operators
and agents of their own site. Every change is an event."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from ..models import Site, User
from ..models.base import utcnow
from ..vocabulary import role_text
from . import accounts, events, logins
from .errors import Forbidden, NotFound, ServiceError, too_long

# what a supervisor may create and manage (within their own site)
SUPERVISOR_MANAGES = ("operator", "agent")


@dataclass
class Manager:
    """Who manages: their id, role and site."""

    user_id: int | None
    role: str
    site_id: int | None


def _like(text: str) -> str:
    """A LIKE pattern matching `text` literally (%, _ and \\ escaped)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def may_manage(manager: Manager, user: User) -> bool:
    """Admins manage everyone; supervisors operators/agents of their site (a
    supervisor without a site: those without a site, whom they create)."""
    if manager.role == "admin":
        return True
    return manager.role == "supervisor" and user.role in SUPERVISOR_MANAGES and user.site_id == manager.site_id


def user_dict(user: User, site_code: str | None = None) -> dict:
    """A user for listings (never the password hash)."""
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
        "site": site_code, "active": user.active, "failed_logins": user.failed_logins,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "locked": bool(user.locked_until and user.locked_until > utcnow()),
    }


def list_users(session: Session, manager: Manager, *, q: str | None = None) -> list[dict]:
    """The users `manager` may see: all for admins, their site's for supervisors
    (the same site as `may_manage`'s, none for a supervisor without one, so a
    user a supervisor adds is always on their list); `q` matches user name or
    display name literally."""
    stmt = select(User, Site.code).join(Site, Site.id == User.site_id, isouter=True)
    if manager.role != "admin":
        stmt = stmt.where(User.site_id == manager.site_id if manager.site_id is not None else User.site_id.is_(None))
    if q:
        pattern = _like(q.strip().lower())
        stmt = stmt.where(or_(func.lower(User.username).like(pattern, escape="\\"),
                              func.lower(User.display_name).like(pattern, escape="\\")))
    return [user_dict(u, s) for u, s in session.exec(stmt.order_by(User.username)).all()]


def _get(session: Session, manager: Manager, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("There is no user %(id)s.", id=user_id), field="user")
    if not may_manage(manager, user):
        raise Forbidden(_("You may not manage the user “%(name)s”.", name=user.username), field="user")
    return user


def add_user(session: Session, manager: Manager, *, username: str, password: str, role: str,
             display_name: str = "", site_code: str | None = None) -> User:
    """Create a user. Supervisors create operators and agents of their own site."""
    site_id = None
    if site_code:
        site = session.exec(select(Site).where(Site.code == site_code)).first()
        if site is None:
            raise NotFound(_("There is no site %(site)s.", site=site_code), field="site")
        site_id = site.id
    if manager.role != "admin":
        if role not in SUPERVISOR_MANAGES:
            raise Forbidden(_("A supervisor may create only these roles: %(roles)s.",
                              roles="、".join(role_text(r) for r in SUPERVISOR_MANAGES)), field="role")
        site_id = manager.site_id
    if len(display_name) > 100:
        raise too_long("display_name", 100)
    user = accounts.create_user(session, username=username, password=password, role=role,
                                display_name=display_name, site_id=site_id)
    events.record(session, action="user_create", user_id=manager.user_id,
                  details={"user": user.username, "role": role, "site": site_code})
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active administrator."""
    if user.role == "admin" and user.active:
        admins = session.exec(select(func.count()).select_from(User)
                              .where(User.role == "admin", User.active == True)).one()  # noqa: E712
        if admins <= 1:
            raise ServiceError(_("“%(name)s” is the last active administrator.", name=user.username), field="user")


def set_active(session: Session, manager: Manager, user_id: int, active: bool) -> User:
    """Activate or deactivate a user; deactivation ends every session at once."""
    user = _get(session, manager, user_id)
    if user.id == manager.user_id and not active:
        raise ServiceError(_("You cannot deactivate yourself."), field="user")
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    if not active:
        user.session_version += 1
    session.add(user)
    events.record(session, action="user_activate" if active else "user_deactivate",
                  user_id=manager.user_id, details={"user": user.username})
    return user


def set_role(session: Session, manager: Manager, user_id: int, role: str) -> User:
    """Change a user's role (admins only); open sessions end."""
    if manager.role != "admin":
        raise Forbidden(_("Only an administrator changes roles."), field="role")
    accounts.check_role(role)
    user = _get(session, manager, user_id)
    if role != "admin":
        _keep_an_admin(session, user)
    old, user.role = user.role, role
    user.session_version += 1
    session.add(user)
    events.record(session, action="user_role", user_id=manager.user_id,
                  details={"user": user.username, "from": old, "to": role})
    return user


def reset_password(session: Session, manager: Manager, user_id: int, password: str) -> User:
    """Set a new password (minimum length applies); open sessions end."""
    accounts.check_password(password)
    user = _get(session, manager, user_id)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    session.add(user)
    events.record(session, action="user_password", user_id=manager.user_id, details={"user": user.username})
    return user


def logout_everywhere(session: Session, manager: Manager, user_id: int) -> User:
    """End every session of a user on every device (their tokens stay; revoke those separately)."""
    user = _get(session, manager, user_id) if user_id != manager.user_id else session.get(User, user_id)
    user.session_version += 1
    session.add(user)
    logins.end_all_sessions(session, user.id)
    events.record(session, action="user_logout_all", user_id=manager.user_id, details={"user": user.username})
    return user


def unlock(session: Session, manager: Manager, user_id: int) -> User:
    """Lift a login lockout."""
    user = _get(session, manager, user_id)
    logins.unlock(session, user, by=manager.user_id)
    return user
