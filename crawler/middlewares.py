"""Transport and incrementality: what happens between a spider and the network."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import Response, TextResponse
from scrapy.statscollectors import StatsCollector

from crawler import netguard
from crawler.flow import SourceStats
from crawler.extract.encoding import MIXED, decide_encoding, mixture
from crawler.items import ArticleItem
from crawler.kinds.base import SourceBase
from crawler.spiders import ARTICLE, LIST, RefusedRequest, SourceSpider, source_aliases
from common.settings import parse_networks
from common.urls import canonical_url
from storage import queries
from storage.db import transaction

log = logging.getLogger(__name__)


class ProxyMiddleware:
    """Send every request through ``RADAR_PROXY`` (or the standard proxy variables).

    Scrapy's own HttpProxyMiddleware, further down the chain, does the actual tunnelling.
    """

    def __init__(self, proxy: str | None):
        self.proxy = proxy
        self.environment = getproxies_environment()  # read once: it walks os.environ

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        return cls(crawler.settings.get("RADAR_PROXY"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.proxy and "proxy" not in request.meta and not _bypass(request.url, self.environment):
            request.meta["proxy"] = self.proxy


class FetchGuardMiddleware:
    """Refuse requests the source did not name or that reach the server's own network
    (see :mod:`crawler.netguard`).

    First of the downloader middlewares, so a refused request costs nothing — not even a
    robots.txt fetch — and every redirect (RedirectMiddleware and MetaRefreshMiddleware
    hand it back to the engine as a new request) comes through here again.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.proxy = crawler.settings.get("RADAR_PROXY")
        self.environment = getproxies_environment()  # read once: it walks os.environ
        allowed = parse_networks(crawler.settings.get("RADAR_ALLOW_PRIVATE_NETWORKS"))
        self.addresses = netguard.AddressGuard(allowed)
        self.last_asker: dict[str, str] = {}  # host → the source whose request reached it last

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        source = _source_of(self.crawler, request)
        for kind, reason in (("address", self._bad_address(request)), ("source", self._off_source(request, source))):
            if reason is None:
                continue
            via = f" (redirected from {request.meta['redirect_urls'][0]})" if request.meta.get("redirect_urls") else ""
            log.warning("refused %s%s: %s", request.url, via, reason)
            stats = _stats_of(self.crawler, request)
            stats.inc_value("radar/refused")
            stats.inc_value(f"radar/refused/{kind}")
            raise RefusedRequest(request.url, reason)
        if source is not None:
            self.last_asker[urlsplit(request.url).netloc] = source.name

    def asker(self, request: Request) -> str | None:
        """Which source a request of Scrapy's own (robots.txt) is made for: the one whose
        request to that host came through last — the request it was made before."""
        return self.last_asker.get(urlsplit(request.url).netloc)

    def _bad_address(self, request: Request) -> str | None:
        # ProxyMiddleware (350) has not run yet on a fresh request: decide as it will.
        proxied = bool(request.meta.get("proxy")) or (bool(self.proxy) and not _bypass(request.url, self.environment))
        return self.addresses.refusal(urlsplit(request.url).hostname or "", proxied)

    def _off_source(self, request: Request, source: SourceBase | None) -> str | None:
        role = request.meta.get("radar_role")
        if source is None or role is None:
            return None  # robots.txt: asked only of hosts already let through
        if role == ARTICLE:
            if netguard.follows(request.url, source):
                return None
            pattern = source.article_pattern
            return f"not an article of {source.name} (article_url {pattern})" if pattern else f"not on {source.name}'s hosts"
        if netguard.on_source_hosts(request.url, source):
            return None
        return f"not on {source.name}'s hosts ({', '.join(sorted(netguard.source_hosts(source)))}; see allowed_hosts)"


class RobotsTxtCachePolicy(DummyPolicy):
    """Keep robots.txt for ``HTTPCACHE_EXPIRATION_SECS`` (a day) across runs; nothing else.

    Without it every run of every source asks each host for robots.txt again — on an
    unchanged site, as many requests as the run itself makes.
    """

    def should_cache_request(self, request: Request) -> bool:
        return request.url.endswith("/robots.txt") and super().should_cache_request(request)

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return response.status in (200, 404)  # a 5xx says nothing about the rules: ask again


class EncodingMiddleware:
    """Re-decode text responses with our encoding decision (bytes over lying charsets)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if not isinstance(response, TextResponse) or response.status == 304:
            return response
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        source = _source_of(self.crawler, request)
        override = source.encoding if source else None
        encoding = decide_encoding(response.body, content_type, override)
        if encoding == MIXED:
            share = mixture(response.body)
            log.info("%s: UTF-8 with %d byte(s) in %d run(s) that are not; decoded those as GB18030 (%d byte(s) stay UTF-8)",
                     response.url, share.other_bytes, share.other_runs, share.utf8_bytes)
            _stats_of(self.crawler, request).inc_value("radar/encoding_mixed")
        return response.replace(encoding=encoding)


class ConditionalGetMiddleware:
    """If-None-Match / If-Modified-Since on list pages; a 304 ends that list at one request."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.validators: dict[tuple[str, str], tuple[str | None, str | None]] = {}  # (source, URL) →
        self.refresh = crawler.settings.getbool("RADAR_REFRESH")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler)

    def load(self, source: str, states: dict[str, Any]) -> None:
        """Called when a source's run opens, with its stored list states (see ListPageStates)."""
        for url, state in states.items():
            if state.etag or state.last_modified:
                self.validators[source, url] = (state.etag, state.last_modified)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("radar_role") != LIST or self.refresh or request.method != "GET":
            return  # a POST is never conditional: its answer depends on what is sent, not only the URL
        etag, modified = self.validators.get((request.meta.get("radar_source", ""), request.url), (None, None))
        if etag or modified:
            request.meta["handle_httpstatus_list"] = [304]  # let the 304 reach the spider, not an error
        if etag:
            request.headers.setdefault("If-None-Match", etag)
        if modified:
            request.headers.setdefault("If-Modified-Since", modified)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if request.meta.get("radar_role") != LIST:
            return response
        if response.status == 304:
            _stats_of(self.crawler, request).inc_value("radar/not_modified")
            return response
        if response.status == 200:
            request.meta["radar_validators"] = (
                _header(response, b"ETag"),
                _header(response, b"Last-Modified"),
            )
        return response


class RequestCountMiddleware:
    """Counts each source's requests where Scrapy's DownloaderStats (850) counts the crawl's —
    after robots.txt and the fetch guard, retries and redirects included; a robots.txt request
    counts for the source that needed it."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestCountMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = self.crawler.spider
        name = request.meta.get("radar_source") or self._guard().asker(request)
        if name is not None and isinstance(spider, SourceSpider):
            spider.stats_of(name).requests += 1

    def _guard(self) -> FetchGuardMiddleware:
        guard = self.crawler.get_downloader_middleware(FetchGuardMiddleware)
        assert guard is not None, "FetchGuardMiddleware is not enabled"
        return guard


class IncrementalMiddleware:
    """Drop article requests for URLs already stored, and stop paginating when a page held
    nothing new (or, with ``--since``, nothing recent enough). Its state is kept per source."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("RADAR_DATABASE_URL")
        self.refresh = crawler.settings.getbool("RADAR_REFRESH")
        since = crawler.settings.get("RADAR_SINCE")
        self.since: datetime | None = datetime.fromisoformat(since) if since else None
        # By source name: list page → its validators and its entries' canonical URLs
        self.list_results: dict[str, dict[str, tuple[tuple[str | None, str | None], list[str]]]] = defaultdict(dict)
        self.requested: dict[str, set[str]] = defaultdict(set)  # canonical URLs already asked for in this run
        self.read_before: dict[str, set[str]] = defaultdict(set)  # list pages a finished run has read (see ListPageStates)
        self.not_modified: dict[str, set[str]] = defaultdict(set)  # list pages answered 304: their stored state still holds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any], spider: Spider | None = None) -> AsyncIterator[Any]:
        outputs = [item async for item in result]
        for output in self.filter(response, outputs):
            yield output

    def filter(self, response: Response, outputs: list[Any]) -> Iterable[Any]:
        if response.meta.get("radar_role") != LIST or response.status != 200:
            if response.meta.get("radar_role") == LIST and response.status == 304:
                self.not_modified[response.meta["radar_source"]].add(response.url)
            return outputs
        source = response.meta["radar_source"]
        requested = self.requested[source]
        # Article requests, or (for full-text feeds) finished items: both name an article URL.
        articles = [o for o in outputs if _is_article(o)]
        others = [o for o in outputs if not _is_article(o)]
        aliases = source_aliases(self.crawler, source)
        keys = {id(o): canonical_url(o.url, aliases) for o in articles}
        stats = _spider(self.crawler).stats_of(source)
        stats.inc_value("radar/articles_found", len(articles))
        self.list_results[source][response.url] = (response.meta.get("radar_validators", (None, None)), sorted(set(keys.values())))
        known = set() if self.refresh else self._known(keys.values())
        recent = [o for o in articles if not self._too_old(o)]
        fresh = [o for o in recent if keys[id(o)] not in known | requested]
        requested.update(keys[id(o)] for o in fresh)
        stats.inc_value("radar/skipped", len(articles) - len(fresh))
        if articles and not recent:
            # Everything on this page is older than --since: so is everything after it.
            others = [o for o in others if not _is_list(o)]
        elif articles and not fresh:
            # Everything on this page is known: older pages hold nothing new either —
            # unless a page was never read (a run failed or died before reaching it).
            others = [o for o in others if not (_is_list(o) and o.url in self.read_before[source])]
        return fresh + others

    def _known(self, urls: Iterable[str]) -> set[str]:
        with transaction(self.database_url) as session:
            return queries.known_urls(session, urls)

    def _too_old(self, output: Any) -> bool:
        date = output.meta.get("list_date") if isinstance(output, Request) else output.list_date
        return bool(self.since and date and date < self.since)


class SettleMiddleware:
    """Outermost of the spider middlewares: counts, per source, the requests and items handed
    to the engine and settles each request once its callback's output has all been handed
    on (see :class:`crawler.flow.Outstanding`), so a source's run can close on its own."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SettleMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for output in start:
            self._count(output)
            yield output

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any], spider: Spider | None = None) -> AsyncIterator[Any]:
        try:
            async for output in result:
                self._count(output)
                yield output
        finally:
            _spider(self.crawler).outstanding.settle(response.meta)

    def _count(self, output: Any) -> None:
        outstanding = _spider(self.crawler).outstanding
        if isinstance(output, Request) and "radar_source" in output.meta:
            outstanding.add(output.meta["radar_source"])
        elif isinstance(output, ArticleItem):
            outstanding.add(output.source)  # settled by the item's outcome (see RunLedger)


def _is_list(output: Any) -> bool:
    return isinstance(output, Request) and output.meta.get("radar_role") == LIST


def _is_article(output: Any) -> bool:
    if isinstance(output, Request):
        return output.meta.get("radar_role") == ARTICLE
    return isinstance(output, ArticleItem)


def _source_of(crawler: Crawler, request: Request) -> SourceBase | None:
    """The source ``request`` was made for; a spider of one source's own (`crawl doctor`'s)
    names it as its ``source``."""
    spider = crawler.spider
    if isinstance(spider, SourceSpider):
        return spider.source_of(request)
    return getattr(spider, "source", None)


def _stats_of(crawler: Crawler, request: Request) -> SourceStats | StatsCollector:
    """Where a request's counters go: its source's (the crawl's for a spider of Scrapy's or `crawl doctor`'s)."""
    spider, name = crawler.spider, request.meta.get("radar_source")
    if isinstance(spider, SourceSpider) and name:
        return spider.stats_of(name)
    return crawler.stats


def _spider(crawler: Crawler) -> SourceSpider:
    spider = crawler.spider
    assert isinstance(spider, SourceSpider), f"not a source spider: {spider!r}"
    return spider


def _bypass(url: str, environment: dict[str, str]) -> bool:
    """Hosts in NO_PROXY (e.g. a feed mirror on the compose network) are reached directly;
    ``environment`` is urllib's reading of the proxy variables."""
    return bool(proxy_bypass_environment(urlsplit(url).hostname or "", environment))


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
