"""The outbox: every digest and alert is written here first, then delivered.

Exactly once: a message row (and the deliveries it covers) is committed before anything is
sent; it is marked sent only after Apprise reports success, in one short commit. A daemon
killed between the two re-sends nothing that was marked and loses nothing that was not.
The one window for a repeat is between the channel accepting a message and that commit —
milliseconds, one row — and it is the price of never losing a digest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.notify import Message, Notifier, redact
from scheduler.status import count_sent
from storage.db import transaction
from storage.models import Delivery, OutboxMessage

log = logging.getLogger(__name__)
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)  # seconds before the 1st, 2nd, ... retry


def enqueue(
    session: Session, kind: str, dedupe_key: str, message: Message, now: datetime, item_ids: Sequence[int] = ()
) -> OutboxMessage | None:
    """Queue a message once: a second call with the same key is a no-op (returns None).

    ``now`` is the caller's clock: the row is due at once by that clock, so a caller running
    on a fake or shifted clock delivers what it queued (the real clock here was a date-bomb)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    row = OutboxMessage(
        kind=kind, dedupe_key=dedupe_key, tag=message.tag, title=message.title,
        body_text=message.text, body_markdown=message.markdown, body_html=message.html,
        created_at=now, next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    for item_id in item_ids:
        session.add(Delivery(item_id=item_id, kind=kind, tag=message.tag or "", outbox_id=row.id))
    return row


def deliver_pending(database_url: str, notifier: Notifier, now: datetime) -> tuple[int, int]:
    """Send what is due; returns (sent, failed)."""
    with transaction(database_url) as session:
        due = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
        ).all()
    sent = failed = 0
    for message_id in due:
        if _deliver_one(database_url, notifier, message_id, now):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _deliver_one(database_url: str, notifier: Notifier, message_id: int, now: datetime) -> bool:
    with transaction(database_url) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.sent_at is not None:
            return True
        message = Message(row.title, row.body_text, row.body_markdown, row.body_html, row.tag)
    try:
        ok = notifier.send(message)
        error = None if ok else "a channel refused the message (see the log above)"
    except Exception as exc:  # a plugin raising must not stop the other messages
        ok, error = False, redact(f"{type(exc).__name__}: {exc}")
    with transaction(database_url) as session:
        row = session.get(OutboxMessage, message_id)
        row.attempts += 1
        if ok:
            row.sent_at, row.last_error = now, None
            count_sent(session, row.kind, now)  # the /metrics total, which the retention clean-up cannot lower
            log.info("sent %s %r (attempt %d)", row.kind, row.title, row.attempts)
        else:
            delay = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            row.next_attempt_at, row.last_error = now + timedelta(seconds=delay), error
            log.warning("could not send %s %r (attempt %d): %s; retrying in %ds", row.kind, row.title, row.attempts, error, delay)
    return ok


def backlog(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)))
