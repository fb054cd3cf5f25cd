"""Drawing helpers shared by every document: Code 128, QR, and a text block
that wraps and shrinks (long Chinese addresses) to fit its box."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm

from .fonts import char_widths, font_name

# 203 dpi thermal printers: one dot is 25.4/203 mm. Bars and modules are whole
# dots wide so that no bar is rounded away when the label is rasterised.
DOT = 25.4 / 203 * mm
CODE128_BAR = 3 * DOT  # 0.375 mm narrow bar: read by ordinary hand-held scanners
CODE128_QUIET = 10  # quiet zone in narrow bars on each side (the standard's minimum)
QR_QUIET = 4  # quiet zone in modules on each side (the standard's minimum)


def code128_width(value: str, bar_width: float = CODE128_BAR) -> float:
    """Width of the Code 128 symbol for `value`, quiet zones included."""
    return _code128(value, bar_width, 10.0).width


def _code128(value: str, bar_width: float, height: float) -> Code128:
    q = bar_width * CODE128_QUIET
    return Code128(value, barWidth=bar_width, barHeight=height, quiet=1, lquiet=q, rquiet=q)


def draw_code128(canvas, value: str, x: float, y: float, height: float, *, max_width: float,
                 bar_width: float = CODE128_BAR, center: bool = True) -> float:
    """Draw `value` as Code 128 in the box (x, y, max_width, height); returns
    the symbol width. The bar width shrinks by whole printer dots (never under
    2 dots) if the symbol would not fit."""
    bw = bar_width
    code = _code128(value, bw, height)
    while code.width > max_width and bw > 2 * DOT + 1e-9:
        bw -= DOT
        code = _code128(value, bw, height)
    if code.width > max_width:
        raise ValueError(f"Code 128 of {value!r} needs {code.width / mm:.1f} mm, box has {max_width / mm:.1f} mm")
    left = x + (max_width - code.width) / 2 if center else x
    code.drawOn(canvas, left, y)
    return code.width


@lru_cache(maxsize=256)
def qr_matrix(value: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules of `value` (error correction M), without quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(value)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


def draw_qr(canvas, value: str, x: float, y: float, size: float) -> float:
    """Draw a QR code of `value` in the square (x, y, size) with a 4-module
    quiet zone inside the square; returns the module size. Dark runs of a row
    are drawn as one rectangle each (fewer operators, no hairline gaps)."""
    matrix = qr_matrix(value)
    n = len(matrix)
    module = size / (n + 2 * QR_QUIET)
    x0 = x + QR_QUIET * module
    top = y + size - QR_QUIET * module
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        yy = top - (r + 1) * module
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                path.rect(x0 + start * module, yy, (c - start) * module, module)
            else:
                c += 1
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
    return module


@dataclass(frozen=True)
class TextLayout:
    """Where a text block goes: its lines at `font_size`, and the space they take."""

    lines: tuple[str, ...]
    font_size: float
    leading: float
    width: float  # widest line
    height: float  # lines × leading
    truncated: bool  # the text did not fit even at the minimum size and was cut with "…"


def _wrap(text: str, widths: list[float], limit: float) -> list[tuple[int, int]]:
    """Greedy wrap of `text` (char widths at 1 pt) into lines no wider than
    `limit`; Latin words are not split unless a word alone is too wide."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    while start < n:
        while start < n and text[start] == " ":
            start += 1
        if start >= n:
            break
        w = 0.0
        end = start
        last_space = -1
        while end < n and (text[end] != "\n"):
            cw = widths[end]
            if w + cw > limit and end > start:
                break
            if text[end] == " ":
                last_space = end
            w += cw
            end += 1
        if end < n and text[end] != "\n" and last_space > start and text[end] != " " \
                and text[end - 1] != " " and text[end - 1].isascii() and text[end].isascii():
            end = last_space  # break at the last space rather than inside a Latin word
        spans.append((start, end))
        start = end + 1 if end < n and text[end] == "\n" else end
    return spans


def fit_text(text: str, width: float, height: float, *, max_size: float, min_size: float,
             leading_ratio: float = 1.2, step: float = 0.5) -> TextLayout:
    """Lay `text` out in a box `width` × `height`: the largest size from
    `max_size` down to `min_size` at which the wrapped lines fit. If none does,
    the lines at `min_size` are cut to the box and the last ends with "…"."""
    text = " ".join(part for part in text.replace("\r", "").split(" "))
    widths = char_widths(text)
    size = max_size
    while True:
        leading = size * leading_ratio
        spans = _wrap(text, widths, width / size)
        if len(spans) * leading <= height + 1e-6 or size - step < min_size - 1e-9:
            break
        size -= step
    lines = [text[a:b].rstrip() for a, b in spans]
    max_lines = max(1, int((height + 1e-6) // leading))
    truncated = len(lines) > max_lines
    if truncated:
        lines = lines[:max_lines]
        last = lines[-1]
        ell = char_widths("…")[0]
        while last and sum(char_widths(last)) + ell > width / size:
            last = last[:-1]
        lines[-1] = last + "…"
    line_widths = [sum(char_widths(s)) * size for s in lines] or [0.0]
    return TextLayout(tuple(lines), size, leading, max(line_widths), len(lines) * leading, truncated)


def draw_text_block(canvas, layout: TextLayout, x: float, top: float) -> None:
    """Draw a laid-out block with its first line's top at `top`."""
    canvas.setFont(font_name(), layout.font_size)
    # the baseline sits ~0.88 em below the top of the line box for this font
    y = top - layout.font_size * 0.88 - (layout.leading - layout.font_size) / 2
    for line in layout.lines:
        canvas.drawString(x, y, line)
        y -= layout.leading


def draw_fitted(canvas, text: str, x: float, top: float, width: float, height: float, *,
                max_size: float, min_size: float) -> TextLayout:
    """fit_text then draw_text_block; returns the layout used."""
    layout = fit_text(text, width, height, max_size=max_size, min_size=min_size)
    draw_text_block(canvas, layout, x, top)
    return layout


def shrink_to_width(text: str, width: float, max_size: float, min_size: float) -> float:
    """The largest font size (≤ max_size, ≥ min_size) at which one line of `text` fits `width`."""
    w1 = sum(char_widths(text))
    if w1 <= 0:
        return max_size
    return max(min_size, min(max_size, width / w1))
