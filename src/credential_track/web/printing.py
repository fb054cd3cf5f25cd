"""Downloads of the printed documents: waybill labels (one or a selection),
bag label and manifest, trip sheet, handover receipt. PDF, or ZPL for the
labels (per request with ?format=, by default the station's label format).

Browser sessions and API tokens (a station's label printer agent) both work.
"""
from __future__ import annotations

import io
import re
import tempfile
from functools import wraps

from flask import Blueprint, Response, abort, request, send_file, session
from flask_babel import gettext as _
from sqlmodel import select

from .. import printing, settings
from ..models import Station
from ..permissions import allowed
from ..security import current_actor, login_manager
from ..services import disclosure, print_data
from ..services.errors import Forbidden, NotFound, ServiceError
from ..unit_of_work import get_db, get_engine

bp = Blueprint("print", __name__, url_prefix="/print")

FORMATS = ("pdf", "zpl")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def print_require(view):
    """A logged-in user or an API token whose role may print; else 401/login or 403."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        actor = current_actor()
        if actor is None:
            if request.headers.get("Authorization"):
                return Response(_("A valid API token is required."), 401, mimetype="text/plain")
            return login_manager.unauthorized()
        if not allowed(actor.role, "print"):
            abort(403)
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            return Response(exc.message, 404, mimetype="text/plain")
        except ServiceError as exc:
            return Response(exc.message, 400, mimetype="text/plain")
    wrapped.permission = "print"
    return wrapped


def _label_format() -> str:
    """?format=pdf|zpl, else the label format of the station the request comes
    from (station token, or the station picked on the station pages), else pdf."""
    fmt = request.args.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise ServiceError(_("format must be pdf or zpl, not %(value)s", value=fmt), field="format")
        return fmt
    actor = current_actor()
    code = (actor.station if actor and actor.station else None) or session.get("station")
    if code:
        st = get_db().exec(select(Station).where(Station.code == code)).first()
        if st is not None and st.label_format in FORMATS:
            return st.label_format
    return "pdf"


@bp.after_request
def _printable_from_the_page(resp):
    # the station pages print these from a hidden frame of their own
    # (static/js/print.js): the same origin may frame them, no one else
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                               "script-src 'self'; object-src 'none'; frame-ancestors 'self'; "
                                               "base-uri 'self'; form-action 'self'")
    return resp


def _name(text: str) -> str:
    return _SAFE_NAME.sub("_", text)[:80] or "document"


UNPRINTABLE_HEADER = "X-Unprintable-Characters"


def _pdf(data: bytes, name: str):
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=f"{_name(name)}.pdf")


def _zpl(text: str, name: str):
    return send_file(io.BytesIO(text.encode("utf-8")), mimetype="text/plain; charset=utf-8",
                     as_attachment=True, download_name=f"{_name(name)}.zpl")


def _flag_unprintable(resp, found: list):
    """A label with characters the fonts cannot print is still sent; the
    response says which (per credential, field and code point)."""
    if found:
        resp.headers[UNPRINTABLE_HEADER] = printing.unprintable_header(found)
    return resp


def _cjk_font() -> str:
    return settings.current().zpl_cjk_font


def _record_download(kind: str, count: int, fmt: str, **kw) -> None:
    """Every download of a document with names and addresses is recorded
    (disclosure.record_label_download) before it is produced."""
    actor = current_actor()
    try:
        disclosure.record_label_download(get_engine(), role=actor.role, user_id=actor.user_id,
                                         station=actor.station or session.get("station"), kind=kind, count=count,
                                         fmt=fmt, station_token=actor.via_token and actor.station is not None, **kw)
    except Forbidden:
        abort(403)


@bp.get("/labels/<credential_no>.pdf")
@print_require
def label(credential_no: str):
    data = print_data.label_for(get_db(), credential_no, sender=settings.current().organizer_name)
    bad = printing.label_unprintable(data)
    found = [(data.credential_no, bad)] if bad else []
    fmt = _label_format()
    _record_download("label", 1, fmt, code=data.credential_no)
    if fmt == "zpl":
        return _flag_unprintable(_zpl(printing.label_zpl(data, cjk_font=_cjk_font()), f"label-{credential_no}"),
                                 found)
    return _flag_unprintable(_pdf(printing.render_label(data), f"label-{credential_no}"), found)


@bp.get("/labels.pdf")
@print_require
def labels():
    """A selection of labels in one file: ?batch=NAME, ?status=STATUS or
    ?credential=NO&credential=NO…; written to a temporary file page by page."""
    db = get_db()
    selection = print_data.select_labels(db, batch=request.args.get("batch"), status=request.args.get("status"),
                                         credentials=request.args.getlist("credential") or None)
    limit = settings.current().print_max_web_labels
    if selection.count == 0:
        raise NotFound(_("No printable labels in %(what)s (items need a waybill number and must not be revoked).",
                         what=selection.description), field="selection")
    if selection.count > limit:
        raise ServiceError(_("%(count)s labels are more than %(limit)s for one download; narrow the selection or "
                             "use the command line: credtrack print labels", count=selection.count, limit=limit),
                           field="selection")
    fmt = _label_format()
    _record_download("labels", selection.count, fmt, selection=selection.description)
    sender = settings.current().organizer_name
    found: list = []
    rows = printing.checked(print_data.iter_labels(db, selection, sender=sender), found)
    out = tempfile.TemporaryFile()
    if fmt == "zpl":
        font = _cjk_font()
        for d in rows:
            out.write(printing.label_zpl(d, cjk_font=font).encode("utf-8"))
        mimetype, ext = "text/plain; charset=utf-8", "zpl"
    else:
        printing.write_labels(rows, out)
        mimetype, ext = "application/pdf", "pdf"
    size = out.tell()
    out.seek(0)
    disposition = "attachment" if fmt == "zpl" else "inline"
    return _flag_unprintable(Response(_drain(out), mimetype=mimetype, headers={
        "Content-Length": str(size),
        "Content-Disposition": f'{disposition}; filename="labels-{_name(selection.description)}.{ext}"'}), found)


def _drain(f, size: int = 256 * 1024):
    """Send a temporary file in pieces and close (so delete) it at the end."""
    try:
        while block := f.read(size):
            yield block
    finally:
        f.close()


@bp.get("/bags/<code>/label.pdf")
@print_require
def bag_label(code: str):
    data = print_data.bag_label_data(get_db(), code)
    if _label_format() == "zpl":
        return _zpl(printing.bag_label_zpl(data, cjk_font=_cjk_font()), f"bag-{data.code}")
    return _pdf(printing.render_bag_label(data), f"bag-{data.code}")


@bp.get("/bags/<code>/manifest.pdf")
@print_require
def bag_manifest(code: str):
    data = print_data.bag_manifest_data(get_db(), code)
    # the manifest names the recipient of every item in the bag
    _record_download("bag_manifest", len(data.items), "pdf", code=data.code)
    return _pdf(printing.render_bag_manifest(data), f"manifest-{data.code}")


@bp.get("/trips/<code>.pdf")
@print_require
def trip_sheet(code: str):
    data = print_data.trip_sheet_data(get_db(), code)
    return _pdf(printing.render_trip_sheet(data), f"trip-{data.code}")


@bp.get("/handover/<int:batch_id>.pdf")
@print_require
def handover_receipt(batch_id: int):
    data = print_data.handover_data(get_db(), batch_id, organizer=settings.current().organizer_name)
    return _pdf(printing.render_handover_receipt(data), f"handover-{data.batch}")
