"""One generic, configuration-driven spider per source kind.

Spiders only turn responses into requests and items. Deciding what is already known,
conditional GETs, encodings and storage live in middlewares and pipelines; reading list
formats lives in :mod:`crawler.listings`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import autolist, listings, netguard, rules
from crawler.extract import Article, extract_article
from crawler.items import ArticleItem
from crawler.listings import Entry, RuleTally
from crawler.netguard import RefusedRequest
from crawler.watchlist import FeedSource, HtmlListSource, JpaasListSource, JsonListSource, SourceBase

log = logging.getLogger(__name__)

# Request roles, read by the middlewares.
LIST, ARTICLE, SHELL = "list", "article", "shell"
ARTICLE_FIELDS = {"article.title": "title", "article.published": "published_at", "article.origin": "origin", "article.body": "body"}


class SourceSpider(scrapy.Spider):
    """Crawl list pages, follow their article links, yield one item per article."""

    kind: ClassVar[str] = ""

    def __init__(self, source: SourceBase, max_pages: int | None = None, **kwargs: Any):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.max_pages = max_pages or (source.pagination.max_pages if source.pagination else 1)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.source.lists:
            yield self.list_request(entry.url, entry.url, page=1)

    def list_request(self, url: str, list_url: str, page: int, **extra: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=extra.pop("callback", self.parse_list),
            errback=self.failed,
            headers=self.source.politeness.headers | extra.pop("headers", {}) or None,
            meta={"radar_role": extra.pop("role", LIST), "list_url": list_url, "page": page},
            # Never let Scrapy's duplicate filter swallow a list page (say, a redirect back to a
            # URL already seen): a list that is not read must count as an error, not vanish.
            dont_filter=True,
        )

    def parse_list(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            return
        tally = RuleTally()
        entries = [e for e in self.entries(response, tally) if netguard.keeps_entry(e.url, self.source)]
        entries = entries[: self.source.max_entries]
        if hasattr(self.source, "list"):
            listings.tally_entries(entries, self.source.list, tally)
        self._record_list(response, entries, tally)
        yield from self.follow(entries, response)
        next_url = self.next_page(response) if entries else None  # an empty page ends the list
        if next_url:
            yield self.list_request(next_url, response.meta["list_url"], response.meta["page"] + 1)

    def follow(self, entries: list[Entry], response: Response) -> Iterator[Any]:
        for entry in entries:
            yield scrapy.Request(
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

    # -- to be provided per kind -----------------------------------------------------
    def entries(self, response: Response, tally: RuleTally) -> list[Entry]:
        raise NotImplementedError

    def next_page(self, response: Response) -> str | None:
        pagination, page = self.source.pagination, response.meta["page"]
        if pagination is None or page >= self.max_pages:
            return None
        if pagination.url:
            return urljoin(response.meta["list_url"], pagination.url.format(n=pagination.first + page - 1))
        selector = getattr(response, "selector", None)
        href = rules.first_text(selector, pagination.next) if selector is not None else None
        return urljoin(response.url, href) if href else None

    def with_detection(self, found: list[Entry], page: str, base_url: str) -> list[Entry]:
        """The entries the rules found; where they found too few (a redesign, a wrong
        selector) or the source has none, the entries detection finds on the same page.
        A rescue is recorded, so the source turns `degraded`, naming the rule, not silent."""
        pattern = self.source.article_pattern
        wanted = sum(netguard.keeps_entry(e.url, self.source) for e in found)
        if wanted >= max(self.source.expect.min_entries, 1):
            return found
        detection = autolist.detect_entries(page, base_url, pattern)
        if len(detection.entries) <= wanted:
            return found
        entry_rule = self.source.list.entry if hasattr(self.source, "list") else None
        if entry_rule is not None:
            why = f"list.entry `{entry_rule.select}` found {wanted}; {len(detection.entries)} entries found by detection"
            log.warning("%s: %s on %s", self.name, why, base_url)
            self._count("detected_lists")
            self.crawler.stats.set_value("radar/detected", why)
        return detection.entries

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


class HtmlListSpider(SourceSpider):
    """``kind: html_list`` — entries found by CSS/XPath on an HTML list page."""

    kind = "html_list"
    source: HtmlListSource

    def entries(self, response: Response, tally: RuleTally) -> list[Entry]:
        found = listings.html_entries(response.selector, response.url, self.source.list, tally)
        return self.with_detection(found, response.text, response.url)


class JsonListSpider(SourceSpider):
    """``kind: json_list`` — entries read from a JSON list (dotted paths)."""

    kind = "json_list"
    source: JsonListSource

    def entries(self, response: Response, tally: RuleTally) -> list[Entry]:
        found = listings.json_entries(response.text, response.url, self.source.list)
        tally.record("list.items", bool(found))
        return found


class JpaasListSpider(SourceSpider):
    """``kind: jpaas_list`` — a JavaScript column page whose script tag names a JSON API."""

    kind = "jpaas_list"
    source: JpaasListSource

    def list_request(self, url: str, list_url: str, page: int, **extra: Any) -> scrapy.Request:
        if page == 1 and "callback" not in extra:
            # The shell never changes when items are added: fetch it unconditionally.
            return super().list_request(url, list_url, page, callback=self.parse_shell, role=SHELL)
        return super().list_request(url, list_url, page, **extra)

    def parse_shell(self, response: Response) -> Iterator[scrapy.Request]:
        api = listings.jpaas_api_url(response.selector, response.url, self.source.script)
        if api is None:
            log.warning("%s: %s names no jpaas API (script `%s` not found)", self.name, response.url, self.source.script)
            self._merge_missing("list.script")
            return
        yield self.list_request(api, response.url, 1, callback=self.parse_list, headers={"Referer": response.url})

    def _merge_missing(self, rule: str) -> None:
        tally = RuleTally()
        tally.record(rule, False)
        self._merge(tally)
        self._count("list_pages", "thin_lists")

    def entries(self, response: Response, tally: RuleTally) -> list[Entry]:
        fragment = listings.jpaas_fragment(response.text)
        tally.record("list.script", fragment is not None)
        if fragment is None:
            return []
        found = listings.html_entries(fragment, response.meta["list_url"], self.source.list, tally)
        return self.with_detection(found, fragment.get(), response.meta["list_url"])

    def next_page(self, response: Response) -> str | None:
        return None  # the API pages through paramJson; the first page is what is new


class FeedSpider(SourceSpider):
    """``kind: feed`` — RSS, Atom or JSON Feed, e.g. a WeChat account through a mirror."""

    kind = "feed"
    source: FeedSource

    def entries(self, response: Response, tally: RuleTally) -> list[Entry]:
        found, title = listings.feed_entries(response.body)
        response.meta["feed_title"] = title
        tally.record("feed.items", bool(found))
        return found

    def follow(self, entries: list[Entry], response: Response) -> Iterator[Any]:
        if self.source.feed.content == "article":
            yield from super().follow(entries, response)
            return
        for entry in entries:
            article = listings.feed_article(entry, response.meta.get("feed_title"))
            item = self.item(entry.url, article, (entry.content or "").encode("utf-8"), {"list_title": entry.title, "list_date": entry.date})
            if item is not None:
                yield item

    def next_page(self, response: Response) -> str | None:
        return None


def _with_message(kind: str, error: BaseException) -> str:
    """``IgnoreRequest: max redirections reached`` — Scrapy says why in the exception's text;
    a bare class name tells an editor nothing."""
    message = " ".join(str(error).split())
    return f"{kind}: {message[:300]}" if message and message != kind else kind


SPIDERS: dict[str, type[SourceSpider]] = {
    cls.kind: cls for cls in (HtmlListSpider, JsonListSpider, JpaasListSpider, FeedSpider)
}
