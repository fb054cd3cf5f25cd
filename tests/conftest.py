"""Fixtures: a fresh application and database per test, on SQLite always and
on PostgreSQL when CREDTRACK_TEST_DATABASE_URL is set.

SQLite: the schema is migrated and seeded once per run into a template file
that each test copies. PostgreSQL: each run creates its own database, migrates
it once, truncates and re-seeds it before each test, and drops it at the end.
"""
from __future__ import annotations

import gc
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from credential_track import create_app, migrate
from credential_track.db import make_engine, normalize_url, write_session
from credential_track.services import accounts
from credential_track.services.seed import load_seed

from .factories import PASSWORD

PG_ENV = "CREDTRACK_TEST_DATABASE_URL"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with write_session(engine) as s:
        load_seed(s)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database():
    base = normalize_url(os.environ[PG_ENV])
    name = f"credtrack_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    tables = [t for t in reversed(migrate_tables(engine))]
    yield url, tables
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate_tables(engine) -> list[str]:
    from credential_track.models import metadata

    return [t.name for t in metadata.sorted_tables]


@pytest.fixture(params=backends())
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "credtrack.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url, tables = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    with write_session(engine) as s:
        load_seed(s)
    engine.dispose()
    return url


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app({
        "TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret",
        # tasks run at once in the test process; tests of the real queue turn it off
        "QUEUE_IMMEDIATE": True,
    })
    yield app
    # a streamed response a test did not read to the end still holds its
    # connection in a suspended generator: finish those before disposing
    gc.collect()
    app.extensions["credtrack_engine"].dispose()


@pytest.fixture
def engine(app):
    return app.extensions["credtrack_engine"]


@pytest.fixture
def db(engine):
    """A plain session for arranging and asserting (commits are explicit)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    # the command line speaks the terminal's language (i18n.cli_lang); these
    # tests read its English (tests/test_i18n.py checks the Chinese)
    return app.test_cli_runner(env={"CREDTRACK_LANGUAGE": "en"})


class Auth:
    """Log a browser session in as a role, and read its CSRF token."""

    def __init__(self, client, engine):
        self.client, self.engine = client, engine
        self.csrf = None

    def ensure_user(self, username: str, role: str) -> None:
        with write_session(self.engine) as s:
            from sqlmodel import select

            from credential_track.models import User

            if s.exec(select(User).where(User.username == username)).first() is None:
                accounts.create_user(s, username=username, password=PASSWORD, role=role)

    def login(self, role: str, username: str | None = None):
        username = username or f"test-{role}"
        self.ensure_user(username, role)
        self.client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": self.token("/login")})
        self.csrf = self.token("/")
        return self

    def token(self, path: str) -> str:
        page = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        m = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert m, f"no CSRF token on {path}"
        return m.group(1)


@pytest.fixture
def auth(client, engine):
    return Auth(client, engine)


@pytest.fixture
def station_token(engine):
    """A bearer token for a station: station_token("WS-05")."""
    def make(code: str) -> dict:
        with write_session(engine) as s:
            issued = accounts.create_token(s, station_code=code)
        return {"Authorization": f"Bearer {issued.secret}"}
    return make
