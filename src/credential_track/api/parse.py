"""Checking request JSON: every problem names its field."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from . import BadRequest


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("body", "the request body must be a JSON object")
    path = _nul_path(data, "")
    if path is not None:
        # PostgreSQL cannot store NUL in text: refuse it here, naming where it is
        raise BadRequest(path or "body", f"{path or 'body'} contains a NUL character")
    return data


def _nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (key or value) containing NUL, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if "\x00" in str(k):
                return sub.replace("\x00", "\\0")
            found = _nul_path(v, sub)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_path(v, f"{path}[{i}]")
            if found is not None:
                return found
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


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(name, f"{name} must be a whole number, got {raw!r}") from None
