"""The learned tagging model, kept in the database so every process uses the same one.

Each row is one fit: the examples it learned from (compressed JSON, see
desk/tagging/model.py), how many, and when. Processes load the newest row.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tagging_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tagging_models")
