"""Dispatch bags: the bag label (100 × 150 mm) and the bag manifest (A4)."""
from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .data import BagLabelData, BagManifestData
from .draw import draw_code128, draw_fitted, draw_qr, shrink_to_width
from .fonts import draw_string, font_name
from .labels import LABEL_H, LABEL_W, MARGIN
from .sheets import CONTENT_W, Codes, SignatureLines, Spacer, build, fields, grid, para, styles


def _top(y: float) -> float:
    return LABEL_H - y


def render_bag_label(d: BagLabelData) -> bytes:
    """The bag label: code as Code 128, QR and large print, route, item count,
    seal number once sealed."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(LABEL_W, LABEL_H), pageCompression=1, invariant=1,
               initialFontName=font_name(), initialFontSize=10)
    c.setTitle(f"Bag {d.code}")
    inner = LABEL_W - 2 * MARGIN
    draw_string(c, MARGIN, _top(11 * mm), "EMS 总包 Dispatch bag", 15)
    draw_string(c, MARGIN, _top(16 * mm), "证件专递 · Expo credentials", 7)
    c.setLineWidth(0.8)
    c.line(MARGIN, _top(19 * mm), LABEL_W - MARGIN, _top(19 * mm))
    # route, very large: what the loaders read from a distance
    draw_string(c, MARGIN, _top(24 * mm), "路由 Route", 7)
    size = shrink_to_width(d.route, inner, 72, 20)
    draw_string(c, LABEL_W / 2, _top(24 * mm) - size * 0.85, d.route, size, align="centre")
    draw_fitted(c, d.route_name, MARGIN, _top(52 * mm), inner, 7 * mm, max_size=13, min_size=7)
    c.line(MARGIN, _top(60 * mm), LABEL_W - MARGIN, _top(60 * mm))
    draw_code128(c, d.code, MARGIN, _top(82 * mm), 20 * mm, max_width=inner)
    draw_string(c, LABEL_W / 2, _top(89 * mm), d.code, shrink_to_width(d.code, inner, 18, 9), align="centre")
    c.line(MARGIN, _top(92 * mm), LABEL_W - MARGIN, _top(92 * mm))
    draw_qr(c, d.code, MARGIN - 1 * mm, MARGIN - 1 * mm, 34 * mm)
    right = 40 * mm
    draw_string(c, right, _top(98 * mm), "件数 Items", 7)
    draw_string(c, right, _top(108 * mm), str(d.item_count), 26)
    draw_string(c, right, _top(114 * mm), "封志号 Seal No.", 7)
    seal = d.seal_no or "未封 not sealed"
    draw_string(c, right, _top(121 * mm), seal, shrink_to_width(seal, LABEL_W - MARGIN - right, 14, 7))
    if d.station or d.created_at:
        line = " · ".join(x for x in (d.station, d.created_at) if x)
        draw_string(c, right, _top(128 * mm), line, shrink_to_width(line, LABEL_W - MARGIN - right, 7, 5))
    c.showPage()
    c.save()
    return buf.getvalue()


def render_bag_manifest(d: BagManifestData) -> bytes:
    """The bag manifest: every item with waybill, credential number,
    recipient and city; totals; seal number, sealed by and at; QR of the code."""
    st = styles()
    story = [
        para(f"总包清单 Bag manifest  {d.code}", st["title"]),
        Codes(d.code),
        Spacer(1, 3 * mm),
        fields([
            ("总包号 Bag", d.code), ("路由 Route", f"{d.route} {d.route_name}".strip()),
            ("状态 State", d.state), ("封志号 Seal No.", d.seal_no),
            ("封发人 Sealed by", d.sealed_by), ("封发时间 Sealed at", d.sealed_at),
            ("封发台 Station", d.station), ("件数 Items", len(d.items)),
        ]),
        para("邮件明细 Items", st["h2"]),
    ]
    rows: list[list[object]] = [["#", "邮件号 Waybill", "证件号 Credential No.", "收件人 Recipient", "城市 City"]]
    rows += [[i, it.waybill_no, it.credential_no, it.recipient_name, it.city]
             for i, it in enumerate(d.items, 1)]
    widths = [10 * mm, 42 * mm, 42 * mm, CONTENT_W - 134 * mm, 40 * mm]
    story.append(grid(rows, widths, align_right=(0,)))
    story.append(Spacer(1, 3 * mm))
    story.append(para(f"合计 Total: {len(d.items)} 件 items", st["body"]))
    story.append(Spacer(1, 8 * mm))
    story.append(SignatureLines(["封发人 Sealed by", "复核人 Checked by"]))
    return build(story, title=f"Bag manifest {d.code}",
                 footer=f"总包清单 {d.code} · 打印 printed {d.printed_at}")
