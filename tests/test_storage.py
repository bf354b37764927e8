"""Storage guarantees that hold on SQLite and PostgreSQL alike."""

from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from storage.db import SCHEMA_HEAD, current_revision, ensure_schema, head_revision, transaction
from storage.models import Item, Source


def test_the_schema_is_created_by_migrations_and_upgrading_again_is_a_no_op(database_url: str) -> None:
    ensure_schema(database_url)
    assert current_revision(database_url) == head_revision(database_url)
    ensure_schema(database_url)


def test_the_schema_head_shortcut_names_the_newest_migration() -> None:
    assert SCHEMA_HEAD == head_revision("sqlite://"), "set storage.db.SCHEMA_HEAD to the new migration's revision"


def test_upgrading_re_signs_items_signed_by_the_old_minhash(database_url: str) -> None:
    from sqlalchemy import select

    from desk import similarity as diff
    from storage.db import upgrade
    from storage.models import ItemBand, ItemSignature

    upgrade(database_url, "0005")
    with transaction(database_url) as session:
        source = Source(name="ndrc", label="发改委", kind="html_list")
        session.add(source)
        session.flush()
        # through the table, not the model: the 0005 schema lacks columns added since
        item_id = session.execute(Item.__table__.insert().values(
            source_id=source.id, url="https://a.cn/x", canonical_url="https://a.cn/x", content_hash="h",
            title="关于印发方案的通知", body="为贯彻落实党中央、国务院决策部署，现将方案印发给你们。")).inserted_primary_key[0]
        session.add(ItemSignature(item_id=item_id, minhash=bytes(8 * diff.NUM_PERM)))
        session.add_all(ItemBand(item_id=item_id, band=f"{n}:old") for n in range(diff.BANDS))
    ensure_schema(database_url)
    expected = diff.signature("关于印发方案的通知", "为贯彻落实党中央、国务院决策部署，现将方案印发给你们。")
    with transaction(database_url) as session:
        assert session.scalar(select(ItemSignature.minhash)) == diff.pack(expected)
        assert sorted(session.scalars(select(ItemBand.band))) == sorted(diff.band_keys(expected))


def test_the_same_canonical_url_cannot_be_stored_twice(database_url: str) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="ndrc", label="发改委", kind="html_list")
        session.add(source)
        session.flush()
        source_id = source.id

    def add() -> None:
        with transaction(database_url) as session:
            session.add(Item(source_id=source_id, url="https://a.cn/x", canonical_url="https://a.cn/x", content_hash="h"))

    add()
    with pytest.raises(IntegrityError):
        add()


def test_times_come_back_timezone_aware_and_naive_ones_are_refused(database_url: str) -> None:
    ensure_schema(database_url)
    published = datetime(2024, 6, 6, 2, 30, tzinfo=timezone.utc)
    with transaction(database_url) as session:
        session.add(Source(name="cas", label="中国科学院", kind="html_list"))
        session.flush()
        session.add(Item(source_id=1, url="u", canonical_url="u", content_hash="h", published_at=published))
    with transaction(database_url) as session:
        assert session.get(Item, 1).published_at == published
    with pytest.raises(StatementError, match="naive datetime"):
        with transaction(database_url) as session:
            session.get(Item, 1).published_at = datetime(2024, 6, 6)


def test_upgrading_to_0007_takes_midnight_china_time_for_a_day_and_anything_else_for_a_time(database_url: str) -> None:
    from sqlalchemy import select
    from zoneinfo import ZoneInfo

    from storage.db import upgrade

    china = ZoneInfo("Asia/Shanghai")
    published = {
        "https://a.cn/day": datetime(2019, 9, 25, tzinfo=china),  # how a day-only page was stored
        "https://a.cn/late": datetime(2019, 9, 25, 23, 59, tzinfo=china),
        "https://a.cn/utc-midnight": datetime(2019, 9, 25, tzinfo=timezone.utc),  # 08:00 in China: a time
        "https://a.cn/none": None,
    }
    upgrade(database_url, "0006")
    with transaction(database_url) as session:
        source = Source(name="ndrc", label="发改委", kind="html_list")
        session.add(source)
        session.flush()
        for url, at in published.items():
            # the 0006 schema has no precision column: insert through the table, not the model
            session.execute(Item.__table__.insert().values(source_id=source.id, url=url, canonical_url=url, content_hash="h", published_at=at))
    ensure_schema(database_url)
    with transaction(database_url) as session:
        precision = dict(session.execute(select(Item.canonical_url, Item.published_precision)).all())
    assert precision == {"https://a.cn/day": "day", "https://a.cn/late": "time", "https://a.cn/utc-midnight": "time", "https://a.cn/none": None}


def test_the_newest_decided_items_are_found_among_the_newest_decisions(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An item's current decision is its latest triage row; current_triage_ids(n) reads only a
    window of the newest rows, which holds the n most recently decided items' latest rows."""
    from sqlalchemy import select

    from scheduler.web.auth import add_user
    from storage import queries
    from storage.models import Triage

    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = Source(name="ndrc")
        items = [Item(source=source, url=f"https://a.example/{n}", canonical_url=f"https://a.example/{n}", content_hash="x") for n in range(3)]
        session.add_all(items)
        session.flush()
        editor = add_user(session, "editor", "a password").id
        at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        for item, decision in ((0, "pick"), (1, "skip"), (0, "later"), (2, "pick"), (1, "pick")):
            session.add(Triage(item_id=items[item].id, decision=decision, user_id=editor, at=at))
            session.flush()
        rows = {row.id: (row.item_id, row.decision) for row in session.scalars(select(Triage))}
        current = lambda newest=None: [rows[i] for i in session.scalars(queries.current_triage_ids(newest))]  # noqa: E731
        assert sorted(current()) == sorted([(items[0].id, "later"), (items[2].id, "pick"), (items[1].id, "pick")])
        assert current(2) == [(items[1].id, "pick"), (items[2].id, "pick")]  # newest decision first
        monkeypatch.setattr(queries, "ROWS_PER_DECIDED_ITEM", 1)  # a window of the newest two rows holds them
        assert current(2) == [(items[1].id, "pick"), (items[2].id, "pick")]
