"""Security commands: backup/restore, token administration, user unlock and
log-out-everywhere."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import Session, select

from ..clock import format_datetime
from ..db import write_session
from ..models import User
from ..services import backup as backups
from ..services import tokens, users
from ..services.errors import ServiceError
from ..unit_of_work import get_engine
from ..vocabulary import error_text, label, role_text


def _fail(exc: ServiceError):
    raise click.ClickException(error_text(exc))


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@with_appcontext
def backup_command(out: Path, force: bool):
    """Take a consistent online copy of the database into OUT.

    SQLite: the SQLite backup API, while stations keep scanning; the copy is
    integrity-checked. PostgreSQL: pg_dump --format=custom (restore with
    `credtrack restore` or pg_restore; see docs/OPERATIONS.md)."""
    try:
        result = backups.backup(get_engine(), out, overwrite=force)
    except ServiceError as exc:
        _fail(exc)
    from ..services import operations

    operations.record_backup(path=result.path, size=result.bytes, method=result.method)
    rows = f", {result.tables.get('event', 0):,} events, {result.tables.get('credential', 0):,} credentials" \
        if result.tables else ""
    checked = f" (integrity check {result.check_seconds:.1f}s), integrity ok" if result.tables else ""
    click.echo(f"backup {result.path}: {result.bytes:,} bytes{rows}, {result.method}, {result.seconds:.1f}s{checked}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the current data is to be replaced.")
@click.option("--waybill-gap", type=click.IntRange(0, 10_000_000), default=backups.WAYBILL_GAP, show_default=True,
              help="Waybill numbers skipped in every allocation range beyond the highest one known, for labels "
                   "printed after the backup.")
@with_appcontext
def restore_command(source: Path, yes: bool, waybill_gap: int):
    """Replace the database with the backup SOURCE (stop the app first)."""
    from flask_babel import gettext as _

    if not yes:
        raise click.ClickException("restore replaces every row of the current database; "
                                   "stop the app processes and run again with --yes")
    try:
        result = backups.restore(get_engine(), source, waybill_gap=waybill_gap)
    except ServiceError as exc:
        _fail(exc)
    rows = f": {result.tables.get('event', 0):,} events, {result.tables.get('credential', 0):,} credentials" \
        if result.tables else ""
    click.echo(f"restored {source} into the database{rows} ({result.method}, {result.seconds:.1f}s)")
    for m in result.waybill_moves:
        known = max(m.backup_next, m.live_next or 0)
        where = _("as the replaced database had it") if m.live_next is not None and m.live_next > m.backup_next \
            else _("as the backup had it")
        first, last, old, new, gap = (f"{m.first:08d}", f"{m.last:08d}", f"{known:08d}", f"{m.next:08d}",
                                      f"{m.next - known:,}")
        click.echo(_("waybill range %(station)s %(prefix)s %(first)s–%(last)s: allocation moves on from "
                     "%(old)s (%(where)s) to %(new)s, skipping %(gap)s numbers that may be printed on labels "
                     "since the backup", station=m.station or "-", prefix=m.prefix, first=first, last=last,
                     old=old, where=where, new=new, gap=gap))
        if m.exhausted:
            click.echo(_("waybill range %(station)s %(prefix)s %(first)s–%(last)s is used up: add a new range "
                         "for this station", station=m.station or "-", prefix=m.prefix, first=first, last=last),
                       err=True)


def _admin(s: Session) -> users.Manager:
    # the command line runs with the machine owner's authority
    return users.Manager(user_id=None, role="admin", site_id=None)


@click.command("list")
@click.option("--state", type=click.Choice(["active", "expired", "revoked"]), default=None)
@with_appcontext
def token_list(state):
    """List tokens (prefix, owner, role, state, last use); secrets are never shown again."""
    with Session(get_engine()) as s:
        rows = tokens.list_tokens(s, state=state)
    for t in rows:
        owner = _("station %(code)s", code=t["station"]) if t["station"] else _("user %(name)s", name=t["user"])
        click.echo(f"{t['id']:>5}  {t['prefix']}…  {owner:<22} {role_text(t['role']):<11} "
                   f"{label('token_state', t['state']):<8} "
                   + _("expires %(when)s", when=format_datetime(t["expires_at"]) or "—") + "  "
                   + _("last used %(when)s", when=format_datetime(t["last_used_at"]) or _("never")) + f"  {t['name']}")
    click.echo(_("%(n)s token(s)", n=len(rows)))


@click.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int):
    """Revoke a token (by the id `token list` shows)."""
    try:
        with write_session(get_engine()) as s:
            t = tokens.revoke_token(s, token_id, by=None)
    except ServiceError as exc:
        _fail(exc)
    click.echo(_("token %(id)s (%(prefix)s…) revoked", id=t.id, prefix=t.prefix))


@click.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str):
    """Lift a login lockout."""
    _user_action(username, lambda s, u: users.unlock(s, _admin(s), u.id), _("user %(name)s unlocked", name=username))


@click.command("logout-everywhere")
@click.argument("username")
@with_appcontext
def user_logout_everywhere(username: str):
    """End every browser session of a user."""
    _user_action(username, lambda s, u: users.logout_everywhere(s, _admin(s), u.id),
                 _("user %(name)s logged out everywhere", name=username))


def _user_action(username: str, fn, done: str) -> None:
    try:
        with write_session(get_engine()) as s:
            user = s.exec(select(User).where(User.username == username)).first()
            if user is None:
                raise ServiceError(_("There is no user “%(name)s”.", name=username), field="user")
            fn(s, user)
    except ServiceError as exc:
        _fail(exc)
    click.echo(done)


def register(app) -> None:
    from .common import token_group, user_group

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    if "list" not in token_group.commands:
        token_group.add_command(token_list)
        token_group.add_command(token_revoke)
        user_group.add_command(user_unlock)
        user_group.add_command(user_logout_everywhere)
