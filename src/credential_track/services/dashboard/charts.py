"""Charts as server-side SVG (no script, no external library): sorted bars
shaded by share delivered, and rows of small bars for throughput."""
from __future__ import annotations

from datetime import UTC
from html import escape

from markupsafe import Markup

LIGHT = (0xd9, 0xe8, 0xf2)
DARK = (0x0b, 0x5d, 0x3b)


def shade(share: float) -> str:
    """A colour from light (nothing delivered) to dark green (all)."""
    s = min(1.0, max(0.0, share))
    return "#%02x%02x%02x" % tuple(round(a + (b - a) * s) for a, b in zip(LIGHT, DARK))


def share_bars(rows: list[dict], *, label=lambda r: r["key"], href=None, width: int = 520,
               limit: int = 40, fill: str | None = None) -> Markup:
    """Horizontal bars, longest first: length = items, colour = share
    delivered; each bar links to its list when `href(row)` is given."""
    rows = rows[:limit]
    if not rows:
        return Markup("")
    top = max(r["total"] for r in rows) or 1
    lw, bh, gap = 120, 16, 4
    height = len(rows) * (bh + gap)
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for i, r in enumerate(rows):
        y = i * (bh + gap)
        w = max(1, round((width - lw - 110) * r["total"] / top))
        title = escape(f'{label(r)}: {r["total"]:,} · {100 * r["share"]:.1f}%')
        bar = (f'<text x="{lw - 6}" y="{y + bh - 4}" text-anchor="end" class="lbl">{escape(str(label(r)))}</text>'
               f'<rect x="{lw}" y="{y}" width="{w}" height="{bh}" fill="{r.get("fill") or fill or shade(r["share"])}">'
               f'<title>{title}</title></rect>'
               f'<text x="{lw + w + 4}" y="{y + bh - 4}" class="val">{r["total"]:,} · {100 * r["share"]:.0f}%</text>')
        out.append(f'<a href="{escape(href(r))}">{bar}</a>' if href else bar)
    out.append("</svg>")
    return Markup("".join(out))


def bar_rows(series: list[tuple[str, list[int]]], *, columns: list[str], width: int = 720,
             links: list[list[str]] | None = None) -> Markup:
    """One row of small vertical bars per series (e.g. per stage per hour),
    each row scaled to its own maximum, with the row total at the end;
    `links[i][j]`, when given, is where bar j of row i leads."""
    if not series or not columns:
        return Markup("")
    lw, rh, rw = 130, 26, 70
    n = max(1, len(columns))
    cw = (width - lw - rw) / n
    height = len(series) * rh + 16
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for i, (name, values) in enumerate(series):
        y = i * rh
        top = max(values) if values and max(values) else 1
        out.append(f'<text x="{lw - 6}" y="{y + rh - 8}" text-anchor="end" class="lbl">{escape(name)}</text>')
        for j, v in enumerate(values):
            h = round((rh - 6) * v / top)
            # the link covers the bar's whole column, so that small bars can be hit
            rect = (f'<rect x="{lw + j * cw + 1:.1f}" y="{y + rh - 4 - h}" width="{max(1, cw - 2):.1f}" '
                    f'height="{h}" fill="#2f6f9f"><title>{escape(columns[j])}: {v:,}</title></rect>')
            if links and v:
                rect = (f'<a href="{escape(links[i][j])}"><rect x="{lw + j * cw:.1f}" y="{y}" width="{cw:.1f}" '
                        f'height="{rh - 4}" fill="transparent"/>{rect}</a>')
            out.append(rect)
        out.append(f'<text x="{width - rw + 6}" y="{y + rh - 8}" class="val">{sum(values):,}</text>')
    for j in (0, n // 2, n - 1):
        out.append(f'<text x="{lw + j * cw:.1f}" y="{height - 2}" class="axis">{escape(columns[j])}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def burndown(past: list[tuple[int, float]], future: list[tuple[int, float, float, float]], *,
             marks: list[tuple[int, str]] = (), tz=None, width: int = 720, height: int = 150,
             names: tuple[str, str, str] = ("so far", "likely", "early–late")) -> Markup:
    """A backlog over epoch hours: what it was (`past`: (hour, n)), and the
    forecast (`future`: (hour, early, likely, late)) as a line in a shaded
    band; `marks`: vertical lines (hour, label), e.g. now and opening day;
    the x axis shows local days (`tz`), the y axis the largest count."""
    points = [h for h, _ in past] + [h for h, *_ in future]
    if not points:
        return Markup("")
    lx, rx, top, bottom = 56, 10, 14, 22
    h0, h1 = min(points), max(points)
    span = max(1, h1 - h0)
    ymax = max([v for _, v in past] + [max(a, b, c) for _, a, b, c in future] + [1])
    pw, ph = width - lx - rx, height - top - bottom

    def x(h):
        return lx + pw * (h - h0) / span

    def y(v):
        return top + ph * (1 - v / ymax)

    out = [f'<svg class="chart burndown" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<line x1="{lx}" y1="{top + ph}" x2="{width - rx}" y2="{top + ph}" stroke="#99a"/>',
           f'<text x="{lx - 4}" y="{top + 4}" text-anchor="end" class="axis">{ymax:,.0f}</text>',
           f'<text x="{lx - 4}" y="{top + ph}" text-anchor="end" class="axis">0</text>']
    if future:
        upper = " ".join(f"{x(h):.1f},{y(hi):.1f}" for h, _lo, _mid, hi in future)
        lower = " ".join(f"{x(h):.1f},{y(lo):.1f}" for h, lo, _mid, _hi in reversed(future))
        out.append(f'<polygon points="{upper} {lower}" fill="#f3c98b" fill-opacity=".55">'
                   f'<title>{escape(names[2])}</title></polygon>')
        line = " ".join(f"{x(h):.1f},{y(mid):.1f}" for h, _lo, mid, _hi in future)
        out.append(f'<polyline points="{line}" fill="none" stroke="#b35c00" stroke-width="2" '
                   f'stroke-dasharray="5 3"><title>{escape(names[1])}</title></polyline>')
    if past:
        line = " ".join(f"{x(h):.1f},{y(v):.1f}" for h, v in past)
        out.append(f'<polyline points="{line}" fill="none" stroke="#2f6f9f" stroke-width="2">'
                   f'<title>{escape(names[0])}</title></polyline>')
    if tz is not None:
        from datetime import datetime, timedelta

        first = datetime.fromtimestamp(h0 * 3600, UTC).astimezone(tz)
        day = first.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        step = max(1, round(span / 24 / 10))  # at most about ten day labels
        i = 0
        while day.timestamp() / 3600 <= h1:
            hx = x(day.timestamp() / 3600)
            out.append(f'<line x1="{hx:.1f}" y1="{top + ph}" x2="{hx:.1f}" y2="{top + ph + 3}" stroke="#99a"/>')
            if i % step == 0:
                out.append(f'<text x="{hx:.1f}" y="{height - 6}" text-anchor="middle" class="axis">'
                           f'{day.strftime("%m-%d")}</text>')
            day += timedelta(days=1)
            i += 1
    for h, label in marks:
        if h0 <= h <= h1:
            mx = x(h)
            out.append(f'<line x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{top + ph}" stroke="#c62828" '
                       f'stroke-dasharray="2 2"/><text x="{mx + 3:.1f}" y="{top + 6}" class="lbl mark">'
                       f'{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
