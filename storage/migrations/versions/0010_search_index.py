"""Full-text search served by an index, and what keeps the editor pages' queries bounded.

SQLite: an FTS5 table ``items_fts`` (trigram tokenizer: any substring of three or more
characters, Chinese and Korean included) over items(title, origin, body), external content
kept in sync by triggers, filled from the existing rows. It needs SQLite ≥ 3.34; without it
the migration logs and leaves search on ILIKE (storage.search falls back by itself).

PostgreSQL: ``pg_trgm`` GIN indexes on title, origin and body, which serve ``ILIKE '%term%'``.
A role that may not create the extension gets a log line and ILIKE, as above.

Both: ``crawl_runs(source_id, finished_at)``, so a source's last successful run is found by
walking its newest runs backwards instead of grouping every run ever made;
``items(status, first_seen_at)``, so the inbox's week of candidates is read as a range
whatever statistics the planner has (with only the status index, SQLite without ANALYZE reads
every candidate ever kept); and the tallies
/metrics reads (runs per source and status, items per source), kept by triggers and seeded
from the existing rows, instead of counting every run and item on each scrape.

Revision ID: 0010
Revises: 0009
"""
import logging
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
COLUMNS = "title, origin, body"
SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE items_fts USING fts5({COLUMNS}, content='items', content_rowid='id', tokenize='trigram')",
    # The 'delete' command must be given the values that were indexed: the old row's.
    f"""CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts(rowid, {COLUMNS}) VALUES (new.id, new.title, new.origin, new.body); END""",
    f"""CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts(items_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, old.title, old.origin, old.body); END""",
    # Only a change of the indexed text re-indexes: verdicts and tags update items often.
    f"""CREATE TRIGGER items_fts_update AFTER UPDATE OF {COLUMNS} ON items BEGIN
        INSERT INTO items_fts(items_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, old.title, old.origin, old.body);
        INSERT INTO items_fts(rowid, {COLUMNS}) VALUES (new.id, new.title, new.origin, new.body); END""",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]
PG_TRGM_COLUMNS = ("title", "origin", "body")

# Tallies. A run is counted under its current status: a status change moves it; deleting old
# runs leaves the totals alone (they are counters). An item counts while it exists.
_RUN_ADD = """INSERT OR IGNORE INTO run_tallies(source_id, status, runs, new_items, errors) VALUES (new.source_id, new.status, 0, 0, 0);
    UPDATE run_tallies SET runs = runs + 1, new_items = new_items + coalesce(new.new, 0), errors = errors + coalesce(new.errors, 0)
     WHERE source_id = new.source_id AND status = new.status;"""
_ITEM_ADD = """INSERT OR IGNORE INTO item_tallies(source_id, items) VALUES (new.source_id, 0);
    UPDATE item_tallies SET items = items + 1 WHERE source_id = new.source_id;"""
_ITEM_REMOVE = "UPDATE item_tallies SET items = items - 1 WHERE source_id = old.source_id;"
SQLITE_TALLIES = [
    f"CREATE TRIGGER crawl_runs_tally_insert AFTER INSERT ON crawl_runs BEGIN {_RUN_ADD} END",
    f"""CREATE TRIGGER crawl_runs_tally_update AFTER UPDATE OF source_id, status, new, errors ON crawl_runs BEGIN
    UPDATE run_tallies SET runs = runs - 1, new_items = new_items - coalesce(old.new, 0), errors = errors - coalesce(old.errors, 0)
     WHERE source_id = old.source_id AND status = old.status;
    {_RUN_ADD} END""",
    f"CREATE TRIGGER items_tally_insert AFTER INSERT ON items BEGIN {_ITEM_ADD} END",
    f"CREATE TRIGGER items_tally_delete AFTER DELETE ON items BEGIN {_ITEM_REMOVE} END",
    f"CREATE TRIGGER items_tally_move AFTER UPDATE OF source_id ON items BEGIN {_ITEM_REMOVE} {_ITEM_ADD} END",
]
PG_TALLIES = [
    """CREATE FUNCTION radar_tally_run() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        UPDATE run_tallies SET runs = runs - 1, new_items = new_items - coalesce(OLD.new, 0), errors = errors - coalesce(OLD.errors, 0)
         WHERE source_id = OLD.source_id AND status = OLD.status;
      END IF;
      INSERT INTO run_tallies AS t (source_id, status, runs, new_items, errors)
      VALUES (NEW.source_id, NEW.status, 1, coalesce(NEW.new, 0), coalesce(NEW.errors, 0))
      ON CONFLICT (source_id, status) DO UPDATE
        SET runs = t.runs + 1, new_items = t.new_items + excluded.new_items, errors = t.errors + excluded.errors;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER crawl_runs_tally AFTER INSERT OR UPDATE OF source_id, status, new, errors ON crawl_runs "
    "FOR EACH ROW EXECUTE FUNCTION radar_tally_run()",
    """CREATE FUNCTION radar_tally_item() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE item_tallies SET items = items - 1 WHERE source_id = OLD.source_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO item_tallies AS t (source_id, items) VALUES (NEW.source_id, 1)
        ON CONFLICT (source_id) DO UPDATE SET items = t.items + 1;
      END IF;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER items_tally AFTER INSERT OR DELETE OR UPDATE OF source_id ON items FOR EACH ROW EXECUTE FUNCTION radar_tally_item()",
]
SEED_TALLIES = [
    "INSERT INTO run_tallies(source_id, status, runs, new_items, errors) "
    "SELECT source_id, status, count(*), coalesce(sum(new), 0), coalesce(sum(errors), 0) FROM crawl_runs GROUP BY source_id, status",
    "INSERT INTO item_tallies(source_id, items) SELECT source_id, count(*) FROM items GROUP BY source_id",
]


def upgrade() -> None:
    op.create_index("ix_crawl_runs_source_finished", "crawl_runs", ["source_id", "finished_at"])
    op.create_index("ix_items_status_first_seen", "items", ["status", "first_seen_at"])
    _create_tallies()
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_fts(bind)
    elif bind.dialect.name == "postgresql":
        _pg_trgm(bind)


def _create_tallies() -> None:
    def source() -> sa.Column:
        return sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)

    op.create_table(
        "run_tallies",
        source(),
        sa.Column("status", sa.String(length=16), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("runs", "new_items", "errors")),
    )
    op.create_table("item_tallies", source(),
                    sa.Column("items", sa.Integer(), nullable=False))
    bind = op.get_bind()
    for statement in SEED_TALLIES + (SQLITE_TALLIES if bind.dialect.name == "sqlite" else PG_TALLIES):
        bind.execute(sa.text(statement))


def _sqlite_fts(bind: sa.Connection) -> None:
    if sqlite3.sqlite_version_info < (3, 34):
        log.warning("SQLite %s has no trigram tokenizer (3.34+): search stays on ILIKE", sqlite3.sqlite_version)
        return
    try:
        bind.execute(sa.text(SQLITE_FTS[0]))
    except sa.exc.OperationalError as error:  # built without FTS5
        log.warning("cannot create the FTS5 table (%s): search stays on ILIKE", error.orig)
        return
    for statement in SQLITE_FTS[1:]:
        bind.execute(sa.text(statement))


def _pg_trgm(bind: sa.Connection) -> None:
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning("cannot create the pg_trgm extension (%s): search stays on ILIKE", str(getattr(error, "orig", error)).strip())
        return
    for name in PG_TRGM_COLUMNS:
        bind.execute(sa.text(f"CREATE INDEX ix_items_{name}_trgm ON items USING gin ({name} gin_trgm_ops)"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            bind.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        bind.execute(sa.text("DROP TABLE IF EXISTS items_fts"))
        for trigger in ("crawl_runs_tally_insert", "crawl_runs_tally_update", "items_tally_insert", "items_tally_delete", "items_tally_move"):
            bind.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
    elif bind.dialect.name == "postgresql":
        for name in PG_TRGM_COLUMNS:
            bind.execute(sa.text(f"DROP INDEX IF EXISTS ix_items_{name}_trgm"))
        bind.execute(sa.text("DROP TRIGGER IF EXISTS crawl_runs_tally ON crawl_runs"))
        bind.execute(sa.text("DROP TRIGGER IF EXISTS items_tally ON items"))
        bind.execute(sa.text("DROP FUNCTION IF EXISTS radar_tally_run(), radar_tally_item()"))
    op.drop_table("item_tallies")
    op.drop_table("run_tallies")
    op.drop_index("ix_items_status_first_seen", table_name="items")
    op.drop_index("ix_crawl_runs_source_finished", table_name="crawl_runs")
