"""Scrapy settings, layered: these defaults < the operator's RADAR_* settings < a source's
``politeness:`` block < command-line options."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import Settings as ScrapySettings
from scrapy.settings import default_settings

from common.settings import Settings
from crawler.kinds.base import Politeness
from crawler.watchlist import SourceBase

UNUSED_EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.throttle.AutoThrottle",  # replaced by crawler.extensions.HostThrottle
}

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": "cnst-radar",
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": True,  # several government sites set a cookie before serving lists
    "CONCURRENT_REQUESTS": 16,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    # Scrapy starts this many tasks for each response's output, an empty one (a 304) too: 100 by
    # default, ~10⁴ tasks for an unchanged check. The pipelines are synchronous, so items run
    # one after another whatever this says.
    "CONCURRENT_ITEMS": 4,
    "RETRY_TIMES": 2,
    "DOWNLOAD_MAXSIZE": 20 * 1024 * 1024,  # real articles are under 1 MB; a 50 MB page is a fault
    "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
    "REDIRECT_MAX_TIMES": 5,
    "LOG_LEVEL": "WARNING",
    # Scrapy would read and parse the source of a callback (inspect.getsource + ast.parse) for
    # every response, since each request carries a new bound method its cache never hits: 40 %
    # of the callback time of an unchanged run. Our callbacks are our own code, not users'.
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
    "DOWNLOADER_MIDDLEWARES": {
        # Before RobotsTxtMiddleware (100): a refused request must not even cost a robots.txt.
        "crawler.middlewares.FetchGuardMiddleware": 50,
        "crawler.middlewares.ProxyMiddleware": 350,
        "crawler.middlewares.ConditionalGetMiddleware": 560,
        # Next to Scrapy's DownloaderStats (850), which counts the same requests for the crawl.
        "crawler.middlewares.RequestCountMiddleware": 849,
        "crawler.middlewares.EncodingMiddleware": 950,
    },
    "SPIDER_MIDDLEWARES": {
        # Outermost (before HttpErrorMiddleware, 50): sees everything the engine is handed.
        "crawler.middlewares.SettleMiddleware": 0,
        "crawler.middlewares.IncrementalMiddleware": 800,
    },
    "ITEM_PIPELINES": {
        "crawler.pipelines.NormalizePipeline": 100,
        "crawler.pipelines.StorePipeline": 900,  # insert → judge → tag, one transaction per item
    },
    # Scrapy's own extensions minus those we never use. Removed from the base list, not set to
    # None in EXTENSIONS: Scrapy imports every listed extension, even a disabled one, and each crawl
    # child would pay for it (the remote control alone imports aiohttp: ~0.5 s of CPU).
    "EXTENSIONS_BASE": {name: order for name, order in default_settings.EXTENSIONS_BASE.items() if name not in UNUSED_EXTENSIONS},
    "EXTENSIONS": {
        "crawler.extensions.RunLedger": 0,
        "crawler.extensions.HostThrottle": 0,
        "crawler.extensions.CallbackErrors": 10,
        "crawler.extensions.ExtractedCount": 10,
    },
    # Scrapy's HTTP cache, for robots.txt only (see RobotsTxtCachePolicy).
    "HTTPCACHE_ENABLED": True,
    "HTTPCACHE_POLICY": "crawler.middlewares.RobotsTxtCachePolicy",
    "HTTPCACHE_EXPIRATION_SECS": 24 * 3600,
}


def scrapy_settings(config: Settings, source: SourceBase, **options: Any) -> ScrapySettings:
    """The settings one source's crawl runs with."""
    return crawl_settings(config, [source], **options)


def crawl_settings(config: Settings, sources: Sequence[SourceBase], **options: Any) -> ScrapySettings:
    """The settings one crawl of ``sources`` runs with. A source's politeness applies to the
    hosts it names (its list URLs' and ``allowed_hosts``), as per-host download slots; a host
    two sources name gets the stricter of theirs. With one source, it applies to every host,
    as its crawl's defaults."""
    settings = ScrapySettings(DEFAULTS)
    delay, concurrency = _politeness(config, Politeness() if len(sources) > 1 else sources[0].politeness)
    settings.setdict(
        {
            "USER_AGENT": config.user_agent,
            "RADAR_PROXY": config.effective_proxy,
            "RADAR_ALLOW_PRIVATE_NETWORKS": config.allow_private_networks,
            "RADAR_DATABASE_URL": config.effective_database_url,
            "RADAR_TOPICS": str(config.topics_file),
            "DOWNLOAD_DELAY": delay,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_SLOTS": _host_slots(config, sources) if len(sources) > 1 else {},
            # As many requests at once as a crawler per source would allow, all told.
            "CONCURRENT_REQUESTS": DEFAULTS["CONCURRENT_REQUESTS"] * len(sources),
            "AUTOTHROTTLE_ENABLED": config.autothrottle and config.polite,
            "DOWNLOAD_TIMEOUT": config.download_timeout,
            "HTTPCACHE_DIR": str((config.data_dir / "robots-cache").resolve()),
            # A source that ignores robots.txt marks its requests (see crawler.spiders).
            "ROBOTSTXT_OBEY": any(source.politeness.robots_txt == "obey" for source in sources),
            "LOG_LEVEL": config.log_level if config.log_level in ("DEBUG",) else "WARNING",
            # Scrapy formats its stats dump (pprint) before logging drops the record: only
            # when it is shown (`-vv`, or RADAR_LOG_LEVEL=DEBUG).
            "STATS_DUMP": config.log_level == "DEBUG" or logging.getLogger("scrapy").isEnabledFor(logging.DEBUG),
        },
        priority="project",
    )
    settings.setdict({f"RADAR_{key.upper()}": value for key, value in options.items()}, priority="cmdline")
    return settings


def _politeness(config: Settings, polite: Politeness) -> tuple[float, int]:
    """The delay and the concurrency per host a source's ``politeness:`` block asks for."""
    if not config.polite:
        return 0, 8
    delay = polite.delay if polite.delay is not None else config.download_delay
    return delay, polite.concurrency or config.concurrency_per_domain


def _host_slots(config: Settings, sources: Sequence[SourceBase]) -> dict[str, dict[str, Any]]:
    """Scrapy's DOWNLOAD_SLOTS (keyed by host name, as its downloader keys a request's slot)."""
    slots: dict[str, dict[str, Any]] = {}
    for source in sources:
        delay, concurrency = _politeness(config, source.politeness)
        for host in _named_hosts(source):
            slot = slots.setdefault(host, {"delay": delay, "concurrency": concurrency})
            slot["delay"], slot["concurrency"] = max(slot["delay"], delay), min(slot["concurrency"], concurrency)
    return slots


def _named_hosts(source: SourceBase) -> set[str]:
    hosts = {urlsplit(entry.url).hostname or "" for entry in source.lists}
    return (hosts | {host.lower() for host in source.allowed_hosts}) - {""}
