"""Indexes that let the editor pages read a probe per source instead of every row.

``items(source_id, first_seen_at)``: a source's newest item (the Sources board, `crawl
sources`) is the last entry of its range, where grouping read every item ever stored.
``crawl_runs(source_id, id)``: a source's newest run likewise; on PostgreSQL the source_id
index alone holds a source's runs in no particular order, so each lookup read all of them.

Revision ID: 0012
Revises: 0010
"""
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_source_first_seen", "items", ["source_id", "first_seen_at"])
    op.create_index("ix_crawl_runs_source_id_id", "crawl_runs", ["source_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_crawl_runs_source_id_id", "crawl_runs")
    op.drop_index("ix_items_source_first_seen", "items")
