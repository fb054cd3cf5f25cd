"""The daily feedback report: PDF (reportlab, CJK font embedded, charts in
reportlab graphics) and the same data as XLSX, for any past local day,
computed from the summaries of the events (data.day_figures)."""
from __future__ import annotations

import io
from datetime import date

from sqlmodel import Session

from ...domain.cells import xlsx_row
from ...printing.fonts import font_name
from . import data, lists, summary

APPENDIX_PDF_ROWS = 2000

# bilingual labels: the report goes to Chinese and foreign readers alike
STATUS_LABEL = {
    "registered": "已登记 registered", "received": "已交接 received", "captured": "已采集 captured",
    "accepted": "已收寄 accepted", "bagged": "已装袋 bagged", "dispatched": "已封发 dispatched",
    "in_transit": "运输中 in transit", "arrived": "已到达 arrived", "out_for_delivery": "投递中 out for delivery",
    "delivered": "已妥投 delivered", "delivery_failed": "投递失败 delivery failed", "returned": "已退回 returned",
    "withdrawn": "已撤回 withdrawn",
}
STAGE_LABEL = {
    "handover": "交接 handover", "capture": "信息采集 capture", "accept": "收寄 acceptance",
    "bag": "装袋 bagging", "seal": "封发 sealing", "depart": "专车发运 departure", "arrive": "到达 arrival",
    "out_for_delivery": "出班投递 out for delivery", "delivered": "妥投 delivered",
}
EXCEPTION_LABEL = {
    "missing_at_handover": "交接缺件 missing at handover", "held": "暂扣 held", "revoked": "已注销 revoked",
    "intercept": "拦截 intercepted", "seal_mismatch": "封志不符（扫描次数） seal mismatches (scans)",
    "delivery_failed": "投递失败 delivery failed", "returned": "退回 returned", "stuck": "滞留 stuck",
}
SERVICE_LABEL = {
    "open_tickets": "未结工单 open tickets", "tickets_sla_breached": "工单超时 tickets past SLA",
    "outreach_open": "待外呼 outreach open", "outreach_sla_breached": "外呼超时 outreach past SLA",
    "outreach_done": "已完成外呼 outreach done",
}
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
TYPE_LABEL = {"exhibitor": "展商 exhibitor", "buyer": "采购商 buyer", "media": "媒体 media",
              "staff": "工作人员 staff", "guest": "嘉宾 guest"}


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

    from ...printing.sheets import cell, para as Paragraph  # text in the font chain (any script)

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
             Paragraph(f"{organizer} · {rep['day']} · 截至当日24:00 (UTC+8) as at the end of the day", body),
             Paragraph(f"证件总数 total {rep['total']:,} · 已妥投 delivered {rep['delivered']:,} "
                       f"({_pct(rep['share_delivered'])})", body)]
    story += [Paragraph(HEADINGS["moves"], h2),
              table([["环节 stage", "件数 items"]]
                    + [[STAGE_LABEL[s], f"{rep['moves'][s]:,}"] for s in data.STAGES], [90 * mm, 40 * mm]),
              bars([STAGE_LABEL[s].split()[0] for s in reversed(data.STAGES)],
                   [rep["moves"][s] for s in reversed(data.STAGES)])]
    story += [Paragraph(HEADINGS["funnel"], h2),
              table([["状态 status", "件数 items", "占比 share"]]
                    + [[STATUS_LABEL[f["status"]], f"{f['n']:,}", _pct(f["n"] / rep["total"] if rep["total"] else 0)]
                       for f in rep["funnel"]], [90 * mm, 40 * mm, 30 * mm])]
    for key, label, names in (("by_route", "route", {}), ("by_type", "type", TYPE_LABEL)):
        story += [Paragraph(HEADINGS[label], h2),
                  table([["", "总数 total", "已妥投 delivered", "妥投率 share"]]
                        + [[names.get(r["key"], r["key"]), f"{r['total']:,}", f"{r['delivered']:,}", _pct(r["share"])]
                           for r in rep[key]], [60 * mm, 35 * mm, 35 * mm, 30 * mm])]
    story += [Paragraph(HEADINGS["exceptions"], h2),
              table([["异常 exception", "件数 count"]]
                    + [[EXCEPTION_LABEL[k], f"{v:,}"] for k, v in rep["exceptions"].items()], [90 * mm, 40 * mm]),
              Paragraph(HEADINGS["refusals"], h2),
              table([["原因 reason", "次数 scans"]] + [[k, f"{v:,}"] for k, v in rep["refusals"].items()]
                    if rep["refusals"] else [["原因 reason", "次数 scans"], ["—", "0"]], [90 * mm, 40 * mm])]
    story += [Paragraph(HEADINGS["lead"], h2),
              table([["路向 route", "妥投 delivered", "中位数 median", "90%分位 p90"]]
                    + [["全部 all" if r["route"] == "*" else r["route"], f"{r['delivered']:,}", str(r["median_h"]),
                        str(r["p90_h"])] for r in rep["lead_time"]], [50 * mm, 35 * mm, 35 * mm, 35 * mm])]
    story.append(Paragraph(HEADINGS["service"], h2))
    if rep["service"] is None:
        story.append(Paragraph("客服数据未接入 Customer-service data is not connected.", body))
    else:
        story.append(table([["项目 item", "数量 count"]]
                           + [[SERVICE_LABEL.get(k, k), f"{v:,}"] for k, v in rep["service"].items()],
                           [90 * mm, 40 * mm]))
    story += [PageBreak(), Paragraph(HEADINGS["appendix"], h2)]
    rows = rep["appendix"]
    shown = rows[:APPENDIX_PDF_ROWS]
    story.append(table([["时间 time", "类别 kind", "证件号/条码 item", "路向 route", "工位 station"]]
                       + [[lists._cell(at), kind, code or "", route or "", station or ""]
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

    from openpyxl import Workbook

    wb = Workbook(write_only=True)

    def sheet(title, header, rows):
        ws = wb.create_sheet(title)
        ws.append(header)
        for r in rows:
            ws.append(xlsx_row(ws, r))

    sheet("summary", ["day", "until", "total", "delivered", "share_delivered"],
          [[rep["day"], rep["until"], rep["total"], rep["delivered"], rep["share_delivered"]]])
    sheet("moves", ["stage", "label", "items"], [[s, STAGE_LABEL[s], rep["moves"][s]] for s in data.STAGES])
    sheet("funnel", ["status", "label", "items"], [[f["status"], STATUS_LABEL[f["status"]], f["n"]]
                                                    for f in rep["funnel"]])
    for key in ("by_route", "by_type"):
        sheet(key, ["key", "total", "delivered", "share"],
              [[r["key"], r["total"], r["delivered"], r["share"]] for r in rep[key]])
    sheet("exceptions", ["exception", "label", "count"],
          [[k, EXCEPTION_LABEL[k], v] for k, v in rep["exceptions"].items()])
    sheet("refusals", ["reason", "scans"], list(rep["refusals"].items()))
    sheet("lead_time", ["route", "delivered", "median_h", "p90_h"],
          [[r["route"], r["delivered"], r["median_h"], r["p90_h"]] for r in rep["lead_time"]])
    sheet("service", ["item", "count"], list((rep["service"] or {}).items()) or [["not connected", ""]])
    sheet("appendix", ["time", "kind", "item", "route", "station", "action"],
          [[lists._cell(at), kind, code, route, station, action]
           for at, kind, code, route, station, action in rep["appendix"]])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    wb.save(out)
    out.seek(0)
    return out


def default_day() -> date:
    """Yesterday, local time: the last complete day."""
    from datetime import datetime, timedelta

    return (datetime.now(summary.LOCAL_TZ) - timedelta(days=1)).date()
