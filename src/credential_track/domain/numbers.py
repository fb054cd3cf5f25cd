"""Whole numbers typed or sent by people and programs: one check for all.

``str.isdigit()`` is no test of a number: it accepts ``"²"`` and other
digits that ``int()`` refuses, and nothing bounds the result, while SQLite
stores at most 64 bits and PostgreSQL's ``integer`` 32. Every count, cursor,
id or weight read from a request goes through `whole_number`.
"""
from __future__ import annotations

import re
from typing import Any

MAX_INT64 = 2 ** 63 - 1  # SQLite's INTEGER, PostgreSQL's bigint
MAX_INT32 = 2 ** 31 - 1  # PostgreSQL's integer (ids, counts, weights)
_DIGITS = re.compile(r"-?[0-9]{1,19}")


def whole_number(value: Any, *, lo: int = 0, hi: int = MAX_INT32) -> int | None:
    """`value` as an int when it is one (an int, or a text of ASCII digits
    with an optional minus sign) between `lo` and `hi`; else None. Booleans
    and floats are not whole numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        n = int(value)
    else:
        return None
    return n if lo <= n <= hi else None


__all__ = ["MAX_INT32", "MAX_INT64", "whole_number"]
