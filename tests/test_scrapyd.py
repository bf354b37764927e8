"""Crawls dispatched to Scrapyd nodes (issue 18): two real `scrapyd` processes on loopback, run
with deploy/scrapyd.conf, crawl the fake internet into one PostgreSQL database; the daemon's own
path (jobs.crawl_source with RADAR_SCRAPYD_URLS) chooses the nodes and reads back the runs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.settings import get_settings
from conftest import POSTGRES, ROOT, _new_postgres_database, expected_articles, free_port, module_at
from crawler.replay import FakeInternet
from scheduler import jobs, scrapyd
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item, Source

SOURCES = ["ndrc", "most", "sciencenet", "cas"]

bench = module_at(ROOT / "bench" / "scrapyd_throughput.py")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES:
        if os.environ.get("RADAR_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("RADAR_TEST_REQUIRE_POSTGRES=1 but RADAR_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set RADAR_TEST_POSTGRES_URL): Scrapyd nodes store to a shared database")
    with _new_postgres_database() as url:
        ensure_schema(url)
        yield url


@pytest.fixture
def nodes(base_env: dict[str, str], postgres_url: str, internet: FakeInternet, tmp_path: Path) -> Iterator[list[str]]:
    env = base_env | {"RADAR_DATABASE_URL": postgres_url, "RADAR_PROXY": internet.address}
    with bench.scrapyd_nodes(2, env, tmp_path / "nodes") as urls:
        yield urls


def test_crawls_spread_over_two_nodes_store_each_article_once_with_runs_and_health(
    nodes: list[str], postgres_url: str, watchlists: Path
) -> None:
    config = get_settings(database_url=postgres_url, watchlists=watchlists, scrapyd_urls=",".join(nodes), scrapyd_poll_seconds=0.2)
    statuses = bench.crawl_all(config, SOURCES)
    assert statuses == dict.fromkeys(SOURCES, "ok")
    with transaction(postgres_url) as session:
        urls = list(session.scalars(select(Item.canonical_url)))
        runs = session.execute(select(Source.name, CrawlRun.status).join(Source)).all()
        health = dict(session.execute(select(Source.name, Source.health)).all())
    assert len(urls) == len(set(urls))
    assert {entry["url"] for name in SOURCES for entry in expected_articles(name)} <= set(urls)
    assert sorted(runs) == sorted((name, "ok") for name in SOURCES)
    assert health == dict.fromkeys(SOURCES, "ok")
    finished = {node: scrapyd.call(node, "listjobs.json", query={"project": scrapyd.PROJECT})["finished"] for node in nodes}
    assert all(finished.values()), f"a node was never used: {finished}"
    assert sum(len(jobs_done) for jobs_done in finished.values()) == len(SOURCES)
    # Again: the node's crawl finds everything stored, and records a second run.
    assert jobs.crawl_source(config, "ndrc") == "ok"
    with transaction(postgres_url) as session:
        assert session.scalar(select(func.count(Item.id))) == len(urls)
        assert session.scalar(select(func.count(CrawlRun.id))) == len(SOURCES) + 1


def test_an_unreachable_node_is_skipped_no_node_means_failed_and_no_run_means_crashed(
    nodes: list[str], postgres_url: str, watchlists: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = get_settings(database_url=postgres_url, watchlists=watchlists, scrapyd_urls=f"{dead},{nodes[0]}", scrapyd_poll_seconds=0.2)
    with caplog.at_level(logging.WARNING, logger="scheduler.scrapyd"):
        assert jobs.crawl_source(config, "most") == "ok"
    assert any(dead in record.getMessage() and "skipped" in record.getMessage() for record in caplog.records)
    caplog.clear()
    nowhere = get_settings(database_url=postgres_url, watchlists=watchlists, scrapyd_urls=dead, scrapyd_poll_seconds=0.2)
    with caplog.at_level(logging.WARNING, logger="scheduler.scrapyd"):
        assert jobs.crawl_source(nowhere, "most") == "failed"
    lines = [record.getMessage() for record in caplog.records if record.name == "scheduler.scrapyd"]
    assert len(lines) == 1 and "no Scrapyd node took it" in lines[0] and dead in lines[0]
    # A job that ends without recording a run (the spider refuses an unknown source) is a crash.
    assert jobs.crawl_source(config, "nosuch") == "crashed"


def test_a_stopping_daemon_stops_waiting_and_leaves_the_job_to_its_node() -> None:
    stopping = threading.Event()
    stopping.set()
    assert scrapyd.wait_for(scrapyd.Job(f"http://127.0.0.1:{free_port()}", "a-job"), 0.2, stopping) == "interrupted"


def test_the_node_list_setting_takes_commas_or_spaces_and_an_empty_one_means_local_crawls() -> None:
    listed = get_settings(scrapyd_urls=" http://a:6800/, http://b:6800  http://c:6800")
    assert listed.scrapyd_nodes == ["http://a:6800", "http://b:6800", "http://c:6800"]
    assert get_settings(scrapyd_urls="").scrapyd_nodes == []
