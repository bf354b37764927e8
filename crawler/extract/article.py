"""Article extraction: page objects tried in order, field by field.

Every article page — crawled or handed to ``crawl extract`` — goes through
:func:`extract_article`. Each field (title, published_at, origin, body) is taken from the
first page object that yields it:

1. the source's own watchlist rules (cheap and exact when they match);
2. a site page object chosen by host (WeChat, Baijiahao, NetEase, ...);
3. government-CMS meta tags (TRS ``ArticleTitle``/``PubDate``/``ContentSource``) and the
   body containers those CMSs use;
4. generic metadata (Open Graph, ``<h1>``, "来源：" lines, visible timestamps);
5. trafilatura for the body and htmldate for the date — the expensive generic fallback,
   only run when nothing cheaper produced the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.extract import sites
from crawler.extract.page import FIELDS, Article, Page

if TYPE_CHECKING:
    from crawler.watchlist import SourceBase


def extract_article(url: str, body: bytes, headers: dict[str, str] | None = None, source: SourceBase | None = None) -> Article:
    """Extract one article from raw bytes. The crawler and ``crawl extract`` both call this."""
    content_type = _header(headers, "content-type")
    page = Page(url, body, content_type, source.encoding if source else None)
    objects = sites.objects_for(page, source)
    values: dict[str, object] = {}
    provenance: dict[str, str] = {}
    gone = next((reason for reason in (obj.unavailable() for obj in objects) if reason), None)
    if gone:
        return Article(url=url, title=None, published_at=None, origin=None, body="", unavailable=gone)
    for name in FIELDS:
        for obj in objects:
            value = getattr(obj, name)()
            if value:
                values[name], provenance[name] = value, obj.name
                break
    return Article(
        url=url,
        title=values.get("title"),  # type: ignore[arg-type]
        published_at=values.get("published_at"),  # type: ignore[arg-type]
        origin=values.get("origin"),  # type: ignore[arg-type]
        body=values.get("body") or "",  # type: ignore[arg-type]
        provenance=provenance,
    )


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None
