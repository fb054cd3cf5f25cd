"""The database as a running app sees it: the app's engine, and one unit of
work per request.

Every view (pages and API) runs in one transaction of the request's session
(`get_db`): it is committed when the view returns and rolled back when the
view raises. Views call services and never commit or roll back themselves.
A `ServiceError` is turned into an answer here, in one place: the API's
blueprint answers it as JSON with its status and field (api/__init__.py);
a page flashes it (naming the field), keeps what was typed for the form to
show again, and goes back to the page named by `@refused_to` (else the page
the form came from)."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app, flash, g, redirect, request, session, url_for
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .db import make_engine, writer
from .services.errors import ServiceError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# form fields never kept for a form shown again
_SECRET_FIELDS = {"password", "password2", "new_password", "csrf_token", "token"}


def get_engine() -> Engine:
    return current_app.extensions["credtrack_engine"]


def get_db() -> Session:
    """The request's session. State-changing requests get a write session."""
    if "db" not in g:
        engine = get_engine()
        try:
            writes = request.method not in SAFE_METHODS
        except RuntimeError:  # outside a request (CLI): writes allowed
            writes = True
        g.db = Session(writer(engine) if writes else engine, expire_on_commit=False)
    return g.db


@contextmanager
def read_session() -> Iterator[Session]:
    """A short read-only session of its own, outside the request's transaction."""
    with Session(get_engine(), expire_on_commit=False) as s:
        yield s


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


def _commit() -> None:
    db = g.get("db")
    if db is not None and db.in_transaction():
        db.commit()


def _rollback() -> None:
    db = g.get("db")
    if db is not None:
        db.rollback()


def refused_to(back: Callable[..., str]):
    """Where a page goes when its form is refused: `back(**view_args)`
    gives the URL (the form's own page, usually)."""
    def mark(view):
        view.refused_to = back
        return view
    return mark


def flash_refusal(exc: ServiceError) -> None:
    """A refusal as the person sees it: the message, naming the field in
    the reader's language (vocabulary.error_text)."""
    from .vocabulary import error_text

    flash(error_text(exc), "error")


def typed_values() -> dict:
    """What was typed into the form a refusal sent back (once), for the page
    to fill in again, with the field at fault: {"field": …, "values": {…}}."""
    return session.pop("credtrack_refused", None) or {}


def _keep_typed(exc: ServiceError) -> None:
    # every value of a name (three escort fields share one name), in order
    values = {k: [v for v in vs if len(v) <= 2000] for k, vs in request.form.lists() if k not in _SECRET_FIELDS}
    session["credtrack_refused"] = {"path": request.path, "field": exc.field, "values": values}


def _unit_of_work(view, endpoint: str):
    api = endpoint.startswith("api.")

    @functools.wraps(view)
    def run(*args, **kwargs):
        try:
            rv = view(*args, **kwargs)
        except ServiceError as exc:
            _rollback()
            if api:
                raise
            flash_refusal(exc)
            if request.method not in SAFE_METHODS:
                _keep_typed(exc)
            back = getattr(view, "refused_to", None)
            target = back(**kwargs) if back else _referrer() or url_for("home.index")
            return redirect(target)
        except BaseException:
            _rollback()
            raise
        _commit()
        return rv

    return run


def _referrer() -> str | None:
    from .web import safe_next

    ref = request.referrer or ""
    host = request.host_url
    if ref.startswith(host):
        back = safe_next("/" + ref[len(host):], "")
        # never back to the page that refused (a GET refused would loop)
        if back and back.split("?")[0] != request.path:
            return back
    return None


def init_app(app) -> None:
    """The app's engine, and the request's session closed after each request."""
    app.extensions["credtrack_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db)


def wrap_views(app) -> None:
    """Run every view of `app` as one unit of work (call after every
    blueprint is registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _unit_of_work(view, endpoint)
