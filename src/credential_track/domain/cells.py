"""Spreadsheet-safe cells: the one rule every CSV and XLSX writer obeys.

A spreadsheet runs a cell whose text starts with ``=``, ``+``, ``-`` or
``@`` as a formula (and some also after a leading tab or carriage return),
so a credential number, a name or a scanned code such as
``=HYPERLINK("http://…")`` must never reach a file as it is:

* CSV has no types: such a text gets a leading apostrophe, which every
  spreadsheet shows as text and never evaluates (OWASP's advice).
* XLSX has types: every text is written as a string cell, so it is shown
  exactly as it is and never becomes a formula — what pretix does in every
  export. `XlsxBook` is the one workbook writer: XlsxWriter in its
  constant-memory mode with its guesses (formulas, URLs, numbers) turned off,
  about twice as fast as openpyxl's write-only mode (0.54 of its time at
  500,000 rows) and flat in memory (docs/BENCHMARKS.md).

XLSX cannot hold the C0 control characters; they are written as U+FFFD so
that the file opens and the place stays visible.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_formula_like(value: Any) -> bool:
    """Whether a spreadsheet could take `value` for a formula."""
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def csv_cell(value: Any) -> Any:
    """The value to write into a CSV cell: None as empty, a formula-like
    text behind an apostrophe, anything else as it is."""
    if value is None:
        return ""
    if value.__class__ is str and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A CSV row of `values`, each through `csv_cell` (inlined: exports call
    this for every row of 500,000)."""
    return [("" if v is None else ("'" + v) if v.__class__ is str and v[:1] in FORMULA_STARTS else v)
            for v in values]


def csv_chunks(rows: Iterable[Iterable[Any]], header: Iterable[Any] | None = None,
               every: int = 2000) -> Iterator[str]:
    """A CSV file as text chunks for a streamed download or a file: UTF-8
    BOM first (so that Excel reads Chinese), then the header and the rows,
    every cell through `csv_row`, a chunk every `every` rows. The writer of
    every streamed CSV (status export, handover discrepancies, audit,
    dashboard and forecast lists, import rejects); the status export to a
    file writes blocks of rows through `csv_row` itself (exports.write_csv)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    buf.write("\ufeff")
    if header is not None:
        w.writerow(csv_row(header))
    for i, row in enumerate(rows, 1):
        w.writerow(csv_row(row))
        if i % every == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


class XlsxSheet:
    """One worksheet of an `XlsxBook`, written row after row."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._row = 0

    def append(self, values: Iterable[Any]) -> None:
        """Write the next row: texts as string cells (never a formula, a
        link or a number), control characters replaced; numbers as numbers,
        flags as booleans, None and "" as an empty cell. Anything else (a time)
        must come as the text the reader is to see."""
        ws, r = self._ws, self._row
        for c, v in enumerate(values):
            k = v.__class__
            if k is str:
                if not v:  # an empty text is an empty cell: nothing to write
                    continue
                ws.write_string(r, c, _XLSX_ILLEGAL.sub("\ufffd", v) if _XLSX_ILLEGAL.search(v) else v)
            elif v is None:
                continue
            elif k is bool:
                ws.write_boolean(r, c, v)
            elif isinstance(v, (int, float, Decimal)):
                ws.write_number(r, c, v)
            elif k is date:  # a calendar day: no clock to convert
                ws.write_string(r, c, v.isoformat())
            else:
                raise TypeError(f"an XLSX cell takes text, a number, a flag or nothing, not {k.__name__}")
        self._row = r + 1


class XlsxBook:
    """The product's one XLSX writer (see the module docstring). `target` is
    a path or a binary file; `close()` (or the `with` block) finishes it."""

    def __init__(self, target: Any) -> None:
        import xlsxwriter

        self._wb = xlsxwriter.Workbook(target, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})

    def sheet(self, title: str) -> XlsxSheet:
        return XlsxSheet(self._wb.add_worksheet(title[:31]))

    def close(self) -> None:
        self._wb.close()

    def __enter__(self) -> XlsxBook:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["FORMULA_STARTS", "is_formula_like", "csv_cell", "csv_row", "XlsxBook", "XlsxSheet"]
