"""A value computed per database and kept by the process, recomputed when its fingerprint
changes: the learned model (fingerprint: its row) and the editors' pick signal (fingerprint:
the newest triage and issue rows). One value per database — the newest fingerprint's — so a
long-lived process (the daemon, the workspace) holds no stale copies.

Several threads (the workspace's, the scheduler's) may ask at once: the table is guarded by a
lock, the computing is not — two threads that miss together both compute, and the last one
stored wins; both values are of the same fingerprint, so either is right.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def database_of(session: Session) -> str:
    """The key of the session's database: its URL without the password."""
    return session.get_bind().url.render_as_string(hide_password=True)


class PerDatabase(Generic[T]):
    """One value per database, tagged with the fingerprint it was computed for."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[Hashable, T]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, fingerprint: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``fingerprint``, or ``compute()``'s, kept from now on."""
        database = database_of(session)
        with self._lock:
            kept = self._values.get(database)
        if kept is not None and kept[0] == fingerprint:
            return kept[1]
        value = compute()
        self.put(session, fingerprint, value)
        return value

    def put(self, session: Session, fingerprint: Hashable, value: T) -> None:
        """Keep ``value`` as the database's, replacing whatever was kept for it."""
        with self._lock:
            self._values[database_of(session)] = (fingerprint, value)

    def clear(self) -> None:
        """Forget every value, as a new process would."""
        with self._lock:
            self._values.clear()
