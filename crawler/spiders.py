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
from crawler.items import ArticleItem
from crawler.kinds import KINDS
from crawler.kinds.base import Listing
from crawler.kinds.list_request import ListRequest
from crawler.listings import Entry, RuleTally
from crawler.netguard import RefusedRequest
from crawler.kinds.base import SourceBase

log = logging.getLogger(__name__)

# Request roles, read by the middlewares.
LIST, ARTICLE, SHELL = "list", "article", "shell"
ARTICLE_FIELDS = {"article.title": "title", "article.published": "published_at", "article.origin": "origin", "article.body": "body"}


class SourceSpider(scrapy.Spider):
    """Crawl list pages, follow their article links, yield one item per article."""

    def __init__(self, source: SourceBase, max_pages: int | None = None, now: datetime | None = None, **kwargs: Any):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.now = now  # the run's time, from the caller: which editions a dated list URL names
        self.max_pages = max_pages or (source.pagination.max_pages if source.pagination else 1)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for wanted in self.source.list_requests(self.now):
            yield self.list_request(wanted.url, wanted.url, page=1, sent=wanted)

    def list_request(self, url: str, list_url: str, page: int, sent: ListRequest | None = None, **extra: Any) -> scrapy.Request:
        """A request for a list page; ``sent`` says what a list read by POST sends, on every
        page of it (pagination changes the URL, not the form)."""
        if page == 1 and self.source.list_is_shell and "callback" not in extra:
            # The shell never changes when items are added: fetch it unconditionally.
            extra |= {"callback": self.parse_shell, "role": SHELL}
        fields = (sent or ListRequest(url)).scrapy_fields()
        headers = self.source.politeness.headers | fields.pop("headers") | extra.pop("headers", {})
        return scrapy.Request(
            url,
            **fields,
            callback=extra.pop("callback", self.parse_list),
            errback=self.failed,
            headers=headers or None,
            meta={"radar_role": extra.pop("role", LIST), "list_url": list_url, "page": page, "list_sent": sent},
            # Never let Scrapy's duplicate filter swallow a list page (say, a redirect back to a
            # URL already seen): a list that is not read must count as an error, not vanish.
            dont_filter=True,
        )

    def parse_shell(self, response: Response) -> Iterator[scrapy.Request]:
        """A shell list page names the real list: request that as the first list page."""
        tally = RuleTally()
        api = self.source.read_shell(response, tally)
        if api is None:
            log.warning("%s: %s %s", self.name, response.url, self.source.shell_failure())
            self._merge(tally)
            self._count("list_pages", "thin_lists")
            return
        yield self.list_request(api, response.url, 1, callback=self.parse_list, headers={"Referer": response.url})

    def parse_list(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            return
        tally = RuleTally()
        listing = self.source.read_list(response, response.meta["list_url"], tally)
        if listing.detected:
            log.warning("%s: %s on %s", self.name, listing.detected, listing.detected_on)
            self._count("detected_lists")
            self.crawler.stats.set_value("radar/detected", listing.detected)
        entries = [e for e in listing.entries if netguard.keeps_entry(e.url, self.source)]
        entries = entries[: self.source.max_entries]
        self.source.tally_kept(entries, tally)
        self._record_list(response, entries, tally)
        yield from self.follow(entries, listing)
        next_url = self.next_page(response) if entries else None  # an empty page ends the list
        if next_url:
            yield self.list_request(next_url, response.meta["list_url"], response.meta["page"] + 1, response.meta.get("list_sent"))

    def follow(self, entries: list[Entry], listing: Listing) -> Iterator[Any]:
        """Request each entry's article, or take the article the list carries."""
        for entry in entries:
            carried = self.source.carried_article(entry, listing)
            if carried is None:
                yield self.article_request(entry)
                continue
            raw = (entry.content or "").encode("utf-8")
            item = self.item(entry.url, carried, raw, {"list_title": entry.title, "list_date": entry.date})
            if item is not None:
                yield item

    def article_request(self, entry: Entry) -> scrapy.Request:
        return scrapy.Request(
            entry.url,
            callback=self.parse_article,
            errback=self.failed,
            headers=self.source.politeness.headers or None,
            meta={"radar_role": ARTICLE, "list_title": entry.title, "list_date": entry.date},
            # Scrapy's duplicate filter would silently drop a redirect back to the same URL;
            # the incremental middleware de-duplicates by canonical URL instead.
            dont_filter=True,
        )

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        headers = {k.decode(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        article = extract_article(response.url, response.body, headers, self.source)
        self._record_article_rules(article)
        item = self.item(response.url, article, response.body, response.meta, status=response.status, headers=headers)
        if item is not None:
            yield item

    def item(self, url: str, article: Article, raw: bytes, meta: dict, **extra: Any) -> ArticleItem | None:
        if article.unavailable:
            blocked = article.unavailable.startswith("blocked")
            log.log(logging.WARNING if blocked else logging.INFO, "%s: %s not stored: %s", self.name, url, article.unavailable)
            self._count("errors", "errors/blocked") if blocked else self._count("gone")
            if blocked:
                self.crawler.stats.set_value("radar/last_error", f"article {url}: {article.unavailable}")
            return None
        problems = article.problems
        if "no title" in problems or "empty body" in problems:
            log.warning("%s: skipped %s: extraction failed (%s)", self.name, url, ", ".join(problems))
            self._count("errors", "errors/extraction")
            self.crawler.stats.set_value("radar/last_error", f"article {url}: extraction failed ({', '.join(problems)})")
            return None
        if article.published_at is None:
            article.published_at = meta.get("list_date")
        return ArticleItem(
            source=self.name, url=url, article=article, raw_body=raw,
            list_title=meta.get("list_title"), list_date=meta.get("list_date"), **extra,
        )

    def failed(self, failure: Failure) -> None:
        """Count and log a request that could not be fetched; the run goes on."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status == 404 and request.meta.get("page", 1) > 1:
            log.debug("%s: %s is past the last list page", self.name, request.url)
            return
        if failure.check(IgnoreRequest) and not failure.check(RefusedRequest) and "robots.txt" in str(failure.value):
            log.info("%s: robots.txt forbids %s; not fetched", self.name, request.url)
            self._count("forbidden_by_robots")
            return
        role = request.meta.get("radar_role", "?")
        if failure.check(RefusedRequest) and role == ARTICLE:
            return  # logged and counted by FetchGuardMiddleware; a link we must not follow is no error
        kind = f"HTTP {response.status}" if response is not None else failure.type.__name__
        reason = kind if response is not None else _with_message(kind, failure.value)
        log.warning("%s: could not fetch %s page %s: %s", self.name, role, request.url, reason)
        self._count("errors", f"errors/{role}", f"errors/{kind.replace(' ', '_')}")
        self.crawler.stats.set_value("radar/last_error", f"{role} {request.url}: {reason}")

    def next_page(self, response: Response) -> str | None:
        pagination, page = self.source.pagination, response.meta["page"]
        if pagination is None or page >= self.max_pages or not self.source.follows_pagination:
            return None
        if pagination.url:
            return urljoin(response.meta["list_url"], pagination.url.format(n=pagination.first + page - 1))
        selector = getattr(response, "selector", None)
        href = rules.first_text(selector, pagination.next) if selector is not None else None
        return urljoin(response.url, href) if href else None

    # -- bookkeeping for source health ---------------------------------------------
    def _record_list(self, response: Response, entries: list[Entry], tally: RuleTally) -> None:
        self._count("list_pages")
        response.meta["radar_entries"] = [e.url for e in entries]
        self._merge(tally)
        if response.meta["page"] == 1 and len(entries) < self.source.expect.min_entries:
            log.warning("%s: list page %s yielded %d entries (expected at least %d)", self.name, response.url, len(entries), self.source.expect.min_entries)
            self._count("thin_lists")
            self.crawler.stats.set_value("radar/thin_list", f"{response.url} yielded {len(entries)} entries")

    def _record_article_rules(self, article: Article) -> None:
        tally = RuleTally()
        declared = self.source.rules()
        for rule, field in ARTICLE_FIELDS.items():
            if rule in declared:
                matched = article.provenance.get(field) == "source-rules"
                tally.record(rule, matched)
                if not matched and article.provenance.get(field):
                    # Generic extraction filled the field the rule missed: say so in health.
                    self.crawler.stats.inc_value(f"radar/rule/{rule}/rescued")
        self._merge(tally)

    def _merge(self, tally: RuleTally) -> None:
        stats = self.crawler.stats
        for name, tries in tally.tries.items():
            stats.inc_value(f"radar/rule/{name}/tries", tries)
            stats.inc_value(f"radar/rule/{name}/hits", tally.hits[name])

    def _count(self, *names: str) -> None:
        for name in names:
            self.crawler.stats.inc_value(f"radar/{name}")


def _with_message(kind: str, error: BaseException) -> str:
    """``IgnoreRequest: max redirections reached`` — Scrapy says why in the exception's text;
    a bare class name tells an editor nothing."""
    message = " ".join(str(error).split())
    return f"{kind}: {message[:300]}" if message and message != kind else kind


# Every kind is crawled by the one spider; kept as a mapping for callers that look it up by kind.
SPIDERS: dict[str, type[SourceSpider]] = dict.fromkeys(KINDS, SourceSpider)


def source_aliases(crawler: object) -> dict[str, str]:
    """The alias hosts of the source a crawler's spider reads (see ``SourceBase.alias_hosts``),
    so an article's key is the one coverage looks its citation up by; none outside a crawl."""
    source = getattr(getattr(crawler, "spider", None), "source", None)
    return dict(getattr(source, "aliases", {}))
