"""ZPL II for Zebra-type thermal printers (203 dpi, 100 × 150 mm labels).

Chinese text needs a CJK font stored on the printer (`cjk_font`, default
`E:SIMSUN.TTF`; any TrueType font downloaded to the printer works); the text
is sent as UTF-8 (^CI28). Lines are wrapped and shrunk here with the same
layout function as the PDF labels, so the printer never has to wrap.
"""
from __future__ import annotations

from reportlab.lib.units import mm

from ..domain.masking import mask_phone
from .data import BagLabelData, LabelData
from .draw import fit_text, shrink_to_width

DPI = 203
WIDTH_DOTS = round(100 / 25.4 * DPI)  # 799
HEIGHT_DOTS = round(150 / 25.4 * DPI)  # 1199
DEFAULT_CJK_FONT = "E:SIMSUN.TTF"
PT = DPI / 72  # dots per point


def _fd(text: str) -> str:
    """Field data, with ZPL's command characters hex-escaped (^FH)."""
    out = []
    for ch in text:
        if ch in "^~_\\" or ord(ch) < 32:
            out.append("".join(f"_{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "^FH^FD" + "".join(out) + "^FS"


def _text(x: float, y: float, size_pt: float, text: str) -> str:
    h = max(10, round(size_pt * PT))
    return f"^FO{round(x)},{round(y)}^A1N,{h},{h}{_fd(text)}"


def _block(x: float, y: float, width_mm: float, height_mm: float, text: str, max_pt: float, min_pt: float) -> list[str]:
    layout = fit_text(text, width_mm * mm, height_mm * mm, max_size=max_pt, min_size=min_pt)
    step = layout.leading * PT
    return [_text(x, y + i * step, layout.font_size, line) for i, line in enumerate(layout.lines)]


def _d(mm_: float) -> int:
    return round(mm_ / 25.4 * DPI)


def _start(cjk_font: str) -> list[str]:
    # ^PA0,1,1,0: right-to-left order and shaping (Arabic, Thai) on printers
    # with advanced text layout (Link-OS firmware); see docs/PRINTING.md
    return ["^XA", "^CI28", f"^CW1,{cjk_font}", "^PA0,1,1,0", f"^PW{WIDTH_DOTS}", f"^LL{HEIGHT_DOTS}", "^LH0,0"]


def label_zpl(d: LabelData, *, cjk_font: str = DEFAULT_CJK_FONT) -> str:
    """One waybill label as a ZPL II format (^XA … ^XZ)."""
    m = _d(4)
    cmd = _start(cjk_font)
    cmd.append(_text(m, _d(5), 15, "EMS 特快专递"))
    if d.vip:
        cmd += [f"^FO{_d(42)},{_d(5)}^GB{_d(17)},{_d(14)},{_d(14)},B,2^FS",
                f"^FO{_d(42)},{_d(7)}^FR^A0N,{_d(8)},{_d(7)}^FB{_d(17)},1,0,C^FDVIP^FS"]
    cmd.append(f"^FO{_d(61)},{_d(4)}^GB{_d(35)},{_d(16)},4^FS")
    route_pt = shrink_to_width(d.route, 32 * mm, 34, 12)
    h = round(route_pt * PT)
    cmd.append(f"^FO{_d(61)},{_d(12) - h // 2}^A0N,{h},{h}^FB{_d(35)},1,0,C{_fd(d.route)}")
    cmd.append(f"^FO{m},{_d(22)}^GB{_d(92)},2,2^FS")
    # Code 128: narrow bar 3 dots (0.375 mm), ratio fixed for Code 128; centred by ^FB-less offset
    cmd.append(f"^BY3^FO{_d(12)},{_d(24)}^BCN,{_d(18)},N,N,N,A{_fd(d.waybill_no)}")
    cmd.append(f"^FO0,{_d(43.5)}^A0N,{_d(6)},{_d(5)}^FB{WIDTH_DOTS},1,0,C{_fd(d.waybill_no)}")
    cmd.append(f"^FO{m},{_d(51)}^GB{_d(92)},2,2^FS")
    cmd.append(_text(m, _d(52), 6.5, "收件人 To"))
    # the name shrinks, then wraps, in its box left of the phone (as on the PDF label)
    cmd += _block(m, _d(54.8), 58, 7.2, d.recipient_name, 16, 6)
    cmd.append(_text(_d(64), _d(55.5), 12, mask_phone(d.recipient_phone)))
    cmd += _block(m, _d(62), 92, 29, d.full_address, 15, 6)
    cmd.append(_text(m, _d(92), 11, f"邮编 {d.postcode}"))
    cmd.append(f"^FO{m},{_d(99)}^GB{_d(92)},2,2^FS")
    cmd.append(_text(m, _d(100), 6.5, "寄件人 From"))
    cmd += _block(m, _d(103.5), 92, 9, d.sender, 11, 6)
    cmd.append(f"^FO{m},{_d(114)}^GB{_d(92)},2,2^FS")
    # QR: model 2, 6 dots per module (0.75 mm); the printer adds no quiet zone, the offset is it
    cmd.append(f"^FO{_d(5)},{_d(116)}^BQN,2,6^FDMA,{d.waybill_no}^FS")
    cmd.append(_text(_d(38), _d(116), 6.5, "证件类型 Credential type"))
    cmd.append(_text(_d(38), _d(119.5), shrink_to_width(d.credential_type, 58 * mm, 14, 7), d.credential_type))
    cmd.append(_text(_d(38), _d(127.5), 6.5, "证件号 Credential No."))
    cmd.append(_text(_d(38), _d(131), shrink_to_width(d.credential_no, 58 * mm, 12, 6), d.credential_no))
    if d.organization:
        cmd += _block(_d(38), _d(138), 58, 8, d.organization, 8, 5)
    cmd.append("^XZ")
    return "\n".join(cmd) + "\n"


def bag_label_zpl(d: BagLabelData, *, cjk_font: str = DEFAULT_CJK_FONT) -> str:
    """The bag label as a ZPL II format."""
    m = _d(4)
    cmd = _start(cjk_font)
    cmd.append(_text(m, _d(5), 15, "EMS 总包 Dispatch bag"))
    cmd.append(f"^FO{m},{_d(19)}^GB{_d(92)},2,2^FS")
    h = round(shrink_to_width(d.route, 92 * mm, 72, 20) * PT)
    cmd.append(f"^FO0,{_d(24)}^A0N,{h},{h}^FB{WIDTH_DOTS},1,0,C{_fd(d.route)}")
    cmd += _block(m, _d(52), 92, 7, d.route_name, 13, 7)
    cmd.append(f"^FO{m},{_d(60)}^GB{_d(92)},2,2^FS")
    cmd.append(f"^BY3^FO{_d(18)},{_d(62)}^BCN,{_d(20)},N,N,N,A{_fd(d.code)}")
    cmd.append(f"^FO0,{_d(84)}^A0N,{_d(6)},{_d(5)}^FB{WIDTH_DOTS},1,0,C{_fd(d.code)}")
    cmd.append(f"^FO{m},{_d(92)}^GB{_d(92)},2,2^FS")
    cmd.append(f"^FO{_d(5)},{_d(100)}^BQN,2,7^FDMA,{d.code}^FS")
    cmd.append(_text(_d(40), _d(96), 7, "件数 Items"))
    cmd.append(f"^FO{_d(40)},{_d(100)}^A0N,{_d(9)},{_d(8)}{_fd(str(d.item_count))}")
    cmd.append(_text(_d(40), _d(112), 7, "封志号 Seal No."))
    cmd.append(_text(_d(40), _d(116), 14, d.seal_no or "未封 not sealed"))
    cmd.append("^XZ")
    return "\n".join(cmd) + "\n"
