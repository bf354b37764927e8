"""The editor pages read only what they show (issue 19): the Sources board's items per day in
one statement, exact on local days; the inbox's per-entry links built once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from conftest import sql_sent
from test_search import add_items

from scheduler.web import data
from storage import queries
from storage.db import transaction
from storage.models import Item, Source

BERLIN = ZoneInfo("Europe/Berlin")  # 2026-03-29 has 23 hours there
NOW = datetime(2026, 3, 30, 10, 0, tzinfo=timezone.utc)


def test_items_per_day_is_one_statement_exact_across_daylight_saving(database_url: str) -> None:
    short_day = datetime(2026, 3, 29, tzinfo=BERLIN).astimezone(timezone.utc)  # elapsed time, not wall time, from here
    add_items(database_url, *(dict(title=f"t{n}", body="", first_seen_at=seen) for n, seen in enumerate([
        short_day, short_day + timedelta(hours=22, minutes=59), short_day + timedelta(hours=23),  # 23 hours on is the 30th
        short_day - timedelta(seconds=1)])))
    with sql_sent(database_url) as statements, transaction(database_url) as session:
        (counts,) = data.items_per_day(session, NOW, BERLIN).values()
    assert counts[-3:] == [1, 2, 1] and sum(counts) == 4
    assert sum("items" in s for s in statements) == 1


def test_items_per_day_of_one_source(database_url: str) -> None:
    add_items(database_url, dict(title="ndrc", body="", first_seen_at=NOW - timedelta(hours=1)))
    with transaction(database_url) as session:
        other = Source(name="most", label="科技部")
        session.add(other)
        session.flush()
        session.add(Item(source=other, url="https://www.most.gov.cn/a.html", canonical_url="https://www.most.gov.cn/a.html",
                         content_hash="x", title="most", body="", first_seen_at=NOW - timedelta(hours=2)))
        session.flush()
        counts = data.items_per_day(session, NOW, BERLIN, source_id=other.id)
    assert list(counts) == [other.id] and sum(counts[other.id]) == 1


def test_items_new_are_the_newest_candidates_in_order(database_url: str) -> None:
    statuses = ["new", "duplicate", "follow_up", "covered", "new"]
    add_items(database_url, *(dict(title=f"t{n}", body="", status=status, first_seen_at=NOW - timedelta(hours=n))
                              for n, status in enumerate(statuses)))
    with transaction(database_url) as session:
        found = [item.title for item in queries.find_items(session, status="news", limit=2)]
        every = [item.title for item in queries.find_items(session, status="news")]
    assert found == ["t0", "t2"] and every == ["t0", "t2", "t4"]
