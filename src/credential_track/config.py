"""Configuration from the environment, with safe defaults."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV_KEYS = {
    "DATABASE_URL": "DATABASE_URL",
    "SECRET_KEY": "SECRET_KEY",
    "DEFAULT_WEIGHT_G": "CREDTRACK_DEFAULT_WEIGHT_G",
    "SESSION_COOKIE_SECURE": "CREDTRACK_COOKIE_SECURE",
    "IDLE_TIMEOUT_MINUTES": "CREDTRACK_IDLE_TIMEOUT_MINUTES",
    "ORGANIZER_NAME": "CREDTRACK_ORGANIZER_NAME",
    "PROXY_HOPS": "CREDTRACK_PROXY_HOPS",
    "LOGIN_MAX_FAILURES": "CREDTRACK_LOGIN_MAX_FAILURES",
    "LOGIN_LOCK_MINUTES": "CREDTRACK_LOGIN_LOCK_MINUTES",
    "LOGIN_RATE_LIMIT": "CREDTRACK_LOGIN_RATE_LIMIT",
    "RATELIMIT_STORAGE_URI": "CREDTRACK_RATELIMIT_STORAGE_URI",
    "CACHE_SECONDS": "CREDTRACK_CACHE_SECONDS",
    "OPENING_DATE": "CREDTRACK_OPENING_DATE",
    "SITE_HOURS": "CREDTRACK_SITE_HOURS",
    "FORECAST_WINDOW_HOURS": "CREDTRACK_FORECAST_WINDOW_HOURS",
}
INT_KEYS = ("DEFAULT_WEIGHT_G", "IDLE_TIMEOUT_MINUTES", "PROXY_HOPS", "LOGIN_MAX_FAILURES", "LOGIN_LOCK_MINUTES",
            "FORECAST_WINDOW_HOURS")
# each site's working hours (local time), site code = HH:MM-HH:MM; the forecast
# counts station capacity only inside them, and the demo staffs them
SITE_HOURS_DEFAULT = "PCS=08:00-20:00;RCC=09:00-18:00"


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
    return {
        "DATABASE_URL": f"sqlite:///{instance / 'credtrack.db'}",
        "DEFAULT_WEIGHT_G": 45,
        "IDLE_TIMEOUT_MINUTES": 30,
        # tokens and stations read in the last seconds are taken from memory;
        # a change made by another server process is seen within this time
        # (services/recent.py)
        "CACHE_SECONDS": 2.0,
        "ORGANIZER_NAME": "进博会证件管理中心",
        # the forecast (services/forecast, docs/DASHBOARD.md): the expo's opening
        # day (local date YYYY-MM-DD; every credential is due before it starts;
        # unset: no opening-day verdict), the sites' working hours, and how many
        # recent hours of history the station rates are measured over
        "OPENING_DATE": None,
        "SITE_HOURS": SITE_HOURS_DEFAULT,
        "FORECAST_WINDOW_HOURS": 72,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_Hans_CN", "en"],
    }


def from_environment(instance: Path) -> dict:
    """Settings named in the environment; SECRET_KEY falls back to the
    instance folder's key file."""
    out = {}
    for key, env in ENV_KEYS.items():
        if env in os.environ:
            value: object = os.environ[env]
            if key in INT_KEYS:
                value = int(value)  # type: ignore[arg-type]
            if key == "CACHE_SECONDS":
                value = float(value)  # type: ignore[arg-type]
            if key == "SESSION_COOKIE_SECURE":
                value = value in ("1", "true", "yes")
            out[key] = value
    if "SECRET_KEY" not in out:
        out["SECRET_KEY"] = _secret_key(instance)
    return out
