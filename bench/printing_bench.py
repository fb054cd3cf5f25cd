"""Benchmark: bulk waybill labels against a bare reportlab script.

Draws COUNT labels (100 × 150 mm) into one PDF twice per round: with
`credential_track.printing.write_labels` (layout, fitted address, masked
phone, Code 128, QR, streamed in chunks) and with a bare reportlab script
that draws the same text with the same embedded TrueType font, the same
Code 128 and the same QR (qrcode's matrix) on one canvas. Rounds alternate
the two so machine noise hits both; the best round of each is compared, by
CPU time of this process (wall-clock time is printed too, but on a shared
machine it mostly measures the other processes). Target: ours ≤ 1.5 × bare.

Memory: each of --memory-counts runs in a fresh process that writes that many
labels to a file and reports its peak RSS. Target: the largest count's peak
within 1.25 × (+ 16 MB) of the smallest count's peak (pages are streamed).

Exit status 1 when a target is missed.

    python bench/printing_bench.py                       # 1,000 labels; memory 1,000 vs 20,000
    python bench/printing_bench.py --count 50 --rounds 1 --memory-counts 50,200   # smoke run
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from credential_track.domain.codes import make_s10  # noqa: E402
from credential_track.printing import LabelData, write_labels  # noqa: E402

TARGET_RATIO = 1.5
MEMORY_FACTOR, MEMORY_SLACK_MB = 1.25, 16

STREETS = ["世纪大道", "崧泽大道", "南京西路", "淮海中路", "中山北路", "人民路", "解放大道", "长江路"]
NAMES = ["张伟", "欧阳娜娜", "李清照", "王芳", "司马相如", "陈静", "刘洋", "阿卜杜热西提·买买提依明"]


def labels(n: int):
    """n plausible labels, generated on the fly (no list of n in memory)."""
    for i in range(n):
        yield LabelData(
            waybill_no=make_s10("EE", 10_000_000 + i), credential_no=f"CIIE26{i:08d}",
            credential_type="展商 Exhibitor", recipient_name=NAMES[i % len(NAMES)],
            recipient_phone=f"138{i:08d}", province="上海市", city="上海市", district="浦东新区",
            address=f"{STREETS[i % len(STREETS)]}{i % 999 + 1}号{i % 30 + 1}楼{i % 20 + 1}0{i % 9 + 1}室"
                    + ("（东门进，请先电话联系前台转交）" if i % 3 == 0 else ""),
            postcode="200120", route="SH-E", sender="进博会证件管理中心", organization="华东贸易有限公司")


def bare(n: int, out) -> None:
    """The baseline: the same text, Code 128 and QR, straight onto one canvas."""
    import qrcode
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from credential_track.printing.fonts import FONT_PATH

    if "BareCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BareCJK", str(FONT_PATH)))
    w, h = 100 * mm, 150 * mm
    c = Canvas(out, pagesize=(w, h), pageCompression=1, initialFontName="BareCJK")
    for d in labels(n):
        c.setFont("BareCJK", 15)
        c.drawString(4 * mm, h - 11 * mm, "EMS 特快专递")
        c.drawString(44 * mm, h - 12 * mm, "VIP")
        c.setFont("BareCJK", 30)
        c.drawString(65 * mm, h - 15 * mm, d.route)
        Code128(d.waybill_no, barWidth=0.375 * mm, barHeight=18 * mm).drawOn(c, 8 * mm, h - 42 * mm)
        c.setFont("BareCJK", 16)
        c.drawString(20 * mm, h - 48 * mm, d.waybill_no)
        c.drawString(4 * mm, h - 60 * mm, d.recipient_name)
        c.drawString(60 * mm, h - 60 * mm, d.recipient_phone[:3] + "****" + d.recipient_phone[-4:])
        c.setFont("BareCJK", 12)
        c.drawString(4 * mm, h - 70 * mm, d.full_address)
        c.drawString(4 * mm, h - 96 * mm, "邮编 " + d.postcode)
        c.drawString(4 * mm, h - 108 * mm, d.sender)
        c.drawString(38 * mm, h - 124 * mm, d.credential_type)
        c.drawString(38 * mm, h - 135 * mm, d.credential_no)
        c.drawString(38 * mm, h - 142 * mm, d.organization)
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        qr.add_data(d.waybill_no)
        qr.make(fit=True)
        matrix = qr.get_matrix()
        module = 24 * mm / len(matrix)
        for r, row in enumerate(matrix):
            for col, dark in enumerate(row):
                if dark:
                    c.rect(7 * mm + col * module, 31 * mm - (r + 1) * module, module, module, stroke=0, fill=1)
        c.showPage()
    c.save()


def ours(n: int, out) -> None:
    write_labels(labels(n), out)


def timed(fn, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) to draw n labels into a temporary file."""
    with tempfile.TemporaryFile() as f:
        cpu, wall = time.process_time(), time.perf_counter()
        fn(n, f)
        return time.process_time() - cpu, time.perf_counter() - wall


def child(kind: str, n: int) -> None:
    with tempfile.TemporaryFile() as f:
        start, cpu = time.perf_counter(), time.process_time()
        (ours if kind == "ours" else bare)(n, f)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        size = f.tell()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": n, "kind": kind, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "bytes": size}))


def measure_memory(kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000, help="labels per timed run (default 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--memory-counts", default="1000,20000",
                    help="label counts for the peak-RSS runs, comma-separated (default 1000,20000)")
    ap.add_argument("--bare-memory", action="store_true", help="also measure the bare script's peak RSS")
    ap.add_argument("--smoke", action="store_true",
                    help="a seconds-long CI run: 30 labels, one round, memory at 30 and 60 labels")
    ap.add_argument("--scale", type=int, default=None, help="ignored: labels are drawn from synthetic data")
    ap.add_argument("--db-url", default=None, help="ignored: labels are drawn from synthetic data")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if args.smoke:
        args.count, args.rounds, args.memory_counts = 30, 1, "30,60"
    metrics: dict = {}

    ok = True
    timed(ours, 5)  # font registration, imports and caches warm for both
    timed(bare, 5)
    best_ours = best_bare = (float("inf"), float("inf"))
    for r in range(args.rounds):
        b = timed(bare, args.count)
        o = timed(ours, args.count)
        best_bare, best_ours = min(best_bare, b), min(best_ours, o)
        print(f"round {r + 1}: bare {b[0]:.2f}s CPU ({b[1]:.2f}s wall), ours {o[0]:.2f}s CPU ({o[1]:.2f}s wall), "
              f"{o[0] / b[0]:.2f}x")
    ratio = best_ours[0] / best_bare[0]
    metrics.update(labels=args.count, bare_cpu_s=round(best_bare[0], 3), ours_cpu_s=round(best_ours[0], 3),
                   ratio=round(ratio, 3))
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    ok &= ratio <= TARGET_RATIO
    print(f"{args.count:,} labels: bare reportlab {best_bare[0]:.2f}s CPU ({args.count / best_bare[0]:,.0f}/s), "
          f"ours {best_ours[0]:.2f}s CPU ({args.count / best_ours[0]:,.0f}/s), ratio {ratio:.2f}x "
          f"(target <= {TARGET_RATIO}x) {verdict}; best wall-clock {best_bare[1]:.2f}s vs {best_ours[1]:.2f}s")

    counts = [int(x) for x in args.memory_counts.split(",") if x.strip()]
    if len(counts) >= 2:
        runs = [measure_memory("ours", n) for n in counts]
        for m in runs:
            print(f"ours {m['count']:,} labels: peak RSS {m['peak_mb']:.0f} MB, {m['cpu']:.1f}s CPU, {m['seconds']:.1f}s wall, "
                  f"{m['bytes'] / 1e6:.1f} MB PDF")
        if args.bare_memory:
            for n in counts:
                m = measure_memory("bare", n)
                print(f"bare {m['count']:,} labels: peak RSS {m['peak_mb']:.0f} MB, {m['cpu']:.1f}s CPU, "
                      f"{m['seconds']:.1f}s wall")
        small, large = runs[0]["peak_mb"], runs[-1]["peak_mb"]
        limit = small * MEMORY_FACTOR + MEMORY_SLACK_MB
        mem_ok = large <= limit
        ok &= mem_ok
        metrics.update(peak_mb_small=round(small), peak_mb_large=round(large))
        print(f"memory: {counts[-1]:,} labels peak {large:.0f} MB vs {counts[0]:,} labels {small:.0f} MB "
              f"(limit {limit:.0f} MB) {'ok' if mem_ok else 'MISSED'}")
    print(json.dumps({"name": "printing", "metrics": metrics, "targets_met": bool(ok)}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
