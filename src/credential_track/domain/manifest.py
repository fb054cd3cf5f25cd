"""Reading and checking manifest files (no Flask, no database).

A manifest is a CSV (UTF-8, UTF-8 with BOM, or GB18030/GBK as Excel in
China saves it) or an XLSX workbook whose first sheet has one header row and
one credential per row. Headers are English or Chinese, in any order; other
columns are ignored. Rows are read as a stream so that a 500,000-row file
never sits in memory at once.

Row numbers are the spreadsheet's: the header is row 1, the first credential
row 2 — what a clerk sees when opening the file.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .cells import csv_row
from .codes import CodeKind, classify
from .regions import normalize_province, route_for

# field → accepted header spellings (compared lower-cased, blanks removed)
HEADERS: dict[str, tuple[str, ...]] = {
    "credential_no": ("credential_no", "证件号", "证件号码", "证件编号"),
    "credential_type": ("credential_type", "证件类型"),
    "holder_name": ("holder_name", "姓名", "持证人"),
    "organization": ("organization", "单位", "单位名称"),
    "recipient_name": ("recipient_name", "收件人", "收件人姓名"),
    "recipient_phone": ("recipient_phone", "电话", "收件人电话", "手机", "联系电话"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "城市"),
    "district": ("district", "区", "区县"),
    "address": ("address", "地址", "详细地址"),
    "postcode": ("postcode", "邮编", "邮政编码"),
}
REQUIRED = ("credential_no", "credential_type", "holder_name", "recipient_phone", "province", "address")
FIELDS = tuple(HEADERS)

# The stored columns of one valid row, in this order (see ManifestRow).
RECORD_FIELDS = (
    "credential_no", "credential_type", "holder_name", "organization", "recipient_name",
    "recipient_phone", "phone_last4", "province", "city", "district", "address", "postcode",
    "route", "contact_problem",
)
# Fields compared when a credential number is already in the database.
COMPARED_FIELDS = tuple(f for f in RECORD_FIELDS if f != "contact_problem")

MAX_LEN = {
    "credential_no": 64, "holder_name": 100, "organization": 200, "recipient_name": 100,
    "city": 64, "district": 64, "address": 500,
}

# The row-error messages (English; the web report translates them by key).
MESSAGES = {
    "required": "is required",
    "too_long": "is longer than {max} characters",
    "bad_credential_no": "is not a credential number (it reads as a {kind} code)",
    "duplicate_in_file": "appears twice in the file (first in row {first})",
    "bad_phone": "is not a mainland mobile number (11 digits, 1[3-9]…) or a landline with area code",
    "bad_postcode": "must be 6 digits",
    "bad_province": "is not a province, municipality or region of China",
    "bad_type": "is not a known credential type ({known})",
}

_PHONE_JUNK = re.compile(r"[\s\-()（）.]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_POSTCODE = re.compile(r"^\d{6}$")


class ManifestError(Exception):
    """The file cannot be read as a manifest at all (one clear message)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    key: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.key].format(**self.params)

    def __str__(self) -> str:
        return f"row {self.row}, {self.column} {self.value!r}: {self.message}"


def normalize_phone(raw: str) -> str | None:
    """A mainland phone number in its stored form, else None.

    Mobile: 11 digits (`+86 138-1234-5678` → `13812345678`). Landline: area
    code, a dash, the number (`(021) 6888 1234` → `021-68881234`); Beijing,
    Tianjin and the 02x cities have 3-digit area codes, the rest 4."""
    s = _PHONE_JUNK.sub("", raw or "")
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    if _MOBILE.match(s):
        return s
    if _LANDLINE.match(s):
        area = 3 if s[1] in "12" else 4
        number = s[area:]
        if 7 <= len(number) <= 8:
            return f"{s[:area]}-{number}"
    return None


def _norm_header(h: str) -> str:
    return re.sub(r"\s+", "", (h or "").replace("\ufeff", "")).lower()


_HEADER_LOOKUP = {_norm_header(alias): f for f, aliases in HEADERS.items() for alias in aliases}


def map_columns(header: list[str]) -> dict[str, int]:
    """field → column index. Unknown columns are ignored; a missing required
    column raises ManifestError naming every one that is missing."""
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        f = _HEADER_LOOKUP.get(_norm_header(str(h) if h is not None else ""))
        if f is not None and f not in cols:
            cols[f] = i
    missing = [f for f in REQUIRED if f not in cols]
    if missing:
        names = ", ".join(f"{f} ({HEADERS[f][1]})" for f in missing)
        raise ManifestError(f"missing required column(s): {names}; the header row has: "
                            + ", ".join(str(h) for h in header if h not in (None, "")))
    return cols


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """`utf-8-sig` (with BOM), `utf-8`, or `gb18030` (a superset of GBK):
    the whole file is checked as UTF-8, in chunks."""
    with open(path, "rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        dec = codecs.getincrementaldecoder("utf-8")()
        try:
            while True:
                block = f.read(chunk)
                if not block:
                    dec.decode(b"", final=True)
                    return "utf-8"
                dec.decode(block)
        except UnicodeDecodeError:
            pass
    # not UTF-8: GB18030 must decode all of it, else the file is unreadable
    with open(path, "rb") as f:
        dec = codecs.getincrementaldecoder("gb18030")()
        offset = 0
        try:
            while True:
                block = f.read(chunk)
                if not block:
                    dec.decode(b"", final=True)
                    return "gb18030"
                dec.decode(block)
                offset += len(block)
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"the file is neither UTF-8 nor GB18030/GBK text (undecodable byte near offset "
                f"{offset + exc.start}); save it as CSV UTF-8 or XLSX") from None


class Manifest:
    """An open manifest: `columns`, `estimated_rows`, and `rows()` yielding
    (row number, list of cell texts)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.kind = "xlsx" if self.path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
        self.encoding: str | None = None
        self._wb = None
        self._fh = None
        try:
            if self.kind == "xlsx":
                self._open_xlsx()
            else:
                self._open_csv()
        except BaseException:
            self.close()
            raise

    def _open_csv(self) -> None:
        self.encoding = detect_encoding(self.path)
        self._fh = open(self.path, newline="", encoding=self.encoding)
        sample = self._fh.read(64 * 1024)
        self._fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        self._reader = csv.reader(self._fh, delimiter=delimiter)
        header = next(self._reader, None)
        if header is None:
            raise ManifestError("the file is empty: no header row")
        self.columns = map_columns(header)
        # an estimate for progress: lines in the file less the header
        with open(self.path, "rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
        self.estimated_rows = max(lines - 1, 0)

    def _open_xlsx(self) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._wb = load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            raise ManifestError(f"cannot read the workbook: {exc}") from None
        ws = self._wb.worksheets[0]
        self._rows_iter = ws.iter_rows(values_only=True)
        header = next(self._rows_iter, None)
        if header is None:
            raise ManifestError("the first sheet is empty: no header row")
        self.columns = map_columns(list(header))
        self.estimated_rows = max((ws.max_row or 1) - 1, 0)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) for every non-blank row after the header."""
        n = 1
        if self.kind == "csv":
            for raw in self._reader:
                n += 1
                cells = [c.strip() for c in raw]
                if any(cells):
                    yield n, cells
            return
        for raw in self._rows_iter:
            n += 1
            cells = [_cell_text(c) for c in raw]
            if any(cells):
                yield n, cells

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._wb is not None:
            self._wb.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel keeps long numbers (phones, postcodes) as floats
        return str(int(value))
    return str(value).strip()


class Validator:
    """Checks rows one at a time. `types` maps every accepted spelling of a
    credential type (code, Chinese name, English name) to its code."""

    def __init__(self, types: dict[str, str], columns: dict[str, int]):
        self.types = {k.strip().lower(): v for k, v in types.items()}
        self.known_types = ", ".join(sorted(set(types.values())))
        self.columns = columns
        self._idx = tuple(columns.get(f, -1) for f in FIELDS)
        self._width = max(columns.values()) + 1
        self.seen: dict[str, int] = {}  # credential_no → first row

    def check(self, rownum: int, cells: list[str]) -> tuple[tuple | None, list[RowError]]:
        """(record in RECORD_FIELDS order, []) for a valid row, else (None, errors)."""
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        errors: list[RowError] = []
        # cells come stripped from Manifest.rows()
        v = dict(zip(FIELDS, [cells[i] if i >= 0 else "" for i in self._idx]))
        for f in REQUIRED:
            if not v[f]:
                errors.append(RowError(rownum, f, "", "required"))
        for f, limit in MAX_LEN.items():
            if len(v[f]) > limit:
                errors.append(RowError(rownum, f, v[f], "too_long", {"max": limit}))

        no = v["credential_no"]
        if no:
            kind = classify(no).kind
            if kind != CodeKind.credential:
                errors.append(RowError(rownum, "credential_no", no, "bad_credential_no",
                                       {"kind": "waybill" if kind == CodeKind.invalid_waybill else kind.value}))
            first = self.seen.get(no)
            if first is not None:
                errors.append(RowError(rownum, "credential_no", no, "duplicate_in_file", {"first": first}))
            else:
                self.seen[no] = rownum

        ctype = None
        if v["credential_type"]:
            ctype = self.types.get(v["credential_type"].lower())
            if ctype is None:
                errors.append(RowError(rownum, "credential_type", v["credential_type"], "bad_type",
                                       {"known": self.known_types}))
        phone = None
        if v["recipient_phone"]:
            phone = normalize_phone(v["recipient_phone"])
            if phone is None:
                errors.append(RowError(rownum, "recipient_phone", v["recipient_phone"], "bad_phone"))
        postcode = v["postcode"]
        if postcode and not _POSTCODE.match(postcode):
            errors.append(RowError(rownum, "postcode", postcode, "bad_postcode"))
        province = None
        if v["province"]:
            province = normalize_province(v["province"])
            if province is None:
                errors.append(RowError(rownum, "province", v["province"], "bad_province"))
        if errors:
            return None, errors

        problems = []
        if "-" in phone:
            problems.append("landline only: no text messages")
        if len(v["address"]) < 8:
            problems.append("address may be incomplete")
        record = (
            no, ctype, v["holder_name"], v["organization"], v["recipient_name"] or v["holder_name"],
            phone, phone[-4:], province, v["city"], v["district"], v["address"], postcode,
            route_for(province, v["district"]), "; ".join(problems) or None,
        )
        return record, []


def write_rejects(out: io.TextIOBase, errors) -> int:
    """Write row errors as CSV (row, column, value, message); return how many."""
    w = csv.writer(out)
    w.writerow(["row", "column", "value", "message"])
    n = 0
    for e in errors:
        w.writerow(csv_row((e.row, e.column, e.value, e.message)))
        n += 1
    return n
