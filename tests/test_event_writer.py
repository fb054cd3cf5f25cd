"""Every event is written through services/events.py, and only with an
action of the one event vocabulary."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from credential_track.domain.status import Action, EventAction
from credential_track.services import events

SRC = Path(__file__).resolve().parents[1] / "src" / "credential_track"
# ways to insert into the event table
_WRITES = re.compile(r"INSERT\s+INTO\s+\"?event\"?\b|insert\(\s*(Event|_E)\b|(?<!class )(?<!threading\.)\bEvent\(", re.IGNORECASE)


def test_no_event_is_inserted_outside_the_event_writer():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "events.py" and path.parent.name == "services" or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for m in _WRITES.finditer(text):
            line = text[:m.start()].count("\n") + 1
            # the bulk paths hand their statement to events.write_sql
            before = text[max(0, m.start() - 80):m.start()]
            if "events.write_sql(" in before:
                continue
            offenders.append(f"{path.relative_to(SRC)}:{line}")
    assert offenders == []


def test_scan_actions_are_event_actions_with_the_same_words():
    assert {a.value for a in Action} <= {a.value for a in EventAction}


def test_an_action_outside_the_vocabulary_cannot_be_written(db):
    with pytest.raises(ValueError, match="not an event action"):
        events.record(db, action="address_fix")
    with pytest.raises(ValueError, match="write_sql only inserts events"):
        events.write_sql(db.connection(), "UPDATE credential SET hold = 1", (), actions=["hold"])


def test_the_bulk_writers_refuse_events_from_anyone_but_the_event_writer(db):
    from credential_track.db import insert_rows, write_tuples
    from credential_track.models import Event

    conn = db.connection()
    with pytest.raises(ValueError, match="services/events.py"):
        write_tuples(conn, "event", ["action"], [("import",)])
    with pytest.raises(ValueError, match="services/events.py"):
        insert_rows(conn, Event.__table__, [{"action": "import"}])
