"""Reading list pages: HTML lists, JSON lists, jpaas API fragments and feeds.

Shared by the spiders and `crawl doctor`, so what the doctor explains is exactly what a
crawl does. Each reader also tallies which rules matched, the raw material of source health.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urljoin

from parsel import Selector

from crawler import rules
from common.dates import parse_date, plausible
from crawler.extract import Article
from common.text import clean_inline, clean_text, element_text, parse_html


@dataclass
class Entry:
    """One link found on a list page or in a feed."""

    url: str
    title: str | None = None
    date: datetime | None = None
    content: str | None = None  # full text a feed carries, as HTML
    origin: str | None = None  # feed author / account name

    def __post_init__(self) -> None:
        # Lists, JSON and feeds carry whatever their authors typed: clean where it enters.
        # (A JSON list may give a number as a title: anything not text is dropped.)
        self.url = clean_text(self.url)
        self.title, self.content, self.origin = (clean_text(v) if isinstance(v, str) else None for v in (self.title, self.content, self.origin))


def is_article_url(url: str, pattern: str | None) -> bool:
    """Whether a link is one of the source's articles (every http link when no pattern)."""
    return url.startswith(("http://", "https://")) and (pattern is None or re.match(pattern, url) is not None)


class RuleTally:
    """How often each rule had a chance to match, and how often it did."""

    def __init__(self) -> None:
        self.tries: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def record(self, name: str, hit: bool) -> None:
        self.tries[name] += 1
        self.hits[name] += bool(hit)


def html_entries(selector: Selector, base_url: str, spec: Any, tally: RuleTally | None = None) -> list[Entry]:
    if spec.entry is None:
        return []  # a selector-less source: the spider finds entries by detection
    nodes = rules.select(selector, spec.entry)
    if tally is not None:
        tally.record("list.entry", bool(nodes))
    found: list[Entry] = []
    seen: set[str] = set()
    for node in nodes:
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


def tally_entries(entries: list[Entry], spec: Any, tally: RuleTally) -> None:
    """Record, for the entries a source keeps, whether its title and date rules matched."""
    if tally.hits.get("list.entry", 1):  # no entry element, no chance for the link rule
        tally.record("list.link", bool(entries))
    for entry in entries:
        if getattr(spec, "title", None):
            tally.record("list.title", entry.title is not None)
        if getattr(spec, "date", None):
            tally.record("list.date", entry.date is not None)


def json_entries(text: str, base_url: str, spec: Any) -> list[Entry]:
    """Entries of a JSON list; a response that is not JSON has none."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        return []
    found = []
    for record in json_path(data, spec.items) or []:
        link = json_path(record, spec.link)
        if isinstance(link, str) and link:
            title = json_path(record, spec.title) if spec.title else None
            date = parse_date(json_path(record, spec.date)) if spec.date else None
            found.append(Entry(urljoin(base_url, link), title, date))
    return found


def json_path(data: Any, path: str | None) -> Any:
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


def jpaas_api_url(selector: Selector, page_url: str, script_css: str) -> str | None:
    """The JSON API a jpaas column page names in its buildstatic script tag."""
    for script in selector.css(script_css):
        url, query = script.attrib.get("url"), script.attrib.get("querydata")
        if not url:
            continue
        params = _loose_json(query) if query else {}
        params.setdefault("parseType", "buildstatic")
        return urljoin(page_url, url) + "?" + urlencode({k: _plain(v) for k, v in params.items()})
    return None


def jpaas_fragment(text: str) -> Selector | None:
    """The HTML fragment inside a jpaas API answer (``{"success":true,"data":{"html":…}}``)."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        return None
    html = json_path(data, "data.html")
    return Selector(text=html) if isinstance(html, str) else None


def _loose_json(text: str) -> dict[str, Any]:
    # The attribute is JavaScript-ish: single quotes, sometimes unquoted keys.
    normalised = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', text.replace("'", '"'))
    try:
        value = json.loads(normalised)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _plain(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, (dict, list)) else str(value)


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
    body = element_text(parse_html(f"<html><body>{entry.content or ''}</body></html>"))
    return Article(
        url=entry.url,
        title=entry.title,
        published_at=entry.date,
        origin=entry.origin or feed_title,
        body=body,
        provenance=dict.fromkeys(("title", "published_at", "origin", "body"), "feed"),
    )
