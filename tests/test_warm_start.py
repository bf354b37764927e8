"""Crawl children forked from the warm server (scheduler/warm_start.py) keep every promise of
the plain child process: the run is recorded, the exit status and stderr reach the daemon's
log, and SIGTERM from a stopping daemon ends the crawl with its run closed. The server itself
hands each child a clean start: crawl code imported, but no reactor, thread, engine or console."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import Radar, expected_articles
from crawler.replay import FakeInternet, fault
from common.settings import get_settings
from scheduler import jobs, warm_start
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item

MODES = ["fork", "spawn"]


def server_state(report: str) -> None:
    """Run in a child forked from the warm server: what it inherited, written to ``report``."""
    import storage.db

    state = {
        "crawl code loaded": "crawler.run" in sys.modules and "scrapy.core.downloader.contextfactory" in sys.modules,
        "reactor installed": "twisted.internet.reactor" in sys.modules,
        "threads": threading.active_count(),
        "engines": storage.db.get_engine.cache_info().currsize,
        "cli (consoles) loaded": "radar.cli" in sys.modules,
    }
    Path(report).write_text(json.dumps(state), encoding="utf-8")


def test_the_warm_server_has_imported_the_crawl_code_and_holds_no_reactor_thread_engine_or_console(tmp_path: Path) -> None:
    report = tmp_path / "state.json"
    child = warm_start._context().Process(target=server_state, args=(str(report),))
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert json.loads(report.read_text(encoding="utf-8")) == {
        "crawl code loaded": True, "reactor installed": False, "threads": 1, "engines": 0, "cli (consoles) loaded": False,
    }


@pytest.fixture
def in_process(radar: Radar, watchlists: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test process as the daemon: the radar environment, NDRC alone, the schema in place,
    and a daemon that is not stopping (stop_children() marks the process as stopping for good)."""
    for path in (watchlists / "sources").glob("*.yml"):
        if path.stem != "ndrc":
            path.unlink()
    for key, value in radar.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(radar.cwd)
    ensure_schema(database_url)
    yield
    jobs._stopping.clear()


def runs(database_url: str) -> list[CrawlRun]:
    with transaction(database_url) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


@pytest.mark.usefixtures("in_process")
def test_a_forked_crawl_records_its_run_over_the_fake_internet_and_an_unchanged_one_after_it(database_url: str) -> None:
    config = get_settings(crawl_start="fork")
    assert jobs.crawl_source(config, "ndrc") == "ok"
    assert jobs.crawl_source(config, "ndrc") == "ok"
    first, second = runs(database_url)
    assert (first.status, second.status) == ("ok", "ok")
    assert first.new == len(expected_articles("ndrc")) and second.new == 0
    assert second.not_modified >= 1  # the list answered 304: a real unchanged check
    with transaction(database_url) as session:
        assert session.scalar(select(func.count(Item.id))) == first.new


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.usefixtures("in_process")
def test_a_crawl_that_fails_at_once_is_crashed_with_its_stderr_in_the_warning(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="scheduler.jobs")
    assert jobs.crawl_source(get_settings(crawl_start=mode), "nosuch") == "crashed"
    warning = next(record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)
    assert "crawl nosuch (exit 2) said:" in warning and "Unknown source(s): nosuch" in warning


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.usefixtures("in_process")
def test_sigterm_during_a_crawl_interrupts_it_and_leaves_its_run_closed(mode: str, internet: FakeInternet, database_url: str) -> None:
    for entry in expected_articles("ndrc")[1:]:
        internet.inject(entry["url"], fault("delay", 30))
    outcome: list[str] = []
    crawl = threading.Thread(target=lambda: outcome.append(jobs.crawl_source(get_settings(crawl_start=mode), "ndrc")))
    crawl.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and crawl.is_alive() and not _stored(database_url):
        time.sleep(0.2)
    assert _stored(database_url), "the crawl stored nothing before the test stopped it"
    jobs.stop_children(grace=60)
    crawl.join(90)
    assert outcome == ["interrupted"]
    (run,) = runs(database_url)
    # Closed by the crawl itself on SIGTERM: a child killed after the grace period leaves it running.
    assert run.status != "running" and run.finished_at is not None
    assert run.new >= 1


def _stored(database_url: str) -> int:
    with transaction(database_url) as session:
        return session.scalar(select(func.count(Item.id))) or 0


@pytest.mark.usefixtures("in_process")
def test_a_forked_crawl_waits_with_a_timeout_and_dies_by_kill_like_a_popen(internet: FakeInternet) -> None:
    for entry in expected_articles("ndrc"):
        internet.inject(entry["url"], fault("delay", 30))
    child = warm_start.ForkedCrawl(["run", "--source", "ndrc"])
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=1)
    assert child.returncode is None
    child.kill()
    assert child.wait(timeout=30) == -signal.SIGKILL == child.returncode
    stdout, stderr = child.communicate()
    assert stdout is None and isinstance(stderr, str)
