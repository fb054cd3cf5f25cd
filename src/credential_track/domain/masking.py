"""Masking of personal data for roles that may not see it in full.

A mask must not be an oracle: what it keeps, combined with a search over
the hidden part, must not reveal the rest. Screens show a phone as its last
four digits only (`mask_phone_screen`): with the prefix kept, ten thousand
exact-phone searches would find the middle digits. The printed label keeps
the postal privacy-waybill form (`mask_phone`); personal-data searches by
roles that see masked data are recorded and limited per hour
(services/disclosure.py), which bounds what either mask plus search can
reveal."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """`13812345678` → `138****5678`, as on privacy waybills (printed labels)."""
    p = (phone or "").strip()
    if len(p) >= 8:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    return "*" * len(p)


def mask_phone_screen(phone: str | None) -> str:
    """`13812345678` → `*******5678`: what a screen shows of a phone to a role
    that sees personal data masked (the last four digits, which the caller
    confirms and the tracking page asks for; never the prefix)."""
    p = (phone or "").strip()
    if len(p) >= 8:
        return "*" * (len(p) - 4) + p[-4:]
    return "*" * len(p)


def mask_name(name: str | None) -> str:
    """Keep the family name (first character): `张伟` → `张*`, `欧阳娜娜` → `欧***`."""
    n = (name or "").strip()
    if not n:
        return ""
    if " " in n:  # Latin names: keep the initial of each word
        return " ".join(w[0] + "*" * (len(w) - 1) for w in n.split())
    return n[0] + "*" * (len(n) - 1)


def mask_address(address: str | None) -> str:
    """Keep the first few characters (street area), hide the house number."""
    a = (address or "").strip()
    if len(a) <= 4:
        return "*" * len(a)
    keep = min(6, len(a) // 2)
    return a[:keep] + "*" * 4


# the personal fields of an item and the mask a screen shows of each
PERSONAL_FIELDS = {
    "recipient_name": mask_name, "holder_name": mask_name, "recipient_phone": mask_phone_screen,
    "address": mask_address,
}


def mask_field(name: str, value: str | None) -> str | None:
    """`value` of the item field `name` as a masked screen shows it
    (unchanged for fields that are not personal)."""
    fn = PERSONAL_FIELDS.get(name)
    return fn(value) if fn is not None else value
