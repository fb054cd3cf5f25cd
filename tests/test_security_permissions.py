"""The permission table, proven against every route of the application.

Written over app.url_map, so routes added by any area are covered: a view
must carry `.permission` (set by api_require/page_require) or be in an
explicit allowlist, and every role gets exactly what the table says.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter
from werkzeug.security import generate_password_hash

from credential_track.db import write_session
from credential_track.models import User
from credential_track.permissions import (
    PERMISSIONS,
    PII_ENDPOINTS,
    PUBLIC_ENDPOINTS,
    ROLES,
    SIGNED_IN_ENDPOINTS,
    PiiAccess,
    PiiPath,
    allowed,
    permission_table_markdown,
    personal_data_access,
    personal_data_table_markdown,
)
from credential_track.services import accounts

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
SKIP_METHODS = {"HEAD", "OPTIONS"}


def test_permissions_doc_shows_the_table_the_code_enforces():
    doc = (ROOT / "docs" / "PERMISSIONS.md").read_text(encoding="utf-8")
    assert permission_table_markdown() in doc, (
        "docs/PERMISSIONS.md is out of date; paste permissions.permission_table_markdown() into it")


def test_permissions_doc_shows_the_personal_data_table_the_code_enforces():
    doc = (ROOT / "docs" / "PERMISSIONS.md").read_text(encoding="utf-8")
    assert personal_data_table_markdown() in doc, (
        "docs/PERMISSIONS.md is out of date; paste permissions.personal_data_table_markdown() into it")
    for path, endpoints in PII_ENDPOINTS.items():
        assert f"| `{path.value}` |" in doc


def test_every_personal_data_endpoint_exists_and_its_roles_are_in_the_table(app):
    """A role that may open a page or API view answering personal data has a
    row in the personal-data table for that path (exports excepted: their
    plain variant is open to every `export` role), and a role that gets
    personal data on a path can open one of its endpoints."""
    views = {rule.endpoint: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()}
    assert set(PII_ENDPOINTS) == set(PiiPath)
    for path, endpoints in PII_ENDPOINTS.items():
        perms = set()
        for endpoint in endpoints:
            assert endpoint in views, f"{endpoint} ({path}) is no route"
            perm = views[endpoint].permission
            perms.add(perm)
            if path != PiiPath.export:
                unlisted = [r for r in PERMISSIONS[perm] if personal_data_access(r, path) == PiiAccess.none]
                assert unlisted == [], f"{endpoint}: {unlisted} reach {path} with no row in PERSONAL_DATA"
        for role in ROLES:
            if personal_data_access(role, path) != PiiAccess.none:
                assert any(allowed(role, p) for p in perms), f"{role} has {path} access but no route"


def test_roles_that_reveal_are_the_roles_with_the_reveal_permission():
    revealing = {r for r in ROLES if personal_data_access(r, PiiPath.lookup) == PiiAccess.reveal}
    full = {r for r in ROLES if personal_data_access(r, PiiPath.lookup) == PiiAccess.full}
    assert revealing == PERMISSIONS["reveal"] - full


def test_the_personal_data_decision_has_no_second_spelling():
    """One function decides: the old spellings are gone from the code."""
    src = ROOT / "src" / "credential_track"
    spellings = ("can_see_pii", "PII_ROLES", "may_see_pii", '"view_pii"', '"export_pii"', "record_export(")
    found = [(str(f.relative_to(src)), w) for f in src.rglob("*.py") for w in spellings
             if w in f.read_text(encoding="utf-8")]
    assert found == []


def test_every_permission_names_only_known_roles():
    for perm, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), perm


def test_every_view_carries_a_permission_or_is_allowlisted(app):
    bare = [rule.endpoint for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "permission", None) is None
            and rule.endpoint not in PUBLIC_ENDPOINTS | SIGNED_IN_ENDPOINTS]
    assert bare == [], f"views without a permission (use api_require/page_require): {bare}"


def test_every_permission_a_view_names_is_in_the_table(app):
    unknown = {(rule.endpoint, view.permission) for rule in app.url_map.iter_rules()
               if (view := app.view_functions[rule.endpoint]) and getattr(view, "permission", None)
               and view.permission not in PERMISSIONS}
    assert unknown == set()


def _url(app, rule) -> str:
    values = {}
    for arg in rule.arguments:
        conv = rule._converters.get(arg)
        values[arg] = 999999 if isinstance(conv, IntegerConverter) else "NOPE-404"
    return app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def _routes(app, permission: str):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "permission", None) != permission:
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            yield rule, method, _url(app, rule)


class Browser:
    """One client per role: a logged-in session with its CSRF token, and a
    bearer token of the same role for the API."""

    def __init__(self, app, engine, role: str | None):
        self.role = role
        self.client = app.test_client()
        self.csrf = None
        self.bearer = None
        if role is None:
            self.csrf = self._csrf()
            return
        with write_session(engine) as s:
            # a cheap hash keeps the test fast; the login path is the same
            s.add(User(username=f"perm-{role}", role=role,
                       password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")))
            s.flush()
            self.bearer = accounts.create_token(s, username=f"perm-{role}").secret
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        r = self.client.post("/login", data={"username": f"perm-{role}", "password": PASSWORD,
                                            "csrf_token": token})
        assert r.status_code == 302, f"login as {role} failed"
        self.csrf = self._csrf()

    def _csrf(self) -> str:
        page = self.client.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def call(self, rule, method: str, url: str, *, api: bool):
        kw: dict = {}
        if api:
            if self.bearer:
                kw["headers"] = {"Authorization": f"Bearer {self.bearer}"}
            if method != "GET":
                kw["json"] = {}
        elif method != "GET":
            kw["data"] = {"csrf_token": self.csrf or ""}
        return self.client.open(url, method=method, **kw)


@pytest.fixture
def browsers(app, engine):
    return {role: Browser(app, engine, role) for role in (None, *ROLES)}


def _is_login_redirect(resp) -> bool:
    return resp.status_code in (301, 302, 303) and "/login" in resp.headers.get("Location", "")


@pytest.mark.parametrize("permission", list(PERMISSIONS))
def test_permission_row_is_enforced_on_every_route(app, browsers, permission):
    routes = list(_routes(app, permission))
    if not routes:
        pytest.skip(f"no route carries the {permission!r} permission yet")
    failures = []
    for rule, method, url in routes:
        api = rule.endpoint.startswith("api.")
        for role, browser in browsers.items():
            resp = browser.call(rule, method, url, api=api)
            resp.close()
            where = f"{method} {rule.rule} as {role or 'anonymous'}: {resp.status_code}"
            if role is None:
                ok = resp.status_code == 401 if api else _is_login_redirect(resp)
            elif allowed(role, permission):
                ok = resp.status_code not in (401, 403, 500) and not _is_login_redirect(resp)
            else:
                ok = resp.status_code == 403
            if not ok:
                failures.append(where)
    assert failures == []


def test_signed_in_pages_open_for_every_role_and_redirect_anonymous(app, browsers):
    for endpoint in SIGNED_IN_ENDPOINTS:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        url = _url(app, rule)
        assert _is_login_redirect(browsers[None].client.get(url))
        for role in ROLES:
            resp = browsers[role].client.get(url)
            assert resp.status_code not in (401, 403) and not _is_login_redirect(resp), role


def test_public_pages_open_without_login(app, client):
    assert client.get("/login").status_code == 200
    with client.get("/static/css/app.css") as resp:
        assert resp.status_code == 200
