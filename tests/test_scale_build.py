"""The benchmark archive's bulk load (bench/bulk_load.py, issue 19) leaves what a row-by-row
insert would: the migrations' schema, definition for definition (build() itself refuses any
other), search indexes that find what LIKE finds, item tallies that count the items, and
triggers that work again for the next stored item. And its repeated measurement reports medians."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text

from conftest import ROOT
from storage import search
from storage.db import get_engine, transaction
from storage.models import Item, ItemBand, ItemSignature

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
SIZE = 700
TERM = "人工智能"


def _archive_scale():  # type: ignore[no-untyped-def]
    sys.path.append(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("archive_scale", ROOT / "bench" / "archive_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


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
