"""Coverage: were the stories editors cited in front of them first?

For every URL an imported issue cites, this says which enabled source watches the column it
sits in (by the crawler's own rule: the URL's host is one of the source's list hosts and the
URL matches the source's ``article_url``), whether we stored it, and how many days before the
issue we first saw it. What no source watches is grouped by host and column, each column with
a list URL derived from the article URL, so "what are we missing?" has a ranked answer.

Pure functions over parsed issues and watchlists; the caller reads the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from crawler.listings import is_article_url
from common.urls import canonical_url, host_of
from crawler.watchlist import SourceBase

KINDS = ("reference", "brief", "figure")  # where in an issue a URL is cited
WECHAT_HOSTS = ("mp.weixin.qq.com", "weixin.qq.com")
URL_IN_TEXT = re.compile(r"https?://[^\s<>()（）\"'，。、]+")


@dataclass(frozen=True)
class Citation:
    """One URL an issue cites, and where: a story's 참고자료, a brief's 출처 or a figure credit."""

    url: str
    kind: str
    title: str = ""

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def is_wechat(self) -> bool:
        return self.host in WECHAT_HOSTS


@dataclass
class CitationVerdict:
    citation: Citation
    source: str | None  # the enabled source watching its column, else None
    stored: bool = False
    lead_days: int | None = None  # issue date minus the day we first saw it (positive: earlier)


@dataclass
class MissedColumn:
    """Cited URLs that no source watches, sharing a host and a column."""

    host: str
    column: str  # the list URL derived from the article URLs
    citations: int
    examples: list[str] = field(default_factory=list)
    try_with: str = ""  # a command to try the column with


@dataclass
class IssueCoverage:
    published: str
    cited: int  # non-WeChat URLs
    watched: int
    stored: int
    by_kind: dict[str, dict[str, int]]  # kind → {"cited": n, "watched": n}
    wechat: dict[str, int]  # {"cited": n, "watched": n}
    median_lead_days: float | None
    verdicts: list[CitationVerdict] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.watched / self.cited if self.cited else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["share"] = round(self.share, 3)
        data["verdicts"] = [
            {"url": v.citation.url, "kind": v.citation.kind, "wechat": v.citation.is_wechat,
             "source": v.source, "stored": v.stored, "lead_days": v.lead_days}
            for v in self.verdicts
        ]
        return data


# -- what an issue cites ---------------------------------------------------------------------
def citations(structure: dict[str, Any]) -> list[Citation]:
    """Every http(s) URL a parsed issue (``ReportIssue.structure``) cites, each once: a figure
    credit that repeats a story's reference counts as the reference."""
    found: list[Citation] = []
    for story in structure.get("stories") or []:
        found += [Citation(r["url"], "reference", r.get("title") or "") for r in story.get("references") or []]
        for credit in story.get("figure_credits") or []:
            found += [Citation(url, "figure") for url in URL_IN_TEXT.findall(credit)]
    for brief in structure.get("briefs") or []:
        if brief.get("url"):
            found.append(Citation(brief["url"], "brief", brief.get("headline") or ""))
        found += [Citation(r["url"], "brief", r.get("title") or "") for r in brief.get("references") or []]
    return _unique([c for c in found if c.url.startswith(("http://", "https://"))])


def _unique(found: list[Citation]) -> list[Citation]:
    seen: set[str] = set()
    kept = []
    for citation in found:
        key = canonical_url(citation.url)
        if key not in seen:
            seen.add(key)
            kept.append(citation)
    return kept


# -- who watches it --------------------------------------------------------------------------
def watching_source(url: str, sources: Iterable[SourceBase]) -> SourceBase | None:
    """The enabled source whose column ``url`` is in: the crawler's own host + ``article_url``
    rule (the host of a list page, or the one ``article_url`` names). A source without
    ``article_url`` accepts any page of its hosts, which says nothing about columns, so it
    never counts. Editors cite what their browser showed: ``http://``
    where the list links ``https://`` (or the reverse), a share link's ``?from=timeline``,
    a mirror host the source names in ``alias_hosts``. The same article each way, so the
    canonical URL (on the source's own host) is tried in both schemes too."""
    for source in sources:
        pattern = source.article_pattern
        if not source.enabled or pattern is None:
            continue
        canonical = canonical_url(url, source.aliases)
        if host_of(canonical) not in source.article_hosts:
            continue
        spellings = {url, canonical, _with_scheme(canonical, "http")}
        if any(is_article_url(spelling, pattern) for spelling in spellings):
            return source
    return None


def stored_key(url: str, sources: Iterable[SourceBase]) -> str:
    """The canonical URL an article cited at ``url`` is stored under: folded onto the host of
    the source that watches it when the URL is on one of its alias hosts."""
    source = watching_source(url, sources)
    return canonical_url(url, source.aliases if source else None)


def stored_keys(url: str, sources: Iterable[SourceBase]) -> set[str]:
    """Every key an article cited at ``url`` may be stored under: its canonical URL, and the
    one on the mirrored host for each source that names the URL's host as an alias."""
    host = host_of(url)
    return {canonical_url(url)} | {canonical_url(url, s.aliases) for s in sources if host in s.aliases}


def _with_scheme(url: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


# -- where the column of an article is -------------------------------------------------------
# A CMS files an article under its column, then under date folders: TRS `/col/202305/t20230526_1.html`,
# people.cn `/n1/2024/0613/c1004-1.html` (`n3` on some channels), news.cn `/tech/20240613/<hex>/c.html`, Hanweb/Jpaas
# `/art/2024/5/22/art_1229225203_1.html` (the column id is the first number).
DATE_FOLDER = re.compile(r"^(?:\d{4}|\d{6}|\d{8}|\d{4}-\d{2}(?:-\d{2})?|\d{1,2}|\d{4}\d{2}\d{2}|[0-9a-f]{32})$")
ARTICLE_FOLDER = re.compile(r"^(?:art|content|n\d)$")  # Jpaas `art/`, gov.cn `content/`, people.cn `n1/`…`n3/`
JPAAS_ARTICLE = re.compile(r"/art/(?:\d+/)+art_(\d+)_\d+\.html?$")
# A query-string CMS (PHPCMS `index.php?…&catid=12&id=345`, ASP.NET `show.aspx?classid=3&id=9`)
# names the column in one parameter and the article in another; the column parameter is kept.
COLUMN_PARAMETERS = ("catid", "classid", "columnid", "channelid", "nodeid", "cid")


def column_url(article_url: str) -> str:
    """The list page an article most likely sits in, by CMS conventions; the article's own
    folder (date folders removed) when no convention applies, the host's root at worst."""
    parts = urlsplit(article_url)
    host = (parts.hostname or "").lower()
    jpaas = JPAAS_ARTICLE.search(parts.path)
    if jpaas:
        return urlunsplit(("https", host, f"/col/col{jpaas.group(1)}/index.html", "", ""))
    column_parameter = _column_parameter(parts.query)
    if column_parameter:
        return urlunsplit(("https", host, parts.path or "/", column_parameter, ""))
    folders = [f for f in parts.path.split("/")[:-1] if f]
    while folders and (DATE_FOLDER.match(folders[-1]) or ARTICLE_FOLDER.match(folders[-1])):
        folders.pop()
    path = "/" + "".join(f"{f}/" for f in folders)
    return urlunsplit(("https", host, path, "", ""))


def _column_parameter(query: str) -> str:
    """``catid=12`` out of ``m=content&c=index&a=show&catid=12&id=345``; "" when none names a column."""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name.lower() in COLUMN_PARAMETERS and value:
            return f"{name}={value}"
    return ""


# -- putting it together ---------------------------------------------------------------------
def judge(
    published: dt.date | None, cited: Sequence[Citation], sources: Sequence[SourceBase], first_seen: dict[str, dt.datetime]
) -> IssueCoverage:
    """Coverage of one issue; ``first_seen`` maps canonical URLs of stored items to when we saw them.
    ``published`` is None for citations that come from no imported issue (no lead days then)."""
    verdicts = [_verdict(c, published, sources, first_seen) for c in cited]
    plain = [v for v in verdicts if not v.citation.is_wechat]
    wechat = [v for v in verdicts if v.citation.is_wechat]
    by_kind = {
        kind: {"cited": sum(v.citation.kind == kind for v in plain), "watched": sum(v.citation.kind == kind and v.source is not None for v in plain)}
        for kind in KINDS
    }
    leads = sorted(v.lead_days for v in verdicts if v.lead_days is not None)
    return IssueCoverage(
        published=published.isoformat() if published else "",
        cited=len(plain),
        watched=sum(v.source is not None for v in plain),
        stored=sum(v.stored for v in verdicts),
        by_kind=by_kind,
        wechat={"cited": len(wechat), "watched": sum(v.source is not None for v in wechat)},
        median_lead_days=_median(leads),
        verdicts=verdicts,
    )


def _verdict(
    citation: Citation, published: dt.date | None, sources: Sequence[SourceBase], first_seen: dict[str, dt.datetime]
) -> CitationVerdict:
    source = watching_source(citation.url, sources)
    seen = first_seen.get(canonical_url(citation.url, source.aliases if source else None))
    if seen is None and source is not None and not source.article_url_names_column:
        source = None  # one author's or column's source would otherwise be credited with every one's
    lead = (published - seen.date()).days if seen and published else None
    return CitationVerdict(citation, source.name if source else None, stored=seen is not None, lead_days=lead)


def judge_urls(urls: Iterable[str], sources: Sequence[SourceBase]) -> IssueCoverage:
    """Coverage of a flat list of cited URLs from outside the imported issues (KOSTEC's
    <참고자료>, say): the same rule as for an issue, each URL once, nothing stored, no issue date."""
    cited = _unique([Citation(url, "reference") for url in urls if url.startswith(("http://", "https://"))])
    return judge(None, cited, sources, {})


def _median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return float(values[middle]) if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def missed_columns(issues: Sequence[IssueCoverage], sources: Sequence[SourceBase]) -> list[MissedColumn]:
    """Unwatched non-WeChat citations of all ``issues``, grouped by column, most cited first."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for issue in issues:
        for verdict in issue.verdicts:
            if verdict.source is None and not verdict.citation.is_wechat:
                grouped[column_url(verdict.citation.url)].append(verdict.citation.url)
    hosts_of = {host: source.name for source in sources for host in [*source.hosts, *source.alias_hosts]}
    columns = []
    for column, urls in grouped.items():
        host = urlsplit(column).hostname or ""
        near = hosts_of.get(host)
        hint = f"crawl doctor --source {near} --url {column}" if near else f"no source on {host} yet"
        columns.append(MissedColumn(host, column, len(urls), sorted(set(urls))[:3], hint))
    return sorted(columns, key=lambda c: (-c.citations, c.host, c.column))


def hosts_ranked(columns: Sequence[MissedColumn]) -> list[tuple[str, int]]:
    """Unwatched citations per host, most cited first."""
    counts: Counter[str] = Counter()
    for column in columns:
        counts[column.host] += column.citations
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
