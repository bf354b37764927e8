"""One generic, configuration-driven spider per source kind.

Spiders only turn responses into requests and items. Deciding what is already known,
conditional GETs, encodings and storage live in middlewares and pipelines.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import rules
from crawler.dates import parse_date
from crawler.extract import extract_article
from crawler.items import ArticleItem
from crawler.watchlist import HtmlListSource, JsonListSource, SourceBase

log = logging.getLogger(__name__)

# Request roles, read by the middlewares.
LIST, ARTICLE = "list", "article"


class Entry:
    """One link found on a list page."""

    __slots__ = ("url", "title", "date")

    def __init__(self, url: str, title: str | None, date: datetime | None):
        self.url, self.title, self.date = url, title, date


class SourceSpider(scrapy.Spider):
    """Crawl list pages, follow their article links, yield one item per article."""

    kind: ClassVar[str] = ""

    def __init__(self, source: SourceBase, max_pages: int | None = None, **kwargs: Any):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.max_pages = max_pages or (source.pagination.max_pages if source.pagination else 1)
        self._article_url = re.compile(source.list.article_url) if source.list.article_url else None  # type: ignore[attr-defined]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.source.lists:
            yield self.list_request(entry.url, entry.url, page=1)

    def list_request(self, url: str, list_url: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_list,
            errback=self.failed,
            headers=self.source.politeness.headers or None,
            meta={"radar_role": LIST, "list_url": list_url, "page": page},
            dont_filter=page == 1,
        )

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            return
        entries = [e for e in self.entries(response) if self._wanted(e.url)]
        self.crawler.stats.inc_value("radar/list_pages")
        response.meta["radar_entries"] = [e.url for e in entries]
        if not entries:
            log.warning("%s: list page %s yielded no entries", self.name, response.url)
            self.crawler.stats.inc_value("radar/empty_list_pages")
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
        next_url = self.next_page(response)
        if next_url:
            yield self.list_request(next_url, response.meta["list_url"], response.meta["page"] + 1)

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        headers = {k.decode(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        article = extract_article(response.url, response.body, headers, self.source)
        problems = article.problems
        if "no title" in problems or "empty body" in problems:
            log.warning("%s: skipped %s: extraction failed (%s)", self.name, response.url, ", ".join(problems))
            self.crawler.stats.inc_value("radar/errors")
            self.crawler.stats.inc_value("radar/errors/extraction")
            return
        if article.published_at is None:
            article.published_at = response.meta.get("list_date")
        yield ArticleItem(
            source=self.name,
            url=response.url,
            article=article,
            raw_body=response.body,
            status=response.status,
            headers=headers,
            list_title=response.meta.get("list_title"),
            list_date=response.meta.get("list_date"),
        )

    def failed(self, failure: Failure) -> None:
        """Count and log a request that could not be fetched; the run goes on."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status == 404 and request.meta.get("page", 1) > 1:
            log.debug("%s: %s is past the last list page", self.name, request.url)
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            log.info("%s: robots.txt forbids %s; not fetched", self.name, request.url)
            self.crawler.stats.inc_value("radar/forbidden_by_robots")
            return
        reason = f"HTTP {response.status}" if response is not None else failure.type.__name__
        role = request.meta.get("radar_role", "?")
        log.warning("%s: could not fetch %s page %s: %s", self.name, role, request.url, reason)
        stats = self.crawler.stats
        stats.inc_value("radar/errors")
        stats.inc_value(f"radar/errors/{role}")
        stats.inc_value(f"radar/errors/{reason.replace(' ', '_')}")
        stats.set_value("radar/last_error", f"{role} {request.url}: {reason}")

    # -- to be provided per kind -----------------------------------------------------
    def entries(self, response: Response) -> list[Entry]:
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

    def _wanted(self, url: str) -> bool:
        return url.startswith(("http://", "https://")) and (self._article_url is None or bool(self._article_url.match(url)))


class HtmlListSpider(SourceSpider):
    """``kind: html_list`` — entries found by CSS/XPath on an HTML list page."""

    kind = "html_list"
    source: HtmlListSource

    def entries(self, response: Response) -> list[Entry]:
        return html_entries(response.selector, response.url, self.source.list)


class JsonListSpider(SourceSpider):
    """``kind: json_list`` — entries read from a JSON list (dotted paths)."""

    kind = "json_list"
    source: JsonListSource

    def entries(self, response: Response) -> list[Entry]:
        try:
            data = json.loads(response.text.lstrip("\ufeff"))
        except ValueError:
            log.warning("%s: list %s is not valid JSON", self.name, response.url)
            return []
        spec = self.source.list
        found = []
        for record in _path(data, spec.items) or []:
            link = _path(record, spec.link)
            if isinstance(link, str) and link:
                title = _path(record, spec.title) if spec.title else None
                found.append(Entry(urljoin(response.url, link), title, parse_date(_path(record, spec.date)) if spec.date else None))
        return found


def html_entries(selector: Selector, base_url: str, spec: Any) -> list[Entry]:
    found: list[Entry] = []
    seen: set[str] = set()
    for node in rules.select(selector, spec.entry):
        href = rules.first_text(node, spec.link)
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        title = rules.first_text(node, spec.title) if spec.title else None
        date = parse_date(rules.first_text(node, spec.date)) if spec.date else None
        found.append(Entry(url, title, date))
    return found


def _path(data: Any, path: str | None) -> Any:
    """Follow a dotted path (``data.list``; numeric parts index lists; ``.`` is the root)."""
    if not path:
        return None
    if path == ".":
        return data
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


SPIDERS: dict[str, type[SourceSpider]] = {cls.kind: cls for cls in (HtmlListSpider, JsonListSpider)}
