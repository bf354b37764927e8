"""Engines, sessions and schema upgrades. SQLite and PostgreSQL are configuration, not code paths."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. A shortcut, not the truth: ensure_schema() compares it with
# the database's without importing Alembic (a quarter second in every crawl process), and
# asks Alembic whenever they differ. tests/test_storage.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0018"
# PostgreSQL advisory lock keys, one per purpose: schema upgrades, and the daemon leader.
MIGRATION_LOCK, LEADER_LOCK = 7270001, 7270002
# A lock connection whose holder vanished (host gone, cable pulled) is dropped by the server
# after about idle + interval × count seconds, which releases the lock; tcp_user_timeout (ms)
# makes the holder's own check fail as fast when its packets stop being acknowledged.
LOCK_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3, "tcp_user_timeout": 10000,
                  "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
                             " -c client_connection_check_interval=2000"}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets `crawl items` read while a crawl writes; the busy timeout rides out short locks.
    # Switching is a write: asked only when needed, so a read-only database still opens.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:  # read-only: read in whatever mode the file is in
            pass
    # In WAL mode NORMAL is crash-safe (a power cut may lose the last commits, never corrupt)
    # and saves an fsync per stored article.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 30 s: with 10 s, two daemon crawls storing at once on a starved host (load 12 on 2 cores)
    # failed with "database is locked", and a store that gives up loses its article to a
    # "partial" run; a writer waiting longer costs nothing but that wait.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL — also of the URI form ``sqlite:///file:/x.sqlite?mode=ro&uri=true``
    — or None for an in-memory or non-SQLite database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.query.get("uri") == "true":
        path = parsed.database.removeprefix("file:").split("?", 1)[0]
        return None if path in ("", ":memory:") or parsed.query.get("mode") == "memory" else Path(path)
    return Path(parsed.database)


def redacted(url: str) -> str:
    """``url`` with its password hidden, fit to print (also when it cannot be parsed)."""
    # On the text as given, not re-rendered: it must also work on what make_url() refuses.
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def describe_error(url: str, error: Exception) -> str:
    """One line for an operator: which database (password hidden) and what is wrong with it."""
    cause = getattr(error, "orig", None) or error
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if isinstance(error, ImportError):
        return f"RADAR_DATABASE_URL {redacted(url)!r} needs a database driver that is not installed ({reason}); use sqlite:// or postgresql://"
    if isinstance(error, ArgumentError):
        return f"RADAR_DATABASE_URL {redacted(url)!r} is not a usable database URL ({reason}); use e.g. sqlite:////var/lib/radar/radar.sqlite or postgresql://user@host/db"
    return f"cannot use the database {redacted(url)}: {reason}"


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = sqlite_file(url)
        if file is not None and parsed.query.get("mode") != "ro":
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(_with_driver(url), pool_pre_ping=True)


def _with_driver(url: str) -> str:
    """A postgresql:// URL names psycopg 3, the driver we install."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def lock_connection(url: str) -> Connection:
    """A connection of its own (never pooled, so closing it ends the session and its advisory
    locks), in autocommit, with keepalives so a vanished peer is noticed within seconds."""
    engine = create_engine(_with_driver(url), poolclass=NullPool, connect_args=LOCK_KEEPALIVE)
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def try_advisory_lock(conn: Connection, key: int) -> bool:
    """Take the session advisory lock ``key`` on ``conn`` unless another session holds it."""
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())


def holds_advisory_lock(conn: Connection, key: int) -> bool:
    """Whether ``conn`` still holds the advisory lock ``key``; False when the connection is lost."""
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key")
    try:
        return bool(conn.execute(held, {"key": key}).scalar())
    except SQLAlchemyError:  # the connection broke or was closed: the lock is gone with it
        return False


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    with session_factory(url).begin() as session:
        yield session


def _alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    return cfg


def current_revision(url: str) -> str | None:
    """The database's schema revision (None for a new database), read without Alembic.

    A database that cannot be opened raises: taking it for a new one would try to migrate it.
    """
    with get_engine(url).connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no such table yet
            return None


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(url)).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


def ensure_schema(url: str) -> None:
    """Upgrade to the newest schema if needed — cheap when already current.

    Several processes may start on a fresh database at once (the daemon and a `crawl` command,
    two crawl children): the upgrade runs under a lock and re-checks once it holds it.
    """
    stored = current_revision(url)
    if stored == SCHEMA_HEAD:
        return
    head = head_revision(url)
    if stored == head:
        return
    with _migration_lock(url):
        if current_revision(url) != head:
            log.info("upgrading database schema at %s", make_url(url).render_as_string())
            upgrade(url)
            with get_engine(url).begin() as conn:
                refresh_statistics(conn)


def refresh_statistics(connection: Connection) -> None:
    """Gather the query planner's statistics, after migrations and daily (scheduler cleanup).
    SQLite never does on its own: without them week-bounded queries pick the status index and
    read every candidate. `analysis_limit` samples each index instead of reading it whole, so
    this costs about the same at 10⁶ items as at 10⁴ (`PRAGMA optimize` would be cheaper still,
    but before SQLite 3.46 it analyzes only tables this connection has queried). PostgreSQL's
    autovacuum analyzes too; ANALYZE makes it current now."""
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"PRAGMA analysis_limit={ANALYSIS_ROWS}"))
    connection.execute(text("ANALYZE"))


ANALYSIS_ROWS = 1000  # rows SQLite's ANALYZE reads per index: enough to tell a selective index


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = sqlite_file(url)
        if file is None:
            yield
            return
        import fcntl

        with open(f"{file}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    with get_engine(url).connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
