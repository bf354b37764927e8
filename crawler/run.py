"""Running crawls in-process: the function behind `crawl run`, `crawl demo` and the daemon."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from scrapy.crawler import Crawler, CrawlerProcess
from sqlalchemy import select

from crawler import download
from common.settings import Settings
from crawler.settings import DEFAULTS, scrapy_settings
from crawler.spiders import SPIDERS
from crawler.watchlist import SourceBase
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    max_pages: int | None = None
    since: datetime | None = None
    refresh: bool = False


def crawl(
    sources: list[SourceBase],
    config: Settings,
    options: RunOptions | None = None,
    on_finished: Callable[[str, CrawlRun], None] | None = None,
) -> list[CrawlRun]:
    """Crawl ``sources`` concurrently (one Scrapy crawler each) and return their run records.

    Twisted's reactor cannot be restarted, so this can be called once per process; the
    daemon runs each crawl in a child process for that reason.
    """
    options = options or RunOptions()
    url = config.effective_database_url
    ensure_schema(url)
    process = CrawlerProcess(DEFAULTS | {"LOG_INSTALL_ROOT_HANDLER": False})
    crawlers = []
    for index, source in enumerate(sources):
        settings = scrapy_settings(
            config,
            source,
            refresh=options.refresh,
            since=options.since.isoformat() if options.since else None,
            on_finished=on_finished,
        )
        settings.set("DOWNLOAD_HANDLERS", {"http": download.HANDLER, "https": download.HANDLER}, priority="cmdline")
        crawler = Crawler(SPIDERS[source.kind], settings, init_reactor=index == 0)
        crawlers.append(crawler)
        process.crawl(crawler, source=source, max_pages=options.max_pages)
    process.start()
    return _runs(url, crawlers)


def _runs(url: str, crawlers: list[Crawler]) -> list[CrawlRun]:
    ids = [getattr(getattr(c, "radar_recorder", None), "run_id", None) for c in crawlers]
    with transaction(url) as session:
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.id.in_([i for i in ids if i]))))
        for run in runs:
            _ = run.source.name  # load while the session is open
        return sorted(runs, key=lambda r: r.id)
