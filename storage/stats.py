"""How big the database is, table by table (`crawl db stats`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.models import Base


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    bytes: int | None  # with its indexes; None when the database cannot tell


def table_sizes(session: Session) -> list[TableSize]:
    """Rows and bytes on disk of every table of the schema, largest first."""
    connection = session.connection()
    present = set(inspect(connection).get_table_names())
    names = [table.name for table in Base.metadata.sorted_tables if table.name in present]
    sizes = _postgres_bytes(connection, names) if connection.dialect.name == "postgresql" else _sqlite_bytes(connection, names)
    found = [TableSize(name, session.scalar(select(text("count(*)")).select_from(text(f'"{name}"'))) or 0, sizes.get(name))
             for name in names]
    return sorted(found, key=lambda size: (-(size.bytes or 0), -size.rows, size.name))


def _postgres_bytes(connection: Connection, names: list[str]) -> dict[str, int]:
    return {name: connection.scalar(text("SELECT pg_total_relation_size(CAST(:name AS regclass))"), {"name": name}) for name in names}


def _sqlite_bytes(connection: Connection, names: list[str]) -> dict[str, int]:
    """From the dbstat virtual table (a table's pages and its indexes'), when SQLite was built
    with it; else nothing per table — the file's size is the only truth then."""
    try:
        rows = connection.execute(text(
            "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat AS s "
            "LEFT JOIN sqlite_master AS m ON m.name = s.name GROUP BY 1"
        )).all()
    except DBAPIError:  # "no such table: dbstat": SQLite built without it
        return {}
    return {name: int(size) for name, size in rows if name in names}


def database_bytes(session: Session) -> int | None:
    """The whole database's size on disk."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return connection.scalar(text("SELECT pg_database_size(current_database())"))
    pages, page_size = connection.scalar(text("PRAGMA page_count")), connection.scalar(text("PRAGMA page_size"))
    return pages * page_size if pages is not None and page_size is not None else None
