"""The run recorder: a CrawlRun row per source run, built from the crawl's own stats."""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import health
from storage import queries
from storage.db import transaction
from storage.models import CrawlRun, Source, utcnow

log = logging.getLogger(__name__)
COUNTERS = ("list_pages", "not_modified", "articles_found", "new", "updated", "skipped", "errors")


class RunRecorder:
    """Opens a CrawlRun when the spider opens and closes it with the counters when it closes.

    List-page validators (ETag / Last-Modified) are saved only for a run without errors that
    did not break: after such a run the next one must re-read the lists, or a failed article
    would be lost and a broken source would look healthy behind a 304.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self.on_finished: Callable[[str, CrawlRun], None] | None = crawler.settings.get("RADAR_ON_FINISHED")
        self.run_id: int | None = None
        crawler.radar_recorder = self  # type: ignore[attr-defined]
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.raised, signal=signals.spider_error)
        crawler.signals.connect(self.extracted, signal=signals.item_scraped)
        crawler.signals.connect(self.extracted, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def opened(self, spider: Spider) -> None:
        source = spider.source  # type: ignore[attr-defined]
        with transaction(self.database_url) as session:
            row = queries.upsert_source(session, source.name, source.label, source.kind)
            run = CrawlRun(source_id=row.id, started_at=utcnow(), status="running")
            session.add(run)
            session.flush()
            self.run_id, self.crawler.radar_source_id = run.id, row.id  # type: ignore[attr-defined]
            states = queries.list_states(session, row.id)
            self.crawler.radar_conditional.load(states)  # type: ignore[attr-defined]
            self.crawler.radar_incremental.read_before = set(states)  # type: ignore[attr-defined]
            queries.close_abandoned_runs(session, row.id, run.id)

    def raised(self, failure: Failure, response: Response, spider: Spider) -> None:
        """A callback raised (a selector that fails on real pages, a bug): an error of the run,
        named, so the run is not `ok` and the source's health can say what broke."""
        stats = self.crawler.stats
        exception = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        stats.inc_value("radar/errors")
        stats.inc_value("radar/exceptions")
        stats.set_value("radar/last_exception", exception)
        stats.set_value("radar/last_error", f"{response.meta.get('radar_role', 'page')} {response.url}: {exception}")

    def extracted(self, item: object, spider: Spider, **_: object) -> None:
        """An article made it through extraction (stored, updated or already known)."""
        self.crawler.stats.inc_value("radar/extracted")

    def closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        counters = {name: int(stats.get_value(f"radar/{name}", 0)) for name in COUNTERS}
        requests = int(stats.get_value("downloader/request_count", 0))
        status = _status(counters, reason)
        with transaction(self.database_url) as session:
            run = session.get(CrawlRun, self.run_id)
            assert run is not None
            for name, value in counters.items():
                setattr(run, name, value)
            run.requests, run.status, run.finished_at = requests, status, utcnow()
            run.error_summary = stats.get_value("radar/last_error") if counters["errors"] else None
            radar_stats = {k: v for k, v in stats.get_stats().items() if k.startswith("radar/")}
            run.stats = {k: v for k, v in radar_stats.items() if isinstance(v, int)}
            self._judge(session, spider.source, run, radar_stats)  # type: ignore[attr-defined]
            self._save_list_states(session, run)
        log.info(
            "%s: run %s — %s list pages, %s articles found, %s new, %s updated, %s skipped, %s errors",
            spider.name, status, *(counters[n] for n in ("list_pages", "articles_found", "new", "updated", "skipped", "errors")),
            extra={"radar": {"event": "crawl_run", "source": spider.name, "status": status, "requests": requests, **counters}},
        )
        if self.on_finished:
            self.on_finished(spider.name, run)

    def _judge(self, session, source, run: CrawlRun, stats: dict) -> None:  # type: ignore[no-untyped-def]
        """Record the run's health and move the source's state (and `since`) on a change."""
        now = utcnow()
        verdict = health.assess(source, stats, run.status, queries.last_new_item(session, run.source_id), now)
        run.health, run.problems = verdict.state, verdict.problems
        row = session.get(Source, run.source_id)
        if row.health != verdict.state:
            row.health, row.health_since = verdict.state, now
            log.log(logging.WARNING if verdict.state != health.OK else logging.INFO,
                    "%s: health %s: %s", source.name, verdict.state, verdict.summary or "all rules matched")
        row.last_error = verdict.summary

    def _save_list_states(self, session, run: CrawlRun) -> None:  # type: ignore[no-untyped-def]
        results = self.crawler.radar_incremental.list_results  # type: ignore[attr-defined]
        for url, ((etag, modified), entries) in results.items():
            if run.errors or run.health == health.BROKEN:
                queries.forget_list_state(session, url)
            else:
                queries.save_list_state(session, run.source_id, url, etag, modified, entries)


def _status(counters: dict[str, int], reason: str) -> str:
    if counters["list_pages"] == 0 and counters["not_modified"] == 0:
        return "failed"
    if counters["errors"] or reason != "finished":
        return "partial"
    return "ok"
