"""An index of the bodies' leads, so that an issue import asks which leads hold a cited
title's trigrams instead of which whole bodies do (issue 19).

The lead ``covered`` compares (desk.verdicts.lead) is the body's first line, at most 120
characters, after leading blanks. What is indexed is the first 120 characters after the
blanks Python's ``str.strip`` removes — the lead and, when the first line is shorter, the
start of the next: a superset, so no lead's trigram is missing; the extra ones only name an
item that the confirmation then reads and rejects.

SQLite: a contentless FTS5 table ``items_lead_fts`` (trigram tokenizer, as items_fts) kept by
triggers; contentless, because the lead is not a column and the bodies are already stored.
The 'delete' command is given the same expression of the old body, so it removes exactly what
was indexed. PostgreSQL: a pg_trgm GIN index on the expression. Where migration 0010 could not
build its index (no FTS5 trigram, no pg_trgm) this one is skipped as well, and the import
reads every judged item as before.

storage.search.LEAD_SQL must stay the same expression (tests/test_issue_lookup.py checks it):
PostgreSQL uses the index only for the expression it was built on.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Every character str.isspace() accepts (what str.strip() removes), written out so that the
# expression does not change with the Python that runs the migration.
BLANKS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
          "\u2028\u2029\u202f\u205f\u3000")
LEAD_CHARS = 120


def lead_of(column: str) -> str:
    return f"substr(ltrim({column}, '{BLANKS}'), 1, {LEAD_CHARS})"


SQLITE_LEAD_FTS = [
    "CREATE VIRTUAL TABLE items_lead_fts USING fts5(lead, content='', tokenize='trigram')",
    f"""CREATE TRIGGER items_lead_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_lead_fts(rowid, lead) VALUES (new.id, {lead_of('new.body')}); END""",
    f"""CREATE TRIGGER items_lead_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_lead_fts(items_lead_fts, rowid, lead) VALUES ('delete', old.id, {lead_of('old.body')}); END""",
    f"""CREATE TRIGGER items_lead_fts_update AFTER UPDATE OF body ON items BEGIN
        INSERT INTO items_lead_fts(items_lead_fts, rowid, lead) VALUES ('delete', old.id, {lead_of('old.body')});
        INSERT INTO items_lead_fts(rowid, lead) VALUES (new.id, {lead_of('new.body')}); END""",
    f"INSERT INTO items_lead_fts(rowid, lead) SELECT id, {lead_of('body')} FROM items",
]
SQLITE_TRIGGERS = ("items_lead_fts_insert", "items_lead_fts_delete", "items_lead_fts_update")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items_fts'")).first():
            for statement in SQLITE_LEAD_FTS:
                bind.execute(sa.text(statement))
    elif bind.dialect.name == "postgresql":
        if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
            bind.execute(sa.text(f"CREATE INDEX ix_items_lead_trgm ON items USING gin (({lead_of('body')}) gin_trgm_ops)"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            bind.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        bind.execute(sa.text("DROP TABLE IF EXISTS items_lead_fts"))
    elif bind.dialect.name == "postgresql":
        bind.execute(sa.text("DROP INDEX IF EXISTS ix_items_lead_trgm"))
