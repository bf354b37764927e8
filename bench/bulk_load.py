"""Bulk loading for bench/archive_scale.py: a 10⁶-item archive in minutes, not hours.

Row by row, every item fires the FTS5 triggers (title, origin and body, then the lead) and the
item tally trigger, and every secondary index of items and item_bands is updated at each insert
(16 band rows per item). Here, on one build connection: the triggers and secondary indexes of
the loaded tables are dropped, the rows written (SQLite: executemany on the sqlite3 connection
with the journal off, synchronous off and a large cache; PostgreSQL: COPY with triggers and
foreign-key checks off for this session), then the indexes and triggers are recreated from the
definitions the migrations left and what the triggers would have done is done once: the FTS
tables (PostgreSQL: the lead table) rebuilt from the stored rows, the item tallies recounted.
``schema_objects`` lets the caller check that the result is the schema ``ensure_schema`` makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType

from sqlalchemy import Table

from storage.db import get_engine, sqlite_file
from storage.search import LEAD_SQL

TALLY_SEED = ["DELETE FROM item_tallies", "INSERT INTO item_tallies(source_id, items) SELECT source_id, count(*) FROM items GROUP BY source_id"]
# What the dropped SQLite triggers would have written: the external-content table re-reads
# items; the contentless lead table is given the lead expression the migration indexes.
SQLITE_FTS_REBUILD = {
    "items_fts": "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
    "items_lead_fts": f"INSERT INTO items_lead_fts(rowid, lead) SELECT id, {LEAD_SQL} FROM items",
}
# PostgreSQL's lead table (migration 0014): what its trigger would have written, loaded while
# its index is away, like the loaded tables'.
PG_DERIVED = {"item_leads": f"INSERT INTO item_leads(item_id, lead) SELECT id, {LEAD_SQL} FROM items"}
# While rebuilding: a 64 MB in-memory term hash and no incremental merging, then one merge
# ('optimize'): ~25 % less than the defaults' repeated merges at 2·10⁴ items. The two settings
# are then removed from the table's config, so it is left as the migration made it.
FTS_BULK_SETTINGS = {"automerge": 0, "hashsize": 64_000_000}


def schema_objects(url: str) -> dict[str, str]:
    """Every table, index and trigger by name, with its definition (what the check compares)."""
    engine = get_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("SELECT type || ' ' || name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'").all()
            configs = [name for name, _ in rows if name.startswith("table ") and name.endswith("_fts_config")]
            return dict(rows) | {f"rows of {name}": repr(conn.exec_driver_sql(f"SELECT * FROM {name[6:]} ORDER BY k").all()) for name in configs}
        else:
            rows = conn.exec_driver_sql(
                "SELECT 'index ' || indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "UNION ALL SELECT 'trigger ' || tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
                "UNION ALL SELECT 'table ' || tablename, '' FROM pg_tables WHERE schemaname = current_schema()")
        return dict(rows.all())


class BulkLoader:
    """``with BulkLoader(url, tables) as load: load.rows(table, columns, rows)`` — the tables'
    triggers and secondary indexes are away inside the block and back, with their effects, after."""

    def __init__(self, url: str, tables: Sequence[Table]) -> None:
        self.engine = get_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.names = [table.name for table in tables]
        self.derived: list[str] = []  # PostgreSQL tables filled from the loaded ones (PG_DERIVED)
        self.saved: list[str] = []

    def __enter__(self) -> BulkLoader:
        if self.sqlite:
            import sqlite3

            self.engine.dispose()  # leaving WAL mode needs the only connection to the file
            self.conn = sqlite3.connect(sqlite_file(str(self.engine.url)), isolation_level=None)
            # FTS5's 'optimize' of a 10⁶-item index reads its ~40 segments again and again: through a
            # 400 MB cache it read 0.9 TB a 4 KB pread at a time (35+ min); with a cache that holds
            # them (an upper bound: pages are allocated as read) it takes 50 s. mmap helps below
            # 2 GB only: this SQLite is built with MAX_MMAP_SIZE 0x7fff0000 and caps larger values.
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-10000000", "mmap_size=17179869184", "foreign_keys=OFF",
                           "temp_store=MEMORY"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.conn = psycopg.connect(self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
            self.conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks: this session only
            self.conn.execute("SET maintenance_work_mem = '512MB'")
            present = {name for (name,) in self.conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            self.derived = [name for name in PG_DERIVED if name in present and "items" in self.names]
        self._begin()
        for name, definition in self._droppable():
            self.saved.append(definition)
            self.conn.execute(f"DROP {name}")
        self._commit()
        return self

    def _droppable(self) -> list[tuple[str, str]]:
        """("INDEX name" or "TRIGGER name [ON table]", its CREATE statement) on the loaded tables."""
        names = self.names
        if self.sqlite:
            marks = ",".join("?" * len(names))
            found = self.conn.execute(f"SELECT upper(type) || ' ' || name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                                      f"AND sql IS NOT NULL AND tbl_name IN ({marks})", names).fetchall()
            return [(name, sql) for name, sql in found]
        # Constraint-backed indexes (primary keys, unique) stay: COPY must still refuse duplicates.
        return self.conn.execute(
            "SELECT 'INDEX ' || indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", (list(names) + self.derived,)).fetchall()

    def rows(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """Write ``rows`` (tuples in ``columns``' order) into ``table``, committed."""
        self._begin()
        if self.sqlite:
            dialect = self.engine.dialect
            convert = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
            if any(convert):
                rows = [tuple(value if f is None or value is None else f(value) for f, value in zip(convert, row)) for row in rows]
            self.conn.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        else:
            with self.conn.cursor().copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        self._commit()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        try:
            if kind is None:
                self._restore()
        finally:
            self.conn.close()

    def _restore(self) -> None:
        self._begin()
        for name in self.derived:
            self.conn.execute(f"TRUNCATE {name}")
            self.conn.execute(PG_DERIVED[name])
        for definition in self.saved:
            self.conn.execute(definition)
        if self.sqlite:
            present = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for name in (name for name in SQLITE_FTS_REBUILD if name in present and "items" in self.names):
                self._rebuild_fts(name)
        if "items" in self.names:
            for statement in TALLY_SEED:
                self.conn.execute(statement)
        self._commit()
        if self.sqlite:
            self.conn.execute("PRAGMA journal_mode=WAL")  # what every other connection expects (storage.db)

    def _rebuild_fts(self, name: str) -> None:
        for setting, value in FTS_BULK_SETTINGS.items():
            self.conn.execute(f"INSERT INTO {name}({name}, rank) VALUES (?, ?)", (setting, value))
        self.conn.execute(SQLITE_FTS_REBUILD[name])
        self.conn.execute(f"INSERT INTO {name}({name}) VALUES ('optimize')")
        self.conn.execute(f"DELETE FROM {name}_config WHERE k IN ({', '.join('?' * len(FTS_BULK_SETTINGS))})", list(FTS_BULK_SETTINGS))

    def _begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN")

    def _commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()
