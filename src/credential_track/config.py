"""Loading the configuration: the defaults of settings.py, the instance
folder's config.py, the environment."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from . import settings


def _secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts
    and several app processes on one machine agree on it."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def defaults(instance: Path) -> dict:
    """Every setting's default (settings.py) plus what Flask and its
    extensions need."""
    return {
        **settings.defaults(),
        "DATABASE_URL": f"sqlite:///{instance / 'credtrack.db'}",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "LANGUAGES": ["zh_Hans_CN", "en"],
    }


def from_environment(instance: Path) -> dict:
    """Settings named in the environment; SECRET_KEY falls back to the
    instance folder's key file."""
    out = settings.from_environment()
    if not out.get("SECRET_KEY"):
        out["SECRET_KEY"] = _secret_key(instance)
    return out
