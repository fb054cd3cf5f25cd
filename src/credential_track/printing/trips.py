"""The trip sheet (A4) the escorts carry and sign."""
from __future__ import annotations

from reportlab.lib.units import mm

from .data import TripSheetData
from .sheets import CONTENT_W, Codes, SignatureLines, Spacer, build, fields, grid, para, styles


def render_trip_sheet(d: TripSheetData) -> bytes:
    """Vehicle, driver, escorts, origin, destination, every bag with seal
    number and item count, totals, times, signature lines at departure and arrival."""
    st = styles()
    total_items = sum(b.item_count for b in d.bags)
    story = [
        para(f"押运路单 Escorted trip sheet  {d.code}", st["title"]),
        Codes(d.code),
        Spacer(1, 3 * mm),
        fields([
            ("车次 Trip", d.code), ("状态 State", d.state),
            ("车辆 Vehicle", d.vehicle), ("驾驶员 Driver", d.driver),
            ("押运员 Escorts", "、".join(d.escorts)), ("", ""),
            ("始发 Origin", d.origin), ("到达 Destination", d.destination),
            ("发车时间 Departed", d.departed_at), ("到达时间 Arrived", d.arrived_at),
        ]),
        para("总包 Bags", st["h2"]),
    ]
    rows: list[list[object]] = [["#", "总包号 Bag", "路由 Route", "封志号 Seal No.", "件数 Items",
                                 "到达核封 Seal checked"]]
    rows += [[i, b.code, b.route, b.seal_no or "", b.item_count, ""] for i, b in enumerate(d.bags, 1)]
    widths = [10 * mm, 38 * mm, 22 * mm, 45 * mm, 20 * mm, CONTENT_W - 135 * mm]
    story.append(grid(rows, widths, align_right=(0, 4)))
    story.append(Spacer(1, 3 * mm))
    story.append(para(f"合计 Total: {len(d.bags)} 袋 bags, {total_items} 件 items", st["body"]))
    story.append(para("发车交接 At departure", st["h2"]))
    escorts = d.escorts or ["押运员 Escort"]
    story.append(SignatureLines([f"押运员 Escort {e}" for e in escorts[:3]]))
    story.append(para("到达交接 At arrival", st["h2"]))
    story.append(SignatureLines(["接收人 Receiver", f"押运员 Escort {escorts[0]}"]))
    return build(story, title=f"Trip sheet {d.code}", footer=f"押运路单 {d.code} · 打印 printed {d.printed_at}")
