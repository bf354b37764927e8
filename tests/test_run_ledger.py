"""The run ledger opens every source's run of a crawl at once (crawler.extensions.open_runs):
what it does per source must not change by being done for many in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from conftest import ROOT
from crawler.extensions import open_runs
from crawler.watchlist import load_sources
from storage import queries
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item, Source, utcnow

SOURCES = {s.name: s for s in load_sources(ROOT / "watchlists" / "sources") if s.name in ("ndrc", "sciencenet", "most")}


def test_runs_of_many_sources_open_together_each_with_its_own_list_pages(database_url: str) -> None:
    ensure_schema(database_url)
    with transaction(database_url) as session:
        ndrc = queries.upsert_source(session, "ndrc", "old label", "html_list")
        most = queries.upsert_source(session, "most")
        killed = CrawlRun(source_id=ndrc.id, started_at=utcnow(), status="running")
        other = CrawlRun(source_id=most.id, started_at=utcnow(), status="running")  # not crawled now: left alone
        session.add_all([killed, other])
        queries.save_list_state(session, ndrc.id, "https://ndrc.example/list", '"v1"', None, ["https://ndrc.example/a"])
        queries.save_list_state(session, most.id, "https://most.example/list", '"v2"', None, [])

    opened = open_runs(database_url, [SOURCES["ndrc"], SOURCES["sciencenet"]])

    assert sorted(opened) == ["ndrc", "sciencenet"]
    assert list(opened["ndrc"].list_states) == ["https://ndrc.example/list"]
    assert opened["sciencenet"].list_states == {}
    with transaction(database_url) as session:
        rows = {row.name: row for row in session.scalars(select(Source))}
        statuses = {run.id: run.status for run in session.scalars(select(CrawlRun))}
    assert rows["ndrc"].label == SOURCES["ndrc"].label  # the watchlist's label replaces the stored one
    assert opened["sciencenet"].source.id == rows["sciencenet"].id  # a new source gets its row
    assert statuses[killed.id] == "crashed" and statuses[other.id] == "running"
    assert {statuses[o.run.id] for o in opened.values()} == {"running"}
    assert {o.run.source_id for o in opened.values()} == {rows["ndrc"].id, rows["sciencenet"].id}


def test_each_opened_run_knows_its_sources_newest_item(database_url: str) -> None:
    """Read once for all sources when the runs open (a run that stores nothing judges
    staleness from it), the same value a query per source gives."""
    ensure_schema(database_url)
    day = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with transaction(database_url) as session:
        ndrc, most = queries.upsert_source(session, "ndrc"), queries.upsert_source(session, "most")
        for n, (source, seen) in enumerate([(ndrc, day), (ndrc, day + timedelta(days=3)), (most, day + timedelta(days=9))]):
            url = f"https://example.org/{n}"
            session.add(Item(source_id=source.id, url=url, canonical_url=url, content_hash=str(n), first_seen_at=seen))

    opened = open_runs(database_url, [SOURCES["ndrc"], SOURCES["sciencenet"]])

    assert opened["ndrc"].last_new == day + timedelta(days=3)
    assert opened["sciencenet"].last_new is None
    with transaction(database_url) as session:
        assert opened["ndrc"].last_new == queries.last_new_item(session, opened["ndrc"].source.id)
