"""Consistency check after a load run: the database against what the
clients were told, and against itself.

    python bench/consistency.py --db-url sqlite:////tmp/run/credtrack.db --records /tmp/run/records.jsonl

From the records (one JSON line per request, written by bench/load.py):
  * every answered scan has exactly one event with its nonce, with the same
    event id, result and reason (so every `ok` a client received is there, once);
  * each replayed nonce got the first answer (result, reason, event id);
  * each pair of simultaneous scans from two stations got one `ok` and one
    `already_done`;
  * every scan meant to be refused was refused with the reason it should have.
From the database, over every item, bag and trip:
  * no item has two `ok` events for one action of the chain (bag: unless unbagged in between);
  * every item's status equals the `to_status` of its last status-changing event;
  * every bag's item_count equals the items in it, and its items' statuses
    agree with its state;
  * every trip that bags were loaded onto holds exactly those bags; a
    departed trip's depart event counts its bags and item events; a trip
    is `arrived` exactly when all its bags are.

Any difference is printed and the exit status is 1.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (puts src/ on the path)

CHAIN_ONCE = ("handover", "capture", "accept", "seal", "depart", "arrive")
BAG_ITEM_STATUS = {
    "open": ("bagged",), "sealed": ("dispatched",), "loaded": ("dispatched",), "in_transit": ("in_transit",),
    "arrived": ("arrived", "out_for_delivery", "delivery_failed", "delivered", "returned"),
}


def read_records(path: Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_records(conn, records: list[dict]) -> tuple[list[str], dict]:
    from sqlalchemy import bindparam, text

    problems: list[str] = []
    scans = [r for r in records if r["k"] == "scan" and r["status"] == 200]
    nonces = sorted({r["nonce"] for r in scans})
    events: dict[str, tuple] = {}
    q = text("SELECT nonce, id, result, reason FROM event WHERE nonce IN :n").bindparams(
        bindparam("n", expanding=True))
    for i in range(0, len(nonces), 500):
        for nonce, eid, result, reason in conn.execute(q, {"n": nonces[i:i + 500]}):
            events[nonce] = (eid, result, reason)
    ok_seen = 0
    for r in scans:
        ev = events.get(r["nonce"])
        if ev is None:
            problems.append(f"scan {r['action']} {r['code']} nonce {r['nonce']} answered {r['result']} "
                            f"(event {r['event_id']}) but no event has that nonce")
            continue
        if (ev[0], ev[1], ev[2]) != (r["event_id"], r["result"], r["reason"]):
            problems.append(f"nonce {r['nonce']}: answered {r['result']}/{r['reason']} event {r['event_id']}, "
                            f"stored event {ev[0]} {ev[1]}/{ev[2]}")
        if r["result"] == "ok":
            ok_seen += 1
        expect = r.get("expect")
        if expect is not None:
            got = "ok" if r["result"] == "ok" else r["reason"]
            if got != expect:
                problems.append(f"{r['action']} {r['code']} at {r['station']}: expected {expect}, got {got}")

    first: dict[str, dict] = {}
    for r in sorted(scans, key=lambda r: r["t"]):
        if not r.get("replay_of"):
            first.setdefault(r["nonce"], r)
    replays = [r for r in scans if r.get("replay_of")]
    for r in replays:
        orig = first.get(r["replay_of"])
        if orig is None:
            continue  # the first answer was lost in a crash: compared with the event above
        if not r["replayed"] or (r["result"], r["reason"], r["event_id"]) != (
                orig["result"], orig["reason"], orig["event_id"]):
            problems.append(f"replay of {r['nonce']}: got {r['result']}/{r['reason']} event {r['event_id']} "
                            f"replayed={r['replayed']}, first answer {orig['result']}/{orig['reason']} "
                            f"event {orig['event_id']}")

    races: dict[str, list] = defaultdict(list)
    for r in scans:
        if "race" in r:
            races[r["race"]].append(r)
    for race_id, pair in races.items():
        answers = sorted("ok" if r["result"] == "ok" else r["reason"] for r in pair)
        if answers != ["already_done", "ok"]:
            problems.append(f"{pair[0]['action']} {pair[0]['code']} from two stations at once: {answers}, "
                            f"expected one ok and one already_done")
    stats = {"answers": len(scans), "ok_answers": ok_seen, "replays": len(replays), "races": len(races),
             "refusals_expected": sum(1 for r in scans if r.get("expect") not in (None, "ok"))}
    return problems, stats


def check_database(conn) -> tuple[list[str], dict]:
    from sqlalchemy import bindparam, text

    problems: list[str] = []
    started = time.monotonic()
    dup = conn.execute(text(
        "SELECT credential_id, action, count(*) FROM event WHERE result = 'ok' AND credential_id IS NOT NULL "
        "AND action IN :actions GROUP BY credential_id, action HAVING count(*) > 1 LIMIT 20"
    ).bindparams(bindparam("actions", expanding=True)), {"actions": list(CHAIN_ONCE)}).all()
    dup += conn.execute(text(
        "SELECT credential_id, action, count(*) FROM event e WHERE result = 'ok' AND action = 'bag' "
        "AND NOT EXISTS (SELECT 1 FROM event u WHERE u.credential_id = e.credential_id "
        "AND u.action IN ('unbag', 'undo', 'reopen') AND u.result = 'ok') "
        "GROUP BY credential_id, action HAVING count(*) > 1 LIMIT 20")).all()
    for cid, action, n in dup:
        problems.append(f"item {cid} has {n} ok {action} events")

    wrong_status = conn.execute(text(
        "SELECT id, status, last FROM (SELECT c.id, c.status, (SELECT e.to_status FROM event e "
        "WHERE e.credential_id = c.id AND e.result = 'ok' AND e.to_status IS NOT NULL "
        "ORDER BY e.id DESC LIMIT 1) AS last FROM credential c) x "
        "WHERE last IS NULL OR last <> status LIMIT 20")).all()
    for cid, status, last in wrong_status:
        problems.append(f"item {cid} is {status} but its last status-changing event says {last}")

    bad_counts = conn.execute(text(
        "SELECT b.code, b.item_count, (SELECT count(*) FROM credential c WHERE c.bag_id = b.id) AS n "
        "FROM bag b WHERE b.item_count <> (SELECT count(*) FROM credential c WHERE c.bag_id = b.id) LIMIT 20"
    )).all()
    for code, count, n in bad_counts:
        problems.append(f"bag {code} says {count} items, holds {n}")

    for state, statuses in BAG_ITEM_STATUS.items():
        rows = conn.execute(text(
            "SELECT c.credential_no, c.status, b.code FROM credential c JOIN bag b ON b.id = c.bag_id "
            "WHERE b.state = :state AND c.status NOT IN :statuses LIMIT 5"
        ).bindparams(bindparam("statuses", expanding=True)), {"state": state, "statuses": list(statuses)}).all()
        for cred, status, code in rows:
            problems.append(f"item {cred} is {status} in bag {code} which is {state}")

    loaded_elsewhere = conn.execute(text(
        "SELECT b.code, t.code FROM bag b JOIN trip t ON t.id = b.trip_id "
        "WHERE EXISTS (SELECT 1 FROM event l WHERE l.trip_id = t.id AND l.action = 'load' AND l.result = 'ok') "
        "AND NOT EXISTS (SELECT 1 FROM event l WHERE l.trip_id = t.id AND l.bag_id = b.id "
        "AND l.action = 'load' AND l.result = 'ok') LIMIT 20")).all()
    loaded_elsewhere += conn.execute(text(
        "SELECT b.code, t.code FROM event l JOIN bag b ON b.id = l.bag_id JOIN trip t ON t.id = l.trip_id "
        "WHERE l.action = 'load' AND l.result = 'ok' AND (b.trip_id IS NULL OR b.trip_id <> l.trip_id) LIMIT 20"
    )).all()
    for bag, trip in loaded_elsewhere:
        problems.append(f"bag {bag} and trip {trip}: the trip's bags differ from the bags loaded onto it")

    departs = conn.execute(text(
        "SELECT t.code, e.details, (SELECT count(*) FROM bag b WHERE b.trip_id = t.id), "
        "(SELECT count(*) FROM event i WHERE i.trip_id = t.id AND i.action = 'depart' "
        "AND i.credential_id IS NOT NULL AND i.result = 'ok') "
        "FROM event e JOIN trip t ON t.id = e.trip_id "
        "WHERE e.action = 'depart' AND e.credential_id IS NULL AND e.result = 'ok'")).all()
    for code, details, n_bags, n_items in departs:
        d = json.loads(details or "{}")
        if d.get("bags") != n_bags or d.get("items") != n_items:
            problems.append(f"trip {code}: depart event says {d.get('bags')} bags / {d.get('items')} items, "
                            f"the trip has {n_bags} bags / {n_items} item depart events")
    trip_state = conn.execute(text(
        "SELECT t.code, t.state FROM trip t WHERE "
        "(t.state = 'arrived' AND EXISTS (SELECT 1 FROM bag b WHERE b.trip_id = t.id AND b.state <> 'arrived')) "
        "OR (t.state = 'departed' AND (EXISTS (SELECT 1 FROM bag b WHERE b.trip_id = t.id "
        "AND b.state NOT IN ('in_transit', 'arrived')) OR NOT EXISTS (SELECT 1 FROM bag b WHERE b.trip_id = t.id "
        "AND b.state = 'in_transit'))) "
        "OR (t.state = 'loading' AND EXISTS (SELECT 1 FROM bag b WHERE b.trip_id = t.id AND b.state <> 'loaded')) "
        "LIMIT 20")).all()
    for code, state in trip_state:
        problems.append(f"trip {code} is {state} but its bags' states disagree")
    counts = {"items": conn.execute(text("SELECT count(*) FROM credential")).scalar(),
              "events": conn.execute(text("SELECT count(*) FROM event")).scalar(),
              "bags": conn.execute(text("SELECT count(*) FROM bag")).scalar(),
              "trips": conn.execute(text("SELECT count(*) FROM trip")).scalar(),
              "db_check_s": round(time.monotonic() - started, 1)}
    return problems, counts


def check_run(db_url: str, records: list[dict]) -> tuple[list[str], dict]:
    """All the checks; (problems, figures). No problems means consistent."""
    from credential_track.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            p1, s1 = check_records(conn, records)
            p2, s2 = check_database(conn)
    finally:
        engine.dispose()
    return p1 + p2, {**s1, **s2}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db-url", required=True)
    ap.add_argument("--records", type=Path, help="records.jsonl written by bench/load.py (omit: database checks only)")
    args = ap.parse_args(argv)
    records = read_records(args.records) if args.records else []
    problems, stats = check_run(args.db_url, records)
    print(f"consistency: {stats}")
    for p in problems:
        print("FAIL", p)
    print(common.result_line("consistency", {**stats, "failures": len(problems)}, not problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
