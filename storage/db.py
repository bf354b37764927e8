"""Engines, sessions and schema upgrades. SQLite and PostgreSQL are configuration, not code paths."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. A shortcut, not the truth: ensure_schema() compares it with
# the database's without importing Alembic (a quarter second in every crawl process), and
# asks Alembic whenever they differ. tests/test_storage.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0007"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets `crawl items` read while a crawl writes; the busy timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is crash-safe (a power cut may lose the last commits, never corrupt)
    # and saves an fsync per stored article.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True)


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
    """The database's schema revision (None for a new database), read without Alembic."""
    try:
        with get_engine(url).connect() as conn:
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


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield
            return
        import fcntl

        with open(f"{parsed.database}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    with get_engine(url).connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(7270001)"))
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(7270001)"))
