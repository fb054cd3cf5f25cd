"""Charts as server-side SVG (no script, no external library): sorted bars
shaded by share delivered, and rows of small bars for throughput."""
from __future__ import annotations

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
