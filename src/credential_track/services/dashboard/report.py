"""The daily feedback report: PDF (reportlab, CJK font embedded, charts in
reportlab graphics) and the same data as XLSX, for any past local day,
computed from the summaries of the events (data.day_figures)."""
from __future__ import annotations

import io
from datetime import date

from sqlmodel import Session

from ... import clock, vocabulary
from ...domain.cells import XlsxBook
from ...printing.fonts import font_name
from ...vocabulary import bilingual
from . import data, lists

APPENDIX_PDF_ROWS = 2000

# bilingual: the report goes to Chinese and foreign readers alike; the words
# of the codes come from the vocabulary (vocabulary.bilingual)
def _status(code: str) -> str:
    return bilingual("status", code)


def _stage(code: str) -> str:
    return bilingual("stage", code)


def _exception(code: str) -> str:
    if code == "seal_mismatch":
        return "封志不符（扫描次数） seal mismatches (scans)"
    return bilingual("exception", code)


def _kind(code: str) -> str:
    """An appendix row's kind: a refusal reason or an event action."""
    return bilingual("reason", code) if code in vocabulary.REASON else bilingual("action", code)


HEADINGS = {
    "title": "证件寄递每日反馈报告 Daily feedback report",
    "moves": "一、当日各环节处理量 Items moved per stage today",
    "funnel": "二、累计进度 Cumulative progress",
    "route": "三、按路向 By route",
    "type": "四、按证件类型 By credential type",
    "exceptions": "五、异常情况 Exceptions",
    "refusals": "当日拒绝扫描 Refused scans today",
    "lead": "六、交接至妥投时长（小时） Handover to delivery (hours)",
    "service": "七、客服工单与主动服务 Tickets and outreach",
    "appendix": "附录：当日异常明细 Appendix: today's exceptions",
}


def cjk_font() -> str:
    """The embedded CJK TrueType font every PDF of the application uses."""
    return font_name()


def report_data(session: Session, day: date) -> dict:
    """Everything the daily report shows for `day` (a local date)."""
    figures = data.day_figures(session, day)
    figures["appendix"] = lists.day_exception_rows(session, day)
    return figures


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def build_pdf(rep: dict, *, organizer: str = "") -> bytes:
    """The report as PDF bytes."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Table, TableStyle

    from ...printing.sheets import cell  # text in the font chain (any script)
    from ...printing.sheets import para as Paragraph

    font = cjk_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)

    cell_style = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=10.5)

    def table(rows, widths=None):
        t = Table([[cell(v, cell_style) for v in row] for row in rows], colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), font, 8.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#9aa5b1")), ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return t

    def bars(labels, values):
        d = Drawing(170 * mm, max(40, 7 * len(labels)) * mm * 0.7)
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 48 * mm, 4 * mm, 110 * mm, d.height - 8 * mm
        c.data = [values or [0]]
        c.categoryAxis.categoryNames = labels or [""]
        c.categoryAxis.labels.fontName = font
        c.categoryAxis.labels.fontSize = 7
        c.valueAxis.labels.fontName = font
        c.valueAxis.labels.fontSize = 7
        c.valueAxis.valueMin = 0
        c.bars[0].fillColor = colors.HexColor("#2f6f9f")
        c.barLabelFormat = "%d"
        c.barLabels.fontName = font
        c.barLabels.fontSize = 6
        c.barLabels.nudge = 8
        d.add(c)
        return d

    story = [Paragraph(HEADINGS["title"], h1),
             Paragraph(f"{organizer} · {rep['day']} · 截至当日24:00（{clock.offset_text()}） as at the end of the day "
                       f"({clock.zone_name()})", body),
             Paragraph(f"证件总数 total {rep['total']:,} · 已妥投 delivered {rep['delivered']:,} "
                       f"({_pct(rep['share_delivered'])})", body)]
    story += [Paragraph(HEADINGS["moves"], h2),
              table([["环节 stage", "件数 items"]]
                    + [[_stage(s), f"{rep['moves'][s]:,}"] for s in data.STAGES], [90 * mm, 40 * mm]),
              bars([vocabulary.label("stage", s, "zh") for s in reversed(data.STAGES)],
                   [rep["moves"][s] for s in reversed(data.STAGES)])]
    story += [Paragraph(HEADINGS["funnel"], h2),
              table([["状态 status", "件数 items", "占比 share"]]
                    + [[_status(f["status"]), f"{f['n']:,}", _pct(f["n"] / rep["total"] if rep["total"] else 0)]
                       for f in rep["funnel"]], [90 * mm, 40 * mm, 30 * mm])]
    for key, label, kind in (("by_route", "route", "route"), ("by_type", "type", "credential_type")):
        story += [Paragraph(HEADINGS[label], h2),
                  table([["", "总数 total", "已妥投 delivered", "妥投率 share"]]
                        + [[bilingual(kind, r["key"]), f"{r['total']:,}", f"{r['delivered']:,}", _pct(r["share"])]
                           for r in rep[key]], [60 * mm, 35 * mm, 35 * mm, 30 * mm])]
    story += [Paragraph(HEADINGS["exceptions"], h2),
              table([["异常 exception", "件数 count"]]
                    + [[_exception(k), f"{v:,}"] for k, v in rep["exceptions"].items()], [90 * mm, 40 * mm]),
              Paragraph(HEADINGS["refusals"], h2),
              table([["原因 reason", "次数 scans"]] + [[bilingual("reason", k), f"{v:,}"] for k, v in rep["refusals"].items()]
                    if rep["refusals"] else [["原因 reason", "次数 scans"], ["—", "0"]], [90 * mm, 40 * mm])]
    story += [Paragraph(HEADINGS["lead"], h2),
              table([["路向 route", "妥投 delivered", "中位数 median", "90%分位 p90"]]
                    + [["全部 all" if r["route"] == "*" else bilingual("route", r["route"]), f"{r['delivered']:,}", str(r["median_h"]),
                        str(r["p90_h"])] for r in rep["lead_time"]], [50 * mm, 35 * mm, 35 * mm, 35 * mm])]
    story.append(Paragraph(HEADINGS["service"], h2))
    if rep["service"] is None:
        story.append(Paragraph("客服数据未接入 Customer-service data is not connected.", body))
    else:
        story.append(table([["项目 item", "数量 count"]]
                           + [[bilingual("service_figure", k), f"{v:,}"] for k, v in rep["service"].items()],
                           [90 * mm, 40 * mm]))
    story += [PageBreak(), Paragraph(HEADINGS["appendix"], h2)]
    rows = rep["appendix"]
    shown = rows[:APPENDIX_PDF_ROWS]
    story.append(table([[f"时间 time ({clock.offset_text()})", "类别 kind", "证件号/条码 item", "路向 route",
                         "工位 station"]]
                       + [[clock.format_datetime(at, seconds=True), _kind(kind), code or "", route or "",
                           station or ""]
                          for at, kind, code, route, station, _a in shown] if shown
                       else [["时间 time", "类别 kind", "证件号/条码 item", "路向 route", "工位 station"],
                             ["—", "", "", "", ""]],
                       [38 * mm, 38 * mm, 45 * mm, 22 * mm, 22 * mm]))
    if len(rows) > len(shown):
        story.append(Paragraph(f"另有 {len(rows) - len(shown):,} 条见 XLSX · {len(rows) - len(shown):,} more rows "
                               "in the XLSX", body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Daily report {rep['day']}", author=organizer)
    doc.build(story)
    return buf.getvalue()


def build_xlsx(rep: dict):
    """The same data as an XLSX workbook (one sheet per section); returns an
    open file positioned at its start."""
    import tempfile

    out = tempfile.TemporaryFile()
    wb = XlsxBook(out)

    def sheet(title, header, rows):
        ws = wb.sheet(title)
        ws.append(header)
        for r in rows:
            ws.append(r)

    zone = clock.offset_text()
    sheet("summary", ["日期 day", f"截至 until ({zone})", "证件总数 total", "已妥投 delivered",
                      "妥投率 share_delivered"],
          [[rep["day"], clock.iso_local(rep["until"]), rep["total"], rep["delivered"], rep["share_delivered"]]])
    sheet("moves", ["环节 stage", "代码 code", "件数 items"],
          [[_stage(s), s, rep["moves"][s]] for s in data.STAGES])
    sheet("funnel", ["状态 status", "代码 code", "件数 items"],
          [[_status(f["status"]), f["status"], f["n"]] for f in rep["funnel"]])
    for key, kind in (("by_route", "route"), ("by_type", "credential_type")):
        sheet(key, ["名称 name", "代码 code", "总数 total", "已妥投 delivered", "妥投率 share"],
              [[bilingual(kind, r["key"]), r["key"], r["total"], r["delivered"], r["share"]] for r in rep[key]])
    sheet("exceptions", ["异常 exception", "代码 code", "件数 count"],
          [[_exception(k), k, v] for k, v in rep["exceptions"].items()])
    sheet("refusals", ["原因 reason", "代码 code", "次数 scans"],
          [[bilingual("reason", k), k, v] for k, v in rep["refusals"].items()])
    sheet("lead_time", ["路向 route", "代码 code", "妥投 delivered", "中位数（小时） median_h", "90%分位（小时） p90_h"],
          [["全部 all" if r["route"] == "*" else bilingual("route", r["route"]), r["route"], r["delivered"],
            r["median_h"], r["p90_h"]] for r in rep["lead_time"]])
    sheet("service", ["项目 item", "代码 code", "数量 count"],
          [[bilingual("service_figure", k), k, v] for k, v in (rep["service"] or {}).items()]
          or [["客服数据未接入 not connected", "", ""]])
    sheet("appendix", [f"时间 time ({zone})", "类别 kind", "类别代码 kind_code", "证件号/条码 item",
                       "路向 route", "工位 station", "操作代码 action"],
          [[clock.iso_local(at), _kind(kind), kind, code, route, station, action]
           for at, kind, code, route, station, action in rep["appendix"]])
    wb.close()
    out.seek(0)
    return out


def default_day() -> date:
    """Yesterday, local time: the last complete day."""
    return clock.yesterday()
