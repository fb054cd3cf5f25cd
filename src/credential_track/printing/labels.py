"""Waybill labels, 100 × 150 mm (the EMS thermal label), one per page."""
from __future__ import annotations

import io
from typing import BinaryIO, Callable, Iterable

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ..domain.masking import mask_phone
from .data import LabelData
from .draw import draw_code128, draw_fitted, draw_qr, fit_text, draw_text_block, shrink_to_width
from .fonts import font_name
from .stream import write_chunked

LABEL_W, LABEL_H = 100 * mm, 150 * mm
MARGIN = 4 * mm
# the address box: everything the address may use, between the recipient's
# name line and the postcode line (kept clear of the barcode above)
ADDRESS_BOX = (MARGIN, 62 * mm, LABEL_W - 2 * MARGIN, 29 * mm)  # x, top-from-top, width, height
ADDRESS_MAX_PT, ADDRESS_MIN_PT = 15.0, 6.0


def _top(y_from_top: float) -> float:
    return LABEL_H - y_from_top


def address_layout(address: str):
    """The layout of an address in the label's address box (see fit_text)."""
    _x, _t, w, h = ADDRESS_BOX
    return fit_text(address, w, h, max_size=ADDRESS_MAX_PT, min_size=ADDRESS_MIN_PT)


def _rule(c: Canvas, y_from_top: float) -> None:
    c.setLineWidth(0.8)
    c.line(MARGIN, _top(y_from_top), LABEL_W - MARGIN, _top(y_from_top))


def draw_label(c: Canvas, d: LabelData) -> None:
    """Draw one label on the current page of `c` (the page is not shown)."""
    f = font_name()
    inner = LABEL_W - 2 * MARGIN
    # header: service, VIP mark, route for the sorters
    c.setFont(f, 15)
    c.drawString(MARGIN, _top(11 * mm), "EMS 特快专递")
    c.setFont(f, 6.5)
    c.drawString(MARGIN, _top(16 * mm), "证件专递 · Expo credential")
    if d.vip:
        c.roundRect(42 * mm, _top(19 * mm), 17 * mm, 14 * mm, 1.5 * mm, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        c.setFont(f, 15)
        c.drawCentredString(50.5 * mm, _top(12.5 * mm), "VIP")
        c.setFont(f, 6)
        c.drawCentredString(50.5 * mm, _top(17 * mm), "贵宾专递")
        c.setFillColorRGB(0, 0, 0)
    c.setLineWidth(1.6)
    c.rect(61 * mm, _top(20 * mm), LABEL_W - MARGIN - 61 * mm, 16 * mm)
    route_w = LABEL_W - MARGIN - 61 * mm - 3 * mm
    size = shrink_to_width(d.route, route_w, 34, 12)
    c.setFont(f, size)
    c.drawCentredString((61 * mm + LABEL_W - MARGIN) / 2, _top(12 * mm) - size * 0.33, d.route)
    _rule(c, 22 * mm)
    # waybill: Code 128 and large print
    draw_code128(c, d.waybill_no, MARGIN, _top(42 * mm), 18 * mm, max_width=inner)
    wb = " ".join(d.waybill_no[i:i + 4] for i in range(0, len(d.waybill_no), 4)) \
        if d.waybill_no.isdigit() else d.waybill_no
    c.setFont(f, shrink_to_width(wb, inner, 17, 9))
    c.drawCentredString(LABEL_W / 2, _top(48.5 * mm), wb)
    _rule(c, 51 * mm)
    # recipient
    c.setFont(f, 6.5)
    c.drawString(MARGIN, _top(54 * mm), "收件人 To")
    phone = mask_phone(d.recipient_phone)
    c.setFont(f, 13)
    c.drawRightString(LABEL_W - MARGIN, _top(60 * mm), phone)
    phone_w = c.stringWidth(phone, f, 13) + 3 * mm
    name_size = shrink_to_width(d.recipient_name, inner - phone_w, 16, 8)
    c.setFont(f, name_size)
    c.drawString(MARGIN, _top(60 * mm), d.recipient_name)
    x, t, w, h = ADDRESS_BOX
    draw_fitted(c, d.full_address, x, _top(t), w, h, max_size=ADDRESS_MAX_PT, min_size=ADDRESS_MIN_PT)
    c.setFont(f, 11)
    c.drawString(MARGIN, _top(96 * mm), f"邮编 {d.postcode}" if d.postcode else "邮编")
    _rule(c, 99 * mm)
    # sender
    c.setFont(f, 6.5)
    c.drawString(MARGIN, _top(102.5 * mm), "寄件人 From")
    layout = fit_text(d.sender, inner, 9 * mm, max_size=11, min_size=6)
    draw_text_block(c, layout, MARGIN, _top(103.5 * mm))
    _rule(c, 114 * mm)
    # QR of the waybill, credential type and number
    draw_qr(c, d.waybill_no, MARGIN - 1 * mm, MARGIN - 1 * mm, 32 * mm)
    right = 38 * mm
    c.setFont(f, 6.5)
    c.drawString(right, _top(118.5 * mm), "证件类型 Credential type")
    c.setFont(f, shrink_to_width(d.credential_type, LABEL_W - MARGIN - right, 14, 7))
    c.drawString(right, _top(124.5 * mm), d.credential_type)
    c.setFont(f, 6.5)
    c.drawString(right, _top(130 * mm), "证件号 Credential No.")
    c.setFont(f, shrink_to_width(d.credential_no, LABEL_W - MARGIN - right, 12, 6))
    c.drawString(right, _top(135.5 * mm), d.credential_no)
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
