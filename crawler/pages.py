"""The registry of article page objects (web-poet style), in the order they are asked.

To support a new site layout, add a short :class:`SitePage` subclass with its ``hosts``;
a source whose watchlist gives ``article:`` rules needs no Python at all.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cached_property

from crawler import rules
from crawler.dates import parse_date
from crawler.extract import Page, PageObject, block_text, origin_from_text
from crawler.text import clean_inline
from crawler.watchlist import SourceBase

TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|—+|--+|-\s|\s-)\s*")


class SourceRulesPage(PageObject):
    """The watchlist's ``article:`` selectors for this source."""

    name = "source-rules"

    def __init__(self, page: Page, source: SourceBase):
        super().__init__(page)
        self.rules = source.article

    def title(self) -> str | None:
        return rules.first_text(self.page.selector, self.rules.title)

    def published_at(self) -> datetime | None:
        return parse_date(rules.first_text(self.page.selector, self.rules.published))

    def origin(self) -> str | None:
        return rules.first_text(self.page.selector, self.rules.origin)

    def body(self) -> str | None:
        if self.rules.body is None:
            return None
        texts = [block_text(match.root, tuple(self.rules.drop)) for match in rules.select(self.page.selector, self.rules.body)]
        text = "\n".join(t for t in texts if t)
        return text or None


class SitePage(PageObject):
    """A page object chosen by host. Subclasses list the hosts they know."""

    hosts: tuple[str, ...] = ()

    @classmethod
    def handles(cls, host: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in cls.hosts)


class WechatPage(SitePage):
    """mp.weixin.qq.com articles: metadata lives in inline script variables."""

    name = "wechat"
    hosts = ("mp.weixin.qq.com",)

    def _var(self, name: str) -> str | None:
        found = re.search(rf"\bvar\s+{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", self.page.text)
        if not found:
            return None
        value = found.group(1) if found.group(1) is not None else found.group(2)
        # Values are JS strings, sometimes with `.html(false)` escapes such as \x26.
        value = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
        return clean_inline(value) or None

    def title(self) -> str | None:
        return self.page.first_text('//*[@id="activity-name"]') or self.page.meta("og:title") or self._var("msg_title")

    def published_at(self) -> datetime | None:
        seconds = self._var("ct") or self._search(r'\bct\s*=\s*"(\d{10})"') or self._search(r"create_time\s*[:=]\s*['\"]?(\d{10})")
        return parse_date(seconds) if seconds else None

    def origin(self) -> str | None:
        return self.page.first_text('//*[@id="js_name"]') or self._var("nickname")

    def body(self) -> str | None:
        return self.page.body_of('//*[@id="js_content"]')

    def _search(self, pattern: str) -> str | None:
        found = re.search(pattern, self.page.text)
        return found.group(1) if found else None


class GovCmsPage(PageObject):
    """Chinese government CMSs (TRS WCM and kin): meta tags and well-known body containers."""

    name = "gov-cms"
    BODY = (
        '//div[contains(@class,"TRS_Editor")]|//div[contains(@class,"TRS_UEDITOR")]'
        '|//div[contains(@class,"trs_editor_view")]|//*[@id="UCAP-CONTENT"]|//*[@id="Zoom"]|//*[@id="zoom"]'
    )

    def title(self) -> str | None:
        return self.page.meta("ArticleTitle")

    def published_at(self) -> datetime | None:
        return parse_date(self.page.meta("PubDate", "firstpublishedtime", "publishdate"))

    def origin(self) -> str | None:
        return self.page.meta("ContentSource", "ContenSource")

    def body(self) -> str | None:
        return self.page.body_of(self.BODY)


class GenericPage(PageObject):
    """Standard metadata and visible cues any news page may carry."""

    name = "generic"

    def title(self) -> str | None:
        h1 = self.page.first_text("//h1")
        head = self.page.first_text("//title")
        og = self.page.meta("og:title", "twitter:title")
        for candidate in (og, h1):
            if candidate and (not head or candidate in head or len(candidate) >= 6):
                return candidate
        return _strip_site_suffix(head) if head else None

    def published_at(self) -> datetime | None:
        meta = self.page.meta(
            "article:published_time", "datePublished", "pubdate", "publishdate", "PubDate", "og:release_date",
            "apub:time", "dateUpdate", "weibo: article:create_at",
        )
        return parse_date(meta) or self._visible_date()

    def _visible_date(self) -> datetime | None:
        # The first full timestamp after the headline is, on news pages, the publish time.
        text = self.page.visible_text
        title = self.title()
        start = text.find(title[:12]) if title else -1
        found = re.search(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}", text[max(start, 0):])
        return parse_date(found.group(0)) if found else None

    def origin(self) -> str | None:
        return origin_from_text(self.page.visible_text[:5000]) or self.page.meta("og:site_name", "source")


class TrafilaturaPage(PageObject):
    """The generic fallback. Costly (tens of ms per page), so it runs only when asked."""

    name = "trafilatura"

    @cached_property
    def document(self) -> object | None:
        import trafilatura

        try:
            return trafilatura.bare_extraction(
                self.page.text, url=self.page.url, with_metadata=True, include_comments=False, include_tables=True
            )
        except Exception:  # trafilatura can choke on pathological markup; that is "no answer"
            return None

    def title(self) -> str | None:
        return getattr(self.document, "title", None)

    def published_at(self) -> datetime | None:
        import htmldate

        try:
            found = htmldate.find_date(self.page.tree, original_date=True, outputformat="%Y-%m-%d %H:%M:%S", url=self.page.url)
        except Exception:  # htmldate raises on odd trees; treat as no date
            return None
        return parse_date(found)

    def body(self) -> str | None:
        text = getattr(self.document, "text", None)
        if not text:
            return None
        lines = (clean_inline(line) for line in text.split("\n"))
        return "\n".join(line for line in lines if line) or None


SITE_PAGES: list[type[SitePage]] = [WechatPage]


def objects_for(page: Page, source: SourceBase | None) -> list[PageObject]:
    """The page objects to ask for this page, most specific first."""
    from urllib.parse import urlsplit

    host = (urlsplit(page.url).hostname or "").lower()
    chain: list[PageObject] = []
    if source is not None:
        chain.append(SourceRulesPage(page, source))
    chain.extend(cls(page) for cls in SITE_PAGES if cls.handles(host))
    chain.extend([GovCmsPage(page), GenericPage(page), TrafilaturaPage(page)])
    return chain


def _strip_site_suffix(title: str) -> str:
    parts = [p for p in TITLE_SEPARATORS.split(title) if p]
    return max(parts, key=len) if parts else title


def json_script(page: Page, variable: str) -> dict | None:
    """Parse ``window.X = {...};`` style inline JSON (used by qq.com and others)."""
    found = re.search(rf"{re.escape(variable)}\s*=\s*(\{{.*?\}})\s*;?\s*(?:</script>|\n)", page.text, re.S)
    if not found:
        return None
    try:
        return json.loads(found.group(1))
    except ValueError:
        return None
