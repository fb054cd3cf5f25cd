"""Recipient data: the one rule for names, phone numbers, addresses and
postcodes, used by the manifest import, the capture station's corrections
and the desk's change of address (no Flask, no database).

Everything a person typed or a file carried is cleaned the same way first
(Unicode NFKC, so that full-width digits and letters become ASCII; zero-width
characters and controls removed; runs of blanks made one space), then
checked. What cannot be read with certainty is refused with a `FieldError`
that names the field, the value and the rule — never guessed.

Phones go through `phonenumbers` (Google's libphonenumber): mainland numbers
by default (region CN), foreign ones with their country code; unallocated
ranges and service numbers are refused. Addresses are placed by
`domain.regions.place`.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from .regions import PlaceError, Placement, place


def N_(message: str) -> str:
    """Mark a message for translation; it is translated where it is shown."""
    return message


# the longest text each field may hold (the database columns)
MAX_LEN = {
    "credential_no": 64, "holder_name": 100, "organization": 200, "recipient_name": 100,
    "recipient_phone": 20, "province": 32, "city": 64, "district": 64, "address": 500, "postcode": 6,
}
NAME_FIELDS = ("holder_name", "recipient_name")
ADDRESS_FIELDS = ("province", "city", "district", "address")
RECIPIENT_FIELDS = ("recipient_name", "recipient_phone", "province", "city", "district", "address", "postcode")

# Error texts by key (English; shown through gettext, whose catalogue has the
# Chinese). `{…}` are filled from FieldError.params.
MESSAGES = {
    "required": N_("is required"),
    "too_long": N_("is longer than {max} characters"),
    "lost_chars": N_("contains “?” or “�”: characters were lost when the file was saved; "
                     "type the name again or save the file as UTF-8"),
    "bad_phone": N_("is not a phone number: a mainland mobile (11 digits), a landline with its area code, "
                    "or a foreign number with + and its country code"),
    "bad_phone_chars": N_("holds something other than one phone number (only digits, spaces, + - ( ) and "
                          "an extension such as 转123 are read)"),
    "phone_unallocated": N_("is not an allocated phone number range"),
    "phone_service": N_("is a service or premium-rate number, not the recipient's phone"),
    "bad_postcode": N_("must be 6 digits"),
    "bad_province": N_("is not a province, municipality or region of China"),
    "bad_city": N_("is not a city of {province}"),
    "bad_district": N_("is not a district or county of {province}"),
    "district_needed": N_("is needed in {province} to choose the local route: the district column is empty "
                          "and the address does not name a district"),
    "no_province": N_("is empty, and the address does not name a province"),
    "contradiction": N_("names {found}, but {other_field} says {other}"),
    "ambiguous": N_("can be {options}: write the province or the city too"),
}
# row warnings (the row is imported)
WARNINGS = {
    "unprintable": N_("has characters the label fonts cannot print ({chars}): the label will show boxes"),
}


@dataclass(eq=False)
class FieldError(Exception):
    """One field that breaks a rule: `key` is one of MESSAGES."""

    field: str
    value: str
    key: str
    params: dict[str, str | int | float] = dataclasses.field(default_factory=dict)  # `field` above hides field()

    @property
    def message(self) -> str:
        """The English text (translate MESSAGES[key] for people)."""
        return MESSAGES[self.key].format(**self.params)

    def __str__(self) -> str:
        return f"{self.field} {self.value!r}: {self.message}"


# ---- text ---------------------------------------------------------------------

# zero-width and invisible characters that only ever get in by copy and paste
# (ZWJ/ZWNJ are kept: some scripts need them inside names)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))
_BLANKS = re.compile(r"\s+")


def clean_text(raw: object) -> str:
    """Text as stored: NFKC (full-width `１３８` → `138`, `Ａ` → `A`),
    invisible and control characters removed, blanks collapsed, stripped."""
    if raw is None:
        return ""
    s = raw if isinstance(raw, str) else str(raw)
    if s.isascii():
        if s.isprintable() and "  " not in s:
            return s.strip()
    else:
        if not unicodedata.is_normalized("NFKC", s):
            s = unicodedata.normalize("NFKC", s)
        s = s.translate(_INVISIBLE)
    if not s.isprintable():
        s = "".join(c if c.isprintable() else " " for c in s)
    return _BLANKS.sub(" ", s).strip()


def check_length(name: str, value: str) -> None:
    """Raise FieldError when `value` is longer than the field holds."""
    limit = MAX_LEN.get(name)
    if limit is not None and len(value) > limit:
        raise FieldError(name, value, "too_long", {"max": limit})


_LOST_NEXT_TO_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]\?|\?[\u3400-\u9fff\uf900-\ufaff]")


def lost_chars(value: str) -> bool:
    """Were characters lost when the text was saved? U+FFFD anywhere, or a
    `?` beside a Chinese character (`上海?有限公司`, `世纪大道?路`: what a
    character the legacy encoding lacked turns into). A name refuses any `?`."""
    return "\ufffd" in value or bool(_LOST_NEXT_TO_CJK.search(value))


def clean_name(raw: object, name: str = "recipient_name") -> str:
    """A person's name, cleaned. A `?` or U+FFFD in it means the characters
    were lost on the way (`王?` for `王𠮷` saved in a legacy encoding):
    refused."""
    value = clean_text(raw)
    if "?" in value or "\ufffd" in value:
        raise FieldError(name, value, "lost_chars")
    check_length(name, value)
    return value


# ---- phones -------------------------------------------------------------------

@dataclass(frozen=True)
class Phone:
    """A parsed phone number.

    `e164` is the machine form (`+8613812345678`); `display` the form stored
    and shown: mainland numbers as Chinese write them (`13812345678`,
    `021-68881234`), foreign ones internationally (`+852 2123 4567`), an
    extension after `转`. `kind` is mobile, landline, or other (a number that
    may be either, e.g. +1)."""

    e164: str
    display: str
    last4: str
    kind: str
    region: str
    extension: str | None = None

    @property
    def landline(self) -> bool:
        return self.kind == "landline"


_LABEL = re.compile(
    r"^(?:手机号码|手机号|手机|移动电话|联系电话|联系方式|电话号码|电话|座机|固话|"
    r"tel(?:ephone)?|phone|mobile|mob|cell)\s*[:.]?\s*|^[tm]\s*:\s*", re.I)
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"), "-")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", re.I | re.ASCII)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-]+$", re.ASCII)
_PLAIN_MOBILE = re.compile(r"^(?:\+86|0086)?[ \-]*(1[0-9]{2})[ \-]?([0-9]{4})[ \-]?([0-9]{4})$", re.ASCII)
_TYPES = {
    PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "other", PhoneNumberType.VOIP: "other",
    PhoneNumberType.PERSONAL_NUMBER: "other",
}


def parse_phone(raw: object, *, region: str = "CN", name: str = "recipient_phone") -> Phone:
    """The phone number in `raw`, or FieldError. `region` is where a number
    without a country code is dialled (CN; HK, MO or TW for rows addressed
    there)."""
    text = clean_text(raw).translate(_DASHES)
    if not text:
        raise FieldError(name, "", "required")
    s = _LABEL.sub("", text)
    ext = None
    m = _EXTENSION.search(s)
    if m and m.start() > 0:
        ext, s = m.group(1), s[:m.start()]
    s = s.strip()
    if not _PHONE_CHARS.match(s):
        raise FieldError(name, text, "bad_phone_chars")
    m = _PLAIN_MOBILE.match(s)
    try:
        if m and region == "CN":
            # what parse() makes of it, without its general machinery (the
            # import's hot path: most numbers come like this)
            number = phonenumbers.PhoneNumber(country_code=86, national_number=int("".join(m.groups())))
        else:
            number = phonenumbers.parse(s, region)
        ntype = phonenumbers.number_type(number)  # UNKNOWN for an invalid number
        if region != "CN" and ntype == PhoneNumberType.UNKNOWN:
            # a mainland number given for an item sent to Hong Kong, Macao or
            # Taiwan: 11 digits from 1[3-9] can be no local number there
            mainland = phonenumbers.parse(s, "CN")
            if phonenumbers.number_type(mainland) != PhoneNumberType.UNKNOWN:
                number, ntype = mainland, phonenumbers.number_type(mainland)
    except phonenumbers.NumberParseException:
        raise FieldError(name, text, "bad_phone") from None
    if ntype == PhoneNumberType.UNKNOWN:
        # a whole number (mainland: 10–11 digits with the area code), not a
        # short code or a local number without its area code
        full = len(phonenumbers.national_significant_number(number)) >= (10 if number.country_code == 86 else 8)
        key = "phone_unallocated" if full and phonenumbers.is_possible_number(number) else "bad_phone"
        raise FieldError(name, text, key)
    kind = _TYPES.get(ntype)
    if kind is None:
        raise FieldError(name, text, "phone_service")
    where = phonenumbers.region_code_for_number(number) or region
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == 86:
        area = phonenumbers.length_of_geographical_area_code(number) if kind == "landline" else 0
        display = f"0{nsn[:area]}-{nsn[area:]}" if area else nsn
    else:
        display = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if ext:
        display += f"转{ext}"
    check_length(name, display)
    return Phone(e164=phonenumbers.format_number(number, PhoneNumberFormat.E164), display=display,
                 last4=nsn[-4:], kind=kind, region=where, extension=ext)


def phone_region(province: str | None) -> str:
    """Where a number without country code is dialled for an item addressed
    to `province` (full name): Hong Kong, Macao, Taiwan, else the mainland."""
    return {"香港特别行政区": "HK", "澳门特别行政区": "MO", "台湾省": "TW"}.get(province or "", "CN")


# ---- postcode -----------------------------------------------------------------

_POSTCODE = re.compile(r"^[0-9]{6}$", re.ASCII)


def clean_postcode(raw: object, name: str = "postcode") -> str:
    """Six ASCII digits after cleaning, or empty; else FieldError."""
    value = clean_text(raw).replace(" ", "")
    if value and not _POSTCODE.match(value):
        raise FieldError(name, value, "bad_postcode")
    return value


# ---- the recipient as a whole -----------------------------------------------

@dataclass
class Recipient:
    """Cleaned recipient data: every field as stored, plus what was derived."""

    values: dict[str, str]
    phone: Phone | None = None
    placement: Placement | None = None

    @property
    def route(self) -> str | None:
        return self.placement.route if self.placement else None


# a house number, lane, room, floor, building, block or village group
_ADDRESS_NUMBER = re.compile(r"[0-9０-９号弄室楼栋幢座组]")
MIN_ADDRESS_CHARS = 8


def address_incomplete(address: str | None) -> bool:
    """An address a courier may not find: shorter than MIN_ADDRESS_CHARS
    characters or with no house number (号, 弄, 室, 楼, a digit…). Flagged,
    never refused: the import notes it on the item (contact_problem, which
    the outreach queue calls about), the capture screen marks the field."""
    text = (address or "").strip()
    return bool(text) and (len(text) < MIN_ADDRESS_CHARS or not _ADDRESS_NUMBER.search(text))


def check_recipient(values: Mapping[str, str | None], *, fields: tuple[str, ...] | None = None,
                    required: tuple[str, ...] = ()) -> tuple[Recipient, list[FieldError]]:
    """Clean and check recipient data.

    `values` holds the texts by field name (missing = empty). `fields` are the
    ones to check (default: every field present in `values`); the address is
    placed from province, city, district and address together whenever one of
    them is checked, so a change of district is checked against the stored
    province. Returns the cleaned values (with province, city and district as
    the division data names them) and every error found."""
    names = tuple(values) if fields is None else fields
    errors: list[FieldError] = []
    out: dict[str, str] = {}
    rec = Recipient(out)
    for name in names:
        if name in ADDRESS_FIELDS or name == "recipient_phone":
            continue
        try:
            if name in NAME_FIELDS:
                value = clean_name(values.get(name), name)
            elif name == "postcode":
                value = clean_postcode(values.get(name))
            else:
                value = clean_text(values.get(name))
                check_length(name, value)
                if name == "organization" and lost_chars(value):
                    raise FieldError(name, value, "lost_chars")
            if not value and name in required:
                raise FieldError(name, "", "required")
            out[name] = value
        except FieldError as e:
            errors.append(e)
    if any(n in ADDRESS_FIELDS for n in names):
        parts = {n: clean_text(values.get(n)) for n in ADDRESS_FIELDS}
        bad = False
        for n in ADDRESS_FIELDS:
            if not parts[n] and n in required:
                errors.append(FieldError(n, "", "required"))
                bad = True
            elif len(parts[n]) > MAX_LEN[n]:
                errors.append(FieldError(n, parts[n], "too_long", {"max": MAX_LEN[n]}))
                bad = True
        if lost_chars(parts["address"]):
            errors.append(FieldError("address", parts["address"], "lost_chars"))
            bad = True
        if not bad:
            try:
                rec.placement = place(parts["province"], parts["city"], parts["district"], parts["address"])
            except PlaceError as e:
                errors.append(FieldError(e.field, e.value, e.key, e.params))
            else:
                parts.update(province=rec.placement.province, city=rec.placement.city,
                             district=rec.placement.district)
        out.update(parts)
    if "recipient_phone" in names:
        raw = values.get("recipient_phone")
        if not clean_text(raw):
            if "recipient_phone" in required:
                errors.append(FieldError("recipient_phone", "", "required"))
            out["recipient_phone"] = ""
        else:
            province = rec.placement.province if rec.placement else values.get("province")
            try:
                rec.phone = parse_phone(raw, region=phone_region(province))
                out["recipient_phone"] = rec.phone.display
            except FieldError as e:
                errors.append(e)
    return rec, errors


def check_changes(current: Mapping[str, str], changes: Mapping[str, str | None]) -> tuple[Recipient, list[FieldError]]:
    """Check a change of recipient data (a correction at capture, an address
    change at the desk): the changed fields are cleaned and checked; when one
    of province, city, district or address changes, the address is placed
    from the new values together with the stored ones (a new district must
    belong to the stored province). Empty values for name, phone, province
    and address are refused. Returns the cleaned values of the changed fields
    (and of province, city and district as placed) and the errors."""
    merged = {**current, **{k: ("" if v is None else v) for k, v in changes.items()}}
    # a new province (or city) without a new district is a new address: the
    # stored city and district belonged to the old one
    if "province" in changes:
        for name in ("city", "district"):
            if name not in changes:
                merged[name] = ""
    elif "city" in changes and "district" not in changes:
        merged["district"] = ""
    names = tuple(changes)
    if any(n in ADDRESS_FIELDS for n in names):
        names = tuple(dict.fromkeys(names + ADDRESS_FIELDS))
    rec, errors = check_recipient(merged, fields=names,
                                  required=tuple(n for n in ("recipient_name", "recipient_phone", "address")
                                                 if n in changes))
    return rec, errors


def message(error: FieldError, translate: Callable[[str], str] | None = None) -> str:
    """`field 'value': rule`, the rule translated with `translate` (gettext)."""
    text = MESSAGES[error.key]
    if translate is not None:
        text = translate(text)
    return f"{error.field} {error.value!r}: {text.format(**error.params)}"
