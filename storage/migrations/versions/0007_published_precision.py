"""The precision of a published date: "day" when the page gave only a date, "time" otherwise.

Before this revision a day-only page was stored as 00:00 China time and shown as a time of
day (``2019-09-25 01:00`` in Seoul). Existing rows whose published time is exactly midnight
China time are taken to be days — that is how every day-only page was stored, and real
articles published at 00:00:00 sharp are rare; every other dated row is a "time".

Revision ID: 0007
Revises: 0006
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000
CHINA = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    op.add_column("items", sa.Column("published_precision", sa.String(length=8), nullable=True))
    _infer_precision()


def _infer_precision() -> None:
    bind = op.get_bind()
    items = sa.table("items", sa.column("id", sa.Integer), sa.column("published_at", sa.DateTime(timezone=True)),
                     sa.column("published_precision", sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items.c.id, items.c.published_at)
            .where(items.c.id > last, items.c.published_at.is_not(None)).order_by(items.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        days = {row.id for row in rows if _is_china_midnight(row.published_at)}
        times = [row.id for row in rows if row.id not in days]
        if days:
            bind.execute(items.update().where(items.c.id.in_(days)).values(published_precision="day"))
        if times:
            bind.execute(items.update().where(items.c.id.in_(times)).values(published_precision="time"))
        last = rows[-1].id


def _is_china_midnight(value: datetime | str) -> bool:
    if isinstance(value, str):  # SQLite hands back the stored text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # stored as UTC (storage.models.UtcDateTime)
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(CHINA)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def downgrade() -> None:
    op.drop_column("items", "published_precision")
