"""One typed settings object: every default in one place, every setting
settable from the environment, a wrong value refused at start by name."""
from __future__ import annotations

import dataclasses

import pytest

from credential_track import create_app, settings


def test_every_setting_comes_from_its_environment_variable():
    env = {
        "CREDTRACK_TIMEZONE": "Asia/Urumqi", "CREDTRACK_DEFAULT_WEIGHT_G": "60",
        "CREDTRACK_COOKIE_SECURE": "yes", "CREDTRACK_CACHE_SECONDS": "0.5",
        "CREDTRACK_TICKET_SLA_HOURS": '{"urgent": 1}', "CREDTRACK_REVEAL_MINUTES": "5",
    }
    conf = settings.from_config({**settings.defaults(), **settings.from_environment(env)})
    assert (conf.timezone, conf.default_weight_g, conf.cookie_secure, conf.cache_seconds, conf.reveal_minutes) == (
        "Asia/Urumqi", 60, True, 0.5, 5)
    # hours given for some priorities extend the defaults of the others
    assert conf.ticket_sla_hours == {"urgent": 1.0, "high": 8.0, "normal": 24.0, "low": 72.0}


def test_each_setting_has_one_environment_name():
    names = [settings.env_name(f.name) for f in dataclasses.fields(settings.Settings)]
    assert len(names) == len(set(names))
    assert all(n.startswith("CREDTRACK_") or n in ("DATABASE_URL", "SECRET_KEY") for n in names)


@pytest.mark.parametrize("key,value", [
    ("CREDTRACK_DEFAULT_WEIGHT_G", "heavy"), ("CREDTRACK_TIMEZONE", "Mars/Olympus"),
    ("CREDTRACK_DEFAULT_WEIGHT_G", "0"), ("CREDTRACK_OUTREACH_STUCK_HOURS", '{"flying": 3}'),
])
def test_a_wrong_value_stops_the_start_naming_the_setting(key, value, tmp_path):
    with pytest.raises(settings.SettingError) as exc:
        settings.from_config({**settings.defaults(), **settings.from_environment({key: value})})
    assert exc.value.key.split("CREDTRACK_")[-1] in key


def test_the_app_reads_its_settings_object(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "t",
                      "DEFAULT_WEIGHT_G": 52, "TIMEZONE": "Asia/Hong_Kong"})
    conf = app.extensions["credtrack_settings"]
    assert conf.default_weight_g == 52 and conf.zone.key == "Asia/Hong_Kong"


def test_operations_doc_lists_every_setting():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    assert settings.table_markdown() in doc
