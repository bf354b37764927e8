"""Indexes in the candidates' order, so the inbox over all time reads only what it shows; and,
on PostgreSQL, statistics for the status as the queries hide it from the indexes.

The inbox ranks candidates best score first, then newest publication, then id
(``storage.queries.ranked``). Bounded by a week it finds them through a time index and sorts
a few thousand; over all time (``period=all``) it read and sorted every candidate to keep the
best 2,001 — at 10⁶ items 645 ms on SQLite and 410 ms on PostgreSQL, and 600–800 ms and 240 ms
for one source. Walking an index in that order stops at the LIMIT: ``items(score,
published_at, id)``, and ``items(source_id, score, published_at, id)`` for one source.
PostgreSQL sorts NULLs first in DESC unless told, and the order puts unscored items last;
SQLite's CREATE INDEX takes no NULLS clause, and its DESC puts NULLs last already.

``storage.queries.status_in`` writes the status as ``status || ''`` where no status index may
lead the plan (a search). PostgreSQL has no statistics on an expression unless asked, and
guessed that 0.5 % of the items are candidates, not 70 %: a common term's search read the
whole table in parallel (10⁵: 90 ms against 6). Expression statistics (PostgreSQL 14 and
later) give it the shares again; ANALYZE after the migrations fills them.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = {"ix_items_rank": "", "ix_items_source_rank": "source_id, "}  # name → columns before the order's
STATUS_STATISTICS = "items_hidden_status"
EXPRESSION_STATISTICS_FROM = 140000  # server_version_num of PostgreSQL 14


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    desc = "DESC NULLS LAST" if postgresql else "DESC"
    for name, leading in INDEXES.items():
        bind.execute(sa.text(f"CREATE INDEX {name} ON items ({leading}score {desc}, published_at {desc}, id)"))
    if postgresql and int(bind.execute(sa.text("SHOW server_version_num")).scalar()) >= EXPRESSION_STATISTICS_FROM:
        bind.execute(sa.text(f"CREATE STATISTICS {STATUS_STATISTICS} ON ((status || '')) FROM items"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATUS_STATISTICS}")
    for name in INDEXES:
        op.drop_index(name, "items")
