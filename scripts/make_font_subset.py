"""Rebuild the fonts vendored in src/credential_track/fonts/ (the font chain
every printed document uses, see printing/fonts.py and docs/PRINTING.md).

Each font is cut down with fontTools to the characters it is in the chain
for, hinting dropped (printers rasterise at 203-600 dpi), its OpenType layout
tables kept (reportlab shapes Arabic and Thai and positions combining marks
with them through uharfbuzz). All are TrueType-outline fonts: reportlab cannot
embed CFF (PostScript-outline) fonts such as Noto Sans CJK, which is why the
CJK faces are WenQuanYi Micro Hei and Hanazono Mincho.

| file | source (Debian package) | licence | characters |
|---|---|---|---|
| WenQuanYiMicroHei-CJK.ttf | fonts-wqy-microhei, wqy-microhei.ttc face 0 | Apache-2.0 | Latin, Latin Extended-A/B and Additional (Vietnamese), Greek, Cyrillic, punctuation, symbols, kana, bopomofo, Hangul syllables, CJK U+4E00-U+9FC3, full-width forms |
| NotoSans-Latin.ttf | fonts-noto-core, NotoSans-Regular.ttf | OFL-1.1 | the rest of Latin, Greek (polytonic), Cyrillic, combining marks, currency |
| NotoSansArabic-Subset.ttf | fonts-noto-core, NotoSansArabic-Regular.ttf | OFL-1.1 | Arabic, Arabic Supplement/Extended-A, presentation forms |
| NotoSansThai-Subset.ttf | fonts-noto-core, NotoSansThai-Regular.ttf | OFL-1.1 | Thai |
| HanaMinA-ExtA.ttf | fonts-hanazono, HanaMinA.ttf | Hanazono Font Licence (or OFL-1.1) | CJK Extension A, U+9FC4-U+9FFF, compatibility ideographs, strokes, kana extensions |
| HanaMinB-ExtB.ttf | fonts-hanazono, HanaMinB.ttf | Hanazono Font Licence (or OFL-1.1) | all of CJK Extension B; of Extensions C-F the characters of the 2013 Table of General Standard Chinese Characters (通用规范汉字表, Unihan kTGH) and of the Unihan core set 2020 (kUnihanCore2020) |

Usage (needs `pip install fonttools`; `apt-get install fonts-wqy-microhei
fonts-noto-core fonts-hanazono unicode-data` — unicode-data gives the Unihan
files for the Extension C-F selection):

    python scripts/make_font_subset.py [OUT_DIR]
"""
from __future__ import annotations

import bz2
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/credential_track/fonts"
UNIHAN = Path("/usr/share/unicode")

LATIN_BASE = [(0x0020, 0x007E), (0x00A0, 0x00FF)]
PUNCT = [(0x2000, 0x206F)]
FONTS = [
    # (output, source, face index in a .ttc, ranges)
    ("WenQuanYiMicroHei-CJK.ttf", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, LATIN_BASE + PUNCT + [
        (0x0100, 0x024F), (0x02B0, 0x02FF), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x1E00, 0x1EFF),
        (0x2100, 0x214F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x26FF), (0x2E80, 0x2FDF),
        (0x3000, 0x312F), (0x3130, 0x318F), (0x3200, 0x32FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
        (0xFE30, 0xFE4F), (0xFF00, 0xFFEF)]),
    ("NotoSans-Latin.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", None, LATIN_BASE + PUNCT + [
        (0x0100, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x052F),
        (0x1AB0, 0x1AFF), (0x1D00, 0x1DFF), (0x1E00, 0x1FFF), (0x20A0, 0x20CF), (0x2C60, 0x2C7F),
        (0x2DE0, 0x2DFF), (0xA640, 0xA69F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F), (0x25CC, 0x25CC)]),
    # no digits: European digits are set in the first font, so a number inside
    # Arabic text is its own left-to-right run
    ("NotoSansArabic-Subset.ttf", "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", None, [
        (0x0020, 0x002F), (0x003A, 0x0040), (0x00A0, 0x00A0), (0x0600, 0x06FF), (0x0750, 0x077F),
        (0x08A0, 0x08FF), (0x200C, 0x200D), (0x25CC, 0x25CC), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]),
    ("NotoSansThai-Subset.ttf", "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf", None, [
        (0x0020, 0x0020), (0x00A0, 0x00A0), (0x0E00, 0x0E7F), (0x200B, 0x200D), (0x25CC, 0x25CC)]),
    ("HanaMinA-ExtA.ttf", "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", None, [
        (0x2E80, 0x2FDF), (0x3190, 0x319F), (0x31C0, 0x31FF), (0x3400, 0x4DBF), (0x9FC4, 0x9FFF),
        (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]),
    ("HanaMinB-ExtB.ttf", "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", None, [(0x20000, 0x2A6DF)]),
]
EXT_C_TO_F = (0x2A700, 0x2EBEF)


def standard_chars_beyond_b() -> set[int]:
    """Extension C-F characters that the 2013 general standard table or the
    Unihan core set 2020 list (names of people born since 2013 use the former)."""
    found: set[int] = set()
    for name in ("Unihan_OtherMappings.txt.bz2", "Unihan_DictionaryLikeData.txt.bz2", "Unihan_IRGSources.txt.bz2"):
        path = UNIHAN / name
        if not path.exists():
            continue
        for line in bz2.open(path, "rt", encoding="utf-8"):
            if line.startswith("U+"):
                cp, key, _value = line.rstrip("\n").split("\t", 2)
                u = int(cp[2:], 16)
                if key in ("kTGH", "kUnihanCore2020") and EXT_C_TO_F[0] <= u <= EXT_C_TO_F[1]:
                    found.add(u)
    if not found:
        raise SystemExit(f"no Unihan data under {UNIHAN}: apt-get install unicode-data")
    return found


def subset(source: str, index: int | None, unicodes: set[int], out: Path) -> int:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTCollection, TTFont

    font = TTCollection(source).fonts[index] if index is not None else TTFont(source)
    cmap = font.getBestCmap()
    keep = {u for u in unicodes if u in cmap}
    opts = ft_subset.Options()
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    # every layout feature but discretionary ligatures (Noto Sans Arabic's
    # dlig turns the name محمد into the single sign ﷴ)
    tags = {rec.FeatureTag for table in ("GSUB", "GPOS") if table in font
            for rec in (font[table].table.FeatureList.FeatureRecord if font[table].table.FeatureList else [])}
    opts.layout_features = sorted(tags - {"dlig"})
    opts.drop_tables += ["FFTM"]
    sub = ft_subset.Subsetter(opts)
    sub.populate(unicodes=keep)
    sub.subset(font)
    font.save(str(out))
    return len(keep)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else OUT
    for name, source, index, ranges in FONTS:
        unicodes = {u for a, b in ranges for u in range(a, b + 1)}
        if name.startswith("HanaMinB"):
            unicodes |= standard_chars_beyond_b()
        out = out_dir / name
        n = subset(source, index, unicodes, out)
        print(f"{out}: {n:,} characters, {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
