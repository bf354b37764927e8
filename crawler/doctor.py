"""`crawl doctor`: fetch one list page and one article and explain what each rule matched.

The tool an editor reaches for after a site redesign. It reads pages with the same list
readers and the same extractor as a crawl (:mod:`crawler.listings`, :mod:`crawler.extract`),
fetching them directly (one request each, through the configured proxy) instead of
through Scrapy, so it answers in a second.
"""

from __future__ import annotations

import re
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.error import HTTPError, URLError

from parsel import Selector

from crawler import listings
from crawler.config import Settings
from crawler.encoding import decide_encoding
from crawler.extract import extract_article
from crawler.listings import Entry
from crawler.markup import safe
from crawler.rules import select
from crawler.watchlist import SourceBase

FIELD_RULES = {"title": "article.title", "published_at": "article.published", "origin": "article.origin", "body": "article.body"}


@dataclass
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    error: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding, errors="replace")

    @property
    def encoding(self) -> str:
        return decide_encoding(self.body, self.headers.get("content-type"))


def fetch(url: str, config: Settings, source: SourceBase, referer: str | None = None) -> Fetched:
    headers = {"User-Agent": config.user_agent} | source.politeness.headers
    if referer:
        headers["Referer"] = referer
    handlers: list[urllib.request.BaseHandler] = []
    proxy = config.effective_proxy
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    # Like the crawler (Scrapy does not verify certificates either): we read public pages.
    handlers.append(urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=config.download_timeout) as response:
            return Fetched(response.url, response.status, _lower(response.headers.items()), response.read(5_000_000))
    except HTTPError as error:
        return Fetched(url, error.code, _lower(error.headers.items()), error.read(200_000), f"HTTP {error.code}")
    except (URLError, OSError) as error:
        return Fetched(url, 0, {}, b"", f"{type(error).__name__}: {getattr(error, 'reason', error)}")


def _lower(items: object) -> dict[str, str]:
    return {k.lower(): v for k, v in items}  # type: ignore[attr-defined]


def diagnose(source: SourceBase, config: Settings, list_url: str | None = None) -> list[str]:
    """Step-by-step explanation, as lines of Rich markup (everything fetched or configured is escaped)."""
    lines: list[str] = []
    url = list_url or source.lists[0].url
    page = fetch(url, config, source)
    lines.append(f"[bold]1. List page[/bold] {safe(url)}")
    lines.append(_fetch_line(page))
    if page.error:
        lines.append("   [red]✗ the list could not be fetched: check the URL, the proxy, or whether the site blocks us[/red]")
        return lines
    entries, lines_list = _entries(source, page, config)
    lines.extend(lines_list)
    if not entries:
        lines.append("   [red]✗ no article links: the site changed its markup, or served an anti-bot page instead of the list[/red]")
        lines.append(f"   page starts: {safe(_snippet(page.text))}")
        return lines
    lines.append(f"[bold]3. Article[/bold] {safe(entries[0].url)}")
    article_page = fetch(entries[0].url, config, source, referer=url)
    lines.append(_fetch_line(article_page))
    if article_page.error:
        return lines
    lines.extend(_article_lines(source, article_page))
    return lines


def _fetch_line(page: Fetched) -> str:
    if page.error and not page.body:
        return f"   [red]✗ {safe(page.error)}[/red]"
    colour = "green" if page.status == 200 else "red"
    return (
        f"   [{colour}]HTTP {page.status}[/{colour}], {len(page.body):,} bytes, decoded as {page.encoding}"
        f" (Content-Type: {safe(page.headers.get('content-type', '—'))})"
    )


def _entries(source: SourceBase, page: Fetched, config: Settings) -> tuple[list[Entry], list[str]]:
    lines = [f"[bold]2. Entries[/bold] (kind {source.kind})"]  # type: ignore[attr-defined]
    spec = getattr(source, "list", None)
    if source.kind == "feed":  # type: ignore[attr-defined]
        found, title = listings.feed_entries(page.body)
        lines.append(f"   feed “{safe(title or '—')}”: {len(found)} item(s)")
    elif source.kind == "json_list":  # type: ignore[attr-defined]
        found = listings.json_entries(page.text, page.url, spec)
        lines.append(f"   items path `{safe(spec.items)}`: {len(found)} record(s) with a link")
    else:
        selector = Selector(text=page.text)
        if source.kind == "jpaas_list":  # type: ignore[attr-defined]
            api = listings.jpaas_api_url(selector, page.url, source.script)  # type: ignore[attr-defined]
            lines.append(f"   script `{safe(source.script)}` → API {safe(api) if api else '[red]not found[/red]'}")  # type: ignore[attr-defined]
            if api is None:
                return [], lines
            answer = fetch(api, config, source, referer=page.url)
            lines.append(_fetch_line(answer))
            selector = listings.jpaas_fragment(answer.text) or Selector(text="")
        nodes = len(select(selector, spec.entry))
        lines.append(f"   list.entry `{safe(spec.entry.select)}` matched {nodes} element(s)")
        found = listings.html_entries(selector, page.url, spec)
    wanted = [e for e in found if listings.is_article_url(e.url, source.article_pattern)]
    if source.article_pattern:
        lines.append(f"   article_url `{safe(source.article_pattern)}` kept {len(wanted)} of {len(found)} link(s)")
        for dropped in [e.url for e in found if e not in wanted][:3]:
            lines.append(f"     dropped {safe(dropped)}")
    if spec is not None and hasattr(spec, "title"):
        for name in ("title", "date"):
            if getattr(spec, name, None):
                hits = sum(getattr(e, name) is not None for e in wanted)
                lines.append(f"   list.{name}: matched {hits} of {len(wanted)}")
    for entry in wanted[:5]:
        when = entry.date.strftime("%Y-%m-%d %H:%M") if entry.date else "—"
        lines.append(f"     · {when}  {safe(entry.title or '—')}  {safe(entry.url)}")
    return wanted, lines


def _article_lines(source: SourceBase, page: Fetched) -> list[str]:
    article = extract_article(page.url, page.body, page.headers, source)
    declared = source.rules()
    lines = []
    for field, rule in FIELD_RULES.items():
        value = getattr(article, field)
        shown = (value.isoformat() if hasattr(value, "isoformat") else str(value or "—"))[:80].replace("\n", " ⏎ ")
        origin = article.provenance.get(field, "nothing")
        note = ""
        if rule in declared:
            ok = origin == "source-rules"
            note = f"  [{'green' if ok else 'red'}]{rule} `{safe(declared[rule].select)}` {'matched' if ok else 'matched NOTHING'}[/]"
        lines.append(f"   {field:>12} ← {origin:<13} {safe(shown)}{note}")
    problems = article.problems
    lines.append(f"   [{'red' if problems else 'green'}]{'problems: ' + safe(', '.join(problems)) if problems else '✓ title, date and body found'}[/]")
    return lines


def _snippet(text: str) -> str:
    return re.sub(r"\s+", " ", text)[:160]
