"""NO_PROXY is honoured by the proxy middleware, read once when the crawl builds it."""

from __future__ import annotations

import pytest
from scrapy import Request

from crawler.middlewares import ProxyMiddleware


def test_hosts_in_no_proxy_are_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "rss.internal,.compose")
    middleware = ProxyMiddleware("http://127.0.0.1:3128")
    requests = {url: Request(url) for url in ("https://rss.internal/feeds/a.xml", "http://mirror.compose/x", "https://www.ndrc.gov.cn/")}
    for request in requests.values():
        middleware.process_request(request)
    assert {url: request.meta.get("proxy") for url, request in requests.items()} == {
        "https://rss.internal/feeds/a.xml": None,
        "http://mirror.compose/x": None,
        "https://www.ndrc.gov.cn/": "http://127.0.0.1:3128",
    }
