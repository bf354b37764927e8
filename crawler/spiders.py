"""One generic, configuration-driven spider for every source.

The spider only turns responses into requests and items; how a list page is read is the
source's kind's business (:mod:`crawler.kinds`), asked through the source object. Deciding
what is already known, conditional GETs, encodings and storage live in middlewares and
pipelines.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import netguard, rules
from crawler.extract import Article, extract_article
from crawler.flow import Outstanding, SourceStats, source_settled
from crawler.items import ArticleItem
from crawler.kinds import KINDS
from crawler.kinds.base import Listing
from crawler.kinds.landing import landing_target
from crawler.kinds.list_request import ListRequest
from crawler.listings import Entry, RuleTally
from crawler.kinds.base import SourceBase

log = logging.getLogger(__name__)

# Request roles, read by the middlewares.
LIST, ARTICLE, SHELL = "list", "article", "shell"
ARTICLE_FIELDS = {"article.title": "title", "article.published": "published_at", "article.origin": "origin", "article.body": "body"}


class RefusedRequest(IgnoreRequest):
    """A request the fetch policy (crawler.netguard, applied by the middlewares) refused;
    ``reason`` says why, in a few words."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused {url}: {reason}")
        self.url = url
        self.reason = reason


class SourceSpider(scrapy.Spider):
    """Crawl the list pages of one or many sources, follow their article links, yield one
    item per article. Every request carries its source's name (``radar_source`` in its meta),
    and everything counted is counted for that source (:meth:`stats_of`)."""

    def __init__(
        self,
        sources: list[SourceBase] | None = None,
        source: SourceBase | None = None,
        max_pages: int | None = None,
        now: datetime | None = None,
        **kwargs: Any,
    ):
        chosen = list(sources or []) + ([source] if source else [])
        # One source (Scrapyd's `-a source=X`, or a run of one): the spider keeps the source's name.
        super().__init__(name=chosen[0].name if len(chosen) == 1 else "radar", **kwargs)
        self.sources = {s.name: s for s in chosen}
        self.now = now  # the run's time, from the caller: which editions a dated list URL names
        self.pages_wanted = max_pages
        self._stats: dict[str, SourceStats] = {}
        self.outstanding = Outstanding(self._settled)

    def stats_of(self, source: str) -> SourceStats:
        if source not in self._stats:  # made when first counted: the crawler's stats exist by then
            self._stats[source] = SourceStats(self.crawler.stats)
        return self._stats[source]

    def source_of(self, request: scrapy.Request) -> SourceBase | None:
        """The source a request was made for (None: Scrapy's own, such as robots.txt)."""
        return self.sources.get(request.meta.get("radar_source", ""))

    def max_pages(self, source: SourceBase) -> int:
        return self.pages_wanted or (source.pagination.max_pages if source.pagination else 1)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources.values():
            self.outstanding.add(source.name)  # held until its start requests are all issued
            for wanted in source.list_requests(self.now):
                yield self.list_request(source, wanted.url, wanted.url, page=1, sent=wanted)
            self.outstanding.done(source.name)

    def _settled(self, source: str) -> None:
        self.crawler.signals.send_catch_log(source_settled, source=source)

    def list_request(
        self, source: SourceBase, url: str, list_url: str, page: int, sent: ListRequest | None = None, **extra: Any,
    ) -> scrapy.Request:
        """A request for one of ``source``'s list pages; ``sent`` says what a list read by POST
        sends, on every page of it (pagination changes the URL, not the form)."""
        if page == 1 and (source.list_is_shell or (sent is not None and sent.via)) and "callback" not in extra:
            # A shell or landing page names the real list and is re-read each run, unconditionally;
            # the list it names is asked conditionally like any other.
            extra |= {"callback": self.parse_shell, "role": SHELL}
        fields = (sent or ListRequest(url)).scrapy_fields()
        headers = source.politeness.headers | fields.pop("headers") | extra.pop("headers", {})
        return scrapy.Request(
            url,
            **fields,
            callback=extra.pop("callback", self.parse_list),
            errback=self.failed,
            headers=headers or None,
            meta={"radar_role": extra.pop("role", LIST), "list_url": list_url, "page": page, "list_sent": sent} | _source_meta(source),
            # Never let Scrapy's duplicate filter swallow a list page (say, a redirect back to a
            # URL already seen): a list that is not read must count as an error, not vanish.
            dont_filter=True,
        )

    def parse_shell(self, response: Response) -> Iterator[scrapy.Request]:
        """A shell or landing page names the real list: request that as the first list page."""
        source = self.sources[response.meta["radar_source"]]
        sent = response.meta.get("list_sent")
        if sent is not None and sent.via:
            yield from self.follow_landing(source, response, sent.via)
            return
        tally = RuleTally()
        api = source.read_shell(response, tally)
        if api is None:
            log.warning("%s: %s %s", source.name, response.url, source.shell_failure())
            self._merge(source, tally)
            self._count(source, "list_pages", "thin_lists")
            return
        yield self.list_request(source, api, response.url, 1, callback=self.parse_list, headers={"Referer": response.url})

    def follow_landing(self, source: SourceBase, response: Response, via: str) -> Iterator[scrapy.Request]:
        """Request the list a landing page links by ``via`` (read as the kind reads a first list
        page, a shell included); log and count a landing page that names none on its host."""
        target = landing_target(response, via)
        tally = RuleTally()
        tally.record("list.via", target.url is not None)
        self._merge(source, tally)
        if target.url is None:
            log.warning("%s: landing page %s %s", source.name, response.url, target.problem)
            self._count(source, "list_pages", "thin_lists")
            self.stats_of(source.name).set_value("radar/thin_list", f"landing page {response.url} {target.problem}")
            return
        yield self.list_request(source, target.url, target.url, 1, headers={"Referer": response.url})

    def parse_list(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            return
        source = self.sources[response.meta["radar_source"]]
        tally = RuleTally()
        listing = source.read_list(response, response.meta["list_url"], tally)
        if listing.detected:
            log.warning("%s: %s on %s", source.name, listing.detected, listing.detected_on)
            self._count(source, "detected_lists")
            self.stats_of(source.name).set_value("radar/detected", listing.detected)
        entries = [e for e in listing.entries if netguard.keeps_entry(e.url, source)]
        entries = entries[: source.max_entries]
        source.tally_kept(entries, tally)
        self._record_list(source, response, entries, tally)
        yield from self.follow(source, entries, listing)
        next_url = self.next_page(source, response) if entries else None  # an empty page ends the list
        if next_url:
            yield self.list_request(source, next_url, response.meta["list_url"], response.meta["page"] + 1, response.meta.get("list_sent"))

    def follow(self, source: SourceBase, entries: list[Entry], listing: Listing) -> Iterator[Any]:
        """Request each entry's article, or take the article the list carries."""
        for entry in entries:
            carried = source.carried_article(entry, listing)
            if carried is None:
                yield self.article_request(source, entry)
                continue
            raw = (entry.content or "").encode("utf-8")
            item = self.item(source, entry.url, carried, raw, {"list_title": entry.title, "list_date": entry.date})
            if item is not None:
                yield item

    def article_request(self, source: SourceBase, entry: Entry) -> scrapy.Request:
        return scrapy.Request(
            entry.url,
            callback=self.parse_article,
            errback=self.failed,
            headers=source.politeness.headers or None,
            meta={"radar_role": ARTICLE, "list_title": entry.title, "list_date": entry.date} | _source_meta(source),
            # Scrapy's duplicate filter would silently drop a redirect back to the same URL;
            # the incremental middleware de-duplicates by canonical URL instead.
            dont_filter=True,
        )

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        source = self.sources[response.meta["radar_source"]]
        headers = {k.decode(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        article = extract_article(response.url, response.body, headers, source)
        self._record_article_rules(source, article)
        item = self.item(source, response.url, article, response.body, response.meta, status=response.status, headers=headers)
        if item is not None:
            yield item

    def item(self, source: SourceBase, url: str, article: Article, raw: bytes, meta: dict, **extra: Any) -> ArticleItem | None:
        stats = self.stats_of(source.name)
        if article.unavailable:
            blocked = article.unavailable.startswith("blocked")
            log.log(logging.WARNING if blocked else logging.INFO, "%s: %s not stored: %s", source.name, url, article.unavailable)
            self._count(source, "errors", "errors/blocked") if blocked else self._count(source, "gone")
            if blocked:
                stats.set_value("radar/last_error", f"article {url}: {article.unavailable}")
            return None
        problems = article.problems
        if "no title" in problems or "empty body" in problems:
            log.warning("%s: skipped %s: extraction failed (%s)", source.name, url, ", ".join(problems))
            self._count(source, "errors", "errors/extraction")
            stats.set_value("radar/last_error", f"article {url}: extraction failed ({', '.join(problems)})")
            return None
        if article.published_at is None:
            article.published_at = meta.get("list_date")
        return ArticleItem(
            source=source.name, url=url, article=article, raw_body=raw,
            list_title=meta.get("list_title"), list_date=meta.get("list_date"), **extra,
        )

    def failed(self, failure: Failure) -> None:
        """Count and log a request that could not be fetched; the run goes on."""
        request = failure.request  # type: ignore[attr-defined]
        try:
            self._count_failure(failure, request)
        finally:  # counted first: settling may close the source's run
            self.outstanding.settle(request.meta)

    def _count_failure(self, failure: Failure, request: scrapy.Request) -> None:
        source = self.sources[request.meta["radar_source"]]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status == 404 and request.meta.get("page", 1) > 1:
            log.debug("%s: %s is past the last list page", source.name, request.url)
            return
        if failure.check(IgnoreRequest) and not failure.check(RefusedRequest) and "robots.txt" in str(failure.value):
            log.info("%s: robots.txt forbids %s; not fetched", source.name, request.url)
            self._count(source, "forbidden_by_robots")
            return
        role = request.meta.get("radar_role", "?")
        if failure.check(RefusedRequest) and role == ARTICLE:
            return  # logged and counted by FetchGuardMiddleware; a link we must not follow is no error
        kind = f"HTTP {response.status}" if response is not None else failure.type.__name__
        reason = kind if response is not None else _with_message(kind, failure.value)
        log.warning("%s: could not fetch %s page %s: %s", source.name, role, request.url, reason)
        self._count(source, "errors", f"errors/{role}", f"errors/{kind.replace(' ', '_')}")
        self.stats_of(source.name).set_value("radar/last_error", f"{role} {request.url}: {reason}")

    def next_page(self, source: SourceBase, response: Response) -> str | None:
        pagination, page = source.pagination, response.meta["page"]
        if pagination is None or page >= self.max_pages(source) or not source.follows_pagination:
            return None
        if pagination.url:
            return urljoin(response.meta["list_url"], pagination.url.format(n=pagination.first + page - 1))
        selector = getattr(response, "selector", None)
        href = rules.first_text(selector, pagination.next) if selector is not None else None
        return urljoin(response.url, href) if href else None

    # -- bookkeeping for source health ---------------------------------------------
    def _record_list(self, source: SourceBase, response: Response, entries: list[Entry], tally: RuleTally) -> None:
        self._count(source, "list_pages")
        response.meta["radar_entries"] = [e.url for e in entries]
        self._merge(source, tally)
        if response.meta["page"] == 1 and len(entries) < source.expect.min_entries:
            log.warning("%s: list page %s yielded %d entries (expected at least %d)", source.name, response.url, len(entries), source.expect.min_entries)
            self._count(source, "thin_lists")
            self.stats_of(source.name).set_value("radar/thin_list", f"{response.url} yielded {len(entries)} entries")

    def _record_article_rules(self, source: SourceBase, article: Article) -> None:
        tally = RuleTally()
        declared = source.rules()
        for rule, field in ARTICLE_FIELDS.items():
            if rule in declared:
                matched = article.provenance.get(field) == "source-rules"
                tally.record(rule, matched)
                if not matched and article.provenance.get(field):
                    # Generic extraction filled the field the rule missed: say so in health.
                    self.stats_of(source.name).inc_value(f"radar/rule/{rule}/rescued")
        self._merge(source, tally)

    def _merge(self, source: SourceBase, tally: RuleTally) -> None:
        stats = self.stats_of(source.name)
        for name, tries in tally.tries.items():
            stats.inc_value(f"radar/rule/{name}/tries", tries)
            stats.inc_value(f"radar/rule/{name}/hits", tally.hits[name])

    def _count(self, source: SourceBase, *names: str) -> None:
        stats = self.stats_of(source.name)
        for name in names:
            stats.inc_value(f"radar/{name}")


def _source_meta(source: SourceBase) -> dict[str, Any]:
    """The meta every request of ``source`` carries: its name, and its robots.txt policy
    (Scrapy's RobotsTxtMiddleware skips a request marked ``dont_obey_robotstxt``)."""
    meta: dict[str, Any] = {"radar_source": source.name}
    if source.politeness.robots_txt != "obey":
        meta["dont_obey_robotstxt"] = True
    return meta


def _with_message(kind: str, error: BaseException) -> str:
    """``IgnoreRequest: max redirections reached`` — Scrapy says why in the exception's text;
    a bare class name tells an editor nothing."""
    message = " ".join(str(error).split())
    return f"{kind}: {message[:300]}" if message and message != kind else kind


# Every kind is crawled by the one spider; kept as a mapping for callers that look it up by kind.
SPIDERS: dict[str, type[SourceSpider]] = dict.fromkeys(KINDS, SourceSpider)


def source_aliases(crawler: object, source: str) -> dict[str, str]:
    """The alias hosts of ``source`` in the run a crawler's spider reads (see
    ``SourceBase.alias_hosts``), so an article's key is the one coverage looks its citation up
    by; none outside a crawl."""
    sources = getattr(getattr(crawler, "spider", None), "sources", {})
    return dict(getattr(sources.get(source), "aliases", {}))
