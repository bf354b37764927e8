"""The outbox's claim: two deliverers that see the same due message send it once."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from scheduler import outbox
from scheduler.notify import Message
from storage.db import ensure_schema, transaction
from storage.models import OutboxMessage

NOW = datetime(2030, 1, 1, 3, 0, tzinfo=timezone.utc)  # any date: the claim compares stored times only


def test_of_two_deliverers_reading_one_message_only_one_claims_it(database_url: str) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        outbox.enqueue(session, "digest", "digest:2030-01-01", Message("t", "x", "x", "<p>x</p>"), NOW)
    with transaction(database_url) as first, transaction(database_url) as second:
        # Both read the row before either claims it, as two threads or processes would.
        mine = first.scalar(select(OutboxMessage))
        theirs = second.scalar(select(OutboxMessage))
        assert outbox._claim(first, mine, NOW) is True
        first.commit()
        assert outbox._claim(second, theirs, NOW) is False  # the row moved on: no second send
    with transaction(database_url) as session:
        row = session.scalar(select(OutboxMessage))
        assert row.sent_at is None and row.next_attempt_at == NOW + outbox.CLAIM  # retried if the sender dies
