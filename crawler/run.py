"""Running crawls in-process: the function behind `crawl run`, `crawl demo` and the daemon."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from scrapy.crawler import Crawler, CrawlerProcess
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from common.settings import Settings
from crawler import download
from crawler.extensions import RunLedger, open_runs, run_finished
from crawler.settings import DEFAULTS, crawl_settings
from crawler.spiders import SourceSpider
from crawler.watchlist import SourceBase
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    max_pages: int | None = None
    since: datetime | None = None
    refresh: bool = False
    now: datetime | None = None  # the run's time (the caller's clock): which editions dated list URLs name


def crawl(
    sources: list[SourceBase],
    config: Settings,
    options: RunOptions | None = None,
    on_finished: Callable[[str, CrawlRun], None] | None = None,
) -> list[CrawlRun]:
    """Crawl ``sources`` concurrently (one Scrapy crawler for all of them) and return their run
    records; ``on_finished(source name, run)`` is called as each source's run ends.

    Twisted's reactor cannot be restarted, so this can be called once per process; the
    daemon runs each crawl in a child process for that reason.
    """
    if not gc.isenabled():
        # `crawl run` kept the collector off while it imported (radar.cli). What is loaded by now
        # (modules, settings, watchlists) lives as long as the process: out of its walks from here.
        gc.freeze()
        gc.enable()
    options = options or RunOptions()
    sources = list({source.name: source for source in sources}.values())  # one run per source, named twice or not
    url = config.effective_database_url
    ensure_schema(url)
    if not sources:
        return []
    process = CrawlerProcess(DEFAULTS | {"LOG_INSTALL_ROOT_HANDLER": False})
    opened = open_runs(url, sources)
    since = options.since.isoformat() if options.since else None
    settings = crawl_settings(config, sources, refresh=options.refresh, since=since)
    settings.set("DOWNLOAD_HANDLERS", {"http": download.HANDLER, "https": download.HANDLER}, priority="cmdline")
    crawler = Crawler(SourceSpider, settings, init_reactor=True)
    if on_finished:
        crawler.signals.connect(_reporter(on_finished), signal=run_finished, weak=False)
    process.crawl(crawler, sources=sources, max_pages=options.max_pages, now=options.now, opened_runs=opened)
    process.start()
    return _runs(url, crawler)


def _reporter(on_finished: Callable[[str, CrawlRun], None]) -> Callable[..., None]:
    def report(source: str, run: CrawlRun, **_: object) -> None:
        on_finished(source, run)

    return report


def _runs(url: str, crawler: Crawler) -> list[CrawlRun]:
    ids = _run_ids(crawler)
    with transaction(url) as session:
        # Each run's source loaded with it while the session is open: one query, not one per source.
        wanted = select(CrawlRun).where(CrawlRun.id.in_(ids)).options(selectinload(CrawlRun.source))
        return sorted(session.scalars(wanted), key=lambda r: r.id)


def _run_ids(crawler: Crawler) -> list[int]:
    try:
        ledger = crawler.get_extension(RunLedger)
    except RuntimeError:  # the crawler failed before its extensions were built: no run
        return []
    return ledger.run_ids if ledger else []
