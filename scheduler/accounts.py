"""The editors' accounts as `crawl users list` shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scheduler.web.auth import is_removed
from storage import queries


def editor_rows(session: Session, tokens: bool = False) -> list[dict[str, Any]]:
    """Each editor by login name: when they were created, how many triage actions they took,
    and (``tokens``) their feed token — a secret. Removed editors are left out: their row only
    keeps their triage history's author."""
    counts = queries.triage_counts(session)
    return [
        {"username": u.username, "created_at": u.created_at.isoformat(), "actions": counts.get(u.id, 0)}
        | ({"feed_token": u.feed_token} if tokens else {})
        for u in queries.users_by_name(session)
        if not is_removed(u)
    ]
