"""One unit of work per request: a view that raises leaves nothing behind,
and no view or API endpoint commits by itself."""
from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session, func, select

from credential_track.models import Ticket


def _tickets(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Ticket)).one()


def test_a_refused_form_writes_nothing_and_says_why(auth, engine):
    """open_ticket writes the ticket, then finds the unknown credential: the
    whole request is rolled back, the page says why and goes back to the form."""
    auth.login("agent")
    before = _tickets(engine)
    resp = auth.client.post("/desk/tickets", data={"category": "other", "subject": "caller asks",
                                                   "credential_nos": "NO-SUCH-CARD", "csrf_token": auth.csrf})
    assert resp.status_code == 302 and "/desk/tickets/new" in resp.headers["Location"]
    assert _tickets(engine) == before
    page = auth.client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "NO-SUCH-CARD" in page


def test_no_view_commits_or_rolls_back_by_itself():
    root = Path(__file__).resolve().parents[1] / "src" / "credential_track"
    found = []
    for folder in ("web", "api"):
        for path in (root / folder).glob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\.(commit|rollback)\(\)", line):
                    found.append(f"{folder}/{path.name}:{n}")
    assert found == []
