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
from common.dates import day_only, parse_date
from crawler.extract.page import Page, PageObject, block_text, origin_from_text
from common.text import clean_inline
from common.urls import host_matches
from crawler.watchlist import SourceBase



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
        return host_matches(host, cls.hosts)


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

    GONE = {"该内容已被发布者删除": "deleted by the publisher", "此内容因违规无法查看": "removed for a violation",
            "该公众号已迁移": "the account moved"}
    BLOCKED = ("环境异常", "完成验证后即可继续访问")

    def unavailable(self) -> str | None:
        if self.page.tree.xpath('//*[@id="js_content"]'):
            return None
        text = self.page.visible_text
        for marker, reason in self.GONE.items():
            if marker in text:
                return reason
        if any(marker in text for marker in self.BLOCKED) or "captcha" in self.page.url:
            return "blocked: WeChat asks for a verification (环境异常)"
        return None

    def _search(self, pattern: str) -> str | None:
        found = re.search(pattern, self.page.text)
        return found.group(1) if found else None


class TencentNewsPage(SitePage):
    """new.qq.com: the server embeds the article's metadata as ``window.DATA = {...}``;
    its ``pubtime`` is the time readers see (the ``apub:time`` meta is a later edit)."""

    name = "qq"
    hosts = ("new.qq.com", "news.qq.com", "view.inews.qq.com")

    @cached_property
    def data(self) -> dict:
        return json_script(self.page, "window.DATA") or {}

    def title(self) -> str | None:
        return clean_inline(self.data.get("title") or "") or None

    def published_at(self) -> datetime | None:
        return parse_date(self.data.get("pubtime"))

    def origin(self) -> str | None:
        return clean_inline(self.data.get("media") or "") or None

    def body(self) -> str | None:
        return self.page.body_of('//div[contains(@class,"content-article")]')


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
    """Standard metadata and the layouts Chinese news CMSs share (ids and classes that
    recur across 163, Sina, The Paper, Toutiao, Baijiahao, qq, local portals, ...)."""

    name = "generic"
    HEADINGS = (
        # h4/h5 too: some CMSs put the site name in the h1 and the headline in an h4 or h5.
        "//h1|//h2|//h3|//h4|//h5|//*[contains(@class,'title') and not(self::title) and not(ancestor::a) and not(self::a)]"
    )
    # Tried in this order: specific ids first, broad wrappers last.
    BODY = (
        '//*[@id="endText"]', '//*[@id="artibody"]', '//*[@id="article"]', '//*[@id="article_content"]',
        '//*[@id="ctrlfscont"]', '//*[@id="vsb_content"]', '//*[contains(@class,"post_body")]',
        '//*[contains(@class,"content-article")]', '//*[contains(@class,"news_txt")]', '//*[contains(@class,"all-txt")]',
        '//*[contains(@class,"a-con")]', '//*[contains(@class,"single-content")]', '//*[contains(@class,"page_art_content")]',
        '//*[contains(@class,"article-content")]', "//article",
    )
    SOURCE = (
        '//*[@id="ne_article_source"]', '//*[contains(@class,"date-source")]//*[contains(@class,"source")]',
        '//*[contains(@class,"author-name")]', '//a[@class="author"]', '//*[@id="js_name"]',
        '//*[contains(@class,"article-sub")]/span[not(@class)][1]',
    )
    STRIP = ("xpath://p[contains(@class,'show_author')]", "xpath://*[contains(@class,'img_descr')]", "script", "style")

    @cached_property
    def _head(self) -> str:
        return self.page.first_text("//title") or ""

    def title(self) -> str | None:
        candidates = [c for c in self._headings() if 4 <= len(c) <= 120]
        og = self.page.meta("og:title", "twitter:title")
        in_head = [c for c in candidates + ([og] if og else []) if c in self._head]
        if in_head:
            return max(in_head, key=len)
        h1 = self.page.first_text("//h1")
        if h1 and len(h1) >= 4:
            return h1
        if candidates:
            return candidates[0]
        return _strip_site_suffix(self._head) if self._head else None

    def _headings(self) -> list[str]:
        texts = []
        for element in self.page.tree.xpath(self.HEADINGS)[:40]:
            text = clean_inline(element.text_content())
            if text and text not in texts:
                texts.append(text)
        return texts

    def published_at(self) -> datetime | None:
        # The time a reader sees beats metadata, which is often the last edit.
        return self._visible_date() or parse_date(
            self.page.meta(
                "article:published_time", "datePublished", "pubdate", "publishdate", "PubDate", "og:release_date",
                "og:time ", "og:time", "apub:time", "dateUpdate",
            )
        )

    def _visible_date(self) -> datetime | None:
        # The first full timestamp after the headline is, on news pages, the publish time.
        text = self.page.visible_text
        title = self.title()
        start = text.find(title[:12]) if title else -1
        found = re.search(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}", text[max(start, 0):])
        return parse_date(found.group(0)) if found else None

    def origin(self) -> str | None:
        return (
            self.page.first_text(self.SOURCE)
            or origin_from_text(self.page.visible_text[:5000])
            or self.page.meta("article:author", "mediaid", "og:site_name", "source")
        )

    def body(self) -> str | None:
        return self.page.body_of(self.BODY, self.STRIP)


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
        if found and found.endswith(" 00:00:00"):
            return day_only(found)  # htmldate pads a bare day with midnight: it is a day
        return parse_date(found)

    def body(self) -> str | None:
        text = getattr(self.document, "text", None)
        if not text:
            return None
        lines = (clean_inline(line) for line in text.split("\n"))
        return "\n".join(line for line in lines if line) or None


SITE_PAGES: list[type[SitePage]] = [WechatPage, TencentNewsPage]


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
    """``Headline_Column_Site`` → ``Headline``: drop short trailing segments."""
    while True:
        found = re.search(r"\s*(?:_|\||｜|—+|-+)\s*([^_|｜—-]{1,12})$", title)
        if not found or found.start() < 4:
            return title
        title = title[: found.start()]


def json_script(page: Page, variable: str) -> dict | None:
    """Parse ``window.X = {...};`` style inline JSON (used by qq.com and others)."""
    found = re.search(rf"{re.escape(variable)}\s*=\s*(\{{.*?\}})\s*;?\s*(?:</script>|\n)", page.text, re.S)
    if not found:
        return None
    try:
        return json.loads(found.group(1))
    except ValueError:
        return None
