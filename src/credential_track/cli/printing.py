"""`credtrack print labels|bag|trip|handover`: the printed documents from the command line."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import Session

from .. import printing, settings
from ..services import print_data
from ..services.errors import ServiceError
from ..unit_of_work import get_engine
from ..vocabulary import error_text, field_label
from .common import Progress, fail


def _write_atomically(out: Path, write) -> None:
    """Write through a temporary file beside `out`, renamed into place on
    success: a failed run leaves no half-written document."""
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        fail(_("--out: the folder %(folder)s does not exist", folder=directory))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _service_error(exc: ServiceError) -> None:
    fail(error_text(exc))


@click.group("print")
def print_group():
    """Print waybill labels, bag labels and manifests, trip sheets, handover receipts."""


out_option = click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                          help="The file to write.")


@print_group.command("labels")
@click.argument("credential_nos", nargs=-1)
@click.option("--batch", default=None, help="All items of a handover batch (by name).")
@click.option("--status", default=None, help="All items in a status, e.g. captured.")
@out_option
@click.option("--format", "fmt", type=click.Choice(["pdf", "zpl"]), default="pdf", show_default=True)
@with_appcontext
def print_labels(credential_nos, batch, status, out: Path, fmt: str):
    """Waybill labels for a batch, a status, or the given credential numbers, in one file."""
    started = time.monotonic()
    sender = settings.current().organizer_name
    with Session(get_engine()) as s:
        try:
            selection = print_data.select_labels(s, batch=batch, status=status,
                                                 credentials=list(credential_nos) or None)
        except ServiceError as exc:
            _service_error(exc)
        if selection.count == 0:
            fail(_("No printable labels in %(what)s (%(n)s items without a waybill number, revoked or pulled).",
                   what=selection.description, n=selection.skipped))
        progress = Progress(selection.count, "labels")
        found: list = []
        rows = printing.checked(print_data.iter_labels(s, selection, sender=sender), found)

        def write(f) -> None:
            if fmt == "zpl":
                font = settings.current().zpl_cjk_font
                for d in rows:
                    f.write(printing.label_zpl(d, cjk_font=font).encode("utf-8"))
                    progress(1)
            else:
                printing.write_labels(rows, f, progress=progress)

        _write_atomically(out, write)
        progress.finish()
    skipped = (_(", %(n)s skipped (no waybill, revoked or pulled)", n=f"{selection.skipped:,}")
               if selection.skipped else "")
    click.echo(_("%(n)s labels (%(what)s) written to %(file)s as %(format)s in %(seconds)s s", n=f"{selection.count:,}",
                 what=selection.description, file=out, format=fmt.upper(),
                 seconds=f"{time.monotonic() - started:.1f}") + skipped)
    if found:
        click.echo(_("warning: %(n)s labels have characters the fonts cannot print (they print as empty boxes); "
                     "correct the recipient data or write these by hand:", n=f"{len(found):,}"), err=True)
        for no, fields in found:
            shown = "; ".join(f"{field_label(name)} {chars!r}" for name, chars in fields.items())
            click.echo(f"  {no}: {shown} ({printing.describe_unprintable(fields)})", err=True)


def _document(out: Path, load, render):
    """Load the data (a clear error if there is none), render it, write it atomically; return the data."""
    with Session(get_engine()) as s:
        try:
            data = load(s)
        except ServiceError as exc:
            _service_error(exc)
    pdf = render(data)
    _write_atomically(out, lambda f: f.write(pdf))
    return data


@print_group.command("bag")
@click.argument("bag_code")
@out_option
@click.option("--label", "label_only", is_flag=True, help="Only the bag label (100 × 150 mm), not the manifest.")
@with_appcontext
def print_bag(bag_code: str, out: Path, label_only: bool):
    """The manifest of a bag (A4), or with --label its bag label."""
    if label_only:
        d = _document(out, lambda s: print_data.bag_label_data(s, bag_code),
                      printing.render_bag_label)
        click.echo(_("bag label %(code)s (%(n)s items) written to %(file)s", code=d.code, n=d.item_count, file=out))
        return
    d = _document(out, lambda s: print_data.bag_manifest_data(s, bag_code),
                  printing.render_bag_manifest)
    click.echo(_("bag manifest %(code)s: %(n)s items, seal %(seal)s, written to %(file)s", code=d.code,
                 n=len(d.items), seal=d.seal_no or "—", file=out))


@print_group.command("trip")
@click.argument("trip_code")
@out_option
@with_appcontext
def print_trip(trip_code: str, out: Path):
    """The trip sheet of an escorted trip (A4)."""
    d = _document(out, lambda s: print_data.trip_sheet_data(s, trip_code),
                  printing.render_trip_sheet)
    items = sum(b.item_count for b in d.bags)
    click.echo(_("trip sheet %(code)s: %(bags)s bags, %(items)s items, written to %(file)s", code=d.code,
                 bags=len(d.bags), items=items, file=out))


@print_group.command("handover")
@click.argument("batch")
@out_option
@with_appcontext
def print_handover(batch: str, out: Path):
    """The handover receipt of a batch (by name, or id) (A4)."""
    organizer = settings.current().organizer_name
    d = _document(out, lambda s: print_data.handover_data(s, batch, organizer=organizer),
                  printing.render_handover_receipt)
    click.echo(_("handover receipt %(batch)s: expected %(expected)s, counted %(counted)s, received %(received)s, "
                 "missing %(missing)s, extra %(extra)s, written to %(file)s", batch=d.batch, expected=d.expected,
                 counted="—" if d.counted is None else d.counted, received=d.received, missing=len(d.missing),
                 extra=len(d.extra), file=out))
