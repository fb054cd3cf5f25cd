"""Handover batches: list, detail, receive as a whole, close, discrepancies."""
from __future__ import annotations

from flask import Response, jsonify, stream_with_context

from ..security import api_require, current_actor
from ..services import disclosure, handover
from ..unit_of_work import get_db, get_engine
from .blueprint import bp
from .models import handover as m
from .validation import contract

TAG = "handover"
REF = {"ref": {"description": "the batch's id or name"}}


@bp.get("/handover-batches")
@api_require("handover")
@contract(answer=m.BatchList, tag=TAG, summary="The newest handover batches with their counts")
def list_handover_batches():
    return jsonify({"batches": handover.list_batches(get_db())})


@bp.get("/handover-batches/<ref>")
@api_require("handover")
@contract(answer=m.BatchDetail, tag=TAG, summary="A batch with its missing and extra items", path_params=REF)
def get_handover_batch(ref: str):
    db = get_db()
    return jsonify(handover.summary(db, handover.get_batch(db, ref), with_lists=True))


@bp.post("/handover-batches/<ref>/receive")
@api_require("handover")
@contract(body=m.ReceiveIn, answer=m.BatchReceived, errors=(409,), tag=TAG, path_params=REF,
          summary="Receive a batch as a whole with the quantity counted")
def receive_handover_batch(ref: str, body: m.ReceiveIn):
    actor = current_actor()
    out = handover.receive_batch(get_db(), ref, counted=body.counted, user_id=actor.user_id,
                                 station=actor.station or body.station)
    return jsonify(out)


@bp.post("/handover-batches/<ref>/close")
@api_require("handover")
@contract(answer=m.BatchDetail, errors=(409,), tag=TAG, path_params=REF, summary="Close a batch")
def close_handover_batch(ref: str):
    return jsonify(handover.close_batch(get_db(), ref, user_id=current_actor().user_id))


@bp.get("/handover-batches/<ref>/discrepancies.csv")
@api_require("export")
@contract(answers={200: "text/csv"}, tag=TAG, path_params=REF, summary="A batch's missing and extra codes as CSV",
          description="Codes, types and routes: no personal data. Recorded as an export.")
def handover_discrepancies(ref: str):
    db = get_db()
    batch = handover.get_batch(db, ref)
    actor = current_actor()
    # missing and extra codes, types and routes: no personal data (handover.DISCREPANCY_COLUMNS)
    disclosure.authorise_export(get_engine(), user_id=actor.user_id, role=actor.role, kind="handover_discrepancies",
                                personal_data=False, fmt="csv", filters={"batch": batch.id})
    return Response(stream_with_context(handover.discrepancy_csv(db, batch)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="handover-{batch.id}-discrepancies.csv"'})
