"""The Scrapy project's settings module (``scrapy.cfg`` names it), and its one spider, ``radar``.

``scrapy crawl radar -a source=ndrc`` crawls one watchlist source exactly as ``crawl run
--source ndrc`` does: the same RADAR_* configuration (database, proxy, politeness), the same
settings (crawler.settings), the same spider class for the source's kind, storing to
RADAR_DATABASE_URL. Spider arguments are strings, as Scrapy (and Scrapyd) pass them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.crawler import Crawler

from common.settings import Settings, get_settings
from crawler import download
from crawler.settings import DEFAULTS, scrapy_settings
from crawler.spiders import SPIDERS
from crawler.watchlist import SourceBase, configured_sources
from storage.db import ensure_schema

# A settings module is read for its upper-case names: these are the crawler's defaults, kept
# in one place (crawler.settings); a source's own settings are applied when its spider starts.
globals().update(DEFAULTS)
SPIDER_MODULES = ["crawler.scrapy_project"]
DOWNLOAD_HANDLERS = {"http": download.HANDLER, "https": download.HANDLER}


class RadarSpider(scrapy.Spider):
    """``-a source=NAME`` (required) and ``-a max_pages=N``: builds the source's own spider."""

    name = "radar"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, source: str = "", max_pages: str = "", **kwargs: Any) -> scrapy.Spider:
        config = get_settings()
        chosen = named_source(config, source)
        ensure_schema(config.effective_database_url)
        # Scrapy applies the settings after the spider is built, so a source's politeness,
        # proxy and database still count here; each keeps its layer's priority, so `-s` wins.
        crawler.settings.update(scrapy_settings(config, chosen))
        spider_class = SPIDERS[chosen.kind]
        pages = int(max_pages) if max_pages else None
        # This is where a Scrapyd crawl starts, so the run's time is read here and passed down.
        now = datetime.now(timezone.utc)
        return spider_class.from_crawler(crawler, *args, source=chosen, max_pages=pages, now=now, **kwargs)


def named_source(config: Settings, name: str) -> SourceBase:
    """The configured source called ``name`` (a WeChat account through the mirror too), or a
    clear error naming the ones there are."""
    sources = {source.name: source for source in configured_sources(config)}
    if name not in sources:
        raise ValueError(f"-a source={name!r}: no such source in {config.watchlists}; choose one of {', '.join(sorted(sources))}")
    return sources[name]
