"""Applying watchlist rules (CSS / XPath selectors with an optional regex) to a page."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from parsel import Selector, SelectorList

from common.text import clean_inline

if TYPE_CHECKING:
    from crawler.kinds.base import Rule


def select(node: Selector, rule: Rule) -> SelectorList[Selector]:
    if rule.select.startswith("xpath:"):
        return node.xpath(rule.select.removeprefix("xpath:"))
    return node.css(rule.select)


def first_text(node: Selector, rule: Rule | None) -> str | None:
    """The first non-empty text the rule yields, after its regex; None if nothing matched."""
    if rule is None:
        return None
    for match in select(node, rule):
        text = clean_inline(_text_of(match))
        if rule.regex:
            found = _regex(rule.regex).search(text)
            text = (found.group(1) if found and found.groups() else found.group(0)) if found else ""
        if text:
            return text
    return None


def _text_of(match: Selector) -> str:
    # ``::text`` / ``::attr()`` / XPath strings give a plain string; elements give their whole text.
    if isinstance(match.root, str):
        return match.root
    return " ".join(match.xpath(".//text()").getall())


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
