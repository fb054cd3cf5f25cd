"""The font chain every printed document uses, and the one way text is set in it.

reportlab has no font fallback: a character its font lacks prints as an
empty box (.notdef). So every piece of text goes through `runs()`, which
cuts it into runs each set in the first font of `CHAIN` that has all of its
characters, and every drawing call goes through `draw_string()` (labels,
bag labels, the A4 sheets and the daily report alike). `missing_chars()`
is the one answer to "can this be printed": it reports exactly what `runs()`
could not place.

The fonts (vendored subsets, see fonts/README.md and scripts/make_font_subset.py):

1. WenQuanYi Micro Hei: Latin (Vietnamese included), Greek, Cyrillic, kana,
   Hangul syllables, all CJK Unified Ideographs U+4E00–U+9FC3, punctuation;
   the font of nearly everything printed.
2. Noto Sans: the rest of Latin/Greek/Cyrillic and the combining marks.
3. Noto Sans Arabic: Arabic, shaped (joining forms, lam-alef) by HarfBuzz.
4. Noto Sans Thai: Thai, shaped (marks positioned) by HarfBuzz.
5. Hanazono Mincho A: CJK Extension A, compatibility ideographs.
6. Hanazono Mincho B: CJK Extension B, and the Extension C–F characters of
   the 2013 general standard table.

Shaping is reportlab's own (`shapeStr` and its text objects' shaped
strings, which need uharfbuzz). reportlab's right-to-left support, and with
it `drawString(..., shaping=True)`, needs rlbidi, which is not on PyPI, so
shaped runs are handed to a text object here and the right-to-left order is
computed here (`_bidi_levels`, the
implicit part of the Unicode bidirectional algorithm; explicit embedding
controls are refused as unprintable).
"""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

try:  # reportlab shapes with uharfbuzz; without it Arabic and Thai cannot print correctly
    import uharfbuzz  # noqa: F401
    SHAPING = True
except ImportError:  # pragma: no cover - uharfbuzz is a dependency
    SHAPING = False

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"


def _utf16_hex(code: int) -> str:
    return "".join(f"{u:04X}" for u in _utf16_units(code))


def _utf16_units(code: int) -> tuple[int, ...]:
    if code < 0x10000:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


_reportlab_to_unicode = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset) -> str:
    """reportlab's ToUnicode CMap, with characters beyond the BMP written as
    UTF-16 surrogate pairs as PDF requires (reportlab writes U+20BB7 𠮷 as
    <20BB7>, which viewers read as U+20BB: the text would not copy or search)."""
    text = _reportlab_to_unicode(fontname, subset)
    if all(v < 0x10000 for v in subset):
        return text
    for i, v in enumerate(subset):
        if v >= 0x10000:
            text = text.replace("<%02X> <%04X>" % (i, v), "<%02X> <%s>" % (i, _utf16_hex(v)), 1)
    return text


ttfonts.makeToUnicodeCMap = _to_unicode_cmap


@dataclass(frozen=True)
class Face:
    """One font of the chain. `shaped`: its runs are always shaped (complex
    scripts); runs of other fonts are shaped only when they hold combining marks."""

    name: str
    file: str
    shaped: bool = False
    rtl_script: bool = False  # HarfBuzz lays its runs out right to left


CHAIN: tuple[Face, ...] = (
    Face("CredtrackCJK", "WenQuanYiMicroHei-CJK.ttf"),
    Face("CredtrackLatin", "NotoSans-Latin.ttf"),
    Face("CredtrackArabic", "NotoSansArabic-Subset.ttf", shaped=True, rtl_script=True),
    Face("CredtrackThai", "NotoSansThai-Subset.ttf", shaped=True),
    Face("CredtrackExtA", "HanaMinA-ExtA.ttf"),
    Face("CredtrackExtB", "HanaMinB-ExtB.ttf"),
)
FONT_NAME = CHAIN[0].name
FONT_PATH = FONT_DIR / CHAIN[0].file

# explicit bidi embeddings, overrides and isolates: not laid out here, so refused
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# neutral characters that stay in the run they are in when its font has them
# (the space between two Arabic words stays in the Arabic run)
_NEUTRAL_BIDI = frozenset({"WS", "ON", "CS", "ES", "ET", "S"})

_lock = threading.Lock()
_fonts: list[TTFont | None] = [None] * len(CHAIN)


def _font(i: int) -> TTFont:
    """The i-th font of the chain, loaded and registered with reportlab on first use
    (a document that only needs the first font never loads the others)."""
    font = _fonts[i]
    if font is None:
        with _lock:
            font = _fonts[i]
            if font is None:
                face = CHAIN[i]
                font = TTFont(face.name, str(FONT_DIR / face.file))
                pdfmetrics.registerFont(font)
                _fonts[i] = font
    return font


def font_name() -> str:
    """The name of the first font of the chain, registered (what a document
    starts in; text itself is set with `draw_string`)."""
    _font(0)
    return FONT_NAME


@cache
def _primary_cmap() -> dict[int, int]:
    return _font(0).face.charToGlyph


def _has(i: int, chars: str) -> bool:
    cmap = _font(i).face.charToGlyph
    return all(ord(c) in cmap for c in chars)


def _is_mark(c: str) -> bool:
    return unicodedata.category(c)[0] == "M" or c in "\u200c\u200d"


def compose(text: str) -> str:
    """`text` with combining sequences composed (NFC) where it has any, so
    that a decomposed "é" or "ễ" prints from one precomposed glyph.
    CJK compatibility ideographs are left alone (NFC would replace them)."""
    if not any(_is_mark(c) for c in text):
        return text
    out, part = [], []
    for c in text:
        if 0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F:
            out.append(unicodedata.normalize("NFC", "".join(part)))
            out.append(c)
            part = []
        else:
            part.append(c)
    out.append(unicodedata.normalize("NFC", "".join(part)))
    return "".join(out)


@dataclass(frozen=True)
class Run:
    """A piece of text set in one font of the chain. `missing`: characters
    of it no font can print correctly (they print as boxes or misplaced)."""

    face: int
    text: str
    shaped: bool
    missing: frozenset[str] = frozenset()

    @property
    def font(self) -> str:
        return CHAIN[self.face].name


def _clusters(text: str) -> list[str]:
    """A base character with the combining marks that follow it."""
    out: list[str] = []
    for c in text:
        if out and _is_mark(c) and not out[-1].isspace():
            out[-1] += c
        else:
            out.append(c)
    return out


def _place(cluster: str, current: int | None) -> tuple[int, frozenset[str]]:
    """The font for one cluster, and what of it cannot print correctly."""
    if cluster in _BIDI_CONTROLS:
        return current if current is not None else 0, frozenset(cluster)
    if current is not None and len(cluster) == 1 and unicodedata.bidirectional(cluster) in _NEUTRAL_BIDI \
            and _has(current, cluster):
        return current, frozenset()
    for i in range(len(CHAIN)):
        if _has(i, cluster):
            if CHAIN[i].shaped and not SHAPING:
                return i, frozenset(cluster)
            return i, frozenset()
    base = cluster[0]
    for i in range(len(CHAIN)):
        if _has(i, base):  # the marks are in no font with the base: they would be misplaced or boxes
            return i, frozenset(c for c in cluster[1:])
    return current if current is not None else 0, frozenset(c for c in cluster if not c.isspace())


@lru_cache(maxsize=8192)
def runs(text: str) -> tuple[Run, ...]:
    """`text` (composed, see `compose`) cut into runs in logical order, each in
    the first font of the chain that has all its characters; neutral
    characters (spaces, punctuation) stay in the run they follow."""
    text = compose(text)
    cmap = _primary_cmap()
    if all(ord(c) in cmap for c in text) and not any(_is_mark(c) for c in text):
        return (Run(0, text, False),) if text else ()
    out: list[Run] = []
    cur: int | None = None
    buf: list[str] = []
    missing: set[str] = set()
    marks = False

    def flush() -> None:
        if buf:
            out.append(Run(cur, "".join(buf), CHAIN[cur].shaped or marks, frozenset(missing)))

    for cluster in _clusters(text):
        face, bad = _place(cluster, cur)
        if face != cur:
            flush()
            cur, buf, missing, marks = face, [], set(), False
        buf.append(cluster)
        missing |= bad
        marks = marks or len(cluster) > 1
    flush()
    return tuple(out)


def missing_chars(text: str) -> set[str]:
    """The characters of `text` that cannot be printed correctly: no font of
    the chain has them (they would print as empty boxes), a combining mark no
    font has together with its base, an explicit bidi control, or a complex
    script when shaping is not available. The one check of "can this be
    printed", used by the manifest import, the capture screen and printing."""
    if not text:
        return set()
    cmap = _primary_cmap()
    if all(ord(c) in cmap for c in text):
        return set()
    out: set[str] = set()
    for run in runs(text):
        out |= run.missing
    return {c for c in out if not c.isspace()}


# --- measuring --------------------------------------------------------------

def _shaped(text: str, face: int, size: float):
    from reportlab.pdfbase.ttfonts import shapeStr
    _font(face)
    return shapeStr(text, CHAIN[face].name, size)


@lru_cache(maxsize=8192)
def _run_widths(run: Run) -> tuple[float, ...]:
    """Advance of each character of a run at 1 pt; a shaped run's glyph
    advances are given to the character each glyph comes from."""
    face = _font(run.face).face
    if run.shaped:
        shaped = _shaped(run.text, run.face, 1)
        data = getattr(shaped, "__shapeData__", None)
        if data:
            widths = [0.0] * len(run.text)
            for sd in data:
                if 0 <= sd.cluster < len(widths):
                    widths[sd.cluster] += sd.x_advance / 1000.0
            return tuple(widths)
    widths_, default = face.charWidths, face.defaultWidth
    return tuple(widths_.get(ord(c), default) / 1000.0 for c in run.text)


def char_widths(text: str) -> list[float]:
    """Advance width of each character of `compose(text)` at 1 pt, each in
    the font it is printed in (a shaped run as shaped)."""
    cmap = _primary_cmap()
    if all(ord(c) in cmap for c in text) and not any(_is_mark(c) for c in text):
        face = _font(0).face
        widths, default = face.charWidths, face.defaultWidth
        return [widths.get(ord(c), default) / 1000.0 for c in text]
    out: list[float] = []
    for run in runs(text):
        out.extend(_run_widths(run))
    return out


def text_width(text: str, size: float) -> float:
    """The printed width of one line of `text` at `size` pt."""
    return sum(char_widths(text)) * size


# --- right-to-left ------------------------------------------------------------

def _bidi_levels(text: str) -> tuple[int, list[int]]:
    """The paragraph level and the resolved level of each character: the
    implicit rules of the Unicode bidirectional algorithm (UAX #9 P2-P3,
    W1-W7, N1-N2, I1-I2) for one line without explicit embeddings."""
    types = [unicodedata.bidirectional(c) or "L" for c in text]
    base = 0
    for t in types:
        if t in ("L", "R", "AL"):
            base = 0 if t == "L" else 1
            break
    sos = "R" if base else "L"
    # W1: marks take the type of what they follow
    prev = sos
    for i, t in enumerate(types):
        if t == "NSM":
            types[i] = prev if prev not in ("LRI", "RLI", "FSI", "PDI") else "ON"
        elif t in ("BN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"):
            types[i] = "BN"
        prev = types[i] if types[i] != "BN" else prev
    # W2, W3
    last = sos
    for i, t in enumerate(types):
        if t == "EN" and last == "AL":
            types[i] = "AN"
        if t in ("L", "R", "AL"):
            last = t
    types = ["R" if t == "AL" else t for t in types]
    # W4
    for i in range(1, len(types) - 1):
        if types[i] == "ES" and types[i - 1] == types[i + 1] == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and types[i - 1] == types[i + 1] and types[i - 1] in ("EN", "AN"):
            types[i] = types[i - 1]
    # W5: European terminators next to European numbers
    n = len(types)
    for i in range(n):
        if types[i] == "EN":
            j = i - 1
            while j >= 0 and types[j] == "ET":
                types[j] = "EN"
                j -= 1
            j = i + 1
            while j < n and types[j] == "ET":
                types[j] = "EN"
                j += 1
    # W6, W7
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]
    last = sos
    for i, t in enumerate(types):
        if t == "EN" and last == "L":
            types[i] = "L"
        if t in ("L", "R"):
            last = t
    # N1, N2: neutrals between two strong types of one direction take it, else the base
    strong = lambda t: "R" if t in ("R", "EN", "AN") else t  # noqa: E731
    i = 0
    while i < n:
        if types[i] in ("L", "R", "EN", "AN"):
            i += 1
            continue
        j = i
        while j < n and types[j] not in ("L", "R", "EN", "AN"):
            j += 1
        before = strong(types[i - 1]) if i > 0 else sos
        after = strong(types[j]) if j < n else sos
        fill = before if before == after else ("R" if base else "L")
        for k in range(i, j):
            types[k] = fill
        i = j
    # I1, I2
    levels = []
    for t in types:
        if base == 0:
            levels.append(0 if t == "L" else 1 if t == "R" else 2)
        else:
            levels.append(1 if t == "R" else 2)
    return base, levels


_MIRROR = dict(zip("()[]{}<>«»‹›（）《》〈〉「」『』【】", ")(][}{><»«›‹）（》《〉〈」「』『】【"))


@dataclass(frozen=True)
class Piece:
    """A piece of a line as drawn, left to right: font, the text handed to
    reportlab, whether reportlab shapes it, its width at 1 pt."""

    face: int
    text: str
    shaped: bool
    width: float

    @property
    def font(self) -> str:
        return CHAIN[self.face].name


@lru_cache(maxsize=8192)
def visual_pieces(text: str) -> tuple[Piece, ...]:
    """One line of text as the pieces to draw from left to right: runs of the
    chain, in right-to-left order where the bidirectional algorithm says so
    (HarfBuzz orders the glyphs inside a shaped right-to-left run)."""
    rs = runs(text)
    if not any(CHAIN[r.face].rtl_script for r in rs):
        return tuple(Piece(r.face, r.text, r.shaped, sum(_run_widths(r))) for r in rs)
    line = "".join(r.text for r in rs)
    _base, levels = _bidi_levels(line)
    # segments of one run and one level
    segs: list[tuple[int, Run, int, int]] = []  # level, run, start, end (in the run)
    pos = 0
    for r in rs:
        start = 0
        for k in range(1, len(r.text) + 1):
            if k == len(r.text) or levels[pos + k] != levels[pos + start]:
                segs.append((levels[pos + start], r, start, k))
                start = k
        pos += len(r.text)
    pieces: list[tuple[int, Piece]] = []
    for level, r, a, b in segs:
        s = r.text[a:b]
        face = CHAIN[r.face]
        shaped = r.shaped
        if face.rtl_script and shaped and level % 2 == 0:
            s = s[::-1]  # numbers in an Arabic font: HarfBuzz reverses them again
        elif level % 2 == 1 and not (face.rtl_script and shaped):
            s = "".join(_MIRROR.get(c, c) for c in reversed(s))
        widths = _run_widths(Run(r.face, s, shaped))
        pieces.append((level, Piece(r.face, s, shaped, sum(widths))))
    # L2: reverse every sequence at or above each odd level, highest first
    top = max(level for level, _p in pieces)
    low = min((level for level, _p in pieces if level % 2), default=top + 1)
    for lv in range(top, low - 1, -1):
        i = 0
        while i < len(pieces):
            if pieces[i][0] >= lv:
                j = i
                while j < len(pieces) and pieces[j][0] >= lv:
                    j += 1
                pieces[i:j] = reversed(pieces[i:j])
                i = j
            else:
                i += 1
    return tuple(p for _lv, p in pieces)


# --- drawing --------------------------------------------------------------------

def draw_string(canvas, x: float, y: float, text: str, size: float, *, align: str = "left") -> float:
    """Draw one line of `text` at `size` pt with its baseline at `y`, starting
    at `x` (align "left"), ending at `x` ("right") or centred on `x`
    ("centre"): each run in its font of the chain, shaped and ordered right
    to left where needed. The one text-drawing call of every document;
    returns the width drawn."""
    pieces = visual_pieces(text)
    width = sum(p.width for p in pieces) * size
    if align == "right":
        x -= width
    elif align == "centre":
        x -= width / 2
    for p in pieces:
        if canvas._fontname != p.font or canvas._fontsize != size:
            _font(p.face)
            canvas.setFont(p.font, size)
        if p.shaped:
            # canvas.drawString(shaping=True) shapes only when rlbidi is
            # installed: hand the text object HarfBuzz's glyphs and positions
            t = canvas.beginText(x, y)
            t._textOut(_shaped(p.text, p.face, size))
            canvas.drawText(t)
        else:
            canvas.drawString(x, y, p.text)
        x += p.width * size
    return width
