"""Every setting of the product, typed, with its default and its
environment variable: the one place defaults live.

`create_app` loads the defaults, then the instance folder's `config.py`,
then the environment (or a test's overrides), and builds one `Settings`
from the result: a wrong value fails at start with the setting's name, not
at the first request that reads it. Code reads `current()` (inside an app)
or a `Settings` passed to it; the Flask config keeps the same values under
the upper-case names for the extensions that read them.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _hours(**values: float):
    return field(default_factory=lambda: dict(values))


@dataclass(frozen=True)
class Settings:
    """The product's settings. Each field's config key is its name in upper
    case; its environment variable is ``CREDTRACK_`` + that key (but
    DATABASE_URL and SECRET_KEY, which keep their usual names)."""

    database_url: str = ""  # default: SQLite in the instance folder
    secret_key: str = ""  # default: a random key kept in the instance folder
    # where people are: every time shown to them is in this zone (clock.py)
    timezone: str = "Asia/Shanghai"
    organizer_name: str = "进博会证件管理中心"
    # acceptance: the weight recorded when a station sends none
    default_weight_g: int = 45
    # sessions and sign-in
    cookie_secure: bool = False
    idle_timeout_minutes: int = 30
    proxy_hops: int = 0
    # a user name is locked for one address after this many failures in the
    # window; guessing one name from many addresses is slowed down, never locked
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    login_window_minutes: int = 15
    login_slowdown_after: int = 10
    login_slowdown_step: float = 0.5
    login_slowdown_max: float = 3.0
    login_rate_limit: str = "20 per minute"
    ratelimit_storage_uri: str = "memory://"
    track_rate_limit: str = "10 per minute;50 per hour"
    # the number the public tracking page gives a holder whose delivery failed
    service_hotline: str = "11183"
    # tokens and stations read in the last seconds are taken from memory; a
    # change made by another server process is seen within this time
    cache_seconds: float = 2.0
    # the desk: how long a reveal shows an item's personal data; searches by
    # phone or name a masked role may run per hour
    reveal_minutes: int = 30
    personal_searches_per_hour: int = 100
    # hours until a ticket is due, per priority
    ticket_sla_hours: dict = _hours(urgent=2, high=8, normal=24, low=72)
    # outreach: hours an item may stay in a status before it counts as stuck;
    # hours within which the holder should be reached, per rule; hours before
    # trying again, per outcome
    outreach_stuck_hours: dict = _hours(received=24, captured=12, accepted=12, bagged=8, dispatched=8,
                                        in_transit=24, arrived=24, out_for_delivery=24)
    outreach_target_hours: dict = _hours(contact_problem=24, delivery_failed=4, returned=8, stuck=8, intercept=1,
                                         miss_opening=24)
    outreach_retry_hours: dict = _hours(reached=24, no_answer=2, wrong_number=8)
    # the forecast (services/forecast, docs/DASHBOARD.md): the expo's opening day
    # (local date YYYY-MM-DD; every credential is due before it starts; empty:
    # no opening-day verdict), each site's working hours (SITE=HH:MM-HH:MM;…),
    # and how many recent hours the station rates are measured over
    opening_date: str = ""
    site_hours: str = "PCS=08:00-20:00;RCC=09:00-18:00"
    forecast_window_hours: int = 72
    # printing: the ZPL printer's resident CJK font; the most labels one web download makes
    zpl_cjk_font: str = "E:SIMSUN.TTF"
    print_max_web_labels: int = 5000
    # messages to holders: the sender ("log" writes the outbox file; or module:Class),
    # the outbox file (default: instance/outbox.jsonl), the public tracking address
    notify_backend: str = "log"
    notify_outbox_file: str = ""
    public_base_url: str = ""
    # uploads: where upload jobs keep their files (default: instance/imports)
    import_jobs_dir: str = ""
    max_content_length: int = 64 * 1024 * 1024
    # background work (tasks/): empty runs the queue on SQLite in the instance
    # folder (queue_file, default instance/queue.db) with the consumer that
    # `credtrack serve` starts; redis://host:6379/0 puts the queue, the login
    # rate limits and the cache invalidation on Redis for several machines
    redis_url: str = ""
    queue_file: str = ""
    # the queue's name in its store: installations sharing one Redis need their own
    queue_name: str = "credtrack"
    # run every task at once in the process that queues it (tests, scripts)
    queue_immediate: bool = False
    # consumer threads of one `credtrack worker`
    worker_threads: int = 2
    # the schedule: outreach sweep every N minutes, due holder messages and
    # dashboard summaries every minute, the daily report at this local hour
    # (for the day before) into report_dir (default instance/reports)
    outreach_sweep_minutes: int = 5
    daily_report_hour: int = 6
    report_dir: str = ""
    # finished task records, their export files and the uploads of failed
    # imports (personal data) are removed after this many days
    task_keep_days: int = 7
    # /metrics: answered to these addresses (comma-separated; the proxy's
    # client address when PROXY_HOPS is set) or to `Authorization: Bearer` this token
    metrics_allowed_ips: str = "127.0.0.1,::1"
    metrics_token: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def validate(self) -> Settings:
        """Refuse values the product cannot work with, naming the setting."""
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingError("CREDTRACK_TIMEZONE", self.timezone, "an IANA time zone such as Asia/Shanghai") from None
        from .domain.status import Status

        for status in self.outreach_stuck_hours:
            if status not in Status.__members__:
                raise SettingError("OUTREACH_STUCK_HOURS", status, "a status of the chain")
        for name in ("default_weight_g", "idle_timeout_minutes", "login_max_failures", "reveal_minutes",
                     "print_max_web_labels", "worker_threads", "outreach_sweep_minutes", "task_keep_days"):
            if getattr(self, name) <= 0:
                raise SettingError(name.upper(), getattr(self, name), "a positive number")
        if not 0 <= self.daily_report_hour <= 23:
            raise SettingError("DAILY_REPORT_HOUR", self.daily_report_hour, "an hour from 0 to 23")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingError("CREDTRACK_REDIS_URL", self.redis_url, "a redis:// address")
        return self


class SettingError(ValueError):
    """A setting with a value the product cannot use."""

    def __init__(self, key: str, value: Any, expected: str):
        super().__init__(f"setting {key}: {value!r} is not {expected}")
        self.key = key


_ENV_NAMES = {"database_url": "DATABASE_URL", "secret_key": "SECRET_KEY"}
# config keys whose Flask name differs from the setting's
_CONFIG_NAMES = {"cookie_secure": "SESSION_COOKIE_SECURE"}


def config_key(name: str) -> str:
    return _CONFIG_NAMES.get(name, name.upper())


def env_name(name: str) -> str:
    return _ENV_NAMES.get(name, "CREDTRACK_" + name.upper())


def _parse(f: dataclasses.Field, raw: Any, key: str) -> Any:
    """A raw value (text from the environment, or anything from a config
    file) as the field's type."""
    kind = f.type
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "dict":
            value = json.loads(raw) if isinstance(raw, str) else dict(raw)
            return {str(k): float(v) for k, v in value.items()}
        return "" if raw is None else str(raw)
    except (TypeError, ValueError):
        raise SettingError(key, raw, f"a {kind}") from None


def from_environment(environ: Mapping[str, str] | None = None) -> dict:
    """Config entries (by config key) for the settings named in the environment."""
    environ = os.environ if environ is None else environ
    out = {}
    for f in fields(Settings):
        env = env_name(f.name)
        if env in environ:
            out[config_key(f.name)] = _parse(f, environ[env], env)
    return out


def defaults() -> dict:
    """Config entries for every setting's default (the database URL and the
    secret key have theirs from the instance folder: config.py)."""
    base = Settings()
    return {config_key(f.name): getattr(base, f.name) for f in fields(Settings)
            if f.name not in _ENV_NAMES}


def from_config(config: Mapping[str, Any]) -> Settings:
    """The typed settings of a loaded Flask config. Dictionaries (hours per
    status, rule, priority) given in the config extend the defaults."""
    base = Settings()
    values = {}
    for f in fields(Settings):
        key = config_key(f.name)
        if key not in config:
            continue
        value = _parse(f, config[key], key)
        if f.type == "dict":
            value = {**getattr(base, f.name), **value}
        values[f.name] = value
    return Settings(**values).validate()


def current() -> Settings:
    """The settings of the running application."""
    from flask import current_app

    return current_app.extensions["credtrack_settings"]


def refresh(app) -> Settings:
    """Build the app's settings again from its config (after a change to
    the config of a running app, as tests make)."""
    app.extensions["credtrack_settings"] = from_config(app.config)
    return app.extensions["credtrack_settings"]


def table_markdown() -> str:
    """Every setting with its environment variable, config key and default
    (docs/OPERATIONS.md embeds it; a test checks both agree)."""
    base = Settings()
    lines = ["| environment | config key | default |", "|---|---|---|"]
    for f in fields(Settings):
        default = getattr(base, f.name)
        shown = ("(instance folder)" if f.name in _ENV_NAMES else
                 json.dumps(default, ensure_ascii=False) if isinstance(default, dict) else repr(default))
        lines.append(f"| `{env_name(f.name)}` | `{config_key(f.name)}` | `{shown}` |")
    return "\n".join(lines) + "\n"
