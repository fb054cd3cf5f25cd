"""The API's blueprint, its error answers and the answer check under test
(the views import it from here; api/__init__.py imports the views)."""
from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from ..services.errors import ServiceError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class BadRequest(Exception):
    """A malformed request: answered 400 with the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return jsonify(error=exc.message, field=exc.field), 400


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(error=exc.message, field=exc.field), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.description, field=None), exc.code


@bp.after_request
def _check_answer(response):
    """Under test, every answer is checked against the model its view's
    contract documents for its status (api/validation.py `check_answer`)."""
    from flask import current_app, request

    if current_app.testing and response.mimetype == "application/json" and not response.is_streamed:
        from .openapi import contract_of, documented_statuses
        from .validation import check_answer

        spec = contract_of(current_app.view_functions.get(request.endpoint))
        if spec is not None:
            check_answer(spec, documented_statuses(request.url_rule, request.method), response.status_code,
                         response.get_json())
    return response
