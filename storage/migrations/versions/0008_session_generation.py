"""Revocable workspace sessions: a per-user session generation.

A session cookie carries the generation it was issued under; logout, a password change and
removing the user bump it, so a cookie copied before then stops working at once (a signed
cookie alone stays valid for its whole lifetime).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch table copy): on SQLite, copying `users` would mean dropping
    # a table that `triage` rows refer to.
    op.add_column("users", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("users", "session_generation")  # SQLite >= 3.35 drops a column in place
