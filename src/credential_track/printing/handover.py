"""The handover receipt (A4) the organizer and the postal operator sign."""
from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Table, TableStyle

from .data import HandoverData
from .fonts import font_name
from .sheets import CONTENT_W, SignatureLines, Spacer, build, cell, fields, grid, para, styles

NUMBERS_PER_ROW = 5
ROWS_PER_TABLE = 100  # several small tables lay out much faster than one huge one


def _number_grid(numbers: list[str]) -> list[Table]:
    """Credential numbers in a compact grid of plain cells (a batch can miss thousands)."""
    st = styles()["cell"]
    cells = [cell(n, st) for n in numbers]
    rows = [cells[i:i + NUMBERS_PER_ROW] for i in range(0, len(cells), NUMBERS_PER_ROW)]
    rows[-1] = rows[-1] + [""] * (NUMBERS_PER_ROW - len(rows[-1]))
    style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font_name()), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.black), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ])
    tables = []
    for i in range(0, len(rows), ROWS_PER_TABLE):
        t = Table(rows[i:i + ROWS_PER_TABLE], colWidths=[CONTENT_W / NUMBERS_PER_ROW] * NUMBERS_PER_ROW)
        t.setStyle(style)
        tables.append(t)
    return tables


def render_handover_receipt(d: HandoverData) -> bytes:
    """Batch, expected, counted, received, missing and extra with their
    credential numbers, signature lines for both parties."""
    st = styles()
    story = [
        para(f"证件交接回执 Handover receipt  {d.batch}", st["title"]),
        fields([
            ("批次 Batch", d.batch), ("清单文件 Manifest file", d.source_file),
            ("状态 State", d.state), ("移交方 Organizer", d.organizer),
            ("建立时间 Created", d.created_at), ("接收时间 Received", d.received_at),
        ]),
        Spacer(1, 2 * mm),
        grid([["清单应交 Expected", "清点数量 Counted", "已扫描接收 Received", "短少 Missing", "多出 Extra"],
              [d.expected, "—" if d.counted is None else d.counted, d.received, len(d.missing), len(d.extra)]],
             [CONTENT_W / 5] * 5, align_right=()),
    ]
    story.append(para(f"短少证件 Missing credentials ({len(d.missing)})", st["h2"]))
    story.extend(_number_grid(d.missing) if d.missing else [para("无 None", st["body"])])
    story.append(para(f"多出证件 Extra credentials ({len(d.extra)})", st["h2"]))
    story.extend(_number_grid(d.extra) if d.extra else [para("无 None", st["body"])])
    story.append(Spacer(1, 10 * mm))
    story.append(SignatureLines(["移交方（主办方）Handed over by (organizer)", "接收方（邮政）Received by (postal operator)"]))
    return build(story, title=f"Handover receipt {d.batch}",
                 footer=f"交接回执 {d.batch} · 打印 printed {d.printed_at}")
