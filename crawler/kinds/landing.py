"""A list reached through a landing page (a watchlist list's `via`).

Some lists have a URL nobody can write down in advance: 中国科学报's e-paper names its current
issue by an id the date does not tell (`dzzz_1.aspx?dzsbqkid=<id>`), and only its landing page
links it. The crawl fetches the landing page each run, takes the first link the `via` selector
gives there and reads that page as the list. The link must stay on the landing page's host: a
watchlist names the pages we fetch, and a landing page must not send the crawler elsewhere.
The spider and `crawl doctor` both ask :func:`landing_target`, so they follow the same link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from common.urls import host_key
from crawler import rules
from crawler.kinds.base import FetchedPage, Rule


@dataclass(frozen=True)
class LandingTarget:
    """The list page a landing page names (``url``), or why it names none (``problem``)."""

    url: str | None
    problem: str | None = None


def landing_target(page: FetchedPage, via: str) -> LandingTarget:
    """The list page ``page`` links by the first match of ``via``, resolved against the page's
    URL; refused when it is not an http(s) page on the landing page's own host."""
    href = rules.first_text(page.selector, Rule(select=via))
    if not href:
        return LandingTarget(None, f"names no list: via `{via}` matched nothing")
    target = urljoin(page.url, href)
    if not target.startswith(("http://", "https://")) or host_key(target) != host_key(page.url):
        return LandingTarget(None, f"names a list off its host, not followed: {target[:200]}")
    return LandingTarget(target)
