"""Which daemon schedules: any number may run on one database, exactly one leads.

On PostgreSQL the leader holds an advisory lock on a connection of its own, kept open for
as long as it leads. The others are hot standbys: every ``poll_seconds`` they try the lock,
and take it as soon as PostgreSQL releases it — when the leader's connection closes (clean
stop, killed process) or the server drops it (keepalives, see storage.db.LOCK_KEEPALIVE).
The leader checks on each poll that its connection still holds the lock, and the daemon
asks again before each job; a leader that lost it stops scheduling at once. The outbox's
exactly-once ledger stays the authority for what is sent, whatever two processes believe.

On SQLite there are no standbys (one machine, one file): a lock file beside the database
makes a second daemon refuse to start. The kernel releases the lock when its holder dies,
so a stale pid never blocks.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime
from typing import IO, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage import queries
from storage.db import LEADER_LOCK, holds_advisory_lock, lock_connection, redacted, sqlite_file, transaction, try_advisory_lock
from storage.models import DaemonState

log = logging.getLogger(__name__)
LEADER_KEY = "leader"  # daemon_state row: who leads (pid, host, since)


class _Lock(Protocol):
    exclusive: bool  # True: a daemon that cannot take the lock must not run at all

    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...
    def holder(self) -> str: ...


class AdvisoryLock:
    """PostgreSQL: the leader lock on a dedicated connection, which a standby keeps open too
    (to try the lock each poll without connecting anew)."""

    exclusive = False

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.conn: Connection | None = None
        self.holding = False

    def acquire(self) -> bool:
        try:
            self.conn = self.conn or lock_connection(self.database_url)
            self.holding = try_advisory_lock(self.conn, LEADER_LOCK)
        except SQLAlchemyError as error:  # database unreachable: stand by, try again next poll
            log.warning("cannot try the leader lock: %s", str(error).splitlines()[0])
            self.release()
        return self.holding

    def held(self) -> bool:
        return self.holding and self.conn is not None and holds_advisory_lock(self.conn, LEADER_LOCK)

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # closing the session releases its advisory locks
            except SQLAlchemyError as error:  # a broken connection has nothing left to release
                log.debug("closing the leader lock connection: %s", error)
        self.conn, self.holding = None, False

    def holder(self) -> str:
        return "another daemon"


class FileLock:
    """SQLite: an exclusive lock on ``<database>.daemon-lock`` that names its holder."""

    exclusive = True

    def __init__(self, path: str):
        self.path = path
        self.handle: IO[str] | None = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self.handle = handle
        return True

    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file drops the lock
            self.handle = None

    def holder(self) -> str:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return f"a daemon ({handle.read().strip() or 'pid unknown'})"
        except OSError:
            return "a daemon"


class NoLock:
    """An in-memory database: nothing else can open it, so this process leads."""

    exclusive = True

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def holder(self) -> str:
        return "nobody"


def lock_for(database_url: str) -> _Lock:
    if make_url(database_url).get_backend_name() == "postgresql":
        return AdvisoryLock(database_url)
    file = sqlite_file(database_url)
    return FileLock(f"{file}.daemon-lock") if file is not None else NoLock()


class Election:
    """This process's part in choosing the leader. ``step()`` is called every ``poll_seconds``;
    ``clock`` stamps when leadership began (time is a parameter, as everywhere)."""

    def __init__(self, database_url: str, clock: Callable[[], datetime], poll_seconds: float = 5.0):
        self.database_url = database_url
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lock = lock_for(database_url)
        self.since: datetime | None = None  # when this process became leader; None: standby

    @property
    def leading(self) -> bool:
        return self.since is not None

    def step(self) -> bool:
        """Keep or seek the lead; True while this process leads."""
        if self.leading:
            return self.confirm()
        if self.lock.acquire():
            since = self.clock()
            try:
                self._record(since)
            except SQLAlchemyError as error:  # the record is for people; the lock is what counts
                log.warning("could not record this daemon as the leader: %s", str(error).splitlines()[0])
            # Leading only once recorded: /healthz (another thread) must not say "leader" while
            # the record still names the dead one.
            self.since = since
            log.info("this daemon (pid %d) now leads: it schedules the jobs", os.getpid())
        return self.leading

    def confirm(self) -> bool:
        """Whether this process still holds the lock; on losing it, stop leading at once."""
        if self.leading and not self.lock.held():
            log.error("the leader lock was lost (database connection gone): this daemon stops scheduling and stands by")
            self.lock.release()
            self.since = None
        return self.leading

    def refusal(self) -> str:
        """The one line a daemon that may not run prints."""
        return (f"{self.lock.holder()} already runs on {redacted(self.database_url)}; stop it first"
                " (on SQLite one daemon per database; PostgreSQL allows standbys)")

    def release(self) -> None:
        """Step down, or stop standing by (clean stop): a standby takes over on its next poll."""
        self.lock.release()
        self.since = None

    def _record(self, since: datetime) -> None:
        with transaction(self.database_url) as session:
            row = session.get(DaemonState, LEADER_KEY, with_for_update=True) or DaemonState(key=LEADER_KEY)
            row.value = {"pid": os.getpid(), "host": socket.gethostname(), "since": since.isoformat()}
            row.updated_at = since
            session.add(row)

    def facts(self) -> dict:
        """This process's role and the recorded leader, for /healthz."""
        with transaction(self.database_url) as session:
            return {"role": "leader" if self.leading else "standby", "leader": current_leader(session)}


def current_leader(session: Session) -> dict | None:
    """The leader recorded in the database (pid, host, since), or None before any led."""
    row = queries.daemon_state(session, LEADER_KEY)
    return dict(row.value) if row is not None and row.value else None
