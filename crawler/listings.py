"""What a list page yields, whatever its kind: entries, and the tally of which rules matched.

Each kind reads its list pages in :mod:`crawler.kinds`; the spider and `crawl doctor` share
these types, so what the doctor explains is exactly what a crawl does. The tally is the raw
material of source health.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.text import clean_text


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


def tally_entries(entries: list[Entry], spec: Any, tally: RuleTally) -> None:
    """Record, for the entries a source keeps, whether its title and date rules matched."""
    if tally.hits.get("list.entry", 1):  # no entry element, no chance for the link rule
        tally.record("list.link", bool(entries))
    for entry in entries:
        if getattr(spec, "title", None):
            tally.record("list.title", entry.title is not None)
        if getattr(spec, "date", None):
            tally.record("list.date", entry.date is not None)
