"""The raw baseline for bench/load.py: a bare Flask endpoint doing one
conditional UPDATE and one INSERT on the same database, served by gunicorn
with the same settings as `credtrack serve`.

    python bench/baseline_app.py --db-url sqlite:////tmp/x/credtrack.db --port 5055 --workers 2

POST /bare {"id": <credential id>, "nonce": "…"} updates that credential's
updated_at where its status is unchanged and appends one event row
(action `bench_baseline`, which bench/load.py deletes after the run).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

BASELINE_ACTION = "bench_baseline"


def create_bare_app(db_url: str):
    from flask import Flask, jsonify, request
    from sqlalchemy import text

    from credential_track.db import make_engine, writer
    from credential_track.models.base import utcnow

    app = Flask("credtrack_baseline")
    engine = writer(make_engine(db_url))
    update = text("UPDATE credential SET updated_at = :now WHERE id = :id AND status = status")
    insert = text("INSERT INTO event (credential_id, action, result, station, at, nonce) "
                  "VALUES (:id, :action, 'ok', 'WS-00', :now, :nonce)")

    @app.post("/bare")
    def bare():
        data = request.get_json()
        now = utcnow()
        with engine.begin() as conn:
            changed = conn.execute(update, {"now": now, "id": int(data["id"])}).rowcount
            conn.execute(insert, {"id": int(data["id"]), "action": BASELINE_ACTION, "now": now,
                                  "nonce": data["nonce"]})
        return jsonify(result="ok", changed=changed)

    @app.get("/api/v1/stations")
    def ready():
        return jsonify(ok=True)

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db-url", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5055)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    from credential_track.cli.commands import gunicorn_settings, run_gunicorn

    sys.argv = sys.argv[:1]
    run_gunicorn(lambda: create_bare_app(args.db_url),
                 gunicorn_settings(host=args.host, port=args.port, workers=args.workers, threads=args.threads))


if __name__ == "__main__":
    main()
