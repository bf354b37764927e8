"""`crawl doctor`: fetch one list page and one article and explain what each rule matched.

The tool an editor reaches for after a site redesign. It reads pages with the same list
readers and the same extractor as a crawl (the source's kind, :mod:`crawler.kinds`, and
:mod:`crawler.extract`), and each kind explains its own reading of the list page. It
fetches pages exactly as a crawl does: through Scrapy with the source's settings (proxy,
cookies, robots.txt, size limits, the fetch guard of :mod:`crawler.netguard`). Each fetch is
a one-request crawl in a child process — Twisted's reactor runs once per process, and the
web workspace must never run Scrapy in its own. It fetches only the source's own pages: a
URL an editor types must be on the source's hosts.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from parsel import Selector

from crawler import netguard
from common.settings import Settings
from crawler.extract.encoding import decide_encoding
from crawler.extract import extract_article
from crawler.kinds.landing import landing_target
from crawler.kinds.list_request import ListRequest
from crawler.listings import Entry
from common.markup import safe
from crawler.spiders import ARTICLE, LIST
from crawler.watchlist import SourceBase

FIELD_RULES = {"title": "article.title", "published_at": "article.published", "origin": "article.origin", "body": "article.body"}


class NotTheSourcesPage(ValueError):
    """A URL the doctor will not fetch for this source."""


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

    @cached_property
    def selector(self) -> Selector:
        return Selector(text=self.text)


def check_list_url(source: SourceBase, url: str) -> str:
    """``url`` if the doctor may fetch it for ``source`` (one of its hosts); else NotTheSourcesPage."""
    url = url.strip()
    if not netguard.on_source_hosts(url, source):
        hosts = ", ".join(sorted(netguard.source_hosts(source)))
        raise NotTheSourcesPage(f"{url[:200]} is not a page of {source.name} (its hosts: {hosts}); the doctor fetches only the source's own pages")
    return url


def fetch(url: str, config: Settings, source: SourceBase, referer: str | None = None, role: str = LIST,
          sent: ListRequest | None = None) -> Fetched:
    """One request through Scrapy, in a child process, with the crawl's settings for ``source``
    (a list read by POST: ``sent`` says what is sent)."""
    with tempfile.TemporaryDirectory(prefix="radar-doctor-") as folder:
        order, answer = Path(folder) / "order.pickle", Path(folder) / "answer.pickle"
        order.write_bytes(pickle.dumps((url, config, source, referer, role, sent)))
        # Retries, redirects and a slow robots.txt all fit; a hung child does not hang the doctor.
        timeout = config.download_timeout * 6 + 60
        try:
            child = subprocess.run([sys.executable, "-m", "crawler.doctor", str(order), str(answer)],
                                   capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Fetched(url, 0, {}, b"", f"no answer within {timeout:.0f} s")
        if not answer.exists():
            last = (child.stderr.strip().splitlines() or ["no output"])[-1]
            return Fetched(url, 0, {}, b"", f"the fetch crashed: {last[:200]}")
        return Fetched(**pickle.loads(answer.read_bytes()))  # written by our own child, just now


def _fetch_in_this_process(url: str, config: Settings, source: SourceBase, referer: str | None, role: str,
                           sent: ListRequest | None) -> Fetched:
    import scrapy
    from scrapy.crawler import Crawler, CrawlerProcess

    from crawler.settings import DEFAULTS, scrapy_settings
    from crawler.spiders import _with_message

    result: list[Fetched] = []

    class DoctorSpider(scrapy.Spider):
        name = "doctor"

        def __init__(self, **kwargs: Any):
            super().__init__(name=source.name, **kwargs)
            self.source = source

        async def start(self) -> Any:
            fields = (sent or ListRequest(url)).scrapy_fields()
            headers = source.politeness.headers | fields.pop("headers") | ({"Referer": referer} if referer else {})
            yield scrapy.Request(url, **fields, callback=self.got, errback=self.failed, headers=headers or None,
                                 meta={"radar_role": role}, dont_filter=True)

        def got(self, response: Any) -> None:
            result.append(Fetched(response.url, response.status, _headers(response), response.body))

        def failed(self, failure: Any) -> None:
            response = getattr(failure.value, "response", None)
            if response is not None:
                result.append(Fetched(response.url, response.status, _headers(response), response.body, f"HTTP {response.status}"))
            else:
                result.append(Fetched(url, 0, {}, b"", _with_message(failure.type.__name__, failure.value)))

    settings = scrapy_settings(config, source)
    # The crawl's transport, without its bookkeeping: nothing is stored or recorded.
    settings.setdict({"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "SPIDER_MIDDLEWARES": {}}, priority="cmdline")
    process = CrawlerProcess(DEFAULTS | {"LOG_INSTALL_ROOT_HANDLER": False})
    process.crawl(Crawler(DoctorSpider, settings, init_reactor=True))
    process.start()
    if not result:  # robots.txt said no (Scrapy drops such a request before any errback)
        return Fetched(url, 0, {}, b"", "not fetched (forbidden by robots.txt?)")
    return result[0]


def _headers(response: Any) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}


def diagnose(source: SourceBase, config: Settings, list_url: str | None = None, now: datetime | None = None) -> list[str]:
    """Step-by-step explanation, as lines of Rich markup (everything fetched or configured is escaped);
    ``now`` (the caller's clock) picks the edition of a dated list URL."""
    lines: list[str] = []
    # The list as the crawl asks for it (a POST with its form); a page named by --url is plainly fetched.
    sent = None if list_url else source.list_requests(now)[0]
    url = check_list_url(source, list_url) if list_url else sent.url
    referer = None
    if sent is not None and sent.via:
        landing, url = url, _follow_landing(source, config, sent, lines)
        if url is None:
            return lines
        sent, referer = None, landing
    page = fetch(url, config, source, referer=referer, sent=sent)
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
    article_page = fetch(entries[0].url, config, source, referer=url, role=ARTICLE)
    lines.append(_fetch_line(article_page))
    if article_page.error:
        return lines
    lines.extend(_article_lines(source, article_page))
    return lines


def _follow_landing(source: SourceBase, config: Settings, sent: ListRequest, lines: list[str]) -> str | None:
    """Fetch a list's landing page and explain which list it names (None: it names none)."""
    page = fetch(sent.url, config, source, sent=sent)
    lines.append(f"[bold]0. Landing page[/bold] {safe(sent.url)}")
    lines.append(_fetch_line(page))
    if page.error:
        lines.append("   [red]✗ the landing page could not be fetched[/red]")
        return None
    target = landing_target(page, sent.via or "")
    if target.url is None:
        lines.append(f"   [red]✗ the landing page {safe(target.problem or '')}[/red]")
        return None
    lines.append(f"   via `{safe(sent.via or '')}` → {safe(target.url)}")
    return target.url


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

    def fetch_further(url: str, referer: str) -> tuple[Fetched, str]:
        answer = fetch(url, config, source, referer=referer)
        return answer, _fetch_line(answer)

    explained = source.explain_list(page, fetch_further)
    lines.extend(explained.lines)
    if explained.found is None:
        return [], lines
    found = explained.found
    wanted = [e for e in found if netguard.keeps_entry(e.url, source)]
    if source.article_pattern:
        lines.append(f"   article_url `{safe(source.article_pattern)}` kept {len(wanted)} of {len(found)} link(s)")
    else:
        lines.append(f"   no article_url: links on the source's own hosts kept, {len(wanted)} of {len(found)}")
    for dropped in [e.url for e in found if e not in wanted][:3]:
        lines.append(f"     dropped {safe(dropped)}")
    lines.extend(source.explain_kept(wanted))
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


if __name__ == "__main__":  # the child process of :func:`fetch`
    _order, _answer = Path(sys.argv[1]), Path(sys.argv[2])
    _fetched = _fetch_in_this_process(*pickle.loads(_order.read_bytes()))
    _answer.write_bytes(pickle.dumps(asdict(_fetched)))  # a dict: this module is __main__ here
