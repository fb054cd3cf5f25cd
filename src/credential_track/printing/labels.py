"""Waybill labels, 100 × 150 mm (the EMS thermal label), one per page."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ..domain.masking import mask_phone
from .data import LabelData
from .draw import draw_code128, draw_fitted, draw_qr, draw_text_block, fit_text, shrink_to_width
from .fonts import draw_string, font_name, missing_chars, text_width
from .stream import write_chunked

LABEL_W, LABEL_H = 100 * mm, 150 * mm
MARGIN = 4 * mm
# the address box: everything the address may use, between the recipient's
# name line and the postcode line (kept clear of the barcode above)
ADDRESS_BOX = (MARGIN, 62 * mm, LABEL_W - 2 * MARGIN, 29 * mm)  # x, top-from-top, width, height
ADDRESS_MAX_PT, ADDRESS_MIN_PT = 15.0, 6.0
# the recipient name: from under the "收件人 To" caption to the address box,
# left of the masked phone; one line down to 8.5 pt, then two lines
NAME_TOP, NAME_H = 54.8 * mm, 7.2 * mm
NAME_MAX_PT, NAME_MIN_PT = 16.0, 6.0
PHONE_PT = 13.0


def _top(y_from_top: float) -> float:
    return LABEL_H - y_from_top


def address_layout(address: str):
    """The layout of an address in the label's address box (see fit_text)."""
    _x, _t, w, h = ADDRESS_BOX
    return fit_text(address, w, h, max_size=ADDRESS_MAX_PT, min_size=ADDRESS_MIN_PT)


def _rule(c: Canvas, y_from_top: float) -> None:
    c.setLineWidth(0.8)
    c.line(MARGIN, _top(y_from_top), LABEL_W - MARGIN, _top(y_from_top))


def name_box(phone: str) -> tuple[float, float, float, float]:
    """The recipient name's box (x, top-from-top, width, height): left of the
    masked phone, between the "收件人 To" caption and the address box."""
    phone_w = text_width(phone, PHONE_PT) + 3 * mm
    return MARGIN, NAME_TOP, LABEL_W - 2 * MARGIN - phone_w, NAME_H


def name_layout(name: str, phone: str):
    """The layout of a recipient name on the label: it shrinks from 16 pt on
    one line, then wraps to two lines, always left of the masked phone."""
    _x, _t, w, h = name_box(mask_phone(phone))
    return fit_text(name, w, h, max_size=NAME_MAX_PT, min_size=NAME_MIN_PT)


def label_unprintable(d: LabelData) -> dict[str, str]:
    """The printed fields of a label with characters the font chain cannot
    print (they come out as empty boxes), each with those characters, e.g.
    {"recipient_name": "𠀀"}. The label still prints; the caller says so."""
    fields = {
        "recipient_name": d.recipient_name, "address": d.full_address, "organization": d.organization,
        "sender": d.sender, "credential_type": d.credential_type, "credential_no": d.credential_no,
        "route": d.route, "postcode": d.postcode,
    }
    out = {}
    for name, value in fields.items():
        missing = missing_chars(value or "")
        if missing:
            out[name] = "".join(sorted(missing))
    return out


def checked(labels: Iterable[LabelData], found: list[tuple[str, dict[str, str]]]) -> Iterator[LabelData]:
    """The labels unchanged, while appending (credential number,
    label_unprintable) to `found` for each one that has unprintable characters."""
    for d in labels:
        bad = label_unprintable(d)
        if bad:
            found.append((d.credential_no, bad))
        yield d


def describe_unprintable(fields: dict[str, str]) -> str:
    """`label_unprintable`'s answer in one line of ASCII (it goes into an
    HTTP header too): `recipient_name U+20000 U+E000; address U+1F600`."""
    return "; ".join(f"{name} " + " ".join(f"U+{ord(c):04X}" for c in chars) for name, chars in fields.items())


def unprintable_header(found: list[tuple[str, dict[str, str]]], limit: int = 20) -> str:
    """The X-Unprintable-Characters header of a label download: each
    credential with what cannot print (the first `limit`, then the count)."""
    parts = [f"{no}: {describe_unprintable(fields)}" for no, fields in found[:limit]]
    if len(found) > limit:
        parts.append(f"and {len(found) - limit} more labels")
    return " | ".join(parts)


def draw_label(c: Canvas, d: LabelData) -> None:
    """Draw one label on the current page of `c` (the page is not shown)."""
    inner = LABEL_W - 2 * MARGIN
    # header: service, VIP mark, route for the sorters
    draw_string(c, MARGIN, _top(11 * mm), "EMS 特快专递", 15)
    draw_string(c, MARGIN, _top(16 * mm), "证件专递 · Expo credential", 6.5)
    if d.vip:
        c.roundRect(42 * mm, _top(19 * mm), 17 * mm, 14 * mm, 1.5 * mm, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        draw_string(c, 50.5 * mm, _top(12.5 * mm), "VIP", 15, align="centre")
        draw_string(c, 50.5 * mm, _top(17 * mm), "贵宾专递", 6, align="centre")
        c.setFillColorRGB(0, 0, 0)
    c.setLineWidth(1.6)
    c.rect(61 * mm, _top(20 * mm), LABEL_W - MARGIN - 61 * mm, 16 * mm)
    route_w = LABEL_W - MARGIN - 61 * mm - 3 * mm
    size = shrink_to_width(d.route, route_w, 34, 12)
    draw_string(c, (61 * mm + LABEL_W - MARGIN) / 2, _top(12 * mm) - size * 0.33, d.route, size, align="centre")
    _rule(c, 22 * mm)
    # waybill: Code 128 and large print
    draw_code128(c, d.waybill_no, MARGIN, _top(42 * mm), 18 * mm, max_width=inner)
    wb = " ".join(d.waybill_no[i:i + 4] for i in range(0, len(d.waybill_no), 4)) \
        if d.waybill_no.isdigit() else d.waybill_no
    draw_string(c, LABEL_W / 2, _top(48.5 * mm), wb, shrink_to_width(wb, inner, 17, 9), align="centre")
    _rule(c, 51 * mm)
    # recipient: the name in its box left of the masked phone
    draw_string(c, MARGIN, _top(54 * mm), "收件人 To", 6.5)
    phone = mask_phone(d.recipient_phone)
    draw_string(c, LABEL_W - MARGIN, _top(60 * mm), phone, PHONE_PT, align="right")
    x, t, w, h = name_box(phone)
    layout = fit_text(d.recipient_name, w, h, max_size=NAME_MAX_PT, min_size=NAME_MIN_PT)
    if len(layout.lines) == 1:  # one line sits on the phone's baseline
        draw_string(c, x, _top(60 * mm), layout.lines[0], layout.font_size)
    else:
        draw_text_block(c, layout, x, _top(t))
    x, t, w, h = ADDRESS_BOX
    draw_fitted(c, d.full_address, x, _top(t), w, h, max_size=ADDRESS_MAX_PT, min_size=ADDRESS_MIN_PT)
    draw_string(c, MARGIN, _top(96 * mm), f"邮编 {d.postcode}" if d.postcode else "邮编", 11)
    _rule(c, 99 * mm)
    # sender
    draw_string(c, MARGIN, _top(102.5 * mm), "寄件人 From", 6.5)
    layout = fit_text(d.sender, inner, 9 * mm, max_size=11, min_size=6)
    draw_text_block(c, layout, MARGIN, _top(103.5 * mm))
    _rule(c, 114 * mm)
    # QR of the waybill, credential type and number
    draw_qr(c, d.waybill_no, MARGIN - 1 * mm, MARGIN - 1 * mm, 32 * mm)
    right = 38 * mm
    draw_string(c, right, _top(118.5 * mm), "证件类型 Credential type", 6.5)
    draw_string(c, right, _top(124.5 * mm), d.credential_type,
                shrink_to_width(d.credential_type, LABEL_W - MARGIN - right, 14, 7))
    draw_string(c, right, _top(130 * mm), "证件号 Credential No.", 6.5)
    draw_string(c, right, _top(135.5 * mm), d.credential_no,
                shrink_to_width(d.credential_no, LABEL_W - MARGIN - right, 12, 6))
    if d.organization:
        draw_fitted(c, d.organization, right, _top(138 * mm), LABEL_W - MARGIN - right, 8 * mm,
                    max_size=8, min_size=5)


def _new_canvas(out: BinaryIO) -> Canvas:
    c = Canvas(out, pagesize=(LABEL_W, LABEL_H), pageCompression=1, invariant=1,
               initialFontName=font_name(), initialFontSize=10)
    c.setTitle("Waybill labels")
    c.setCreator("Credential Track")
    return c


def render_label(d: LabelData) -> bytes:
    """One waybill label as a one-page PDF."""
    buf = io.BytesIO()
    c = _new_canvas(buf)
    draw_label(c, d)
    c.showPage()
    c.save()
    return buf.getvalue()


def write_labels(labels: Iterable[LabelData], out: BinaryIO, *,
                 progress: Callable[[int], None] | None = None, chunk: int = 500) -> int:
    """Write one PDF with a page per label to the binary file `out`, streaming:
    at most `chunk` pages are held in memory at once. Returns the page count."""
    def draw(c: Canvas, d: LabelData) -> None:
        draw_label(c, d)
        c.showPage()

    return write_chunked(labels, out, new_canvas=_new_canvas, draw=draw, chunk=chunk, progress=progress,
                         title="Waybill labels")
