"""Drawing helpers shared by every document: Code 128, QR, and a text block
that wraps and shrinks (long Chinese addresses) to fit its box."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm

from .fonts import char_widths, compose, draw_string

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


# a line never starts with closing punctuation nor ends with opening punctuation
_NO_LINE_START = frozenset(",.;:!?%)]}»›、。，．；：！？％）］｝〉》」』】〕〗〙〛’”‰℃°·・ー～…")
_NO_LINE_END = frozenset("([{«‹（［｛〈《「『【〔〖〘〚‘“#＃№")
# joiners inside a number or word: 13-2-601, 3/F, No.5, O'Brien
_JOINERS = frozenset("-‐‑–/.'’_&+#＃－／．")


def _is_ideograph(c: str) -> bool:
    """Characters between which a line may break (Chinese and Japanese are
    written without spaces)."""
    o = ord(c)
    return (0x2E80 <= o <= 0x2FDF or 0x3040 <= o <= 0x30FF or 0x3100 <= o <= 0x312F or 0x31A0 <= o <= 0x31FF
            or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF)


def _is_word(c: str) -> bool:
    """Letters, digits and marks of words and numbers (not ideographs): a
    line never breaks inside a run of them (1301, Nguyễn, 김민준)."""
    return (c.isalnum() or unicodedata.category(c)[0] == "M") and not _is_ideograph(c)


def break_opportunities(text: str) -> list[bool]:
    """`ok[i]`: a line may start at `text[i]` (i ≥ 1): after a space, between
    two ideographs, before a number or word that follows an ideograph;
    never inside a word or number (joiners such as 13-2-601 included), not
    between a number and the unit it is attached to (1301号, A座), not
    before closing or after opening punctuation."""
    n = len(text)
    ok = [False] * (n + 1)
    word = [_is_word(c) for c in text]
    # a joiner between two word characters belongs to the word
    for i in range(1, n - 1):
        if text[i] in _JOINERS and word[i - 1] and word[i + 1]:
            word[i] = True
    for i in range(1, n):
        a, b = text[i - 1], text[i]
        if b.isspace():
            continue
        if a.isspace():
            ok[i] = True
        elif b in _NO_LINE_START or a in _NO_LINE_END:
            continue
        elif word[i - 1] and (word[i] or _is_ideograph(b)):
            continue  # inside a word or number, or a number and its unit (1301号)
        else:
            ok[i] = True
    return ok


def _wrap(text: str, widths: list[float], limit: float,
          ok: list[bool] | None = None) -> tuple[list[tuple[int, int]], bool]:
    """Greedy wrap of `text` (char widths at 1 pt) into lines no wider than
    `limit`, breaking only where `break_opportunities` allows; returns the
    line spans and whether a word too wide for a line had to be broken."""
    ok = break_opportunities(text) if ok is None else ok
    spans: list[tuple[int, int]] = []
    forced = False
    n = len(text)
    start = 0
    while start < n:
        while start < n and text[start] == " ":
            start += 1
        if start >= n:
            break
        w = 0.0
        end = start
        last_ok = -1
        while end < n and text[end] != "\n":
            cw = widths[end]
            if end > start and ok[end]:
                last_ok = end
            if w + cw > limit and end > start and text[end] != " ":
                break
            w += cw
            end += 1
        if end < n and text[end] not in " \n":  # the line is full
            if last_ok > start:
                end = last_ok
            else:
                forced = True  # one word wider than the line: broken where it overflows
        spans.append((start, end))
        start = end + 1 if end < n and text[end] == "\n" else end
    return spans, forced


def fit_text(text: str, width: float, height: float, *, max_size: float, min_size: float,
             leading_ratio: float = 1.2, step: float = 0.5) -> TextLayout:
    """Lay `text` out in a box `width` × `height`: the largest size from
    `max_size` down to `min_size` at which the text wrapped at its break
    opportunities fits (so a text first shrinks on one line, then wraps). If
    none does, the lines at `min_size` are cut to the box and the last ends
    with "…" (a word wider than the whole box is broken only then)."""
    text = compose(" ".join(part for part in text.replace("\r", "").split(" ")))
    widths = char_widths(text)
    ok = break_opportunities(text)
    size = max_size
    while True:
        leading = size * leading_ratio
        spans, forced = _wrap(text, widths, width / size, ok)
        if (len(spans) * leading <= height + 1e-6 and not forced) or size - step < min_size - 1e-9:
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


def wrap_lines(text: str, width: float, size: float) -> list[str]:
    """`text` wrapped at `size` pt into lines no wider than `width` (no
    shrinking, no height limit: the A4 sheets' paragraphs and table cells)."""
    text = compose(text.replace("\r", ""))
    spans, _forced = _wrap(text, char_widths(text), width / size)
    return [text[a:b].rstrip() for a, b in spans] or [""]


def baseline(top: float, size: float, leading: float) -> float:
    """The baseline of a line whose line box starts at `top` (~0.88 em below
    the top of the line box for the chain's first font)."""
    return top - size * 0.88 - (leading - size) / 2


def draw_text_block(canvas, layout: TextLayout, x: float, top: float) -> None:
    """Draw a laid-out block with its first line's top at `top`."""
    y = baseline(top, layout.font_size, layout.leading)
    for line in layout.lines:
        draw_string(canvas, x, y, line, layout.font_size)
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
