"""What extraction works on: the fetched page (bytes decoded once, parsed once), the page
object protocol each extractor implements, and the Article they produce together."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from parsel import Selector

from common.text import clean_inline, clean_text, element_text, parse_html
from crawler.extract.encoding import decode

if TYPE_CHECKING:
    from lxml.html import HtmlElement

FIELDS = ("title", "published_at", "origin", "body")


@dataclass
class Article:
    url: str
    title: str | None
    published_at: datetime | None
    origin: str | None
    body: str
    # Which page object produced each field: the first thing to look at when one is wrong.
    provenance: dict[str, str] = field(default_factory=dict)
    # Set when the page says the article is gone or hidden behind a block, not an article.
    unavailable: str | None = None

    def __post_init__(self) -> None:
        # Every article, from a page or a feed, is built here: the one place text is cleaned.
        self.url, self.body = clean_text(self.url), clean_text(self.body)
        self.title = clean_text(self.title) if self.title else self.title
        self.origin = clean_text(self.origin) if self.origin else self.origin

    @property
    def published_precision(self) -> str | None:
        """``day`` when the page gave only a date, ``time`` when it gave a time of day."""
        from common.dates import precision_of

        return precision_of(self.published_at)

    @property
    def problems(self) -> list[str]:
        """What is missing, in the words an editor uses."""
        missing = []
        if not self.title:
            missing.append("no title")
        if self.published_at is None:
            missing.append("no date")
        if len(self.body) < 20:
            missing.append("empty body")
        return missing


class Page:
    """One fetched document, decoded and parsed once, shared by every page object."""

    def __init__(self, url: str, body: bytes, content_type: str | None = None, encoding: str | None = None):
        self.url = url
        self.raw = body
        self.text = clean_text(decode(body, content_type, encoding))  # list titles and links come from here too

    @cached_property
    def tree(self) -> HtmlElement:
        return parse_html(self.text)

    @cached_property
    def selector(self) -> Selector:
        return Selector(root=self.tree, type="html")

    def meta(self, *names: str) -> str | None:
        """Content of the first non-empty ``<meta name|property|itemprop=...>`` among ``names``."""
        for name in names:
            for attr in ("name", "property", "itemprop", "http-equiv"):
                values = self.tree.xpath(f'//meta[@{attr}="{name}"]/@content')
                for value in values:
                    if value.strip():
                        return clean_inline(value)
        return None

    def first_text(self, xpaths: str | tuple[str, ...]) -> str | None:
        """Text of the first match, trying ``xpaths`` in the order given (not document order)."""
        for element in self._matches(xpaths):
            text = clean_inline(element if isinstance(element, str) else element.text_content())
            if text:
                return text
        return None

    def body_of(self, xpaths: str | tuple[str, ...], drop: tuple[str, ...] = ()) -> str | None:
        """Paragraph text of the first matching element that holds real text."""
        for element in self._matches(xpaths):
            text = block_text(element, drop)
            if len(text) >= 20:
                return text
        return None

    def _matches(self, xpaths: str | tuple[str, ...]) -> Iterator[HtmlElement | str]:
        for xpath in (xpaths,) if isinstance(xpaths, str) else xpaths:
            yield from self.tree.xpath(xpath)

    @cached_property
    def visible_text(self) -> str:
        body = self.tree.find("body")
        return element_text(body if body is not None else self.tree)


def block_text(element: HtmlElement, drop: tuple[str, ...] = ()) -> str:
    """Text of ``element`` after removing the ``drop`` selectors (CSS or ``xpath:``)."""
    if drop:
        element = copy.deepcopy(element)
        node = Selector(root=element, type="html")
        for rule in drop:
            found = node.xpath(rule.removeprefix("xpath:")) if rule.startswith("xpath:") else node.css(rule)
            for match in found:
                match.drop()
    return element_text(element)


class PageObject:
    """Extraction for one page layout. A method returning None means "not mine, ask the next"."""

    name = "base"

    def __init__(self, page: Page):
        self.page = page

    def title(self) -> str | None:
        return None

    def published_at(self) -> datetime | None:
        return None

    def origin(self) -> str | None:
        return None

    def body(self) -> str | None:
        return None

    def unavailable(self) -> str | None:
        """Why this page is not an article (deleted, blocked), if it says so."""
        return None


ORIGIN_LINE = re.compile(r"(?:来源|来自|信息来源|稿件来源|文章来源|发布机构|发文机关)\s*[:：]\s*([^\s|｜/]{2,40})")


def origin_from_text(text: str) -> str | None:
    found = ORIGIN_LINE.search(text)
    return found.group(1).strip("【】[]()（）") if found else None

