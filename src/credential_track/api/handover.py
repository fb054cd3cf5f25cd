"""Handover batches: list, detail, receive as a whole, close, discrepancies."""
from __future__ import annotations

from flask import Response, jsonify, stream_with_context

from ..unit_of_work import get_db, get_engine
from ..security import api_require, current_actor
from ..services import disclosure, handover
from . import bp
from ..domain.numbers import MAX_INT32
from .parse import json_body, text, whole


@bp.get("/handover-batches")
@api_require("handover")
def list_handover_batches():
    return jsonify({"batches": handover.list_batches(get_db())})


@bp.get("/handover-batches/<ref>")
@api_require("handover")
def get_handover_batch(ref: str):
    db = get_db()
    return jsonify(handover.summary(db, handover.get_batch(db, ref), with_lists=True))


@bp.post("/handover-batches/<ref>/receive")
@api_require("handover")
def receive_handover_batch(ref: str):
    data = json_body()
    counted = whole(data, "counted", lo=0, hi=MAX_INT32, required=True)
    actor = current_actor()
    station = actor.station or text(data, "station", required=False, max_len=16)
    db = get_db()
    out = handover.receive_batch(db, ref, counted=counted, user_id=actor.user_id, station=station)
    return jsonify(out)


@bp.post("/handover-batches/<ref>/close")
@api_require("handover")
def close_handover_batch(ref: str):
    db = get_db()
    out = handover.close_batch(db, ref, user_id=current_actor().user_id)
    return jsonify(out)


@bp.get("/handover-batches/<ref>/discrepancies.csv")
@api_require("export")
def handover_discrepancies(ref: str):
    db = get_db()
    batch = handover.get_batch(db, ref)
    actor = current_actor()
    # missing and extra codes, types and routes: no personal data (handover.DISCREPANCY_COLUMNS)
    disclosure.authorise_export(get_engine(), user_id=actor.user_id, role=actor.role, kind="handover_discrepancies",
                                personal_data=False, fmt="csv", filters={"batch": batch.id})
    return Response(stream_with_context(handover.discrepancy_csv(db, batch)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="handover-{batch.id}-discrepancies.csv"'})
