"""Recompute near-duplicate signatures with cnst-radar's own MinHash (desk/similarity.py), and
index LSH bands by (band, id) so a lookup reads only the newest items of each band.

Signatures stored before this revision came from datasketch, whose hash functions differ (and
changed between its versions): a new item would never match an old one. Every stored item is
signed again and its LSH bands rebuilt, in batches, from the title and body kept in `items`.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.create_index("ix_item_bands_band_id", "item_bands", ["band", "id"])
    op.drop_index("ix_item_bands_band", table_name="item_bands")
    _resign()


def _resign() -> None:
    bind = op.get_bind()
    items = sa.table("items", sa.column("id", sa.Integer), sa.column("title", sa.Text), sa.column("body", sa.Text))
    signatures = sa.table("item_signatures", sa.column("item_id", sa.Integer), sa.column("minhash", sa.LargeBinary))
    if not bind.execute(sa.select(sa.func.count()).select_from(signatures)).scalar():
        return  # a new database: nothing to re-sign, and no need to load numpy into the daemon
    from desk import similarity as diff

    bands = sa.table("item_bands", sa.column("item_id", sa.Integer), sa.column("band", sa.String))
    signed = sa.select(signatures.c.item_id)
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items.c.id, items.c.title, items.c.body)
            .where(items.c.id > last, items.c.id.in_(signed)).order_by(items.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        bind.execute(bands.delete().where(bands.c.item_id.in_(ids)))
        fresh = {row.id: diff.signature(row.title or "", row.body or "") for row in rows}
        for item_id, values in fresh.items():
            bind.execute(signatures.update().where(signatures.c.item_id == item_id).values(minhash=diff.pack(values)))
        bind.execute(bands.insert(), [{"item_id": i, "band": b} for i, values in fresh.items() for b in diff.band_keys(values)])
        last = ids[-1]


def downgrade() -> None:
    # The old signatures cannot be recomputed without datasketch; the new ones do no harm.
    op.create_index("ix_item_bands_band", "item_bands", ["band"])
    op.drop_index("ix_item_bands_band_id", table_name="item_bands")
