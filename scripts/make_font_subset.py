"""Rebuild src/credential_track/fonts/WenQuanYiMicroHei-CJK.ttf.

The vendored font is the "WenQuanYi Micro Hei" face (index 0) of Debian's
fonts-wqy-microhei (wqy-microhei.ttc, Apache-2.0), cut down with fontTools to
what labels and manifests print: Latin and Latin-1, general punctuation,
arrows/symbols, CJK punctuation, kana, bopomofo, all CJK Unified Ideographs
(U+4E00-U+9FC3: every GB2312/GBK hanzi) and full-width forms. Hinting is
dropped (printers rasterise at 203-600 dpi). This keeps the file near 3 MB
instead of 5 MB and turns the .ttc into a plain .ttf that reportlab's TTFont
loads without a subfont index.

Usage (needs `pip install fonttools` and `apt-get install fonts-wqy-microhei`):
    python scripts/make_font_subset.py [SOURCE_TTC] [OUT_TTF]
"""
from __future__ import annotations

import sys
from pathlib import Path

SOURCE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
OUT = Path(__file__).resolve().parent.parent / "src/credential_track/fonts/WenQuanYiMicroHei-CJK.ttf"
RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x017F), (0x2000, 0x206F), (0x2100, 0x214F), (0x2190, 0x21FF),
    (0x2460, 0x24FF), (0x25A0, 0x26FF), (0x2E80, 0x2FDF), (0x3000, 0x312F), (0x3200, 0x32FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF),
]


def main(argv: list[str]) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    source = argv[1] if len(argv) > 1 else SOURCE
    out = Path(argv[2]) if len(argv) > 2 else OUT
    font = TTCollection(source).fonts[0]
    cmap = font.getBestCmap()
    unicodes = {u for a, b in RANGES for u in range(a, b + 1) if u in cmap}
    opts = subset.Options()
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.layout_features = ["*"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    font.save(str(out))
    print(f"{out}: {len(unicodes)} characters, {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
