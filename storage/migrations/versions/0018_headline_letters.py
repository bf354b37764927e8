"""PostgreSQL indexes how long each lead's first line is (issue 19).

The issue import asks the leads (migration 0014) for a cited title's trigrams: a reprint whose
real headline opens its body. A lead matches only if its first line is about as long as the
title (desk.issues.lookup.most_lead_letters), yet most leads are long first paragraphs, and
one that quotes the title holds all its trigrams: in the 10⁶ benchmark archive a press
conference's opening sentence stood in 14,213 leads, every one read and counted for one title
(0.74 s). This index counts the letters a title key keeps in each lead's first line (CJK
ideographs, ASCII letters and digits), so those leads are left out before any is read.

Where 0014 built no lead table (no pg_trgm), and on SQLite, nothing is done.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# As storage.search.HEADLINE_LETTERS_SQL has it, on the table alone (a test compares).
HEADLINE_LETTERS_SQL = r"length(regexp_replace(split_part(lead, E'\n', 1), '[^\u4e00-\u9fffA-Za-z0-9]', '', 'g'))"
INDEX = "ix_item_leads_headline_letters"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or bind.execute(sa.text("SELECT to_regclass('item_leads')")).scalar() is None:
        return
    bind.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON item_leads (({HEADLINE_LETTERS_SQL}))"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
