"""Checking request JSON: every problem names its field.

`json_body` refuses, before any view sees them, what no field can hold and
what used to reach the database as a server error: text that is not JSON
(NaN and Infinity included), nesting deeper than MAX_DEPTH, NUL and unpaired
surrogates in any key or string, and integers beyond 64 bits. The field
helpers then check types, lengths (those of the columns) and ranges."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import request
from flask_babel import gettext as _

from ..domain.numbers import MAX_INT32, MAX_INT64, whole_number
from . import BadRequest

MAX_DEPTH = 20
MAX_WEIGHT_G = 100_000  # an item heavier than 100 kg is a typing error, not a credential
_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotJSON(ValueError):
    pass


def _no_constant(name: str):
    raise _NotJSON(name)  # NaN, Infinity, -Infinity: not JSON


def json_body() -> dict:
    """The request's JSON object, checked (see the module docstring)."""
    data = None
    if request.is_json:
        try:
            data = json.loads(request.get_data(cache=True), parse_constant=_no_constant)
        except RecursionError:
            raise BadRequest("body", _("body nests deeper than %(n)d levels", n=MAX_DEPTH)) from None
        except ValueError:  # not JSON, not UTF-8/16/32, NaN or Infinity
            data = None
    if not isinstance(data, dict):
        raise BadRequest("body", "the request body must be a JSON object")
    problem = _first_problem(data)
    if problem is not None:
        raise BadRequest(*problem)
    return data


def _first_problem(data: Any) -> tuple[str, str] | None:
    """(field path, message) of the first value no field can hold, else None.
    Iterative, so that depth is checked, not discovered by a RecursionError."""
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        name = path or "body"
        if isinstance(value, str):
            if "\x00" in value:
                # PostgreSQL cannot store NUL in text: refuse it here, naming where it is
                return name, f"{name} contains a NUL character"
            if _SURROGATE.search(value):
                return name, _("%(field)s contains an unpaired surrogate: it is not valid Unicode text",
                               field=name)
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if whole_number(value, lo=-MAX_INT64, hi=MAX_INT64) is None:
                return name, _("%(field)s is too large a number", field=name)
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                return name, _("%(field)s nests deeper than %(n)d levels", field=name, n=MAX_DEPTH)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(k, str):
                    sub = f"{path}.{k}" if path else k
                    if "\x00" in k:
                        sub = sub.replace("\x00", "\\0")
                        return sub, f"{sub} contains a NUL character"
                    if _SURROGATE.search(k):
                        sub = _SURROGATE.sub("\ufffd", sub)
                        return sub, _("%(field)s contains an unpaired surrogate: it is not valid Unicode text",
                                      field=sub)
                else:
                    sub = f"{path}[{k}]"
                stack.append((v, sub, depth + 1))
    return None


def text(data: dict, name: str, *, required: bool = True, max_len: int = 200) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(name, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(name, f"{name} must be a string")
    if len(value) > max_len:
        raise BadRequest(name, f"{name} is longer than {max_len} characters")
    return value


def column_length(attr) -> int:
    """The length of a string column (`Model.field` or a table column): the
    limit a value must keep to, as PostgreSQL enforces it."""
    column = attr.property.columns[0] if hasattr(attr, "property") else attr
    return column.type.length


def whole(data: dict, name: str, *, lo: int = 0, hi: int = MAX_INT32, field: str | None = None,
          required: bool = False, digits_ok: bool = False) -> int | None:
    """A whole number between `lo` and `hi` (a JSON number; with `digits_ok`
    also a text of ASCII digits); None when absent and not `required`."""
    field = field or name
    value = data.get(name)
    if value is None or (digits_ok and value == ""):
        if required:
            raise BadRequest(field, f"{field} is required")
        return None
    n = whole_number(value, lo=lo, hi=hi) if digits_ok or not isinstance(value, str) else None
    if n is None:
        low, high = f"{lo:,}", f"{hi:,}"
        raise BadRequest(field, _("%(field)s must be a whole number from %(lo)s to %(hi)s",
                                  field=field, lo=low, hi=high))
    return n


def obj(data: dict, name: str) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(name, f"{name} must be an object")
    return value


def timestamp(data: dict, name: str) -> datetime | None:
    value = text(data, name, required=False, max_len=64)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(name, f"{name} must be an ISO 8601 time, got {value!r}") from None


def int_arg(name: str, default: int, *, lo: int = 0, hi: int = MAX_INT32) -> int:
    """A whole-number query argument between `lo` and `hi`."""
    raw = request.args.get(name)
    if raw is None:
        return default
    n = whole_number(raw, lo=lo, hi=hi)
    if n is None:
        low, high, got = f"{lo:,}", f"{hi:,}", repr(raw[:30])
        raise BadRequest(name, _("%(field)s must be a whole number from %(lo)s to %(hi)s, got %(value)s",
                                 field=name, lo=low, hi=high, value=got))
    return n


def cursor_arg(name: str) -> str | None:
    """A paging cursor from the query string (an id: ASCII digits, 31 bits),
    handed on as the text the services take."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if whole_number(raw) is None:
        raise BadRequest(name, _("%(field)s must be a cursor returned by a previous page", field=name))
    return raw
