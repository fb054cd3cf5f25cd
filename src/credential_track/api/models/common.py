"""What every part of the API shares: the error answer, pages, answer models.

Answer models list every field an answer has. In tests every answer is
checked against its model with unknown fields refused (so the document
cannot fall behind the code); the document itself leaves answers open
(`additionalProperties` unstated), because a field added within v1 is a
compatible change that clients must ignore (docs/API.md)."""
from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


def _open_schema(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


class Answer(BaseModel):
    """An answer (or a part of one): every field listed, none unknown."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_open_schema, populate_by_name=True)


class Error(Answer):
    """Every refusal that is not a decided scan: 400 (malformed: `field`
    names the field at fault), 401, 403, 404, 405, 409, 413, 429."""

    error: str = Field(description="what is wrong, in the request's language (Accept-Language)")
    field: str | None = Field(default=None, description="the field, parameter or header at fault "
                              "(`body` for the body as a whole, `context.weight_g`, `events[0].at`…)")


T = TypeVar("T")


class Page(Answer, Generic[T]):
    """A cursor page."""

    next: str | None = Field(description="the cursor of the following page (pass it as `after`); "
                             "null after the last page")


ISO = Field(description="ISO 8601 time with its offset (UTC)", json_schema_extra={"format": "date-time"})


def iso(description: str = "ISO 8601 time with its offset (UTC)", *, optional: bool = True) -> Any:
    """A time field of an answer: ISO 8601 text with the offset."""
    if optional:
        return Field(default=None, description=description, json_schema_extra={"format": "date-time"})
    return Field(description=description, json_schema_extra={"format": "date-time"})
