"""The one font every document prints with, embedded (as a subset) in each PDF.

A vendored TrueType CJK font (see fonts/README.md) that covers Latin letters,
digits and all CJK Unified Ideographs, so no document depends on a viewer's or
printer's Asian font pack, and house numbers and phones never vanish.
"""
from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "CredtrackCJK"
FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "WenQuanYiMicroHei-CJK.ttf"

_lock = threading.Lock()
_font: TTFont | None = None


def font_name() -> str:
    """Register the CJK font with reportlab once per process; return its name."""
    global _font
    if _font is None:
        with _lock:
            if _font is None:
                font = TTFont(FONT_NAME, str(FONT_PATH))
                pdfmetrics.registerFont(font)
                _font = font
    return FONT_NAME


def char_widths(text: str) -> list[float]:
    """Advance width of each character at 1 pt (missing glyphs count as .notdef)."""
    font_name()
    face = _font.face
    widths, default = face.charWidths, face.defaultWidth
    return [widths.get(ord(c), default) / 1000.0 for c in text]


def missing_chars(text: str) -> set[str]:
    """Characters of `text` that the font has no glyph for (they would print as boxes)."""
    font_name()
    cmap = _font.face.charToGlyph
    return {c for c in text if ord(c) not in cmap and not c.isspace()}
