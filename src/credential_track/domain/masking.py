"""Masking of personal data for roles that may not see it in full."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """`13812345678` → `138****5678`, as on privacy waybills."""
    p = (phone or "").strip()
    if len(p) >= 8:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
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
