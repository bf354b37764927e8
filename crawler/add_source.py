"""Adding a source from one URL: what `crawl sources add` and the workspace's "새 출처 추가" both do.

:func:`preview` fetches the column (or an article's column) through the crawler's own path —
:func:`crawler.doctor.fetch`, Scrapy in a child process with the fetch guard of
:mod:`crawler.netguard`, so a private address is refused exactly as a crawl refuses it —
proposes a watchlist (:mod:`crawler.propose`) and tries one article. :func:`write` saves the
proposal as ``watchlists/sources/NAME.yml`` only when the watchlist loader accepts it next
to the existing ones, and never over an existing file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from common.settings import Settings
from crawler import doctor, propose
from crawler.extract import extract_article
from crawler.kinds.base import NAME
from crawler.spiders import ARTICLE
from crawler.watchlist import WatchlistError, configured_sources, load_source

class ProposalError(ValueError):
    """A URL or name that cannot become a watchlist; the message says why, for an editor."""


@dataclass
class ArticlePreview:
    """What generic extraction gets from one of the detected articles."""

    url: str
    title: str | None = None
    published_at: dt.datetime | None = None
    body: str = ""
    problems: tuple[str, ...] = ()
    error: str | None = None  # the article could not be fetched


@dataclass
class Preview:
    proposal: propose.Proposal
    article: ArticlePreview
    yaml_text: str  # what :func:`write` saves

    @property
    def name(self) -> str:
        return self.proposal.name


def preview(url: str, config: Settings, today: dt.date, name: str | None = None) -> Preview:
    """Fetch the column of ``url``, propose a watchlist for it (named ``name``, else after the
    URL) dated ``today``, and try its first entry as an article. ProposalError when the URL is
    not http(s), the name is not a watchlist name, the page cannot be read or has no entries."""
    url = _web_url(url.strip())
    list_url = propose.list_url_for(url)
    name = (name or "").strip() or propose.name_for(list_url)
    check_name(name)
    source = propose.provisional_source(name, list_url)
    page = doctor.fetch(list_url, config, source)
    if page.error or not 200 <= page.status < 300:
        raise ProposalError(f"could not read {list_url}: {page.error or f'HTTP {page.status}'}")
    proposal = propose.propose(name, page.url, page.text)
    if not proposal.entries:
        raise ProposalError(f"no article entries found on {list_url}: is it a column (list) page?")
    article = _try_article(proposal.entries[0].url, list_url, config, source)
    text = yaml.safe_dump(proposal.watchlist(today), allow_unicode=True, sort_keys=False)
    return Preview(proposal, article, text)


def _web_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ProposalError(f"{url[:200]!r} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ProposalError("give an http:// or https:// URL of a column page or an article")
    return url


def _try_article(url: str, list_url: str, config: Settings, source: object) -> ArticlePreview:
    fetched = doctor.fetch(url, config, source, referer=list_url, role=ARTICLE)  # type: ignore[arg-type]
    if fetched.error:
        return ArticlePreview(url, error=fetched.error)
    article = extract_article(fetched.url, fetched.body, fetched.headers)
    return ArticlePreview(url, article.title, article.published_at, article.body, tuple(article.problems))


def check_name(name: str) -> None:
    """ProposalError unless ``name`` is a watchlist name (it becomes a file name too)."""
    if len(name) > 64 or not NAME.match(name):
        raise ProposalError(f"{name[:64]!r} is not a source name: use lower-case letters, digits, '-' and '_' (e.g. most_tztg)")


def write(name: str, text: str, config: Settings) -> Path:
    """Save ``text`` as ``NAME.yml`` in the configured sources folder: refused (ProposalError,
    nothing written) when the file exists, or when the loader rejects it — on its own or beside
    the other sources, WeChat accounts included (a name already used) — so `crawl check`
    accepts what was written."""
    check_name(name)
    sources_dir = config.sources_dir
    target = sources_dir / f"{name}.yml"
    if target.exists():
        raise ProposalError(f"{target} exists already: choose another name")
    sources_dir.mkdir(parents=True, exist_ok=True)
    # Written beside the target under a name the loader ignores, then linked into place:
    # the watchlist appears whole or not at all, and a file created meanwhile is not replaced.
    fd, staged = tempfile.mkstemp(dir=sources_dir, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        _validate(name, Path(staged), target, config)
        os.link(staged, target)
    except FileExistsError:
        raise ProposalError(f"{target} exists already: choose another name") from None
    finally:
        os.unlink(staged)
    return target


def _validate(name: str, staged: Path, target: Path, config: Settings) -> None:
    try:
        proposed = load_source(staged)
        others = configured_sources(config)
    except WatchlistError as error:
        problems = str(error).replace(str(staged), str(target))
        raise ProposalError(f"the watchlist would not load: {problems}") from None
    if proposed.name != name:
        raise ProposalError(f"the watchlist is named {proposed.name!r}, not {name!r}")
    used = next((s for s in others if s.name == name), None)
    if used is not None:
        raise ProposalError(f"the name {name!r} is already used by {used.file}")
