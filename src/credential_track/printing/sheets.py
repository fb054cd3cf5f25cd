"""What the A4 documents (bag manifest, trip sheet, handover receipt) share:
styles in the embedded CJK font, escaped paragraphs, tables, signature lines."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .draw import draw_code128, draw_qr
from .fonts import font_name

MARGIN = 15 * mm
CONTENT_W = A4[0] - 2 * MARGIN


def styles() -> dict[str, ParagraphStyle]:
    f = font_name()
    # wordWrap="CJK" lets lines break between any two hanzi
    base = ParagraphStyle("base", fontName=f, fontSize=9.5, leading=12.5, wordWrap="CJK")
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, spaceAfter=2 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11.5, leading=15, spaceBefore=4 * mm,
                             spaceAfter=1.5 * mm),
    }


def para(text: object, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: markup characters print as themselves."""
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def grid(rows: list[list[object]], widths: list[float], *, header: bool = True,
         style: ParagraphStyle | None = None, align_right: tuple[int, ...] = ()) -> Table:
    """A ruled table of plain-text cells; the header row repeats on each page."""
    st = style or styles()["cell"]
    data = [[c if isinstance(c, Flowable) else para(c, st) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    cmds = [
        ("FONTNAME", (0, 0), (-1, -1), font_name()),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)))
    for col in align_right:
        cmds.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    t.setStyle(TableStyle(cmds))
    return t


def fields(pairs: list[tuple[str, object]], columns: int = 2) -> Table:
    """Label/value pairs in `columns` column pairs, unruled."""
    st = styles()
    label_st = ParagraphStyle("label", parent=st["small"], textColor=colors.Color(0.3, 0.3, 0.3))
    rows, row = [], []
    for label, value in pairs:
        shown = "" if not label else (value if value not in (None, "") else "—")
        row += [para(label, label_st), para(shown, st["body"])]
        if len(row) == 2 * columns:
            rows.append(row)
            row = []
    if row:
        rows.append(row + [""] * (2 * columns - len(row)))
    lw = 30 * mm
    vw = CONTENT_W / columns - lw
    t = Table(rows, colWidths=[lw, vw] * columns)
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font_name()), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return t


class Codes(Flowable):
    """A code printed as Code 128 and QR side by side, right-aligned."""

    def __init__(self, value: str, height: float = 16 * mm):
        super().__init__()
        self.value, self.height_ = value, height

    def wrap(self, aw, ah):
        self.width_ = aw
        return aw, self.height_

    def draw(self):
        c = self.canv
        qr = self.height_
        draw_qr(c, self.value, self.width_ - qr, 0, qr)
        draw_code128(c, self.value, self.width_ - qr - 75 * mm, 1 * mm, self.height_ - 2 * mm,
                     max_width=72 * mm, center=False)


class SignatureLines(Flowable):
    """Signature and date lines, one column per party."""

    def __init__(self, parties: list[str]):
        super().__init__()
        self.parties = parties

    def wrap(self, aw, ah):
        self.width_ = aw
        return aw, 24 * mm

    def draw(self):
        c = self.canv
        f = font_name()
        n = len(self.parties)
        col = self.width_ / n
        for i, party in enumerate(self.parties):
            x = i * col
            c.setFont(f, 9)
            c.drawString(x, 19 * mm, party)
            c.setLineWidth(0.6)
            c.line(x, 9 * mm, x + col - 8 * mm, 9 * mm)
            c.setFont(f, 7.5)
            c.drawString(x, 5.5 * mm, "签名 Signature")
            c.line(x, 1 * mm, x + col - 8 * mm, 1 * mm)
            c.drawString(x + col - 40 * mm, 5.5 * mm, "日期时间 Date / time")


def build(story: list, *, title: str, footer: str) -> bytes:
    """Lay the story out on A4 pages with a footer line and page numbers."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 5 * mm, title=title,
                            creator="Credential Track", invariant=1,
                            initialFontName=font_name(), initialFontSize=10)

    def on_page(canvas, document):
        canvas.saveState()
        canvas.setFont(font_name(), 7.5)
        canvas.drawString(MARGIN, MARGIN, footer)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, f"第 {document.page} 页 Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


__all__ = ["CONTENT_W", "Codes", "SignatureLines", "Spacer", "build", "fields", "grid", "para", "styles"]
