"""Report issues, stories and references; item verdicts, story clusters and the LSH index.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("published", sa.Date(), nullable=False, unique=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unplaced", sa.JSON(), nullable=True),
        sa.Column("structure", sa.JSON(), nullable=True),
    )
    op.create_table(
        "report_stories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("report_issues.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_brief", sa.Boolean(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
    )
    op.create_table(
        "report_references",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("story_id", sa.Integer(), sa.ForeignKey("report_stories.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(length=500), nullable=False, index=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.String(length=2048), nullable=False, index=True),
        sa.Column("outlet", sa.Text(), nullable=True),
    )
    op.create_table(
        "story_clusters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("primary_item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "item_signatures",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "item_bands",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("band", sa.String(length=32), nullable=False, index=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True),
    )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("verdict_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("covered_story_id", sa.Integer(), nullable=True))
        batch.create_index("ix_items_covered_story_id", ["covered_story_id"])
        batch.create_foreign_key("fk_items_covered_story", "report_stories", ["covered_story_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("fk_items_covered_story", type_="foreignkey")
        batch.drop_index("ix_items_covered_story_id")
        batch.drop_column("covered_story_id")
        batch.drop_column("verdict_reason")
    for table in ("item_bands", "item_signatures", "story_clusters", "report_references", "report_stories", "report_issues"):
        op.drop_table(table)
