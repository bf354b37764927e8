"""Extensions that keep a source run's record: its CrawlRun row, its list-page validators, and
the counters health is judged from. Each finds the others the Scrapy way
(``crawler.get_extension`` and friends), never through attributes stuck on the Crawler."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from crawler import health
from crawler.middlewares import ConditionalGetMiddleware, IncrementalMiddleware
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


def open_runs(database_url: str, sources: Collection[SourceBase]) -> dict[str, OpenedRun]:
    """Open a CrawlRun row for each of ``sources``, by source name, in one transaction: a run
    of many sources pays a handful of statements for all of them, not a handful each."""
    with transaction(database_url) as session:
        rows = queries.upsert_sources(session, [(s.name, s.label, s.kind) for s in sources])
        runs = {s.name: CrawlRun(source_id=rows[s.name].id, started_at=utcnow(), status="running") for s in sources}
        session.add_all(runs.values())
        session.flush()
        states = queries.list_states(session, [row.id for row in rows.values()])
        queries.close_abandoned_runs(session, list(runs.values()))
    return {name: OpenedRun(run, rows[name], states[run.source_id]) for name, run in runs.items()}


class RunLedger:
    """Opens a CrawlRun row when the spider opens (or takes the one :func:`open_runs` opened,
    passed as the spider's ``opened_run``) and closes it, with the run's counters and health,
    when it closes; then sends :data:`run_finished`."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self.list_pages = ListPageStates(crawler)
        self.opened_run: OpenedRun | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLedger:
        return cls(crawler)

    @property
    def run_id(self) -> int | None:
        return self.opened_run.run.id if self.opened_run else None

    @property
    def source_id(self) -> int | None:
        return self.opened_run.source.id if self.opened_run else None

    def opened(self, spider: Spider) -> None:
        source = spider.source  # type: ignore[attr-defined]
        opened = getattr(spider, "opened_run", None) or open_runs(self.database_url, [source])[source.name]
        self.opened_run = opened
        self.list_pages.load(opened.list_states)

    def closed(self, spider: Spider, reason: str) -> None:
        assert self.opened_run is not None
        stats = self.crawler.stats
        counters = {name: int(stats.get_value(f"radar/{name}", 0)) for name in COUNTERS}
        requests = int(stats.get_value("downloader/request_count", 0))
        status = _status(counters, reason)
        with transaction(self.database_url) as session:
            # Merged unread: the rows are as this run opened them, and only this run writes them.
            run = session.merge(self.opened_run.run, load=False)
            for name, value in counters.items():
                setattr(run, name, value)
            run.requests, run.status, run.finished_at = requests, status, utcnow()
            run.error_summary = stats.get_value("radar/last_error") if counters["errors"] else None
            radar_stats = {k: v for k, v in stats.get_stats().items() if k.startswith("radar/")}
            run.stats = {k: v for k, v in radar_stats.items() if isinstance(v, int)}
            row = session.merge(self.opened_run.source, load=False)
            _record_health(session, spider.source, run, row, radar_stats)  # type: ignore[attr-defined]
            self.list_pages.save(session, run)
        log.info(
            "%s: run %s — %s list pages, %s articles found, %s new, %s updated, %s skipped, %s errors",
            spider.name, status, *(counters[n] for n in ("list_pages", "articles_found", "new", "updated", "skipped", "errors")),
            extra={"radar": {"event": "crawl_run", "source": spider.name, "status": status, "requests": requests, **counters}},
        )
        self.crawler.signals.send_catch_log(run_finished, source=spider.name, run=run)


class ListPageStates:
    """The list pages' validators (ETag / Last-Modified) and entries, loaded into the
    middlewares when a run opens and saved from them when it closes.

    They are saved only for a run without errors that did not break: after such a run the next
    one must re-read the lists, or a failed article would be lost and a broken source would
    look healthy behind a 304.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    def load(self, states: dict[str, ListPageState]) -> None:
        self._conditional().load(states)
        self._incremental().read_before = set(states)

    def save(self, session: Session, run: CrawlRun) -> None:
        for url, ((etag, modified), entries) in self._incremental().list_results.items():
            if run.errors or run.health == health.BROKEN:
                queries.forget_list_state(session, url)
            else:
                queries.save_list_state(session, run.source_id, url, etag, modified, entries)

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
        self.stats = crawler.stats
        crawler.signals.connect(self.raised, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackErrors:
        return cls(crawler)

    def raised(self, failure: Failure, response: Response, spider: Spider) -> None:
        exception = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.stats.inc_value("radar/errors")
        self.stats.inc_value("radar/exceptions")
        self.stats.set_value("radar/last_exception", exception)
        self.stats.set_value("radar/last_error", f"{response.meta.get('radar_role', 'page')} {response.url}: {exception}")


class ExtractedCount:
    """Counts articles that made it through extraction (stored, updated or already known):
    health tells a layout change (nothing extracted) from a few failing pages by it."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self.extracted, signal=signals.item_scraped)
        crawler.signals.connect(self.extracted, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractedCount:
        return cls(crawler)

    def extracted(self, item: object, spider: Spider, **_: object) -> None:
        self.stats.inc_value("radar/extracted")


def _record_health(session: Session, source: SourceBase, run: CrawlRun, row: Source, stats: dict) -> None:
    """Record the run's health and move the source's state (``row``, and `since`) on a change."""
    now = utcnow()
    verdict = health.assess(source, stats, run.status, queries.last_new_item(session, run.source_id), now)
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
