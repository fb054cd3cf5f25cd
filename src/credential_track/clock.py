"""The one clock: every time a person reads is in the configured zone.

Times are stored in UTC (models/base.py). This module is the only place that
knows the zone people live in: `CREDTRACK_TIMEZONE` (or `TIMEZONE` in the
instance config.py), default Asia/Shanghai, set once per process by the app
factory (`configure`). Everything shown goes through these functions and
their Jinja filters, one format per kind:

    date       2026-11-05
    datetime   2026-11-05 09:12       (datetime_s: 2026-11-05 09:12:03)
    time       09:12
    duration   1:05:09 / 5:09         (hours:minutes:seconds)
    iso        2026-11-05T09:12:03+08:00   (exports: ISO 8601 with the offset)

"Today", "yesterday" and every date filter mean the local day (`today`,
`day_bounds`). The API keeps serving ISO 8601 with the offset as it stores
it (UTC, `+00:00`).
"""
from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .settings import Settings

DEFAULT_ZONE = Settings.timezone  # the setting's default (settings.py)
ENV = "CREDTRACK_TIMEZONE"

_configured: list[str] = [os.environ.get(ENV) or DEFAULT_ZONE]


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{ENV}: {name!r} is not a time zone name (like Asia/Shanghai)") from None


def configure(name: str | None) -> str:
    """Set the process's zone (the app factory calls this with the
    configured TIMEZONE); an unknown name is refused. Returns the name."""
    name = (name or "").strip() or DEFAULT_ZONE
    _zone(name)
    _configured[0] = name
    return name


def zone_name() -> str:
    """The configured zone's name, e.g. `Asia/Shanghai`."""
    return _configured[0]


def local_zone() -> ZoneInfo:
    """The configured zone."""
    return _zone(_configured[0])


def utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC, as stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse(value) -> datetime | None:
    """A datetime from a datetime or from ISO 8601 text (the services' dicts
    and SQLite hand out text); naive values are UTC. None for empty input."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=local_zone())
    text = str(value).strip().replace("Z", "+00:00")
    return utc(datetime.fromisoformat(text))


def to_local(value) -> datetime | None:
    """`value` (datetime or ISO text) in the configured zone."""
    dt = parse(value)
    return dt.astimezone(local_zone()) if dt is not None else None


def now() -> datetime:
    """The current time in the configured zone."""
    return datetime.now(local_zone())


def local_day(value) -> date | None:
    """The local date a moment falls on."""
    dt = to_local(value)
    return dt.date() if dt is not None else None


def today(at: datetime | None = None) -> date:
    """The local date now (or at `at`)."""
    return local_day(at) if at is not None else now().date()


def yesterday(at: datetime | None = None) -> date:
    """The last complete local day."""
    return today(at) - timedelta(days=1)


def day_bounds(d: date) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of local day `d`, in UTC."""
    zone = local_zone()
    start = datetime.combine(d, time.min, tzinfo=zone)
    end = datetime.combine(d + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_midnight(at: datetime | None = None) -> datetime:
    """The start of the local day of `at` (default now), in UTC."""
    return day_bounds(today(at))[0]


def from_local_input(value: datetime) -> datetime:
    """A time typed into a form (a naive `datetime-local`) read in the
    configured zone, as UTC; an aware one is kept."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(UTC)


# ---- formats: one per kind -------------------------------------------------------

def format_datetime(value, *, seconds: bool = False) -> str:
    """`2026-11-05 09:12` (or with seconds) in the configured zone; "" for None."""
    dt = to_local(value)
    if dt is None:
        return ""
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_date(value) -> str:
    """`2026-11-05`: a date as it is, a moment as its local date."""
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return local_day(value).isoformat()


def format_time(value, *, seconds: bool = False) -> str:
    """`09:12` in the configured zone."""
    dt = to_local(value)
    return dt.strftime("%H:%M:%S" if seconds else "%H:%M") if dt is not None else ""


def format_hour(value) -> str:
    """`09:00`: an hour of a chart axis."""
    dt = to_local(value)
    return dt.strftime("%H:00") if dt is not None else ""


def format_duration(seconds) -> str:
    """`5:09` (minutes:seconds) or `1:05:09` (hours:minutes:seconds)."""
    if seconds is None or seconds == "":
        return ""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    s = int(round(float(seconds)))
    sign, s = ("-", -s) if s < 0 else ("", s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


def offset_text(at: datetime | None = None) -> str:
    """The zone's offset from UTC, `UTC+8` or `UTC+05:30`."""
    off = (to_local(at) if at is not None else now()).utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def zone_label(at: datetime | None = None) -> str:
    """Which clock a time is on, in the reader's language: `China time
    (UTC+8)` for Asia/Shanghai, else the zone's name and offset."""
    from flask_babel import gettext

    if zone_name() in ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"):
        return gettext("China time (%(offset)s)", offset=offset_text(at))
    return f"{zone_name()} ({offset_text(at)})"


@lru_cache(maxsize=4096)
def _hour_offsets(zone: tzinfo, hour_text: str) -> tuple[timedelta, timedelta]:
    """The zone's offset at the start and at the end of a UTC hour."""
    start = datetime.fromisoformat(hour_text + ":00:00").replace(tzinfo=UTC)
    return (start.astimezone(zone).utcoffset() or timedelta(0),
            (start + timedelta(hours=1)).astimezone(zone).utcoffset() or timedelta(0))


@lru_cache(maxsize=8192)
def _hour_prefix(zone: tzinfo, hour_text: str) -> tuple[str, str] | None:
    """For a UTC hour (`2026-11-05 01`) in which the zone keeps one offset of
    whole hours: its local `YYYY-MM-DDTHH` and the offset text; else None."""
    first, last = _hour_offsets(zone, hour_text.replace(" ", "T"))
    if first != last or first.total_seconds() % 3600:
        return None
    local = datetime.fromisoformat(hour_text.replace(" ", "T") + ":00:00") + first
    minutes = int(first.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return local.strftime("%Y-%m-%dT%H"), f"{sign}{abs(minutes) // 60:02d}:00"


def iso_local(value) -> str:
    """ISO 8601 with the configured zone's offset, to the second
    (`2026-11-05T09:12:03+08:00`), "" for None: the format of every export.
    Fast for the stored UTC text SQLite hands out: the offset is looked up
    once per hour (exactly, in an hour where the zone changes its offset)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) >= 19 and value[10] in " T" and "+" not in value[19:] \
            and not value.endswith("Z"):
        # the export's hot path: 500,000 items × their stage times
        fast = _hour_prefix(local_zone(), value[:13])
        if fast is not None:
            return f"{fast[0]}{value[13:19]}{fast[1]}"
        base = datetime.fromisoformat(value[:19])
    else:
        base = parse(value).replace(tzinfo=None, microsecond=0)
    zone = local_zone()
    first, last = _hour_offsets(zone, base.strftime("%Y-%m-%dT%H"))
    off = first if first == last else (base.replace(tzinfo=UTC).astimezone(zone).utcoffset()
                                       or timedelta(0))
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"{(base + off).isoformat()}{sign}{h:02d}:{m:02d}"


JINJA_FILTERS = {
    "datetime": format_datetime,
    "datetime_s": lambda v: format_datetime(v, seconds=True),
    "date": format_date,
    "time": format_time,
    "duration": format_duration,
    "iso_local": iso_local,
}


def init_app(app) -> None:
    """Set the zone from the app's settings and register the filters."""
    name = configure(app.extensions["credtrack_settings"].timezone)
    app.config["TIMEZONE"] = name
    app.config["BABEL_DEFAULT_TIMEZONE"] = name
    app.jinja_env.filters.update(JINJA_FILTERS)
    app.jinja_env.globals.update(zone_label=zone_label, zone_name=zone_name)
