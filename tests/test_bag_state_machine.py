"""A bag changes state only along the one bag state machine
(domain/status.py BAG_TRANSITIONS through next_bag_state): seal, load and
arrive scans, departure, a supervisor's reopen and undo of a load."""
from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "credential_track"
# a bag's state set to a fixed state by hand: bag.state = BagState.x, state=BagState.x, "state": BagState.x
_BY_HAND = re.compile(r"\bbag\.state\s*=\s*BagState\.|\bstate\s*=\s*BagState\.(?!open\b)|[\"']state[\"']\s*:\s*BagState\.")


def test_no_bag_state_is_set_outside_the_state_machine():
    offenders = []
    for path in SRC.rglob("*.py"):
        # the demo writes a made-up history in bulk, not moves of a live bag;
        # a new bag starts open (dispatch.open_bag), the one state not reached by a move
        if path.name == "demo.py" or "migrations" in path.parts or path.parts[-2:] == ("domain", "status.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for m in _BY_HAND.finditer(text):
            offenders.append(f"{path.relative_to(SRC)}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}")
    assert offenders == []
