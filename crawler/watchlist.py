"""Source watchlists: one YAML file per source under ``watchlists/sources/``.

The Pydantic models below are the schema; every validation error is reported with the file,
line and dotted field name, so an editor can fix a broken file without reading Python.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from common.dates import parse_duration
from common.yamlfile import WatchlistError, compiled_regex, describe, line_of, parse_yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiled_selector(value: str) -> str:
    """Refuse a selector parsel cannot compile, so `crawl check` fails instead of every crawl.

    Compiled by applying it to a tiny document with parsel, the crawler's own selector engine
    (cssselect for CSS, lxml for XPath, with parsel's extensions such as ``::attr()``, ``re:``).
    An unknown XPath function inside a predicate is only noticed on a page that has candidates.
    """
    from parsel import Selector

    document = Selector(text="<html><head></head><body><p>.</p></body></html>")
    try:
        if value.startswith("xpath:"):
            document.xpath(value.removeprefix("xpath:"))
        else:
            document.css(value)
    except Exception as error:  # noqa: BLE001 - cssselect and lxml raise several unrelated types
        kind = "XPath" if value.startswith("xpath:") else "CSS selector"
        raise ValueError(f"invalid {kind} {value!r}: {error}") from None
    return value


CompiledSelector = Annotated[str, AfterValidator(_compiled_selector)]
CompiledRegex = Annotated[str, AfterValidator(compiled_regex)]


class Rule(Strict):
    """A selector: CSS (parsel flavour, ``::text`` and ``::attr(x)`` allowed) or ``xpath:...``,
    with an optional regex whose first group (or whole match) is kept."""

    select: CompiledSelector
    regex: CompiledRegex | None = None


def _rule(value: Any) -> Any:
    return {"select": value} if isinstance(value, str) else value


# In YAML a rule is either a plain selector string or a mapping {select, regex}.
RuleField = Annotated[Rule, BeforeValidator(_rule)]


class ListEntryRules(Strict):
    """How entries are found on an HTML list page (selectors relative to each entry). With
    no ``entry`` rule the source is selector-less: entries are found by detection."""

    entry: RuleField | None = None
    link: RuleField = Rule(select="a::attr(href)")
    title: RuleField | None = None
    date: RuleField | None = None
    article_url: CompiledRegex | None = None  # regex an absolute article URL must match


class JsonListRules(Strict):
    """How entries are found in a JSON list response: dotted paths (``data.list``; ``.`` when
    the response itself is the array, as gov.cn's list files are)."""

    items: str
    link: str
    title: str | None = None
    date: str | None = None
    article_url: CompiledRegex | None = None


class Pagination(Strict):
    url: str | None = None  # pattern relative to the list URL, with {n}
    first: int = 1  # n of the second page
    next: RuleField | None = None  # alternatively: a selector for the next-page link
    max_pages: int = Field(default=3, ge=1, le=500)


    @model_validator(mode="after")
    def _one_way(self) -> Pagination:
        if (self.url is None) == (self.next is None):
            raise ValueError("give exactly one of `url` (a pattern with {n}) or `next` (a selector)")
        if self.url is not None and "{n}" not in self.url:
            raise ValueError("`url` must contain {n}, the page number")
        return self


class ArticleRules(Strict):
    title: RuleField | None = None
    published: RuleField | None = None
    origin: RuleField | None = None
    body: RuleField | None = None
    drop: list[CompiledSelector] = []



class Politeness(Strict):
    robots_txt: Literal["obey", "ignore"] = "obey"
    reason: str | None = None  # required when robots.txt is ignored
    delay: float | None = Field(default=None, ge=0)
    concurrency: int | None = Field(default=None, ge=1, le=4)
    headers: dict[str, str] = {}

    @model_validator(mode="after")
    def _reason_for_ignoring(self) -> Politeness:
        if self.robots_txt == "ignore" and not self.reason:
            raise ValueError("ignoring robots.txt needs a stated `reason`")
        return self


class Expectations(Strict):
    """What a healthy run of this source looks like, so a redesign or an anti-bot page (HTTP 200
    with a challenge instead of a list) is caught on the first run, not weeks later."""

    min_entries: int = Field(default=1, ge=0)  # per first list page
    max_silence: str = "14d"  # no new item for longer than this: stale
    # Rules that must match for the source to count as working; default: every rule written.
    must_match: list[str] | None = None

    @field_validator("max_silence")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) is None:
            raise ValueError("use a duration like `36h` or `14d`")
        return value


class ListUrl(Strict):
    url: str
    label: str | None = None

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not re.match(r"^https?://[^/]+", value):
            raise ValueError("must be an absolute http(s) URL")
        return value


EVIDENCE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
MARKUP_EVIDENCE = ("public-scraper", "rsshub-route", "saved-page")


class Evidence(Strict):
    """One piece of independent evidence for a source's URL or markup."""

    # public-scraper: someone else's crawler of the site; rsshub-route: a DIYgod/RSSHub route;
    # saved-page: a real page of the site stored somewhere public; public-url: a link seen in
    # the wild (shows a URL exists, says nothing about markup); inference: our own guess.
    kind: Literal["public-scraper", "rsshub-route", "saved-page", "public-url", "inference"]
    where: str = Field(min_length=1)  # repository and path, or a URL, or what the guess rests on
    date: str | None = None  # when the evidence was true (YYYY, YYYY-MM or YYYY-MM-DD); None: undated
    shows: str | None = None  # what it confirms, in a few words

    @field_validator("date", mode="before")
    @classmethod
    def _partial_date(cls, value: Any) -> Any:
        value = None if value is None else str(value)
        if value is not None and not EVIDENCE_DATE.match(value):
            raise ValueError("use YYYY, YYYY-MM or YYYY-MM-DD (leave it out when the evidence is undated)")
        return value


class Provenance(Strict):
    """Where this watchlist's facts come from, so nobody mistakes a guess for a verified selector:
    one line each for the list URL, the list selectors and the article markup, the evidence behind
    them and what is still inferred."""

    checked: datetime.date  # when these facts were last compared with the evidence
    list_url: str
    selectors: str
    article: str
    evidence: list[Evidence] = Field(min_length=1)
    inferred: list[str] = []

    @property
    def verified(self) -> bool:
        """True when someone else's code or a saved page confirms the markup; a URL seen in the
        wild only shows that the page exists, and an inference is our own guess."""
        return any(item.kind in MARKUP_EVIDENCE for item in self.evidence)


class SourceBase(Strict):
    name: str
    label: str
    homepage: str
    enabled: bool = True
    schedule: str = "2h"
    lists: list[ListUrl] = Field(min_length=1)
    pagination: Pagination | None = None
    # Lists are newest first; on a first run a 1000-item JSON list must not mean 1000 fetches.
    max_entries: int = Field(default=60, ge=1, le=1000)
    article: ArticleRules = ArticleRules()
    encoding: str | None = None
    # Hosts (``host`` or ``host:port``) besides the list URLs' that list pages may come from.
    allowed_hosts: list[str] = []
    politeness: Politeness = Politeness()
    expect: Expectations = Expectations()
    provenance: Provenance | None = None
    file: Path | None = Field(default=None, exclude=True)

    @field_validator("lists", mode="before")
    @classmethod
    def _plain_urls(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' only (e.g. `sciencenet`)")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        value = str(value).strip()
        if parse_duration(value) is not None:
            return value
        fields = value.split()
        if len(fields) == 5 and all(CRON_FIELD.match(f) for f in fields):
            return value
        raise ValueError("use an interval like `30m`, `2h`, `1d` or a 5-field cron like `0 7-22/2 * * *`")

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        import codecs

        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @property
    def article_pattern(self) -> str | None:
        """Regex an article URL must match (None: every link is an article)."""
        rules = getattr(self, "list", None) or getattr(self, "feed", None)
        return getattr(rules, "article_url", None)

    def rules(self) -> dict[str, Rule]:
        """Every selector this source declares, by dotted name (``list.date``, ``article.body``)."""
        found: dict[str, Rule] = {}
        for section in ("list", "article"):
            block = getattr(self, section, None)
            for name in ("entry", "link", "title", "date", "published", "origin", "body"):
                rule = getattr(block, name, None)
                if isinstance(rule, Rule):
                    found[f"{section}.{name}"] = rule
        return found

    @property
    def hosts(self) -> set[str]:
        from urllib.parse import urlsplit

        return {urlsplit(entry.url).hostname or "" for entry in self.lists}


class HtmlListSource(SourceBase):
    kind: Literal["html_list"]
    list: ListEntryRules = ListEntryRules()  # none at all: a selector-less source


class JsonListSource(SourceBase):
    kind: Literal["json_list"]
    list: JsonListRules


class JpaasListSource(SourceBase):
    """Sites on the "jpaas" publishing platform (MIIT and many city governments): the column
    page is a JavaScript shell whose ``<script parseType="buildstatic" url=… querydata=…>``
    names a JSON API; its ``data.html`` is an HTML fragment read with the ``list`` rules."""

    kind: Literal["jpaas_list"]
    list: ListEntryRules
    script: CompiledSelector = "script[parsetype=buildstatic], script[parseType=buildstatic], script[parsetype=bulidstatic]"


class FeedRules(Strict):
    article_url: CompiledRegex | None = None  # regex an entry's link must match
    # `article`: fetch each linked page and extract it; `feed`: trust the text the feed carries
    # (full-text mirrors such as wewe-rss `mode=fulltext`), so the article host is never hit.
    content: Literal["article", "feed"] = "article"


class FeedSource(SourceBase):
    """RSS, Atom or JSON Feed — any feed an editor wants, and WeChat accounts through a
    self-hosted mirror (RSSHub, wewe-rss, we-mp-rss, ...)."""

    kind: Literal["feed"]
    feed: FeedRules = FeedRules()


def load_source(path: Path) -> SourceBase:
    text = path.read_text(encoding="utf-8")
    try:
        data, node = parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise WatchlistError([f"{path}{line}: not valid YAML: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(data, dict):
        raise WatchlistError([f"{path}:1: expected a mapping of fields (name, label, kind, ...)"])
    if "kind" not in data:
        raise WatchlistError([f"{path}:1: field `kind`: missing (one of {', '.join(KINDS)})"])
    if data["kind"] not in KINDS:
        line = line_of(node, ("kind",))
        raise WatchlistError([f"{path}:{line}: field `kind`: unknown kind {data['kind']!r}; use one of {', '.join(KINDS)}"])
    try:
        source = KINDS[data["kind"]].model_validate(data)
    except ValidationError as error:
        raise WatchlistError([describe(path, node, e) for e in error.errors()]) from None
    return source.model_copy(update={"file": path})


def load_sources(directory: Path) -> list[SourceBase]:
    """Load every ``*.yml`` in ``directory``; collect all problems before failing."""
    sources, problems = [], []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            sources.append(load_source(path))
        except WatchlistError as error:
            problems.extend(error.problems)
    seen: dict[str, Path] = {}
    for source in sources:
        if source.name in seen:
            problems.append(f"{source.file}:1: field `name`: {source.name!r} is already used by {seen[source.name]}")
        seen[source.name] = source.file  # type: ignore[assignment]
    if problems:
        raise WatchlistError(problems)
    return sources


KINDS: dict[str, type[SourceBase]] = {
    "html_list": HtmlListSource,
    "json_list": JsonListSource,
    "jpaas_list": JpaasListSource,
    "feed": FeedSource,
}
