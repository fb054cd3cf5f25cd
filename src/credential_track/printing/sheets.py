"""What the A4 documents (bag manifest, trip sheet, handover receipt, the
daily report) share: text blocks set in the font chain, tables, signature lines.

reportlab's Paragraph sets all its text in one font (boxes for what that font
lacks) and cannot order right-to-left text without rlbidi, so plain text is
laid out by `Text`, which wraps with the labels' rules (draw.wrap_lines) and
draws each line with fonts.draw_string."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from .draw import baseline, draw_code128, draw_qr, wrap_lines
from .fonts import draw_string, font_name, runs

MARGIN = 15 * mm
CONTENT_W = A4[0] - 2 * MARGIN


def styles() -> dict[str, ParagraphStyle]:
    f = font_name()
    base = ParagraphStyle("base", fontName=f, fontSize=9.5, leading=12.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, spaceAfter=2 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11.5, leading=15, spaceBefore=4 * mm,
                             spaceAfter=1.5 * mm),
    }


class Text(Flowable):
    """A block of plain text in a paragraph style's size, leading, colour and
    spacing: wrapped at the break opportunities of draw.wrap_lines, each line
    drawn in the font chain. Markup characters print as themselves."""

    def __init__(self, text: str, style: ParagraphStyle, lines: list[str] | None = None):
        super().__init__()
        self.text, self.style, self._lines = text, style, lines
        self._fixed = lines is not None  # a piece of a split block keeps its lines
        self._aw = None
        self.spaceBefore, self.spaceAfter = style.spaceBefore, style.spaceAfter

    def wrap(self, aw, ah):
        if not self._fixed and (self._lines is None or self._aw != aw):
            self._lines = [line for part in self.text.split("\n")
                           for line in wrap_lines(part, aw, self.style.fontSize)]
            self._aw = aw
        self.width = aw
        self.height = len(self._lines) * self.style.leading
        return aw, self.height

    def split(self, aw, ah):
        self.wrap(aw, ah)
        fit = int(ah // self.style.leading)
        if fit <= 0 or fit >= len(self._lines):
            return []
        return [Text(self.text, self.style, self._lines[:fit]), Text(self.text, self.style, self._lines[fit:])]

    def draw(self):
        c, st = self.canv, self.style
        c.setFillColor(st.textColor)
        y = baseline(self.height, st.fontSize, st.leading)
        for line in self._lines:
            draw_string(c, 0, y, line, st.fontSize)
            y -= st.leading


def para(text: object, style: ParagraphStyle) -> Text:
    """A block of plain text (see Text)."""
    return Text("" if text is None else str(text), style)


def cell(value: object, style: ParagraphStyle) -> object:
    """A table cell: the plain string when the chain's first font prints all
    of it (the table draws it, fast), else a Text block."""
    text = "" if value is None else str(value)
    rs = runs(text)
    if len(rs) <= 1 and (not rs or rs[0].face == 0) and "\n" not in text:
        return text
    return Text(text, style)


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
        n = len(self.parties)
        col = self.width_ / n
        for i, party in enumerate(self.parties):
            x = i * col
            draw_string(c, x, 19 * mm, party, 9)
            c.setLineWidth(0.6)
            c.line(x, 9 * mm, x + col - 8 * mm, 9 * mm)
            draw_string(c, x, 5.5 * mm, "签名 Signature", 7.5)
            c.line(x, 1 * mm, x + col - 8 * mm, 1 * mm)
            draw_string(c, x + col - 40 * mm, 5.5 * mm, "日期时间 Date / time", 7.5)


def build(story: list, *, title: str, footer: str) -> bytes:
    """Lay the story out on A4 pages with a footer line and page numbers."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 5 * mm, title=title,
                            creator="Credential Track", invariant=1,
                            initialFontName=font_name(), initialFontSize=10)

    def on_page(canvas, document):
        canvas.saveState()
        draw_string(canvas, MARGIN, MARGIN, footer, 7.5)
        draw_string(canvas, A4[0] - MARGIN, MARGIN, f"第 {document.page} 页 Page {document.page}", 7.5, align="right")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


__all__ = ["CONTENT_W", "Codes", "SignatureLines", "Spacer", "Text", "build", "cell", "fields", "grid", "para",
           "styles"]
