"""One clock: every time shown to people is on the configured zone, one
format per kind; exports carry the offset; "today" is the local day."""
from datetime import UTC, date, datetime, timedelta

import pytest

from credential_track import clock, create_app


@pytest.fixture(autouse=True)
def _shanghai():
    yield
    clock.configure("Asia/Shanghai")  # the next app sets its own again; plain tests expect the default


def test_times_are_shown_in_shanghai_and_exported_with_the_offset():
    at = datetime(2026, 11, 5, 17, 1, 30, tzinfo=UTC)
    assert clock.format_datetime(at) == "2026-11-06 01:01"
    assert clock.format_datetime(at, seconds=True) == "2026-11-06 01:01:30"
    assert clock.format_date(at) == "2026-11-06"  # the local day, not the UTC one
    assert clock.iso_local(at) == "2026-11-06T01:01:30+08:00"
    # SQLite hands out naive UTC text: the same answer
    assert clock.iso_local("2026-11-05 17:01:30.123456") == "2026-11-06T01:01:30+08:00"
    assert clock.format_datetime("2026-11-05T17:01:30+00:00") == "2026-11-06 01:01"
    assert clock.format_datetime(None) == "" and clock.iso_local(None) == ""


def test_a_local_day_runs_from_local_midnight_to_local_midnight():
    start, end = clock.day_bounds(date(2026, 11, 6))
    assert start == datetime(2026, 11, 5, 16, tzinfo=UTC) and end - start == timedelta(days=1)
    assert clock.today(datetime(2026, 11, 5, 16, 30, tzinfo=UTC)) == date(2026, 11, 6)


def test_durations_read_as_minutes_and_seconds_or_hours():
    assert clock.format_duration(185) == "3:05"
    assert clock.format_duration(3 * 3600 + 65) == "3:01:05"


def test_a_zone_with_summer_time_keeps_each_moment_on_its_own_offset():
    clock.configure("Europe/Berlin")
    assert clock.iso_local("2026-03-29 00:59:00") == "2026-03-29T01:59:00+01:00"
    assert clock.iso_local("2026-03-29 01:00:00") == "2026-03-29T03:00:00+02:00"
    start, end = clock.day_bounds(date(2026, 3, 29))
    assert end - start == timedelta(hours=23)


def test_an_unknown_zone_is_refused_when_the_app_starts(tmp_path):
    with pytest.raises(ValueError, match="CREDTRACK_TIMEZONE"):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TIMEZONE": "Mars/Olympus"})


def test_the_configured_zone_is_the_one_every_page_shows(db_url, tmp_path):
    from credential_track.db import write_session
    from credential_track.services import tickets

    from .conftest import Auth
    from .factories import make_credential

    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "t", "TIMEZONE": "Europe/London"})
    engine = app.extensions["credtrack_engine"]
    try:
        at = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # 10:30 in London (summer), 17:30 in Shanghai
        with write_session(engine) as s:
            make_credential(s, credential_no="TZ-1")
            t = tickets.open_ticket(s, category="other", subject="tz", created_by=None, now=at)
            ticket_id = t.id
        auth = Auth(app.test_client(), engine).login("agent")
        page = auth.client.get(f"/desk/tickets/{ticket_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        due = (at + timedelta(hours=tickets.TicketSettings().sla_hours["normal"])).astimezone(clock.local_zone())
        assert due.strftime("%Y-%m-%d %H:%M") in page and "Europe/London (UTC" in page
    finally:
        engine.dispose()


def test_the_command_line_speaks_chinese_unless_the_terminal_is_english(app, monkeypatch):
    runner = app.test_cli_runner()
    monkeypatch.delenv("CREDTRACK_LANGUAGE", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    zh = runner.invoke(args=["stats"])
    assert zh.output.startswith("总数 ")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    en = runner.invoke(args=["stats"])
    assert en.output.startswith("total ")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"])
def test_the_fast_export_format_agrees_with_the_zone_database_all_year(zone):
    """iso_local's fast path (stored UTC text, one lookup per hour) against zoneinfo, across summer time."""
    clock.configure(zone)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes in range(0, 365 * 24 * 60, 97):
        at = start + timedelta(minutes=minutes)
        expected = at.astimezone(clock.local_zone()).isoformat()
        assert clock.iso_local(at.strftime("%Y-%m-%d %H:%M:%S.123456")) == expected
        assert clock.iso_local(at) == expected
