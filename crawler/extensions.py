"""Extensions that keep a source run's record: its CrawlRun row, its list-page validators, and
the counters health is judged from. Each finds the others the Scrapy way
(``crawler.get_extension`` and friends), never through attributes stuck on the Crawler."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from scrapy import signals
from scrapy.core.downloader import Slot as DownloaderSlot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from crawler import health
from crawler.flow import source_settled
from crawler.items import ArticleItem
from crawler.middlewares import ConditionalGetMiddleware, IncrementalMiddleware
from crawler.spiders import SourceSpider
from crawler.watchlist import SourceBase
from storage import queries
from storage.db import transaction
from storage.models import CrawlRun, ListPageState, Source, utcnow

log = logging.getLogger(__name__)
COUNTERS = ("list_pages", "not_modified", "articles_found", "new", "updated", "skipped", "errors")

# Sent once a run's CrawlRun row is closed and committed, with ``source`` (its name) and ``run``.
run_finished = object()


@dataclass
class OpenedRun:
    """A source's CrawlRun row and what its crawl starts from, opened by :func:`open_runs`;
    the rows are detached (a session per transaction) and merged back, unread, at the close."""

    run: CrawlRun
    source: Source
    list_states: dict[str, ListPageState]
    last_new: datetime | None  # the source's newest item when the run opened


def open_runs(database_url: str, sources: Collection[SourceBase]) -> dict[str, OpenedRun]:
    """Open a CrawlRun row for each of ``sources``, by source name, in one transaction: a run
    of many sources pays a handful of statements for all of them, not a handful each."""
    with transaction(database_url) as session:
        rows = queries.upsert_sources(session, [(s.name, s.label, s.kind) for s in sources])
        runs = {s.name: CrawlRun(source_id=rows[s.name].id, started_at=utcnow(), status="running") for s in sources}
        session.add_all(runs.values())
        session.flush()
        source_ids = [row.id for row in rows.values()]
        states, newest = queries.list_states(session, source_ids), queries.last_new_items(session, source_ids)
        queries.close_abandoned_runs(session, list(runs.values()))
    return {name: OpenedRun(run, rows[name], states[run.source_id], newest[run.source_id]) for name, run in runs.items()}


class RunLedger:
    """Keeps each source's CrawlRun row: takes the rows :func:`open_runs` opened (passed as the
    spider's ``opened_runs``, or opened here when the spider opens), and closes each source's,
    with its counters and health, once that source's last request has settled (or, at the
    latest, when the spider closes); then sends :data:`run_finished` for it."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self.list_pages = ListPageStates(crawler)
        self.opened_runs: dict[str, OpenedRun] = {}
        self.open: set[str] = set()  # sources whose run is not closed yet
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.settled, signal=source_settled)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLedger:
        return cls(crawler)

    @property
    def run_ids(self) -> list[int]:
        return [opened.run.id for opened in self.opened_runs.values()]

    def source_id(self, source: str) -> int:
        return self.opened_runs[source].source.id

    def opened(self, spider: SourceSpider) -> None:
        sources = spider.sources.values()
        self.opened_runs = getattr(spider, "opened_runs", None) or open_runs(self.database_url, sources)
        self.open = set(spider.sources)
        for name, opened in self.opened_runs.items():
            self.list_pages.load(name, opened.list_states)

    def settled(self, source: str) -> None:
        if source in self.open:  # a run is closed once, whatever comes after
            self.close(source, "finished")

    def closed(self, spider: SourceSpider, reason: str) -> None:
        for source in list(spider.sources):
            if source in self.open:
                self.close(source, reason)

    def close(self, name: str, reason: str) -> None:
        """Record ``name``'s run with its counters and health, and announce it."""
        self.open.discard(name)
        spider: SourceSpider = self.crawler.spider  # type: ignore[assignment]
        stats, opened = spider.stats_of(name), self.opened_runs[name]
        counters = {counter: int(stats.get_value(f"radar/{counter}", 0)) for counter in COUNTERS}
        status = _status(counters, reason)
        with transaction(self.database_url) as session:
            # Merged unread: the rows are as this run opened them, and only this run writes them.
            run = session.merge(opened.run, load=False)
            for counter, value in counters.items():
                setattr(run, counter, value)
            run.requests, run.status, run.finished_at = stats.requests, status, utcnow()
            run.error_summary = stats.get_value("radar/last_error") if counters["errors"] else None
            run.stats = {k: v for k, v in stats.values.items() if isinstance(v, int)}
            row = session.merge(opened.source, load=False)
            # A run that stored nothing leaves the newest item as it was when the run opened.
            last_new = queries.last_new_item(session, run.source_id) if counters["new"] else opened.last_new
            _record_health(spider.sources[name], run, row, stats.values, last_new)
            self.list_pages.save(session, name, run)
        log.info(
            "%s: run %s — %s list pages, %s articles found, %s new, %s updated, %s skipped, %s errors",
            name, status, *(counters[n] for n in ("list_pages", "articles_found", "new", "updated", "skipped", "errors")),
            extra={"radar": {"event": "crawl_run", "source": name, "status": status, "requests": stats.requests, **counters}},
        )
        self.crawler.signals.send_catch_log(run_finished, source=name, run=run)


class ListPageStates:
    """The list pages' validators (ETag / Last-Modified) and entries, loaded into the
    middlewares when a run opens and saved from them when it closes.

    They are saved only for a run without errors that did not break: after such a run the next
    one must re-read the lists, or a failed article would be lost and a broken source would
    look healthy behind a 304.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    def load(self, source: str, states: dict[str, ListPageState]) -> None:
        self._conditional().load(source, states)
        self._incremental().read_before[source] = set(states)

    def save(self, session: Session, source: str, run: CrawlRun) -> None:
        incremental, failed = self._incremental(), bool(run.errors) or run.health == health.BROKEN
        for url, ((etag, modified), entries) in incremental.list_results[source].items():
            if failed:
                queries.forget_list_state(session, url)
            else:
                queries.save_list_state(session, run.source_id, url, etag, modified, entries)
        if not failed:  # a list answered 304 is as saved, and saved now: the clean-up keeps it
            queries.refresh_list_states(session, incremental.not_modified[source])

    def _conditional(self) -> ConditionalGetMiddleware:
        middleware = self.crawler.get_downloader_middleware(ConditionalGetMiddleware)
        assert middleware is not None, "ConditionalGetMiddleware is not enabled"
        return middleware

    def _incremental(self) -> IncrementalMiddleware:
        middleware = self.crawler.get_spider_middleware(IncrementalMiddleware)
        assert middleware is not None, "IncrementalMiddleware is not enabled"
        return middleware


class CallbackErrors:
    """A callback raised (a selector that fails on real pages, a bug): an error of the run,
    named, so the run is not `ok` and the source's health can say what broke."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self.raised, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackErrors:
        return cls(crawler)

    def raised(self, failure: Failure, response: Response, **_: object) -> None:
        spider: SourceSpider = self.crawler.spider  # type: ignore[assignment]
        exception = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        stats = spider.stats_of(response.meta["radar_source"])
        stats.inc_value("radar/errors")
        stats.inc_value("radar/exceptions")
        stats.set_value("radar/last_exception", exception)
        stats.set_value("radar/last_error", f"{response.meta.get('radar_role', 'page')} {response.url}: {exception}")
        spider.outstanding.settle(response.meta)  # what it yielded before raising is counted on its own


class ExtractedCount:
    """Counts articles that made it through extraction (stored, updated or already known):
    health tells a layout change (nothing extracted) from a few failing pages by it. Each
    item's outcome also settles it (see :class:`crawler.flow.Outstanding`)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self.extracted, signal=signals.item_scraped)
        crawler.signals.connect(self.extracted, signal=signals.item_dropped)
        crawler.signals.connect(self.failed, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractedCount:
        return cls(crawler)

    def extracted(self, item: ArticleItem, **_: object) -> None:
        self._spider().stats_of(item.source).inc_value("radar/extracted")
        self._spider().outstanding.done(item.source)

    def failed(self, item: ArticleItem, **_: object) -> None:
        self._spider().outstanding.done(item.source)

    def _spider(self) -> SourceSpider:
        return self.crawler.spider  # type: ignore[return-value]


def _record_health(source: SourceBase, run: CrawlRun, row: Source, stats: dict, last_new: datetime | None) -> None:
    """Record the run's health and move the source's state (``row``, and `since`) on a change."""
    now = utcnow()
    verdict = health.assess(source, stats, run.status, last_new, now)
    run.health, run.problems = verdict.state, verdict.problems
    if row.health != verdict.state:
        row.health, row.health_since = verdict.state, now
        log.log(logging.WARNING if verdict.state != health.OK else logging.INFO,
                "%s: health %s: %s", source.name, verdict.state, verdict.summary or "all rules matched")
    row.last_error = verdict.summary


def _status(counters: dict[str, int], reason: str) -> str:
    if counters["list_pages"] == 0 and counters["not_modified"] == 0:
        return "failed"
    if counters["errors"] or reason != "finished":
        return "partial"
    return "ok"


class HostThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, which never brings a host below the delay its sources ask for.

    AutoThrottle's floor is the crawl's DOWNLOAD_DELAY; in one crawl of many sources that is
    the operator's default, and a source's own ``politeness.delay`` lives in its hosts'
    download slots (DOWNLOAD_SLOTS): that is the floor for those hosts.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.floors = {host: slot["delay"] for host, slot in crawler.settings.getdict("DOWNLOAD_SLOTS").items() if "delay" in slot}

    def _adjust_delay(self, slot: DownloaderSlot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        host = response.request.meta.get("download_slot") if response.request else None
        slot.delay = max(slot.delay, self.floors.get(host, 0.0))
