"""Exceptions the service layer raises for input a person can fix."""
from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; `field` names what is wrong."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


def field_error(error) -> ServiceError:
    """A ServiceError for a domain FieldError (field, value, rule), its text
    in the request's language."""
    from flask_babel import gettext

    from ..domain.recipient import message

    return ServiceError(message(error, gettext), field=error.field)
