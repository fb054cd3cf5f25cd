"""Requests checked against their models, in one place.

Every `/api/v1` view declares its contract with `@contract(...)`: the
request body and query models, the answer models by status and the error
statuses it may give. The same declaration validates the request (here) and
writes the document (api/openapi.py), so the two cannot disagree.

A JSON body is first read by `json_body`, which refuses what no field can
hold and what used to reach the database as a server error: text that is
not JSON (NaN and Infinity included), nesting deeper than MAX_DEPTH, NUL
and unpaired surrogates in any key or string, and integers beyond 64 bits.
The model then checks types, lengths (those of the columns: `column_length`)
and ranges (`whole`, through domain.numbers). Every refusal is a 400
`{"error": …, "field": …}` naming the field, in the request's language.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Annotated, Any

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..domain.numbers import MAX_INT32, MAX_INT64, whole_number
from .blueprint import BadRequest

MAX_DEPTH = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


# ---- the body as JSON ------------------------------------------------------

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
        raise BadRequest("body", _("the request body must be a JSON object"))
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
                return name, _("%(field)s contains a NUL character", field=name)
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
                        return sub, _("%(field)s contains a NUL character", field=sub)
                    if _SURROGATE.search(k):
                        sub = _SURROGATE.sub("\ufffd", sub)
                        return sub, _("%(field)s contains an unpaired surrogate: it is not valid Unicode text",
                                      field=sub)
                else:
                    sub = f"{path}[{k}]"
                stack.append((v, sub, depth + 1))
    return None


# ---- field types -------------------------------------------------------------

class RequestModel(BaseModel):
    """A request body or query: unknown keys are ignored (a newer client may
    send more), known ones are checked strictly (no number for a text)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False, populate_by_name=True)


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


def Text(max_len: int, *, required: bool = True, description: str | None = None, **kw: Any) -> Any:
    """A text field of at most `max_len` characters (a column's length). An
    empty text counts as missing: required, or None when optional."""
    if required:
        return Annotated[str, Field(min_length=1, max_length=max_len, description=description, **kw)]
    return Annotated[Annotated[str, Field(max_length=max_len)] | None, BeforeValidator(_empty_is_none),
                     Field(description=description, **kw)]


def column_length(attr) -> int:
    """The length of a string column (`Model.field` or a table column): the
    limit a value must keep to, as PostgreSQL enforces it."""
    column = attr.property.columns[0] if hasattr(attr, "property") else attr
    return column.type.length


def whole(lo: int = 0, hi: int = MAX_INT32, *, digits_ok: bool = False, description: str | None = None) -> Any:
    """A whole number between `lo` and `hi` (domain.numbers.whole_number): a
    JSON number, and with `digits_ok` also a text of ASCII digits (query
    strings are text). Booleans, fractions and "²" are refused."""
    def check(value: Any) -> int:
        n = whole_number(value, lo=lo, hi=hi) if digits_ok or not isinstance(value, str) else None
        if n is None:
            raise PydanticCustomError("whole_number", "not a whole number in range", {"lo": lo, "hi": hi})
        return n

    number = {"type": "integer", "minimum": lo, "maximum": hi}
    schema: dict[str, Any] = {"anyOf": [number, {"type": "string", "pattern": r"^[0-9]{1,10}$"}]} \
        if digits_ok else number
    if description:
        schema = {**schema, "description": description}
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


def query_whole(lo: int = 0, hi: int = MAX_INT32, *, description: str | None = None) -> Any:
    """A whole-number query parameter (text of ASCII digits on the wire),
    documented as an integer."""
    def check(value: Any) -> int:
        n = whole_number(value, lo=lo, hi=hi)
        if n is None:
            raise PydanticCustomError("whole_number", "not a whole number in range", {"lo": lo, "hi": hi})
        return n

    schema: dict[str, Any] = {"type": "integer", "minimum": lo, "maximum": hi}
    if description:
        schema["description"] = description
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


def _iso_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PydanticCustomError("iso_time", "not an ISO 8601 time")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("iso_time", "not an ISO 8601 time") from None


# an ISO 8601 time with its offset, as text (at most 64 characters)
IsoTime = Annotated[datetime, PlainValidator(_iso_time),
                    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 64,
                                    "examples": ["2026-11-05T09:12:03+08:00"]})]
# the same, optional: absent, null or "" is None
OptionalIsoTime = Annotated[IsoTime | None, BeforeValidator(_empty_is_none), WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time", "maxLength": 64, "examples": ["2026-11-05T09:12:03+08:00"]},
    {"type": "string", "maxLength": 0}, {"type": "null"}]})]


def Cursor(description: str = "the `next` of the previous page") -> Any:
    """A paging cursor from the query string: the `next` a previous page
    answered (today an id: ASCII digits, 31 bits), handed on as text."""
    def check(value: Any) -> str | None:
        if value in (None, ""):
            return None
        if whole_number(value) is None:
            raise PydanticCustomError("cursor", "not a cursor")
        return value

    return Annotated[str | None, PlainValidator(check),
                     WithJsonSchema({"type": "string", "pattern": "^[0-9]{0,10}$",
                                     "description": description + " (empty: the first page)"})]


# ---- pydantic errors as the API answers them -------------------------------

def field_path(loc: tuple) -> str:
    """("events", 0, "at") → "events[0].at"; () → "body"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _message(err: dict, name: str, model: type[BaseModel] | None) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing" or (value is None and kind.endswith("_type")) or (
            kind == "string_too_short" and value == ""):
        return _("%(field)s is required", field=name)
    if kind == "string_type":
        return _("%(field)s must be a string", field=name)
    if kind == "string_too_long":
        return _("%(field)s is longer than %(n)d characters", field=name, n=ctx.get("max_length", 0))
    if kind == "whole_number":
        return _("%(field)s must be a whole number from %(lo)s to %(hi)s", field=name,
                 lo=f"{ctx['lo']:,}", hi=f"{ctx['hi']:,}")
    if kind in ("enum", "literal_error"):
        return _("%(field)s must be one of %(choices)s", field=name, choices=_choices(ctx))
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("%(field)s must be an object", field=name)
    if kind == "list_type":
        return _("%(field)s must be a list", field=name)
    if kind == "too_short":
        return _("%(field)s is empty", field=name)
    if kind == "too_long":
        return _("%(field)s holds more than %(n)d entries", field=name, n=ctx.get("max_length", 0))
    if kind == "iso_time":
        return _("%(field)s must be an ISO 8601 time, got %(value)s", field=name, value=repr(value)[:40])
    if kind == "cursor":
        return _("%(field)s must be a cursor returned by a previous page", field=name)
    if kind == "scalar":
        return _("%(field)s must be a string or number", field=name)
    if kind == "bool_type" or kind == "bool_parsing":
        return _("%(field)s must be true or false", field=name)
    if kind == "custom":
        params = {k: v for k, v in ctx.items() if k != "message"}
        return _(ctx["message"], field=name, **params)
    return _("%(field)s is not valid", field=name)


def _choices(ctx: dict) -> str:
    expected = ctx.get("expected", "")
    return expected.replace("'", "")


def refusal(exc: ValidationError, model: type[BaseModel] | None = None) -> BadRequest:
    """The 400 for a model's first error: the field and a message naming it."""
    err = exc.errors(include_url=False)[0]
    name = field_path(tuple(p for p in err["loc"] if not _is_branch(p)))
    return BadRequest(name, _message(dict(err), name, model))


def _is_branch(part: Any) -> bool:
    # pydantic names the member of a union or a validator in the location;
    # a client's field path has only keys and indexes
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "none"))


def N_(message: str) -> str:
    """Mark a message for translation; it is translated when the 400 is answered."""
    return message


def custom_error(message: str, **params: Any) -> PydanticCustomError:
    """An error a model's own check raises: `message` is an English msgid
    (marked with N_) with %(field)s and `params`, translated when the 400
    is answered."""
    return PydanticCustomError("custom", message, {"message": message, **params})


# ---- the contract of a view --------------------------------------------------

@dataclass
class Contract:
    """What a view takes and answers, for validation and for the document."""

    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answers: dict[int, Any] = dc_field(default_factory=dict)  # status → model, or a media type (str)
    errors: tuple[int, ...] = ()
    summary: str = ""
    description: str = ""
    tag: str = ""
    deprecated_query: tuple[str, ...] = ()
    examples: dict[str, Any] = dc_field(default_factory=dict)  # request body examples
    path_params: dict[str, dict] = dc_field(default_factory=dict)  # name → extra schema / description


def contract(*, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
             answer: Any = None, status: int = 200, answers: dict[int, Any] | None = None,
             errors: tuple[int, ...] = (), summary: str = "", description: str = "", tag: str = "",
             examples: dict[str, Any] | None = None, path_params: dict[str, dict] | None = None
             ) -> Callable:
    """Declare a view's contract. The view gets `body=` and `query=` (the
    validated models) as keyword arguments; a request that breaks them is a
    400 naming the field before the view runs. Put it below `api_require`,
    so that a request without credentials is a 401 whatever its body."""
    spec = Contract(body=body, query=query, answers=dict(answers or {status: answer}), errors=errors,
                    summary=summary, description=description, tag=tag, examples=dict(examples or {}),
                    path_params=dict(path_params or {}))

    def deco(view: Callable) -> Callable:
        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            if spec.query is not None:
                kwargs["query"] = parse_query(spec.query)
            if spec.body is not None:
                kwargs["body"] = parse_body(spec.body)
            return view(*args, **kwargs)

        run.contract = spec  # type: ignore[attr-defined]  # read by api/openapi.py; functools.wraps carries it
        return run

    return deco


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The request's JSON body as `model`, or a 400 naming the field."""
    data = json_body()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc, model) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model` (a list-typed field takes every value of
    its name, the others the first), or a 400 naming the parameter."""
    args = request.args
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in args:
            continue
        data[key] = args.getlist(key) if _is_list(info.annotation) else args.get(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc, model) from None


def _is_list(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    return origin in (list, tuple) or "list[" in str(annotation)


def check_answer(spec: Contract, documented: set[int], status: int, data: Any) -> None:
    """Raise AnswerBreaksContract when `status` is not among the `documented`
    ones or `data` (the answer's JSON) is not what the contract documents
    for it (tests run every answer through this)."""
    if status not in documented:
        raise AnswerBreaksContract(f"status {status} is not documented (only {sorted(documented)})")
    model = spec.answers.get(status)
    if model is None:
        from .models.common import Error

        model = Error
    if isinstance(model, str):
        return  # a file (CSV), not JSON
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise AnswerBreaksContract(str(exc)) from None


class AnswerBreaksContract(AssertionError):
    """An answer that its documented model does not describe."""


__all__ = ["N_", "Contract", "Cursor", "IsoTime", "OptionalIsoTime", "MAX_DEPTH", "RequestModel", "Text",
           "column_length", "contract", "custom_error", "json_body", "parse_body", "parse_query", "query_whole",
           "refusal", "whole"]
