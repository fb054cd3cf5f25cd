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
    in the request's language, the field named in words."""
    from flask_babel import gettext

    from ..domain.recipient import MESSAGES
    from ..vocabulary import field_label

    rule = gettext(MESSAGES[error.key]).format(**error.params)
    return ServiceError(gettext("%(field)s “%(value)s”: %(rule)s", field=field_label(error.field), value=error.value,
                                rule=rule), field=error.field)


def required(name: str) -> ServiceError:
    """`name` was left empty (the field named in the reader's language)."""
    from flask_babel import gettext

    from ..vocabulary import field_label

    return ServiceError(gettext("%(field)s is required", field=field_label(name)), field=name)


def too_long(name: str, max_len: int) -> ServiceError:
    """`name` holds more than `max_len` characters."""
    from flask_babel import gettext

    from ..vocabulary import field_label

    return ServiceError(gettext("%(field)s is longer than %(max)s characters", field=field_label(name), max=max_len),
                        field=name)


def one_of(name: str, value, codes, kind: str | None = None) -> ServiceError:
    """`value` is not one of `codes` (listed by label when they have a kind)."""
    from flask_babel import gettext

    from ..vocabulary import field_label, label

    shown = "、".join(label(kind, c) if kind else str(c) for c in codes)
    return ServiceError(gettext("%(field)s must be one of %(choices)s, not “%(value)s”", field=field_label(name),
                                choices=shown, value=value), field=name)


def no_credential(code, field: str = "credential_no") -> NotFound:
    """There is no item with this credential number (or code)."""
    from flask_babel import gettext

    return NotFound(gettext("There is no credential “%(code)s”.", code=code), field=field)


def not_between(name: str, low, high) -> ServiceError:
    """`name` must lie between `low` and `high`."""
    from flask_babel import gettext

    from ..vocabulary import field_label

    return ServiceError(gettext("%(field)s must be between %(low)s and %(high)s", field=field_label(name),
                                low=low, high=high), field=name)


def bad_cursor(name: str = "after") -> ServiceError:
    """A paging cursor that no earlier page handed out."""
    from flask_babel import gettext

    return ServiceError(gettext("“%(name)s” must be a cursor returned by a previous page", name=name), field=name)


def bad_date(name: str, value) -> ServiceError:
    """A date that is not YYYY-MM-DD."""
    from flask_babel import gettext

    from ..vocabulary import field_label

    return ServiceError(gettext("%(field)s must be a date like 2026-11-05, not “%(value)s”", field=field_label(name),
                                value=value), field=name)
