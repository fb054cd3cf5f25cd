"""Formats of the codes that get scanned.

* Waybill, international style: UPU S10 — two letters, an 8-digit serial, a
  check digit and a two-letter country code (EMS uses ``E?``).
* Waybill, domestic EMS: 13 digits.
* Bag, trip and seal codes issued by this system: ``BAG-`` / ``TRIP-`` /
  ``SEAL-`` followed by digits (documented in docs/CODES.md).
* Anything else is taken as an organizer's credential number.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# ASCII only: `\d` alone would also match full-width and other scripts' digits
_S10 = re.compile(r"^([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})$", re.ASCII)
_S10_LOOSE = re.compile(r"^[A-Z]{2}[0-9]{9}[A-Z]{2}$", re.ASCII)
_DOMESTIC = re.compile(r"^[0-9]{13}$", re.ASCII)
_BAG = re.compile(r"^BAG-[0-9]{6,}$", re.ASCII)
_TRIP = re.compile(r"^TRIP-[0-9]{6,}$", re.ASCII)
_SEAL = re.compile(r"^SEAL-[0-9]{6,}$", re.ASCII)
_SERIAL = re.compile(r"^[0-9]{8}$", re.ASCII)
# a cell a spreadsheet was told to keep as text: ="000123" (also with full-width quotes before NFKC)
_FORMULA_TEXT = re.compile(r'^=\s*"(.*)"$', re.S)
# characters that are invisible or only ever get in by copy and paste
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"
                                   "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


class CodeKind(StrEnum):
    waybill = "waybill"
    credential = "credential"
    bag = "bag"
    trip = "trip"
    seal = "seal"
    invalid_waybill = "invalid_waybill"


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    if not _SERIAL.match(serial):
        raise ValueError(f"S10 serial must be 8 digits, got {serial!r}")
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS))
    c = 11 - (total % 11)
    if c == 10:
        return 0
    if c == 11:
        return 5
    return c


def is_valid_s10(code: str) -> bool:
    """True when `code` is a well-formed S10 number with a correct check digit."""
    m = _S10.match(code)
    return m is not None and s10_check_digit(m.group(2)) == int(m.group(3))


def make_s10(prefix: str, serial: int, country: str = "CN") -> str:
    """Build the S10 number for a serial (0 ≤ serial < 10^8)."""
    if not (0 <= serial < 100_000_000):
        raise ValueError(f"S10 serial out of range: {serial}")
    if not re.fullmatch(r"[A-Z]{2}", prefix) or not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError("S10 prefix and country must be two capital letters")
    s = f"{serial:08d}"
    return f"{prefix}{s}{s10_check_digit(s)}{country}"


def is_domestic_waybill(code: str) -> bool:
    """True for a 13-digit domestic EMS waybill number."""
    return bool(_DOMESTIC.match(code))


def normalize_code(raw: str) -> str:
    """The one normalisation of every typed or scanned code (waybill,
    credential, bag, trip, seal), wherever it comes from: a scanner, a
    keyboard, a manifest cell.

    Unicode NFKC (full-width `ＥＥ８７６…` → `EE876…`), invisible characters
    removed (zero-width space, BOM, direction marks), the spreadsheet's
    text wrappers stripped (`="000123"`, a leading `'`), surrounding blanks
    removed, S10 letters upper-cased. What remains is compared with ASCII-only
    patterns, so a code that is still not ASCII is never taken for a
    waybill (`is_code_text` tells)."""
    code = raw or ""
    if not code.isascii():
        code = unicodedata.normalize("NFKC", code).translate(_INVISIBLE)
    code = code.strip()
    m = _FORMULA_TEXT.match(code)
    if m:
        code = m.group(1).strip()
    if code.startswith("'"):
        code = code[1:].strip()
    if _S10_LOOSE.match(code.upper()):
        return code.upper()
    return code


def is_code_text(code: str) -> bool:
    """True when a normalised code is printable ASCII without blanks: what a
    barcode can carry and a scanner can type back."""
    return code.isascii() and code.isprintable() and " " not in code and bool(code)


@dataclass(frozen=True)
class Classified:
    kind: CodeKind
    code: str


def classify(raw: str) -> Classified:
    """Tell what a scanned code is. An S10-shaped code with a wrong check
    digit is `invalid_waybill`, never a credential number."""
    code = normalize_code(raw)
    if _S10_LOOSE.match(code):
        return Classified(CodeKind.waybill if is_valid_s10(code) else CodeKind.invalid_waybill, code)
    if _DOMESTIC.match(code):
        return Classified(CodeKind.waybill, code)
    upper = code.upper()
    if _BAG.match(upper):
        return Classified(CodeKind.bag, upper)
    if _TRIP.match(upper):
        return Classified(CodeKind.trip, upper)
    if _SEAL.match(upper):
        return Classified(CodeKind.seal, upper)
    return Classified(CodeKind.credential, code)


def is_waybill(code: str) -> bool:
    """A valid waybill number of either format."""
    return is_valid_s10(code) or is_domestic_waybill(code)


def bag_code(n: int) -> str:
    return f"BAG-{n:06d}"


def trip_code(n: int) -> str:
    return f"TRIP-{n:06d}"


def next_free_s10(prefix: str, country: str, next_serial: int, last_serial: int,
                  is_taken: Callable[[str], bool]) -> tuple[str | None, int]:
    """The one waybill allocation rule: the first S10 number from
    `next_serial` to `last_serial` that `is_taken` does not report as bound
    already (a pre-printed label may carry it), and the range's next serial
    after it. (None, last + 1) when the range is used up."""
    serial = next_serial
    while serial <= last_serial:
        number = make_s10(prefix, serial, country)
        serial += 1
        if not is_taken(number):
            return number, serial
    return None, serial


@dataclass
class S10Range:
    """A configured block of S10 serials for allocation at capture."""

    prefix: str
    first: int
    last: int
    next: int
    country: str = "CN"

    def allocate(self, is_taken: Callable[[str], bool] = lambda number: False) -> str:
        """The next free number of the range; raises when it is used up."""
        number, self.next = next_free_s10(self.prefix, self.country, self.next, self.last, is_taken)
        if number is None:
            raise RangeExhausted(f"S10 range {self.prefix}{self.first:08d}-{self.last:08d} is used up")
        return number


class RangeExhausted(Exception):
    pass
