"""The outbox: every digest and alert is written here first, then delivered.

Exactly once: a message row (and the deliveries it covers) is committed before anything is
sent; it is marked sent only after Apprise reports success, in one short commit. A daemon
killed between the two re-sends nothing that was marked and loses nothing that was not.
The one window for a repeat is between the channel accepting a message and that commit —
milliseconds, one row — and it is the price of never losing a digest.

Several channels: a message is sent to each channel (Apprise URL) on its own. It is marked
sent once every channel it is meant for has accepted it, over one attempt or several; the
channels that accepted are remembered (by a hash of their URL, in ``daemon_state`` under
``outbox:<id>:accepted``) and a retry goes only to the others, so nobody gets it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.notify import ChannelResult, Message, Notifier
from scheduler.status import count_sent
from storage.db import transaction
from storage.models import DaemonState, Delivery, OutboxMessage

log = logging.getLogger(__name__)
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)  # seconds before the 1st, 2nd, ... retry
# A deliverer claims a message before sending it by moving its next attempt this far ahead:
# another deliverer (the outbox job beside a post-crawl delivery, a second process) skips it,
# and a deliverer killed mid-send leaves it to be retried once the claim runs out.
CLAIM = timedelta(minutes=4)


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
        session.add(Delivery(item_id=item_id, kind=kind, tag=message.tag or "", outbox_id=row.id, created_at=now))
    return row


@dataclass
class Attempt:
    """One try at one message: what each channel answered, and whether it is now sent."""

    message_id: int
    title: str
    sent: bool
    answers: list[ChannelResult] = field(default_factory=list)


def deliver_pending(database_url: str, notifier: Notifier, now: datetime, also: Collection[int] = ()) -> list[Attempt]:
    """Send what is due by ``now`` (and the unsent messages in ``also``, whatever their
    back-off: an operator asked for them); returns one attempt per message tried."""
    if not notifier.configured:
        # Nothing is tried, so nothing is counted as a refusal: the messages wait for recipients.
        log.warning("no recipients configured (RADAR_NOTIFY / RADAR_APPRISE_CONFIG): outbox not delivered")
        return []
    due_now = OutboxMessage.next_attempt_at <= now
    with transaction(database_url) as session:
        due = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None), due_now | OutboxMessage.id.in_(list(also)) if also else due_now)
            .order_by(OutboxMessage.id)
        ).all()
    return [attempt for message_id in due if (attempt := _deliver_one(database_url, notifier, message_id, now))]


def _deliver_one(database_url: str, notifier: Notifier, message_id: int, now: datetime) -> Attempt | None:
    with transaction(database_url) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.sent_at is not None or not _claim(session, row, now):
            return None
        message = Message(row.title, row.body_text, row.body_markdown, row.body_html, row.tag)
        accepted_before = _accepted(session, message_id)
    answers = notifier.send(message, skip=accepted_before)
    refused = [answer for answer in answers if not answer.accepted]
    with transaction(database_url) as session:
        row = session.get(OutboxMessage, message_id)
        row.attempts += 1
        accepted = accepted_before | {answer.key for answer in answers if answer.accepted}
        if not refused:
            row.sent_at, row.last_error = now, None
            count_sent(session, row.kind, now)  # the /metrics total, which the retention clean-up cannot lower
            _remember(session, message_id, set(), now)
            log.info("sent %s %r (attempt %d)", row.kind, row.title, row.attempts)
        else:
            delay = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            row.next_attempt_at, row.last_error = now + timedelta(seconds=delay), "; ".join(map(str, refused))
            _remember(session, message_id, accepted, now)
            log.warning("could not send %s %r (attempt %d): %s; retrying in %ds", row.kind, row.title, row.attempts, row.last_error, delay)
        return Attempt(message_id, row.title, not refused, answers)


def _claim(session: Session, row: OutboxMessage, now: datetime) -> bool:
    """Take ``row`` for sending: a compare-and-set on its next attempt time, so of two
    deliverers that read it at once exactly one wins (the other's UPDATE matches no row)."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at == row.next_attempt_at)
        .values(next_attempt_at=now + CLAIM)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        log.info("outbox #%d is being sent by another deliverer; skipped", row.id)
    return claimed.rowcount == 1


def _accepted(session: Session, message_id: int) -> set[str]:
    state = session.get(DaemonState, f"outbox:{message_id}:accepted")
    return set((state.value or {}).get("channels", [])) if state else set()


def _remember(session: Session, message_id: int, channels: set[str], now: datetime) -> None:
    """Keep the channels that accepted an unsent message; forget them once it is sent."""
    key = f"outbox:{message_id}:accepted"
    state = session.get(DaemonState, key)
    if not channels:
        if state is not None:
            session.delete(state)
        return
    state = state or DaemonState(key=key)
    state.value, state.updated_at = {"channels": sorted(channels)}, now
    session.add(state)


def backlog(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)))


def find(database_url: str, dedupe_key: str) -> OutboxMessage | None:
    """The message queued under this key, if any (read-only, detached)."""
    with transaction(database_url) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if row is not None:
            session.expunge(row)
        return row
