"""PostgreSQL's trigram indexes keep short lists of pending entries (issue 19).

A GIN index first appends new rows' entries to a pending list and merges them into the index
in bulk, once the list passes ``gin_pending_list_limit`` (4 MB by default) or VACUUM runs.
Every scan of the index reads the whole pending list. Items arrive steadily and a large table
is vacuumed seldom, so the lists of the indexes that new items reach sat at 300–480 pages in
the benchmark's kept archives, and each lookup of one trigram read them all: an issue import
took 6.8 s at 10⁵ items, 3.3 s once the lists were merged (bench/NOTES.md).

Every GIN index of ``items`` and ``item_leads`` now merges at PENDING_LIST_KB; the slices that
``storage.slices.add_slice_indexes`` indexes later are created with the same limit. The
entries pending now are merged here. SQLite is unchanged (FTS5 has no pending list).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PENDING_LIST_KB = 256  # as storage.slices has it (a test compares); 32 pages read per scan at most
_GIN_INDEXES = sa.text(
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
    "WHERE a.amname = 'gin' AND (i.indrelid = 'items'::regclass OR i.indrelid = to_regclass('item_leads')) ORDER BY c.relname")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in bind.execute(_GIN_INDEXES).scalars().all():
        bind.execute(sa.text(f"ALTER INDEX {name} SET (gin_pending_list_limit = {PENDING_LIST_KB})"))
        bind.execute(sa.text("SELECT gin_clean_pending_list(CAST(:name AS regclass))"), {"name": name})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in bind.execute(_GIN_INDEXES).scalars().all():
        bind.execute(sa.text(f"ALTER INDEX {name} RESET (gin_pending_list_limit)"))

