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
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from xml.etree.ElementTree import iterparse

from .codes import CodeKind, classify, is_code_text, normalize_code
from .recipient import MAX_LEN, N_, WARNINGS, address_incomplete, check_recipient, clean_text
from .recipient import MESSAGES as RECIPIENT_MESSAGES
from .regions import _to_simplified

if TYPE_CHECKING:
    from openpyxl import Workbook

# field → accepted header spellings (compared after NFKC, traditional →
# simplified, lower-cased, blanks removed)
HEADERS: dict[str, tuple[str, ...]] = {
    "credential_no": ("credential_no", "证件号", "证件号码", "证件编号"),
    "credential_type": ("credential_type", "证件类型"),
    "holder_name": ("holder_name", "姓名", "持证人"),
    "organization": ("organization", "单位", "单位名称"),
    "recipient_name": ("recipient_name", "收件人", "收件人姓名"),
    "recipient_phone": ("recipient_phone", "电话", "收件人电话", "手机", "手机号", "手机号码", "联系电话",
                        "移动电话"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "城市"),
    "district": ("district", "区", "区县"),
    "address": ("address", "地址", "详细地址"),
    "postcode": ("postcode", "邮编", "邮政编码"),
}
REQUIRED = ("credential_no", "credential_type", "holder_name", "recipient_phone", "province", "address")
FIELDS = tuple(HEADERS)
# fields whose cells must be text in a workbook: a number cell loses leading
# zeros and digits beyond 15, a date cell is not a code at all
TEXT_ONLY = ("credential_no", "recipient_phone")

# The stored columns of one valid row, in this order (see ManifestRow).
RECORD_FIELDS = (
    "credential_no", "credential_type", "holder_name", "organization", "recipient_name",
    "recipient_phone", "phone_last4", "province", "city", "district", "address", "postcode",
    "route", "contact_problem", "recipient_phone_e164",
)
# Fields compared when a credential number is already in the database.
COMPARED_FIELDS = tuple(f for f in RECORD_FIELDS if f not in ("contact_problem", "recipient_phone_e164"))

# Limits of what a file may unpack to (issue: a 0.65 MB workbook whose shared
# strings unpack to 224 MB grew a worker by 737 MB).
MAX_XLSX_MEMBER = 1 << 30  # one part of the workbook, unpacked
MAX_SHARED_STRINGS = 128 << 20  # openpyxl keeps every distinct text in memory
MAX_RATIO = 100  # unpacked / packed, for parts over 8 MB: real sheets pack about 10:1

# The row-error messages (English; shown through gettext by key, see
# recipient.MESSAGES for the recipient fields).
MESSAGES = {
    **RECIPIENT_MESSAGES,
    "bad_credential_no": N_("is not a credential number (it reads as a {kind} code)"),
    "bad_code_chars": N_("holds characters a barcode cannot carry (only ASCII letters, digits and punctuation, no blanks)"),
    "duplicate_in_file": N_("appears twice in the file (first in row {first})"),
    "bad_type": N_("is not a known credential type ({known})"),
    "number_cell": N_("is a number cell in Excel, which drops leading zeros and digits after the 15th: "
                      "format the column as Text (设置单元格格式 → 文本) and type the value again"),
    "date_cell": N_("is a date cell in Excel: format the column as Text (设置单元格格式 → 文本) "
                    "and type the value again"),
    "excel_rewritten": N_("reads as a number or date Excel rewrote (1.23457E+15, 2026/3/15): format the column "
                          "as Text (设置单元格格式 → 文本), type the value again and save the file again"),
    **WARNINGS,
}
# file errors
FILE_MESSAGES = {
    "not_text": N_("the file is neither UTF-8 nor GB18030/GBK text (undecodable byte near offset {offset}); "
                   "save it as CSV UTF-8 or XLSX"),
    "other_encoding": N_("the file looks like {encoding} text, not UTF-8 or GB18030/GBK: its Chinese would be "
                         "read wrongly; save it as CSV UTF-8 (Excel: 另存为 → CSV UTF-8) or XLSX"),
    "ambiguous_encoding": N_("cannot tell whether the file is GB18030/GBK or {encoding} text: its Chinese could "
                             "be read wrongly; save it as CSV UTF-8 (Excel: 另存为 → CSV UTF-8) or XLSX"),
    "two_columns": N_("the columns {first} and {second} are both {field}: keep one of them"),
    "missing_columns": N_("missing required column(s): {names}; the header row has: {header}"),
    "empty": N_("the file is empty: no header row"),
    "bad_workbook": N_("cannot read the workbook: {reason}"),
    "zip_bomb": N_("the workbook part {part} unpacks to {size} MB from {packed} MB: refused "
                   "(a workbook that large is not a manifest; save the manifest as CSV UTF-8)"),
    "too_many_texts": N_("the workbook holds {size} MB of distinct texts, more than {limit} MB: "
                         "save a manifest this large as CSV UTF-8"),
}


class ManifestError(Exception):
    """The file cannot be read as a manifest at all (one clear message)."""

    def __init__(self, key: str, **params: str | int | float | list[str]):
        # a key of FILE_MESSAGES (translated where shown), or a plain message;
        # `fields` (a list) names the manifest fields the message is about
        self.key: str | None
        self.params: dict[str, str | int | float | list[str]]
        self.key, self.params = (key, params) if key in FILE_MESSAGES else (None, {})
        super().__init__(FILE_MESSAGES[key].format(**params) if self.key else key)

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    key: str
    params: dict[str, str | int | float] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.key].format(**self.params)

    def __str__(self) -> str:
        return f"row {self.row}, {self.column} {self.value!r}: {self.message}"


def _norm_header(h: str) -> str:
    s = clean_text(h).replace("\ufeff", "")
    if not s.isascii():
        s = _to_simplified(s)
    return re.sub(r"\s+", "", s).lower()


_HEADER_LOOKUP = {re.sub(r"\s+", "", a).lower(): f for f, aliases in HEADERS.items() for a in aliases}


def _column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def map_columns(header: list[str], hidden: frozenset[int] = frozenset()) -> dict[str, int]:
    """field → column index. Unknown and hidden columns are ignored; two
    columns for one field, or a missing required column, raise ManifestError."""
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        if i in hidden:
            continue
        f = _HEADER_LOOKUP.get(_norm_header(str(h) if h is not None else ""))
        if f is None:
            continue
        if f in cols:
            j = cols[f]
            raise ManifestError("two_columns", first=f"{header[j]} ({_column_letter(j)})",
                                second=f"{h} ({_column_letter(i)})", field=f)
        cols[f] = i
    missing = [f for f in REQUIRED if f not in cols]
    if missing:
        names = ", ".join(f"{f} ({HEADERS[f][1]})" for f in missing)
        raise ManifestError("missing_columns", names=names,
                            header=", ".join(str(h) for h in header if h not in (None, "")), fields=missing)
    return cols


# ---- encodings -------------------------------------------------------------------

_GB_FAMILY = {"gb18030", "gbk", "gb2312", "hz", "cp936"}
_ENCODING_NAMES = {
    "big5": "Big5 (Traditional Chinese)", "big5hkscs": "Big5-HKSCS (Traditional Chinese)",
    "cp950": "Big5 (Traditional Chinese)", "shift_jis": "Shift-JIS (Japanese)", "cp932": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)", "euc_jis_2004": "EUC-JP (Japanese)", "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR (Korean)", "johab": "Johab (Korean)",
}
_SAMPLE = 1 << 20


def _looks_like(sample: bytes) -> str:
    """What charset-normalizer takes the bytes for, as a person's name."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return "binary (not text)"
    enc = best.encoding.lower().replace("-", "_")
    return _ENCODING_NAMES.get(enc) or enc.replace("_", "-").upper()


# the encodings a file read as GB18030 may really be in, as Python names them
_RIVALS = ("big5", "cp949", "shift_jis", "euc_jp")
_RIVAL_NAMES = {"big5": "big5", "cp950": "big5", "cp949": "cp949", "euc_kr": "cp949",
                "shift_jis": "shift_jis", "cp932": "shift_jis", "euc_jp": "euc_jp", "euc_jis_2004": "euc_jp"}
# charset-normalizer's mess ratios closer than this are a tie
_CHAOS_TIE = 0.01


def _ideograph(o: int) -> bool:
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF


def _junk(ch: str, enc: str) -> bool:
    """Is ch something everyday text in `enc` is not made of? Text in one
    encoding read as another comes out as rare ideographs, kana, Hangul,
    box drawing or private-use characters. Letters (Latin, Greek, Cyrillic)
    and symbols count for no reading. GB18030: ideographs outside GB2312;
    Big5: outside its common and less common sets; EUC-KR: Hangul and
    hanja outside KS X 1001; Shift-JIS: kanji outside JIS levels 1 and 2."""
    o = ord(ch)
    kana, hangul = 0x3040 <= o <= 0x30FF, 0xAC00 <= o <= 0xD7A3
    if 0x2500 <= o <= 0x257F or 0xE000 <= o <= 0xF8FF or o == 0xFFFD:
        return True
    try:
        if enc == "gb18030":
            return kana or hangul or (_ideograph(o) and not _encodes(ch, "gb2312"))
        if enc == "big5":
            return kana or hangul or (_ideograph(o) and not 0xA440 <= int.from_bytes(ch.encode("big5"), "big") <= 0xF9D5)
        if enc == "cp949":
            return kana or ((hangul or _ideograph(o)) and not _encodes(ch, "euc_kr"))
        if enc == "shift_jis":
            return hangul or (_ideograph(o) and not 0x889F <= int.from_bytes(ch.encode("shift_jis"), "big") <= 0xEAA4)
        if enc == "euc_jp":
            return hangul or (_ideograph(o) and not 0xB0A1 <= int.from_bytes(ch.encode("euc_jp"), "big") <= 0xF4A6)
    except UnicodeEncodeError:
        return True
    return False


def _encodes(ch: str, enc: str) -> bool:
    try:
        ch.encode(enc)
    except UnicodeEncodeError:
        return False
    return True


def _native(ch: str, enc: str) -> bool:
    """Is ch among the characters everyday text in `enc` is mostly made of?
    GB18030: GB2312's 3,755 level-1 hanzi; Big5: its 5,401 common
    characters; EUC-KR: KS X 1001 Hangul; Shift-JIS: kana and JIS level-1
    kanji. CJK punctuation in all of them."""
    o = ord(ch)
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
        return True
    try:
        if enc == "gb18030":
            return 0xB0 <= ch.encode("gb2312")[0] <= 0xD7
        if enc == "big5":
            return 0xA440 <= int.from_bytes(ch.encode("big5"), "big") <= 0xC67E
        if enc == "cp949":
            return 0xAC00 <= o <= 0xD7A3 and 0xB0 <= ch.encode("euc_kr")[0] <= 0xC8
        if enc == "shift_jis":
            return 0x3040 <= o <= 0x30FF or 0x889F <= int.from_bytes(ch.encode("shift_jis"), "big") <= 0x9872
        if enc == "euc_jp":
            return 0x3040 <= o <= 0x30FF or 0xB0A1 <= int.from_bytes(ch.encode("euc_jp"), "big") <= 0xCFD3
    except UnicodeEncodeError:
        return False
    return False


def _score(text: str, enc: str) -> tuple[float, float]:
    """(share of junk, share not everyday) of a reading's non-ASCII
    characters: the lower, the likelier the reading."""
    chars = [ch for ch in text if ord(ch) >= 0x80]
    if not chars:
        return 0.0, 0.0
    return (sum(_junk(ch, enc) for ch in chars) / len(chars),
            sum(not _native(ch, enc) for ch in chars) / len(chars))


def _gb_rival(sample: bytes) -> tuple[str, bool] | None:
    """Bytes that decode as GB18030 may be Big5, EUC-KR or Shift-JIS text
    (their byte ranges overlap). None when the GB18030 reading is the one to
    take; else (the encoding it more likely is, whether that is only a tie).

    The reading with less junk in it wins (`_junk`: Big5 read as GB18030
    comes out as rare hanzi, kana and box drawing), then the one with more
    everyday characters (`_native`). Where two readings are equally clean
    and everyday (Korean Hangul bytes are GB2312 level-1 hanzi),
    charset-normalizer's mess ratio decides, and a tie there too is a tie.
    A GB18030 reading that is mostly junk with no rival reading is named as
    what charset-normalizer takes it for."""
    from charset_normalizer import from_bytes

    cut = sample[: sample.rfind(b"\n") + 1] or sample  # whole lines: no character cut in two
    gb_text = cut.decode("gb18030", errors="replace")
    gb_junk = _score(gb_text, "gb18030")
    junk: dict[str, tuple[float, float]] = {}
    for enc in _RIVALS:
        try:
            junk[enc] = _score(cut.decode(enc), enc)
        except UnicodeDecodeError:
            continue
    if not junk:
        if gb_junk[0] > 0.5 and sum(ord(ch) >= 0x80 for ch in gb_text) >= 4:
            looks = _looks_like(sample)
            return (looks, False) if looks.split(" ")[0].lower() not in _GB_FAMILY else None
        return None
    cleanest = min(junk, key=junk.__getitem__)
    if junk[cleanest] < gb_junk:
        return cleanest, False
    tied = [e for e, share in junk.items() if share == gb_junk]
    if not tied:
        return None
    chaos = {"gb18030": 1.0, **dict.fromkeys(tied, 1.0)}
    for match in from_bytes(cut, cp_isolation=["gb18030", *tied]):
        seen = "gb18030" if match.encoding == "gb18030" else _RIVAL_NAMES.get(match.encoding)
        if seen in chaos:
            chaos[seen] = min(chaos[seen], match.chaos)
    rival = min(tied, key=chaos.__getitem__)
    if chaos[rival] < chaos["gb18030"] - _CHAOS_TIE:
        return rival, False
    if chaos["gb18030"] < chaos[rival] - _CHAOS_TIE:
        return None
    return rival, True


# 7-bit encodings: their text is ASCII bytes with escape sequences or HZ's ~{ ~}
_ISO2022 = ((b"\x1b$)C", "ISO-2022-KR (Korean)"), (b"\x1b$)A", "ISO-2022-CN (Chinese)"),
            (b"\x1b$A", "ISO-2022-CN (Chinese)"), (b"\x1b$B", "ISO-2022-JP (Japanese)"),
            (b"\x1b$@", "ISO-2022-JP (Japanese)"), (b"\x1b(J", "ISO-2022-JP (Japanese)"))
_HZ = re.compile(rb"~\{(?:[\x21-\x77][\x21-\x7e])+~\}")


def _seven_bit_encoding(sample: bytes) -> str | None:
    """The name of the 7-bit encoding `sample` is in (ISO-2022-JP/KR/CN,
    HZ), or None. Their bytes are ASCII and would be stored as escape codes."""
    if b"\x1b" in sample:
        return next((name for seq, name in _ISO2022 if seq in sample), "ISO-2022")
    if _HZ.search(sample):
        return "HZ (Chinese)"
    return None


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """`utf-8-sig` (BOM), `utf-16` (BOM, Excel's "Unicode text"), `utf-8`,
    or `gb18030` (a superset of GBK); the whole file is checked. A file in
    another encoding (Big5, Shift-JIS, EUC-KR…) raises ManifestError naming
    the encoding charset-normalizer takes it for: decoding it as GB18030
    would store mojibake."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        seven_bit = _seven_bit_encoding(f.read(_SAMPLE))
        if seven_bit:  # ASCII bytes, so valid UTF-8, but escape-coded Japanese, Korean or Chinese
            raise ManifestError("other_encoding", encoding=seven_bit)
        f.seek(0)
        dec: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while True:
                block = f.read(chunk)
                if not block:
                    dec.decode(b"", final=True)
                    return "utf-8"
                dec.decode(block)
        except UnicodeDecodeError:
            pass
    with open(path, "rb") as f:
        sample = f.read(_SAMPLE)
    with open(path, "rb") as f:
        dec = codecs.getincrementaldecoder("gb18030")()
        offset = 0
        try:
            while True:
                block = f.read(chunk)
                if not block:
                    dec.decode(b"", final=True)
                    break
                dec.decode(block)
                offset += len(block)
        except UnicodeDecodeError as exc:
            looks = _looks_like(sample)
            if looks.split(" ")[0].lower() in _GB_FAMILY or looks.startswith("binary"):
                raise ManifestError("not_text", offset=offset + exc.start) from None
            raise ManifestError("other_encoding", encoding=looks) from None
    rival = _gb_rival(sample)
    if rival:
        name = _ENCODING_NAMES.get(rival[0], rival[0])
        raise ManifestError("ambiguous_encoding" if rival[1] else "other_encoding", encoding=name)
    return "gb18030"


# ---- cells -----------------------------------------------------------------------

class CellKind(str):
    """The text of a workbook cell that was not a text cell (`kind`: number
    or date): some fields refuse those."""

    kind: str = "number"

    def __new__(cls, text: str, kind: str) -> CellKind:
        obj = super().__new__(cls, text)
        obj.kind = kind
        return obj


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return CellKind(str(value).upper(), "number")
    if isinstance(value, (datetime, date, time)):
        return CellKind(value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat(), "date")
    if isinstance(value, float) and value.is_integer():
        return CellKind(str(int(value)), "number")
    return CellKind(str(value), "number")


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose parts unpack to far more than a manifest needs."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ManifestError("bad_workbook", reason=str(exc)) from None
    for info in infos:
        big = info.file_size > 8 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        if info.file_size > MAX_XLSX_MEMBER or big:
            raise ManifestError("zip_bomb", part=info.filename, size=info.file_size >> 20,
                                packed=round(info.compress_size / (1 << 20), 2))
        if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > MAX_SHARED_STRINGS:
            raise ManifestError("too_many_texts", size=info.file_size >> 20, limit=MAX_SHARED_STRINGS >> 20)


def _hidden_columns(path: Path, sheet_path: str) -> frozenset[int]:
    """0-based indexes of the columns the first sheet hides (<cols> comes
    before the rows, so only the start of the sheet is read)."""
    hidden: set[int] = set()
    with zipfile.ZipFile(path) as zf:
        with zf.open(sheet_path.lstrip("/")) as f:
            for _event, el in iterparse(f, events=("start",)):
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "col" and el.get("hidden") in ("1", "true"):
                    lo, hi = int(el.get("min", "1")), int(el.get("max", "1"))
                    hidden.update(range(lo - 1, min(hi, 16384)))
                elif tag == "sheetData":
                    break
    return frozenset(hidden)


class Manifest:
    """An open manifest: `columns`, `estimated_rows`, and `rows()` yielding
    (row number, list of cell texts)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.kind = "xlsx" if self.path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
        self.encoding: str | None = None
        self.hidden: frozenset[int] = frozenset()
        self._wb: Workbook | None = None
        self._fh: TextIO | None = None
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
            raise ManifestError("empty")
        self.columns = map_columns(header)
        # an estimate for progress: lines in the file less the header
        with open(self.path, "rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
        self.estimated_rows = max(lines - 1, 0)

    def _open_xlsx(self) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        _check_zip(self.path)
        try:
            self._wb = load_workbook(self.path, read_only=True, data_only=True)
            # the first sheet a person sees: a hidden (stale) sheet before it is not the manifest
            visible = [w for w in self._wb.worksheets if getattr(w, "sheet_state", "visible") == "visible"]
            ws = (visible or self._wb.worksheets)[0]
            self.hidden = _hidden_columns(self.path, ws._worksheet_path)
        except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ManifestError("bad_workbook", reason=str(exc)) from None
        self._rows_iter = ws.iter_rows(values_only=True)
        header = next(self._rows_iter, None)
        if header is None:
            raise ManifestError("empty")
        self.columns = map_columns(list(header), self.hidden)
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

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def warm_up() -> float:
    """Load what checking rows needs once per process (division data, phone
    metadata, label-font coverage); returns the seconds it took. Otherwise
    the first import of a process loads them (about 0.3 s)."""
    import time as _time

    from ..printing.fonts import missing_chars
    from .recipient import parse_phone
    from .regions import _data

    t0 = _time.perf_counter()
    _data()
    parse_phone("13812345678")
    parse_phone("021-68881234")
    missing_chars("王")
    return _time.perf_counter() - t0


# what Excel makes of a long number or a date-like code before it is saved as CSV
_EXCEL_REWRITTEN = re.compile(r"^(?:\d(?:\.\d+)?E\+?\d+|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?: \d\d?:\d\d(?::\d\d)?)?"
                              r"|\d{1,2}/\d{1,2}/\d{2,4})$", re.IGNORECASE)


class Validator:
    """Checks rows one at a time. `types` maps every accepted spelling of a
    credential type (code, Chinese name, English name) to its code.

    After each `check`, `warnings` holds the row's warnings (the row is
    imported): names the label fonts cannot print."""

    def __init__(self, types: dict[str, str], columns: dict[str, int], *,
                 missing_chars: Callable[[str], set[str]] | None = None):
        self.types = {k.strip().lower(): v for k, v in types.items()}
        self.known_types = ", ".join(sorted(set(types.values())))
        self.columns = columns
        self._idx = tuple(columns.get(f, -1) for f in FIELDS)
        self._width = max(columns.values()) + 1
        self.seen: dict[str, int] = {}  # credential_no → first row
        self.warnings: list[RowError] = []
        if missing_chars is None:
            # a name bound by import is not narrowed by mypy: bind it by assignment
            from ..printing.fonts import missing_chars as fonts_missing_chars
            missing_chars = fonts_missing_chars
        self._missing_chars = missing_chars
        # characters already asked about (a manifest reuses a few thousand)
        self._printable: set[str] = set()
        self._unprintable_chars: set[str] = set()

    def _unprintable(self, text: str) -> str:
        """The characters of `text` the label fonts cannot print, sorted."""
        if not text or text.isascii():
            return ""
        chars = set(text)
        new = chars - self._printable - self._unprintable_chars
        if new:
            missing = self._missing_chars("".join(new))
            self._unprintable_chars |= missing
            self._printable |= new - missing
        return "".join(sorted(chars & self._unprintable_chars))

    def check(self, rownum: int, cells: list[str]) -> tuple[tuple[str | None, ...] | None, list[RowError]]:
        """(record in RECORD_FIELDS order, []) for a valid row, else (None, errors)."""
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        errors: list[RowError] = []
        self.warnings = []
        v = dict(zip(FIELDS, [cells[i] if i >= 0 else "" for i in self._idx]))
        for f in TEXT_ONLY:
            cell = v[f]
            if isinstance(cell, CellKind):
                errors.append(RowError(rownum, f, str(cell), "date_cell" if cell.kind == "date" else "number_cell"))
                v[f] = ""
        no = normalize_code(v["credential_no"])
        if not no:
            if not any(e.column == "credential_no" for e in errors):
                errors.append(RowError(rownum, "credential_no", "", "required"))
        elif len(no) > MAX_LEN["credential_no"]:
            errors.append(RowError(rownum, "credential_no", no, "too_long", {"max": MAX_LEN["credential_no"]}))
        elif _EXCEL_REWRITTEN.match(no):
            errors.append(RowError(rownum, "credential_no", v["credential_no"], "excel_rewritten"))
        elif not is_code_text(no):
            errors.append(RowError(rownum, "credential_no", v["credential_no"], "bad_code_chars"))
        else:
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
        raw_type = clean_text(v["credential_type"])
        if not raw_type:
            errors.append(RowError(rownum, "credential_type", "", "required"))
        else:
            ctype = self.types.get(raw_type.lower())
            if ctype is None:
                errors.append(RowError(rownum, "credential_type", raw_type, "bad_type", {"known": self.known_types}))
        copied = not v["recipient_name"]
        if copied:
            v["recipient_name"] = v["holder_name"]
        had_phone_error = any(e.column == "recipient_phone" for e in errors)
        rec, problems = check_recipient(
            v, fields=("holder_name", "organization", "recipient_name", "recipient_phone", "province", "city",
                       "district", "address", "postcode"),
            required=("holder_name", "address") if had_phone_error else ("holder_name", "recipient_phone", "address"))
        if had_phone_error:
            problems = [p for p in problems if p.field != "recipient_phone"]
        if copied:  # the holder's name stands for the recipient's: one error, on the holder's
            problems = [p for p in problems if p.field != "recipient_name"]
        errors.extend(RowError(rownum, p.field, p.value, p.key, p.params) for p in problems)
        if errors:
            errors.sort(key=lambda e: FIELDS.index(e.column) if e.column in FIELDS else 99)
            return None, errors

        values, phone = rec.values, rec.phone
        assert phone is not None  # recipient_phone is required: a row without errors has one
        for f in ("recipient_name", "holder_name", "organization", "address"):
            chars = self._unprintable(values[f])
            if chars:
                self.warnings.append(RowError(rownum, f, values[f], "unprintable", {"chars": chars}))
        contact = []
        if phone.landline:
            contact.append("landline only: no text messages")
        if address_incomplete(values["address"]):
            contact.append("address may be incomplete")
        record = (
            no, ctype, values["holder_name"], values["organization"], values["recipient_name"],
            phone.display, phone.last4, values["province"], values["city"], values["district"],
            values["address"], values["postcode"], rec.route, "; ".join(contact) or None, phone.e164,
        )
        return record, []
