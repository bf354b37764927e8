"""``kind: feed`` — RSS, Atom or JSON Feed: any feed an editor wants, and WeChat accounts
through a self-hosted mirror (RSSHub, wewe-rss, we-mp-rss, ...)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from common.dates import parse_date, plausible
from common.markup import safe
from common.text import clean_inline, element_text, parse_html
from crawler.kinds.base import CompiledRegex, Explanation, FetchForDoctor, Listing, FetchedPage, SourceBase, Strict
from crawler.listings import Entry, RuleTally

if TYPE_CHECKING:
    from crawler.extract.page import Article


class FeedRules(Strict):
    article_url: CompiledRegex | None = None  # regex an entry's link must match
    # `article`: fetch each linked page and extract it; `feed`: trust the text the feed carries
    # (full-text mirrors such as wewe-rss `mode=fulltext`), so the article host is never hit.
    content: Literal["article", "feed"] = "article"


class FeedSource(SourceBase):
    """A feed; its entries link to the articles, or (``content: feed``) carry them."""

    kind: Literal["feed"]
    feed: FeedRules = FeedRules()

    follows_pagination: ClassVar[bool] = False  # a feed is one document

    @property
    def article_pattern(self) -> str | None:
        return self.feed.article_url

    def read_list(self, page: FetchedPage, list_url: str, tally: RuleTally) -> Listing:
        found, title = feed_entries(page.body)
        tally.record("feed.items", bool(found))
        return Listing(found, feed_title=title)

    def carried_article(self, entry: Entry, listing: Listing) -> Article | None:
        return feed_article(entry, listing.feed_title) if self.feed.content == "feed" else None

    def explain_list(self, page: FetchedPage, fetch: FetchForDoctor) -> Explanation:
        found, title = feed_entries(page.body)
        return Explanation([f"   feed “{safe(title or '—')}”: {len(found)} item(s)"], found)


def feed_entries(body: bytes) -> tuple[list[Entry], str | None]:
    """Entries of an RSS, Atom or JSON Feed document, and the feed's title."""
    text = body.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return _json_feed(text)
    import feedparser

    parsed = feedparser.parse(text)
    feed_title = clean_inline(parsed.feed.get("title", "")) or None
    found = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue
        content = item["content"][0].get("value") if item.get("content") else item.get("summary")
        date = item.get("published") or item.get("updated")
        found.append(Entry(link, clean_inline(item.get("title", "")) or None, parse_date(date) or _struct(item), content, item.get("author")))
    return found, feed_title


def _struct(item: Any) -> datetime | None:
    parsed = item.get("published_parsed") or item.get("updated_parsed")
    if not parsed:
        return None
    # Straight from the parsed fields: through a timestamp, year 9999 (12 digits) would be
    # read as milliseconds and stored as 1978.
    return plausible(datetime(*parsed[:6], tzinfo=timezone.utc))


def _json_feed(text: bytes) -> tuple[list[Entry], str | None]:
    try:
        data = json.loads(text)
    except ValueError:
        return [], None
    found = []
    for item in data.get("items") or []:
        link = item.get("url") or item.get("external_url")
        if not link:
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        found.append(
            Entry(
                link,
                item.get("title"),
                parse_date(item.get("date_published") or item.get("date_modified")),
                item.get("content_html") or item.get("content_text"),
                authors[0].get("name") if authors else None,
            )
        )
    return found, data.get("title")


def feed_article(entry: Entry, feed_title: str | None) -> Article:
    """An article built from what a full-text feed carries, without fetching the page."""
    # Imported here: the extractor imports the watchlist schema, which imports this module.
    from crawler.extract.page import Article

    body = element_text(parse_html(f"<html><body>{entry.content or ''}</body></html>"))
    return Article(
        url=entry.url,
        title=entry.title,
        published_at=entry.date,
        origin=entry.origin or feed_title,
        body=body,
        provenance=dict.fromkeys(("title", "published_at", "origin", "body"), "feed"),
    )
