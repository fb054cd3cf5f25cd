"""Milestone messages to holders through an outbox and a pluggable sender.

Queueing writes one ``notification`` row per (item, kind) — the unique key
makes a second queueing a no-op, so a holder never gets the same milestone
twice. Sending (``credtrack notify send``) takes due rows, renders the text
in the holder's language, hands it to the configured backend and records
every attempt; a failure is retried with exponential backoff. See
docs/NOTIFICATIONS.md for the backend interface.
"""
from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Integer, String, and_, exists, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..domain.masking import mask_phone_screen
from ..domain.recipient import N_
from ..domain.status import Status
from ..files import private_open
from ..i18n import translate
from ..models import Credential, Notification, NotificationAttempt
from ..models.base import UTCDateTime, utcnow

log = logging.getLogger("credential_track.notify")

KINDS = ("dispatched", "delivery_failed", "ready_for_pickup")
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 60  # 1, 2, 4, 8, 16 minutes between attempts

# the texts (msgids; the catalogue holds their Chinese), rendered in the
# holder's language whatever the sender's (i18n.translate)
TEMPLATES = {
    "dispatched": N_("[Expo credentials] Your credential %(credential_no)s has been sent by EMS, "
                     "waybill %(waybill_no)s. Track it: %(link)s"),
    "delivery_failed": N_("[Expo credentials] Delivery of your credential %(credential_no)s (waybill "
                          "%(waybill_no)s) did not succeed. We will contact you to arrange redelivery. %(link)s"),
    "ready_for_pickup": N_("[Expo credentials] Your credential %(credential_no)s is ready for pickup at the "
                           "credential management center. Please bring your ID."),
}


@dataclass(frozen=True)
class OutboundMessage:
    """What a backend is asked to send."""

    notification_id: int
    recipient: str  # phone number
    language: str  # zh or en
    kind: str
    body: str


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_ref: str | None = None
    error: str | None = None


class Sender(Protocol):
    """The backend interface (docs/NOTIFICATIONS.md). `send` must not raise
    for a refused message: it answers SendResult(ok=False, error=…); an
    exception counts as a failed attempt too."""

    name: str

    def send(self, message: OutboundMessage) -> SendResult: ...


class LogSender:
    """The default backend: writes each message to the log and, when given a
    path, appends it as one JSON line to the outbox file. Sends nothing."""

    name = "log"

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None

    def send(self, message: OutboundMessage) -> SendResult:
        # a log line never holds a phone number in full (the outbox file is the "sent" message)
        log.info("outbox %s to %s: %s", message.kind, mask_phone_screen(message.recipient), message.body)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with private_open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"id": message.notification_id, "to": message.recipient,
                                    "lang": message.language, "kind": message.kind, "body": message.body,
                                    "at": utcnow().isoformat()}, ensure_ascii=False) + "\n")
        return SendResult(ok=True, provider_ref=f"log-{message.notification_id}")


def load_sender(spec: str | None, *, outbox_path: str | Path | None = None) -> Sender:
    """The backend named by NOTIFY_BACKEND: empty or "log" for LogSender, or
    "package.module:ClassName" (constructed without arguments)."""
    if not spec or spec == "log":
        return LogSender(outbox_path)
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError(f"NOTIFY_BACKEND must be 'log' or 'module:Class', got {spec!r}")
    return getattr(importlib.import_module(module_name), class_name)()


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def queue(session: Session, *, kind: str, credential_ids: list[int] | None = None, where=None,
          now: datetime | None = None) -> int:
    """Queue milestone `kind` for the given items (set-based); items that
    already have it are skipped. Returns how many were queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = now or utcnow()
    c = Credential.__table__.c
    n = Notification.__table__
    cond = ~exists().where(n.c.credential_id == c.id, n.c.kind == kind)
    if credential_ids is not None:
        if not credential_ids:
            return 0
        cond = and_(cond, c.id.in_(credential_ids))
    if where is not None:
        cond = and_(cond, where)
    stmt = _insert(session)(n).from_select(
        ["credential_id", "kind", "state", "attempts", "next_attempt_at", "created_at"],
        sa_select(c.id, literal(kind, String), literal("pending", String), literal(0, Integer),
                  literal(now, UTCDateTime()), literal(now, UTCDateTime())).where(cond).order_by(c.id),
    ).on_conflict_do_nothing()
    from .outreach import execute_counted

    return execute_counted(session, stmt, n.c.id)


def queue_dispatched(session: Session, *, now: datetime | None = None) -> int:
    """Queue the `dispatched` message (with waybill and tracking link) for
    every item on its way that has not had it, except revoked ones."""
    c = Credential.__table__.c
    on_way = [Status.dispatched.value, Status.in_transit.value, Status.arrived.value,
              Status.out_for_delivery.value]
    # the few revoked items come from their partial index; the rest is read
    # from the status index alone (a status on the way implies a waybill)
    revoked = sa_select(c.id).where(c.revoked == True, c.status.in_(on_way))  # noqa: E712
    return queue(session, kind="dispatched", where=and_(c.status.in_(on_way), c.id.notin_(revoked)), now=now)


def render(kind: str, language: str, item: Credential, *, track_url: str) -> str:
    """The message text in the holder's language (zh unless `en`)."""
    lang = "en" if (language or "").lower().startswith("en") else "zh"
    return translate(TEMPLATES[kind], lang, credential_no=item.credential_no, waybill_no=item.waybill_no or "",
                     link=track_url)


def send_due(session: Session, sender: Sender, *, base_url: str = "", limit: int = 500,
             now: datetime | None = None) -> dict[str, int]:
    """Send up to `limit` due messages (a write session; commits are the
    caller's). Each attempt is recorded; failures are retried with backoff
    and given up after MAX_ATTEMPTS."""
    now = now or utcnow()
    rows = session.exec(
        select(Notification, Credential).join(Credential, Credential.id == Notification.credential_id)
        .where(Notification.state == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit).with_for_update()
    ).all()
    out = {"sent": 0, "failed": 0, "gave_up": 0}
    for note, item in rows:
        if not (item.recipient_phone or "").strip():
            note.state, note.last_error = "failed", "no phone number"
            session.add(note)
            out["gave_up"] += 1
            continue
        lang = "en" if (item.language or "").lower().startswith("en") else "zh"
        link = f"{base_url.rstrip('/')}/track?no={item.credential_no}"
        body = render(note.kind, lang, item, track_url=link)
        msg = OutboundMessage(note.id, item.recipient_phone, lang, note.kind, body)
        try:
            result = sender.send(msg)
        except Exception as exc:  # a backend's crash is a failed attempt, not a stopped run
            result = SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
        session.add(NotificationAttempt(notification_id=note.id, backend=getattr(sender, "name", "?")[:64],
                                        recipient=item.recipient_phone[:32], language=lang, body=body,
                                        ok=result.ok, provider_ref=result.provider_ref,
                                        error=(result.error or None) and result.error[:500], at=now))
        note.attempts += 1
        if result.ok:
            note.state, note.sent_at, note.last_error = "sent", now, None
            out["sent"] += 1
        else:
            note.last_error = (result.error or "failed")[:500]
            if note.attempts >= MAX_ATTEMPTS:
                note.state = "failed"
                out["gave_up"] += 1
            else:
                note.next_attempt_at = now + timedelta(seconds=BACKOFF_BASE_S * 2 ** (note.attempts - 1))
                out["failed"] += 1
        session.add(note)
    session.flush()
    return out
