"""Printed documents as pure functions: Chinese text prints (embedded font),
barcodes scan, long addresses stay in their box, markup prints as text."""
from __future__ import annotations

import io
import re

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from credential_track.domain.codes import make_s10
from credential_track.printing import (
    BagLabelData,
    BagManifestData,
    HandoverData,
    LabelData,
    ManifestItem,
    TripBag,
    TripSheetData,
    bag_label_zpl,
    label_zpl,
    render_bag_label,
    render_bag_manifest,
    render_handover_receipt,
    render_label,
    render_trip_sheet,
    write_labels,
)
from credential_track.printing.draw import fit_text
from credential_track.printing.fonts import missing_chars
from credential_track.printing.labels import ADDRESS_BOX, ADDRESS_MIN_PT, address_layout

WAYBILL = make_s10("EE", 47110815)
LONG_ADDRESS = ("新疆维吾尔自治区巴音郭楞蒙古自治州和静县巴音布鲁克镇巴音郭楞路东段"
                "南侧草原生态保护管理站家属院第三排第十二栋二单元六楼六零二室（请先电话联系门卫室转交）") * 2


def label_data(**over) -> LabelData:
    data = dict(waybill_no=WAYBILL, credential_no="CIIE2600012345", credential_type="展商 Exhibitor",
                recipient_name="欧阳娜娜", recipient_phone="13812345678", province="上海市", city="上海市",
                district="青浦区", address="崧泽大道333号国家会展中心8号馆", postcode="201702", route="SH-W",
                sender="进博会证件管理中心", organization="华东贸易有限公司")
    data.update(over)
    return LabelData(**data)


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def decode(data: bytes, page: int = 0, dpi: int = 203) -> dict[str, str]:
    """Render a page as a 203 dpi thermal printer would and read its barcodes."""
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    return {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}


def fonts_used(data: bytes) -> list[dict]:
    """Each font a page's text is set in (by the Tf operators of its content)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    used = []
    for page in reader.pages:
        content = page.get_contents().get_data()
        fonts = page["/Resources"]["/Font"]
        for name in set(re.findall(rb"/(\S+) [\d.]+ Tf", content)):
            used.append(fonts["/" + name.decode()].get_object())
    return used


def assert_cjk_font_embedded(data: bytes) -> None:
    used = fonts_used(data)
    assert used, "no text drawn"
    for font in used:
        assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
        assert "WenQuanYiMicroHei" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"], f"{font['/BaseFont']} is not embedded"


def test_label_prints_recipient_address_numbers_and_masks_the_phone():
    pdf = render_label(label_data())
    text = pdf_text(pdf)
    for expected in ("欧阳娜娜", "上海市青浦区崧泽大道333号国家会展中心8号馆", "201702", WAYBILL, "SH-W",
                     "138****5678", "展商 Exhibitor", "CIIE2600012345", "进博会证件管理中心", "VIP"):
        assert expected in text.replace("\n", ""), expected
    assert "13812345678" not in text


def test_label_embeds_the_cjk_font_for_all_text_digits_included():
    assert_cjk_font_embedded(render_label(label_data()))


def test_label_code128_and_qr_scan_back_to_the_waybill_number():
    codes = decode(render_label(label_data()))
    assert codes.get("Code128") == WAYBILL
    assert codes.get("QRCode") == WAYBILL


def test_domestic_13_digit_waybill_scans_too():
    codes = decode(render_label(label_data(waybill_no="1100000000015")))
    assert codes.get("Code128") == "1100000000015"
    assert codes.get("QRCode") == "1100000000015"


def test_very_long_address_shrinks_and_stays_inside_its_box():
    _x, _top, width, height = ADDRESS_BOX
    layout = address_layout(LONG_ADDRESS)
    assert layout.width <= width + 0.01
    assert layout.height <= height + 0.01
    assert layout.font_size >= ADDRESS_MIN_PT
    assert len(layout.lines) >= 2


def test_address_that_fits_when_shrunk_is_printed_whole():
    layout = address_layout(LONG_ADDRESS[:110])
    assert not layout.truncated
    assert layout.font_size < 15
    assert "".join(layout.lines) == LONG_ADDRESS[:110]


def test_address_too_long_for_any_size_is_cut_with_an_ellipsis_inside_the_box():
    _x, _top, width, height = ADDRESS_BOX
    layout = address_layout(LONG_ADDRESS * 4)
    assert layout.truncated and layout.lines[-1].endswith("…")
    assert layout.font_size == ADDRESS_MIN_PT
    assert layout.height <= height + 0.01 and layout.width <= width + 0.01


def test_long_address_does_not_run_into_the_barcodes():
    pdf = render_label(label_data(address=LONG_ADDRESS))
    codes = decode(pdf)
    assert codes.get("Code128") == WAYBILL and codes.get("QRCode") == WAYBILL
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        # every character of the address lies between the name line and the postcode line
        start = text.index("新疆")
        end = text.index("邮编")
        height = page.get_height()
        for i in range(start, end):
            if text[i].isspace():
                continue
            _l, bottom, right, top = textpage.get_charbox(i)
            assert right <= page.get_width() - 4 * 72 / 25.4 + 0.5
            assert height - top >= (62 - 0.5) * 72 / 25.4  # below the address box top
            assert height - bottom <= 91.5 * 72 / 25.4  # above the postcode line
    finally:
        doc.close()


def test_latin_words_wrap_at_spaces():
    layout = fit_text("Room 801, Century Avenue 100, Pudong New District", 60, 200, max_size=10, min_size=10)
    assert all(not line.endswith(("Cent", "Aven", "Dis")) for line in layout.lines)
    assert " ".join(layout.lines).replace("  ", " ") == "Room 801, Century Avenue 100, Pudong New District"


def test_names_with_markup_print_as_text():
    name = "<script>alert(1)</script>张"
    assert "<script>alert(1)</script>张" in pdf_text(render_label(label_data(recipient_name=name)))
    manifest = render_bag_manifest(bag_manifest(items=[ManifestItem(WAYBILL, "C1", name, "上海市")]))
    assert "<script>alert(1)</script>张" in pdf_text(manifest).replace("\n", "")


def test_vendored_font_covers_digits_latin_and_common_hanzi():
    sample = "0123456789 ABCXYZ abcxyz #-*/()（）：，。、 欧阳娜娜 崧泽大道 喆堃犇鑫淼 巴音郭楞蒙古自治州"
    assert missing_chars(sample) == set()
    gb2312 = []
    for b1 in range(0xB0, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                gb2312.append(bytes([b1, b2]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert missing_chars("".join(gb2312)) == set()


def bag_manifest(**over) -> BagManifestData:
    data = dict(code="BAG-000123", route="SH-W", route_name="上海西部（含国展中心）", state="sealed",
                seal_no="SEAL-00000045", sealed_by="操作员小王", sealed_at="2026-11-05 10:00", station="WS-07",
                items=[ManifestItem(make_s10("EE", 1000 + i), f"CIIE26{i:08d}", "李娜" if i else "司马相如",
                                    "苏州市" if i else "杭州市") for i in range(70)],
                printed_at="2026-11-05 10:01")
    data.update(over)
    return BagManifestData(**data)


def test_bag_label_prints_code_route_count_seal_and_scans():
    pdf = render_bag_label(BagLabelData(code="BAG-000123", route="JS", route_name="江苏省", item_count=87,
                                        seal_no="SEAL-00000045", station="WS-07"))
    text = pdf_text(pdf)
    for expected in ("BAG-000123", "JS", "江苏省", "87", "SEAL-00000045"):
        assert expected in text
    assert_cjk_font_embedded(pdf)
    codes = decode(pdf)
    assert codes.get("Code128") == "BAG-000123" and codes.get("QRCode") == "BAG-000123"


def test_bag_manifest_lists_every_item_with_totals_and_seal():
    d = bag_manifest()
    pdf = render_bag_manifest(d)
    text = pdf_text(pdf)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 2  # 70 rows do not fit one page
    for item in d.items:
        assert item.waybill_no in text and item.credential_no in text
    for expected in ("司马相如", "杭州市", "SEAL-00000045", "操作员小王", "2026-11-05 10:00", "70 件"):
        assert expected in text
    assert_cjk_font_embedded(pdf)
    assert decode(pdf, dpi=300).get("QRCode") == "BAG-000123"


def test_trip_sheet_prints_vehicle_escorts_bags_totals_and_signature_lines():
    bags = [TripBag(f"BAG-{i:06d}", "SH-C", f"SEAL-{i:08d}", 90 + i) for i in range(1, 13)]
    pdf = render_trip_sheet(TripSheetData(code="TRIP-000007", state="departed", vehicle="沪A·12345", driver="王师傅",
                                          escorts=["李强", "赵磊"], origin="分拣中心", destination="国际邮件处理中心",
                                          departed_at="2026-11-05 11:00", arrived_at="", bags=bags))
    text = pdf_text(pdf)
    for expected in ("TRIP-000007", "沪A·12345", "王师傅", "李强", "赵磊", "分拣中心", "国际邮件处理中心",
                     "2026-11-05 11:00", "SEAL-00000012", "BAG-000012", "12 袋", f"{sum(b.item_count for b in bags)} 件",
                     "签名", "接收人"):
        assert expected in text, expected
    assert_cjk_font_embedded(pdf)


def test_handover_receipt_prints_counts_and_missing_and_extra_numbers():
    pdf = render_handover_receipt(HandoverData(
        batch="第一批 2026-11-01", source_file="清单.xlsx", state="open", expected=1000, counted=998, received=995,
        missing=[f"CIIE26{i:08d}" for i in range(5)], extra=["X-EXTRA-1"], organizer="进博会证件管理中心"))
    text = pdf_text(pdf)
    for expected in ("第一批 2026-11-01", "1000", "998", "995", "CIIE2600000004", "X-EXTRA-1", "进博会证件管理中心",
                     "短少", "多出", "签名"):
        assert expected in text, expected
    assert_cjk_font_embedded(pdf)


def test_bulk_labels_make_one_valid_pdf_in_order_across_chunks():
    labels = [label_data(waybill_no=make_s10("EE", 5000 + i), credential_no=f"C{i:05d}",
                         recipient_name=f"收件人{i}") for i in range(23)]
    out = io.BytesIO()
    assert write_labels(iter(labels), out, chunk=5) == 23
    pdf = out.getvalue()
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 23
    for i in (0, 4, 5, 17, 22):
        assert labels[i].waybill_no in reader.pages[i].extract_text()
        assert f"收件人{i}" in reader.pages[i].extract_text()
    assert_cjk_font_embedded(pdf)
    assert decode(pdf, page=17).get("Code128") == labels[17].waybill_no
    # each chunk's font subset keeps its own tag, so viewers do not mix them up
    tags = {f["/BaseFont"] for f in fonts_used(pdf)}
    assert len(tags) >= 5


def test_bulk_labels_with_nothing_selected_is_an_empty_valid_pdf():
    out = io.BytesIO()
    assert write_labels([], out) == 0
    assert len(pypdf.PdfReader(io.BytesIO(out.getvalue()), strict=True).pages) == 0


def test_zpl_label_has_barcodes_masked_phone_and_escaped_field_data():
    zpl = label_zpl(label_data(address="世纪大道100号^XZ~JA_"))
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ") and zpl.count("^XZ") == 1
    assert "^BCN" in zpl and f"^FD{WAYBILL}^FS" in zpl
    assert f"^BQN,2,6^FDMA,{WAYBILL}^FS" in zpl
    assert "138****5678" in zpl and "13812345678" not in zpl
    assert "^CI28" in zpl and "欧阳娜娜" in zpl
    assert "_5EXZ_7EJA_5F" in zpl


def test_zpl_bag_label_carries_code_route_and_seal():
    zpl = bag_label_zpl(BagLabelData(code="BAG-000123", route="JS", route_name="江苏省", item_count=87,
                                     seal_no="SEAL-00000045"))
    assert "^FDBAG-000123^FS" in zpl and "^FDMA,BAG-000123^FS" in zpl
    assert "SEAL-00000045" in zpl and "87" in zpl and "江苏省" in zpl


@pytest.mark.parametrize("name", ["司马相如", "A" * 60, "阿卜杜热西提·买买提依明·艾合买提江"])
def test_long_names_shrink_and_still_print(name):
    assert name in pdf_text(render_label(label_data(recipient_name=name))).replace("\n", "")
