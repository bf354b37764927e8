"""PostgreSQL keeps the bodies' leads in a narrow table of their own, indexed (issue 19).

Migration 0013 indexed the lead as an expression of the body. pg_trgm's index is lossy: every
row it names is checked again, and checking the expression reads the row's whole body. An
issue import asks the leads for each trigram of every cited title — a common trigram names
10⁵ items of a 10⁶ archive — and two such lookups took 19 s and 10 s: the reads of wide
``items`` rows. Now the check reads ``item_leads``: an id and at most 120 characters per
item, a third of the rows' width, so the pages it needs stay cached.

The table is kept by a trigger on ``items`` (insert, and update of the body), as SQLite's
lead index is (0013); rows go with their item (ON DELETE CASCADE). The lead is migration
0013's expression, read from that file so the two cannot differ. Where 0013 built no index
(no pg_trgm) nothing is built here either; SQLite is unchanged (its contentless FTS5 lead
index reads no row again).

Revision ID: 0014
Revises: 0013
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _lead_of(column: str) -> str:
    """Migration 0013's lead expression (a revision file is not an importable module name)."""
    spec = importlib.util.spec_from_file_location("lead_index_0013", Path(__file__).with_name("0013_lead_index.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lead_of(column)


def _has_pg_trgm(bind: sa.Connection) -> bool:
    return bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_pg_trgm(bind):
        return
    statements = [
        "CREATE TABLE item_leads (item_id integer PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE, lead text NOT NULL)",
        f"""CREATE FUNCTION item_leads_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            INSERT INTO item_leads(item_id, lead) VALUES (NEW.id, {_lead_of('NEW.body')})
            ON CONFLICT (item_id) DO UPDATE SET lead = EXCLUDED.lead;
            RETURN NULL; END $$""",
        "CREATE TRIGGER items_lead_keep AFTER INSERT OR UPDATE OF body ON items FOR EACH ROW EXECUTE FUNCTION item_leads_keep()",
        f"INSERT INTO item_leads(item_id, lead) SELECT id, {_lead_of('body')} FROM items",
        "CREATE INDEX ix_item_leads_trgm ON item_leads USING gin (lead gin_trgm_ops)",
        "DROP INDEX IF EXISTS ix_items_lead_trgm",
    ]
    for statement in statements:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_pg_trgm(bind):
        return
    bind.execute(sa.text("DROP TRIGGER IF EXISTS items_lead_keep ON items"))
    bind.execute(sa.text("DROP FUNCTION IF EXISTS item_leads_keep()"))
    bind.execute(sa.text("DROP TABLE IF EXISTS item_leads"))
    bind.execute(sa.text(f"CREATE INDEX ix_items_lead_trgm ON items USING gin (({_lead_of('body')}) gin_trgm_ops)"))
