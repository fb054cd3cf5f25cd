"""`credtrack import manifest|revocations` and `credtrack export status`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..domain.manifest import ManifestError
from ..files import make_private, private_open, touch_private
from ..services import disclosure, exports, imports, revocations
from ..services.errors import ServiceError
from ..unit_of_work import get_engine
from ..vocabulary import conflict_text, error_text, problem_text, row_error_text
from .common import Progress, fail, import_group


class _Total:
    """A Progress whose total is known only once the file is open."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def total(self, n: int) -> None:
        self.bar = Progress(n, self.label)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()


@click.command("manifest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch", default=None, help="Handover batch name (default: the file name).")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows and reject the invalid ones.")
@click.option("--rejects", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write every rejected row (row, column, value, message) to this CSV file.")
@click.option("--update", is_flag=True, help="Apply changed data to items not yet captured.")
@with_appcontext
def manifest_command(file: Path, batch, skip_invalid, rejects, update):
    """Import a credential manifest (CSV in UTF-8/GBK or XLSX) as a handover batch."""
    progress = _Total("import")
    out = private_open(rejects, "w", newline="", encoding="utf-8-sig") if rejects else None
    try:
        result = imports.import_manifest(
            get_engine(), file, batch=batch, skip_invalid=skip_invalid, update=update,
            rejects=out, progress=progress, on_total=progress.total, keep_errors=20,
        )
    except ManifestError as exc:
        fail(f"{file.name}: {problem_text(exc.key, exc.params, default=str(exc))}")
    except ServiceError as exc:
        fail(error_text(exc))
    finally:
        progress.finish()
        if out is not None:
            out.close()
    for e in result.first_errors:
        click.echo(row_error_text(e.row, e.column, e.value, e.key, e.params), err=True)
    if result.error_count > len(result.first_errors):
        click.echo(_("… %(n)s more row errors not shown", n=f"{result.error_count - len(result.first_errors):,}"),
                   err=True)
    for e in result.first_warnings:
        click.echo(_("warning: %(problem)s", problem=row_error_text(e.row, e.column, e.value, e.key, e.params)),
                   err=True)
    if result.warned > len(result.first_warnings):
        click.echo(_("… %(n)s rows with warnings in all", n=f"{result.warned:,}"), err=True)
    if result.rejected > len(result.first_errors):
        click.echo(_("… %(n)s rejected rows in all", n=f"{result.rejected:,}")
                   + (_(" (every one in %(file)s)", file=rejects) if rejects
                      else _(" (use --rejects FILE for the full list)")), err=True)
    for c in result.conflicts[:20]:
        click.echo(row_error_text(c.row, "credential_no", c.credential_no, None,
                                  message=conflict_text(c.fields, c.status)), err=True)
    if len(result.conflicts) > 20:
        click.echo(_("… %(n)s conflicts in all", n=f"{len(result.conflicts):,}"), err=True)
    if result.conflicts and not update:
        click.echo(_("rows that differ from stored items are applied only with --update"), err=True)
    click.echo(result.summary())
    if not result.committed:
        fail(_("%(n)s invalid rows: nothing was imported (fix them, or import the valid rows with --skip-invalid "
               "--rejects OUT.csv)", n=f"{result.rejected:,}"))


@click.command("recover")
@with_appcontext
def recover_command():
    """Undo imports left half-written by a process that crashed or was killed."""
    from flask_babel import gettext as _

    undone = imports.recover(get_engine())
    for d in undone:
        kept = d["kept_count"]
        removed, restored = f"{d['removed']:,}", f"{d['restored']:,}"
        click.echo(_("interrupted import into batch %(batch)s undone: %(removed)s new items removed, "
                     "%(restored)s updated items restored", batch=d["batch"], removed=removed, restored=restored)
                   + (_("; %(n)s items kept because a station scanned them meanwhile", n=f"{kept:,}") if kept else ""))
    if not undone:
        click.echo(_("no interrupted import to undo"))


@click.command("revocations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def revocations_command(file: Path):
    """Revoke the credentials listed in FILE (credential_no, optional reason)."""
    try:
        result = revocations.import_revocations(get_engine(), file)
    except ManifestError as exc:
        fail(f"{file.name}: {problem_text(exc.key, exc.params, default=str(exc))}")
    for row, no in result.unknown[:20]:
        click.echo(row_error_text(row, "credential_no", no, None, message=_("no such credential")), err=True)
    click.echo(result.summary())
    if result.unknown:
        sys.exit(1)


@click.group("export")
def export_group():
    """Export data for the organizer."""


@export_group.command("status")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Output file (default: standard output for CSV).")
@click.option("--status", "statuses", multiple=True, help="Only items in this status (repeatable).")
@click.option("--route", "routes", multiple=True, help="Only items on this route (repeatable).")
@click.option("--type", "types", multiple=True, help="Only this credential type (repeatable).")
@click.option("--batch", default=None, help="Only items of this handover batch (name).")
@click.option("--personal", is_flag=True, help="Include names, phone and address (recorded as an event).")
@with_appcontext
def export_status_command(fmt, out, statuses, routes, types, batch, personal):
    """One row per credential: status, waybill, route, time of each stage, last delivery event."""
    if fmt == "xlsx" and out is None:
        fail(_("--format xlsx needs --out FILE"))
    filters = exports.StatusFilter(statuses=list(statuses), routes=list(routes), types=list(types), batch=batch)
    try:
        total = exports.count(get_engine(), filters)
        # the command line acts with the server's authority (docs/PERMISSIONS.md):
        # an administrator's, recorded with no user
        disclosure.authorise_export(get_engine(), user_id=None, role="admin", kind="status", personal_data=personal,
                                    fmt=fmt, rows=total, filters=filters.as_dict())
        progress = Progress(total, "export")
        if fmt == "csv":
            fh = (private_open(out, "w", newline="", encoding="utf-8-sig") if out else sys.stdout)
            try:
                n = exports.write_csv(get_engine(), fh, filters, personal=personal, progress=progress)
            finally:
                if out:
                    fh.close()
        else:
            touch_private(out)
            n = exports.write_xlsx(get_engine(), out, filters, personal=personal, progress=progress)
            make_private(out)
        progress.finish()
    except ServiceError as exc:
        fail(error_text(exc))
    click.echo(_("exported %(n)s credentials in %(seconds)s s", n=f"{n:,}",
                 seconds=f"{progress_seconds(progress):.1f}") + (_(" to %(file)s", file=out) if out else ""),
               err=out is None)


def progress_seconds(progress: Progress) -> float:
    import time

    return time.monotonic() - progress.start


def register(app) -> None:
    """Attach the commands to `credtrack import` and add `credtrack export`."""
    import_group.add_command(manifest_command)
    import_group.add_command(recover_command)
    import_group.add_command(revocations_command)
    app.cli.add_command(export_group)
