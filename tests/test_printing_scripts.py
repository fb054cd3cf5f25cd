"""Names in every script print: each character is set in a font of the chain
that has it (no empty boxes), the text extracts back from the PDF, right to
left text comes out in its order; what cannot print is said; long names and
addresses wrap only where they may."""
from __future__ import annotations

import ctypes
import unicodedata

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from credential_track.printing import (
    HandoverData,
    ManifestItem,
    TripBag,
    TripSheetData,
    fonts,
    label_unprintable,
    label_zpl,
    render_bag_manifest,
    render_handover_receipt,
    render_label,
    render_trip_sheet,
    write_labels,
)
from credential_track.printing.draw import break_opportunities, fit_text
from credential_track.printing.fonts import missing_chars, visual_pieces
from credential_track.printing.labels import ADDRESS_BOX, NAME_H, address_layout, name_layout

from .test_printing import WAYBILL, bag_manifest, label_data

NAMES = {
    "vietnamese": "Nguyễn Thị Minh Khai",
    "latin_diacritics": "Łukasz Żółć-Ørsted Çelik",
    "cyrillic": "Иванов Пётр Сергеевич",
    "greek": "Παπαδόπουλος Γιώργος",
    "hangul": "김민준",
    "kana": "やまだ たろう ヤマダ",
    "arabic": "محمد بن سلمان",
    "thai": "สมชาย ใจดี",
    "cjk_ext_a": "刘䶮",
    "cjk_ext_b": "王𠮷",
    "cjk_ext_b_rare": "𡘙𠀀",
}
RTL = {"arabic"}


def chars_with_fonts(pdf: bytes, page: int = 0) -> list[tuple[str, str, tuple[float, float]]]:
    """Each character on a page as pdfium reads it, with the name of the
    font (BaseFont without subset tag) it is drawn in and its origin on the
    baseline."""
    doc = pdfium.PdfDocument(pdf)
    try:
        tp = doc[page].get_textpage()
        buf = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        out = []
        for i in range(tp.count_chars()):
            u = pdfium_raw.FPDFText_GetUnicode(tp, i)
            if 0xDC00 <= u <= 0xDFFF and out and 0xD800 <= ord(out[-1][0]) <= 0xDBFF:  # UTF-16 pair
                high = ord(out[-1][0])
                out[-1] = (chr(0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00)), out[-1][1], out[-1][2])
                continue
            pdfium_raw.FPDFText_GetFontInfo(tp, i, buf, 256, ctypes.byref(flags))
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_raw.FPDFText_GetCharOrigin(tp, i, ctypes.byref(x), ctypes.byref(y))
            out.append((chr(u), buf.value.decode("latin-1"), (x.value, y.value)))
        return out
    finally:
        doc.close()


def page_text(pdf: bytes, page: int = 0) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].get_textpage().get_text_range()
    finally:
        doc.close()


def chain_cmaps() -> dict[str, dict[int, int]]:
    """Each chain font's PostScript name → its character map."""
    out = {}
    for i in range(len(fonts.CHAIN)):
        face = fonts._font(i).face
        name = face.name.decode() if isinstance(face.name, bytes) else face.name
        out[name] = face.charToGlyph
    return out


def assert_every_glyph_from_a_font_that_has_it(pdf: bytes, page: int = 0) -> None:
    """No character is drawn in a font that lacks it (reportlab would draw
    .notdef, an empty box), and each font is one of the chain."""
    cmaps = chain_cmaps()
    for ch, font, _box in chars_with_fonts(pdf, page):
        if ch.isspace() or ch in "\ufffe\uffff\x00" or ch == "\r":
            continue
        assert font in cmaps, f"{ch!r} drawn in {font}, not a font of the chain"
        folded = unicodedata.normalize("NFKC", ch)  # shaped Arabic reads back as presentation forms
        assert ord(ch) in cmaps[font] or all(ord(c) in cmaps[font] for c in folded), \
            f"{ch!r} (U+{ord(ch):04X}) drawn in {font}, which has no glyph for it"


def left_to_right(pdf: bytes, page: int = 0) -> str:
    """The page's characters as they stand, line by line from the top and
    left to right in each line, spaces dropped (right-to-left text comes out
    reversed: that is how it must stand on paper)."""
    chars = [(-round(origin[1]), origin[0], ch) for ch, _font, origin in chars_with_fonts(pdf, page)
             if not ch.isspace()]
    return squash("".join(ch for _line, _x, ch in sorted(chars)))


def extracted(text: str, rtl: bool) -> str:
    """How `text` stands on paper, read left to right without spaces."""
    text = text.replace(" ", "")
    return text[::-1] if rtl else text


def squash(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\r", "").replace("\n", "")


@pytest.mark.parametrize("script", sorted(NAMES))
def test_label_prints_the_recipient_name_in_each_script(script):
    name = NAMES[script]
    assert missing_chars(name) == set()
    pdf = render_label(label_data(recipient_name=name, organization=name))
    assert name in squash(page_text(pdf))  # read back in logical order
    assert extracted(name, script in RTL) in left_to_right(pdf)
    assert_every_glyph_from_a_font_that_has_it(pdf)
    assert label_unprintable(label_data(recipient_name=name)) == {}


def test_names_in_every_script_print_on_manifests_trip_sheets_and_receipts():
    items = [ManifestItem(f"EE{i:09d}CN", f"C{i}", name, "上海市") for i, name in enumerate(NAMES.values())]
    manifest = render_bag_manifest(bag_manifest(items=items, sealed_by="Иванов 王𠮷"))
    text = left_to_right(manifest)
    for script, name in NAMES.items():
        assert extracted(name, script in RTL) in text, script
    assert_every_glyph_from_a_font_that_has_it(manifest)
    trip = render_trip_sheet(TripSheetData(code="TRIP-000007", state="departed", vehicle="沪A·12345",
                                           driver="Nguyễn Văn An", escorts=["김민준", "刘䶮"], origin="分拣中心",
                                           destination="国际邮件处理中心", departed_at="", arrived_at="",
                                           bags=[TripBag("BAG-000001", "SH-C", "SEAL-1", 3)]))
    text = squash(page_text(trip))
    assert "Nguyễn Văn An" in text and "김민준" in text and "刘䶮" in text
    assert_every_glyph_from_a_font_that_has_it(trip)
    receipt = render_handover_receipt(HandoverData(
        batch="第一批", source_file="清单𠮷.xlsx", state="open", expected=2, counted=2, received=1,
        missing=["CIIE2600000001"], extra=[], organizer="Παπαδόπουλος Expo"))
    text = squash(page_text(receipt))
    assert "清单𠮷.xlsx" in text and "Παπαδόπουλος Expo" in text
    assert_every_glyph_from_a_font_that_has_it(receipt)


def test_arabic_reads_right_to_left_with_numbers_left_to_right():
    pieces = visual_pieces("محمد 12 علي")
    # drawn left to right: the last word first, the number in its own order
    assert [p.text.strip() for p in pieces if p.text.strip()] == ["علي", "12", "محمد"]
    pdf = render_label(label_data(recipient_name="محمد 12 علي"))
    assert "محمد 12 علي" in squash(page_text(pdf))


def test_arabic_letters_take_their_joining_forms():
    import io

    import pypdf
    pdf = render_label(label_data(recipient_name="محمد"))
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()  # pypdf keeps the presentation forms
    forms = [ch for ch in text if "\u0600" <= unicodedata.normalize("NFKC", ch) <= "\u06ff"]
    # initial, medial and final forms (Arabic Presentation Forms-B), not the isolated letters
    assert forms and all(0xFE70 <= ord(ch) <= 0xFEFF for ch in forms), [hex(ord(c)) for c in forms]


def test_decomposed_vietnamese_prints_from_precomposed_glyphs():
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Minh Khai")
    assert missing_chars(nfd) == set()
    # set like the precomposed name: one run in one font, not letters and loose marks
    assert fonts.runs(nfd) == fonts.runs("Nguyễn Thị Minh Khai") and len(fonts.runs(nfd)) == 1
    pdf = render_label(label_data(recipient_name=nfd))
    assert "Nguyễn Thị Minh Khai" in squash(page_text(pdf))
    assert_every_glyph_from_a_font_that_has_it(pdf)


@pytest.mark.parametrize("text, bad", [
    ("王\U0001F600", {"\U0001F600"}),  # an emoji: no font of the chain has it
    ("राम शर्मा", set("राम शर्मा") - {" "}),  # Devanagari: not in the chain
    ("张\ue000三", {"\ue000"}),  # private use: no glyph anywhere
    ("\u202eabc", {"\u202e"}),  # an explicit bidi override cannot be laid out
    ("\u0915\u093f", {"\u0915", "\u093f"}),
])
def test_missing_chars_names_what_no_font_of_the_chain_prints(text, bad):
    assert missing_chars(text) == bad


def test_a_label_with_unprintable_characters_still_prints_and_says_which():
    d = label_data(recipient_name="王\U0001F600", address="世纪大道100号\ue000")
    assert label_unprintable(d) == {"recipient_name": "\U0001F600", "address": "\ue000"}
    pdf = render_label(d)
    assert "王" in page_text(pdf)


def test_long_name_shrinks_on_one_line_first_then_wraps_in_its_box():
    phone = "13812345678"
    short = name_layout("欧阳娜娜", phone)
    assert short.font_size == 16 and len(short.lines) == 1
    longer = name_layout("Maria Fernanda Rodríguez", phone)
    assert len(longer.lines) == 1 and 8 < longer.font_size < 16
    longest = name_layout("Maria Fernanda de los Santos Rodríguez-Pérez y Gómez de la Vega", phone)
    assert len(longest.lines) == 2 and longest.height <= NAME_H + 0.01
    assert " ".join(longest.lines) == "Maria Fernanda de los Santos Rodríguez-Pérez y Gómez de la Vega"


def test_long_name_never_runs_over_the_masked_phone():
    name = "Maria Fernanda de los Santos Rodríguez-Pérez y Gómez de la Vega Alcántara"
    pdf = render_label(label_data(recipient_name=name))
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        tp = page.get_textpage()
        text = tp.get_text_range()
        phone_at = text.index("138****5678")
        phone_left = tp.get_charbox(phone_at)[0]
        phone_bottom = tp.get_charbox(phone_at)[1]
        start, end = text.index("Maria"), text.index("Alcántara") + len("Alcántara")
        for i in range(start, end):
            if text[i].isspace():
                continue
            left, bottom, right, top = tp.get_charbox(i)
            assert right <= phone_left - 1, f"{text[i]!r} at {right:.1f} reaches the phone at {phone_left:.1f}"
            # and above the address box (62 mm from the top)
            assert page.get_height() - bottom <= 62 * 72 / 25.4 + 0.5
    finally:
        doc.close()
    assert phone_bottom > 0


def _splits_inside(text: str, lines: tuple[str, ...]) -> list[str]:
    """Line breaks that cut a number or word: where the original text has no
    space at the break and a letter or digit (not a hanzi) ends the line
    while a letter, digit or hanzi starts the next (13 / 01号, 1301 / 号)."""
    bad, pos = [], 0
    for a, b in zip(lines, lines[1:]):
        pos = text.index(a, pos) + len(a)
        if pos < len(text) and text[pos] != " ":
            last, first = a[-1], b[0]
            if last.isalnum() and not ("\u4e00" <= last <= "\u9fff") and first.isalnum():
                bad.append(f"{a[-3:]} / {b[:3]}")
    return bad


@pytest.mark.parametrize("width_mm", [x / 2 for x in range(60, 185)])
def test_address_wraps_between_words_and_numbers_never_inside_one(width_mm):
    from reportlab.lib.units import mm
    address = "上海市浦东新区世纪大道1301号国金中心B座13-2-601室 Room 1301, Tower 2, 100 Century Avenue"
    layout = fit_text(address, width_mm * mm, 200, max_size=12, min_size=6)
    assert not layout.truncated
    assert _splits_inside(address, layout.lines) == []
    assert "".join(layout.lines).replace(" ", "") == address.replace(" ", "")


def test_number_and_its_unit_stay_together():
    ok = break_opportunities("大道1301号楼")
    assert ok[2]  # before the number
    assert not any(ok[3:7])  # not inside 1301, nor between 1301 and 号
    assert ok[7]  # after 号


def test_the_label_address_box_keeps_1301_whole():
    _x, _t, width, _h = ADDRESS_BOX
    # long enough that some line must end near the number at every size tried
    address = "新疆维吾尔自治区巴音郭楞蒙古自治州和静县巴音布鲁克镇巴音郭楞路东段南侧保护站家属院" * 2 + "13号楼1301号"
    layout = address_layout(address)
    assert "1301号" in "".join(layout.lines) and _splits_inside(address, layout.lines) == []


def test_zpl_label_carries_the_organization_and_wraps_the_name():
    zpl = label_zpl(label_data(organization="华东贸易有限公司 East China Trading",
                               recipient_name="Maria Fernanda de los Santos Rodríguez-Pérez y Gómez"))
    assert "华东贸易有限公司" in zpl and "East China Trading" in zpl
    assert "Maria Fernanda" in zpl and "Gómez" in zpl


def test_bulk_labels_print_every_script_across_chunks():
    import io

    labels = [label_data(waybill_no=WAYBILL, credential_no=f"C{i}", recipient_name=name)
              for i, name in enumerate(NAMES.values())]
    out = io.BytesIO()
    write_labels(labels, out, chunk=3)
    pdf = out.getvalue()
    for i, (script, name) in enumerate(NAMES.items()):
        assert extracted(name, script in RTL) in left_to_right(pdf, i), script
        assert_every_glyph_from_a_font_that_has_it(pdf, i)
