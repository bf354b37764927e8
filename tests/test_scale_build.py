"""The benchmark archive's bulk load (bench/bulk_load.py, issue 19) leaves what a row-by-row
insert would: the migrations' schema, definition for definition (build() itself refuses any
other), search indexes that find what LIKE finds, item tallies that count the items, and
triggers that work again for the next stored item. On such an archive, the inbox's plans; and
the benchmark's repeated measurement reports medians."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from conftest import ROOT, module_at
from storage import search
from storage.db import get_engine, refresh_statistics, transaction
from storage.models import Item, ItemBand, ItemSignature

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
SIZE = 700
TERM = "人工智能"


def _archive_scale():  # type: ignore[no-untyped-def]
    sys.path.append(str(ROOT / "bench"))
    return module_at(ROOT / "bench" / "archive_scale.py")


def test_bulk_built_archive_is_what_row_inserts_leave(database_url: str) -> None:
    bench = _archive_scale()
    bench.build(database_url, SIZE, NOW)  # raises if a table, index or trigger differs from ensure_schema's
    with transaction(database_url) as session:
        first = session.get(Item, 1)
        assert first.first_seen_at == NOW - timedelta(days=SIZE / bench.PER_DAY)  # aware, UTC, to the microsecond
        assert session.scalar(select(func.count()).select_from(ItemBand)) == 16 * SIZE
        assert session.scalar(select(func.count()).select_from(ItemSignature)) == SIZE
        assert session.execute(text("SELECT sum(items) FROM item_tallies")).scalar() == SIZE
        assert _found(session, TERM) == _holding(session, TERM) != set()
        in_leads = set(session.scalars(select(Item.id).where(text(f"{search.LEAD_SQL} LIKE :p")), {"p": f"%{TERM}%"}).all())
        if search.backend(session) == "fts5":  # the contentless lead index: rebuilt from the bodies
            lead = session.scalars(text("SELECT rowid FROM items_lead_fts WHERE items_lead_fts MATCH :q"), {"q": f'"{TERM}"'}).all()
        else:  # PostgreSQL's lead table, filled from the bodies after the load
            assert session.scalar(text(f"SELECT count(*) FROM {search.LEAD_TABLE}")) == SIZE
            lead = session.scalars(text(f"SELECT item_id FROM {search.LEAD_TABLE} WHERE lead LIKE :p"), {"p": f"%{TERM}%"}).all()
        assert set(lead) == in_leads != set()
        later = Item(source_id=2, url="https://new.example.cn/1", canonical_url="https://new.example.cn/1", title="一条新闻", body=f"其中有{TERM}",
                     content_hash="0" * 64)
        session.add(later)
    with transaction(database_url) as session:  # the triggers are back: the new item is indexed and counted
        assert later.id in _found(session, TERM)
        assert session.execute(text("SELECT sum(items) FROM item_tallies")).scalar() == SIZE + 1
    get_engine(database_url).dispose()


def test_each_size_starts_from_an_empty_schema(database_url: str) -> None:
    """--quick builds 10⁴ then 10⁵ in one database: the reset between them leaves nothing that
    the migrations made (PostgreSQL's lead table once kept ``items`` from being dropped)."""
    bench = _archive_scale()
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    bench.build(database_url, SIZE, NOW)
    bench._reset(backend, database_url)
    bench.build(database_url, SIZE // 2, NOW)
    with transaction(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == SIZE // 2
        assert session.execute(text("SELECT sum(items) FROM item_tallies")).scalar() == SIZE // 2
    get_engine(database_url).dispose()


def test_the_inbox_over_all_time_walks_the_rank_index_and_a_week_a_time_index(database_url: str) -> None:
    """Over all time the inbox walks the candidates' order (migration 0015) and stops at its LIMIT
    instead of sorting every candidate; a week is found by time, not by walking that order
    through every item (storage.queries.ranked). SQLite's plans, on a small archive: the 10⁶
    archive's are in bench/NOTES.md."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the planner in question is SQLite's; PostgreSQL's follows its statistics")
    from zoneinfo import ZoneInfo

    from scheduler.web.data import Filters, _inbox_query

    _archive_scale().build(database_url, SIZE, NOW)
    with get_engine(database_url).begin() as conn:
        refresh_statistics(conn)
    with transaction(database_url) as session:
        def plan(**filters: str) -> str:
            query = _inbox_query(session, Filters(**filters), NOW, ZoneInfo("Asia/Seoul"))
            compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            return " ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))

        over_all_time, one_source = plan(period="all"), plan(period="all", source="source1")
        assert "ix_items_rank" in over_all_time and "TEMP B-TREE" not in over_all_time
        assert "ix_items_source_rank" in one_source and "TEMP B-TREE" not in one_source
        assert "ix_items_rank" not in plan(period="week")
    get_engine(database_url).dispose()

def test_rounds_give_each_figure_its_median_and_range() -> None:
    """--existing --rounds: a figure is the median of the rounds, not the last of them."""
    bench = _archive_scale()
    rounds = [{"search_ms": ms, "database_mb": 10.0 + n} for n, ms in enumerate([30.0, 90.0, 31.0])]
    figures = bench._medians(rounds)
    assert figures["search_ms"] == 31.0 and figures["spread"] == {"search_ms": [30.0, 90.0]}
    assert figures["database_mb"] == 12.0  # a size, as last measured
    assert "spread" not in bench._medians(rounds[:1])


def _found(session, term: str) -> set[int]:  # type: ignore[no-untyped-def]
    return set(session.scalars(search.matching(select(Item.id), session, term, limit=10**6)).all())


def _holding(session, term: str) -> set[int]:  # type: ignore[no-untyped-def]
    return set(session.scalars(select(Item.id).where(Item.title.contains(term) | Item.body.contains(term))).all())
