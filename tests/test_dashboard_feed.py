"""The change feed: every event exactly once, in commit order, while
stations write concurrently (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from credential_track.db import write_session
from credential_track.models import Event
from credential_track.services import events
from credential_track.services.dashboard import feed

from .factories import do_scan, make_credential


def _items(engine, n: int) -> list[str]:
    with write_session(engine) as s:
        return [make_credential(s).credential_no for _ in range(n)]


def test_feed_delivers_every_event_once_while_stations_write(engine):
    items = _items(engine, 60)
    stop = threading.Event()
    errors: list[BaseException] = []

    def scanner(codes):
        try:
            for code in codes:
                do_scan(engine, code, "handover", "WS-01")
                do_scan(engine, code, "handover", "WS-01")  # refused: already_done, also an event
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def slow_writer():
        # holds its transaction open after taking an event id: a later id
        # committed meanwhile must not overtake it in the feed
        try:
            for i in range(15):
                with write_session(engine) as s:
                    events.record(s, action="correct", code=f"SLOW-{i}", details={"n": i})
                    time.sleep(0.02)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    seen: list[int] = []
    cursor = None

    def read_once() -> int:
        nonlocal cursor
        with Session(engine) as s:
            page = feed.changes(s, after=cursor, limit=7)
        seen.extend(e["id"] for e in page["events"])
        cursor = page["next"]
        return len(page["events"])

    def reader():
        try:
            while not stop.is_set():
                read_once()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    writers = [threading.Thread(target=scanner, args=(items[:30],)),
               threading.Thread(target=scanner, args=(items[30:],)),
               threading.Thread(target=slow_writer)]
    r = threading.Thread(target=reader)
    r.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    r.join()
    while read_once():
        pass
    assert not errors, errors
    with Session(engine) as s:
        all_ids = list(s.execute(select(Event.id).order_by(Event.id)).scalars())
    assert len(all_ids) >= 60 * 2 + 15
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert seen == all_ids, "the feed skipped or reordered events"


def test_feed_cursor_is_stable_and_empty_page_keeps_it(engine):
    items = _items(engine, 3)
    for code in items:
        do_scan(engine, code, "handover", "WS-01")
    with Session(engine) as s:
        first = feed.changes(s, limit=2)
        again = feed.changes(s, limit=2)
        rest = feed.changes(s, after=first["next"], limit=100)
        end = feed.changes(s, after=rest["next"], limit=100)
    assert first == again
    assert [e["id"] for e in first["events"]] + [e["id"] for e in rest["events"]] == \
        sorted({e["id"] for e in first["events"] + rest["events"]})
    assert end == {"events": [], "next": rest["next"]}
    assert {e["credential_no"] for e in first["events"] + rest["events"]} == set(items)


def test_changes_api_answers_the_documented_shape(client, auth, engine):
    (code,) = _items(engine, 1)
    do_scan(engine, code, "handover", "WS-01")
    auth.login("organizer")
    body = client.get("/api/v1/changes?limit=500").get_json()
    ev = [e for e in body["events"] if e["credential_no"] == code and e["action"] == "handover"][0]
    assert {"id", "credential_no", "action", "result", "from", "to", "station", "at"} <= set(ev)
    assert (ev["from"], ev["to"], ev["station"], ev["result"]) == ("registered", "received", "WS-01", "ok")
    assert body["next"] == str(body["events"][-1]["id"])
    with Session(engine) as s:
        at = s.get(Event, ev["id"]).at
    assert datetime.fromisoformat(ev["at"]) == at


def test_changes_api_refuses_a_bad_cursor_and_other_roles(client, auth):
    auth.login("organizer")
    resp = client.get("/api/v1/changes?after=abc")
    assert resp.status_code == 400 and resp.get_json()["field"] == "after"
    assert client.get("/api/v1/changes?limit=0").get_json()["field"] == "limit"
    auth.login("operator")
    assert client.get("/api/v1/changes").status_code == 403
