"""What every source kind shares: the watchlist schema and the questions a kind answers.

A source's YAML is validated by the Pydantic models below (the kind's own class, in its
module beside this one, adds its list rules). Each kind class also says how it reads a
fetched list page and how `crawl doctor` explains that reading, so the spider and the
doctor ask the source instead of testing its kind.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

from common.dates import CHINA, parse_duration
from common.yamlfile import compiled_regex
from crawler.kinds.list_request import EDITION, ListRequest, check_placeholders, fill_edition, form_values, json_strings, map_strings
from crawler.listings import Entry, RuleTally
from parsel import Selector
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

if TYPE_CHECKING:
    from crawler.extract.page import Article

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiled_selector(value: str) -> str:
    """Refuse a selector parsel cannot compile, so `crawl check` fails instead of every crawl.

    Compiled by applying it to a tiny document with parsel, the crawler's own selector engine
    (cssselect for CSS, lxml for XPath, with parsel's extensions such as ``::attr()``, ``re:``).
    An unknown XPath function inside a predicate is only noticed on a page that has candidates.
    """
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
    # A list served only to a POST: `method: POST` with a `form` (sent urlencoded) or a JSON
    # object (`body`), whose strings may name the edition date as the URL does.
    method: Literal["GET", "POST"] = "GET"
    form: Annotated[dict[str, str] | None, BeforeValidator(form_values)] = None
    body: dict[str, Any] | None = None
    # A list reached through a landing page (an e-paper's current issue, whose id the date does
    # not tell): the first link this selector gives there, on the landing page's host, is the list.
    via: CompiledSelector | None = None

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not re.match(r"^https?://[^/{}]+/", value + "/"):
            raise ValueError("must be an absolute http(s) URL (an edition date goes in the path, not the host)")
        check_placeholders(value)
        return value

    @field_validator("form", "body")
    @classmethod
    def _sent_by_post(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        if info.data.get("method") != "POST":
            raise ValueError("is sent with `method: POST` only")
        if info.field_name == "body" and info.data.get("form") is not None:
            raise ValueError("give `form` (sent as a form) or `body` (sent as JSON), not both")
        for text in json_strings(value):
            check_placeholders(text)
        return value

    @property
    def dated(self) -> bool:
        """True when the URL (or what a POST sends) changes with each edition of the paper."""
        return any(EDITION.search(text) for text in [self.url, *json_strings(self.form), *json_strings(self.body)])

    def request(self, day: datetime.date | None = None) -> ListRequest:
        """What to fetch for this list: ``day``'s edition where it is dated, as written where not."""
        fill = functools.partial(fill_edition, day=day) if day is not None else str
        return ListRequest(fill(self.url), self.method, map_strings(self.form, fill), map_strings(self.body, fill), self.via)


def edition_dates(now: datetime.datetime) -> list[datetime.date]:
    """The editions a crawl at ``now`` covers: today's and yesterday's in China, so a run
    soon after midnight still reads the edition it may have missed the evening before."""
    if now.tzinfo is None:
        raise ValueError("the run's time must carry its timezone")
    today = now.astimezone(CHINA).date()
    return [today, today - datetime.timedelta(days=1)]


# `^https?://www\.sohu\.com/…`: the host an `article_url` is anchored to.
ANCHORED_HOST = re.compile(r"^\^https\??://((?:[a-z0-9-]|\\\.)+)/")
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
    # Hosts that serve this source's articles under the same paths as its own (MIIT's mobile
    # site wap.miit.gov.cn mirrors www.miit.gov.cn): a URL cited there is the same article, for
    # coverage and canonical URLs. Never fetched on that account: `allowed_hosts` says what is.
    alias_hosts: list[str] = []
    politeness: Politeness = Politeness()
    expect: Expectations = Expectations()
    provenance: Provenance | None = None
    # False where an article's URL does not say which column or author it belongs to: self-publishing
    # platforms (Baijiahao `/s?id=…`, 163号 `/dy/article/<id>.html`, 财富号 `/news/<id>`) and sites
    # such as CCTV (`/YYYY/MM/DD/ARTI…`). A source there follows one author or column, yet its
    # `article_url` matches every one's, so coverage credits it with a citation only once stored.
    article_url_names_column: bool = True
    file: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _column_rule_needs_article_url(self) -> SourceBase:
        if not self.article_url_names_column and self.article_pattern is None:
            raise ValueError("`article_url_names_column: false` says what `article_url` cannot tell; give an `article_url`")
        return self

    @field_validator("lists", mode="before")
    @classmethod
    def _plain_urls(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("alias_hosts")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not HOST.match(host):
                raise ValueError(f"{host!r}: give a bare host name such as `wap.miit.gov.cn` (no scheme, port or path)")
        return [host.lower() for host in value]

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
        return None

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

    # Computed once (the model is frozen): coverage asks it of every source for every cited URL,
    # on each view of the Sources page. model_copy would carry it over, so never copy with new `lists`.
    @functools.cached_property
    def hosts(self) -> frozenset[str]:
        from urllib.parse import urlsplit

        return frozenset(urlsplit(entry.url).hostname or "" for entry in self.lists)

    @functools.cached_property
    def article_hosts(self) -> frozenset[str]:
        """The hosts this source's articles may be on: its list pages' and the one its
        `article_url` is anchored to — a feed's articles live on another host than the feed
        (RSSHub's Sohu route links www.sohu.com), and the crawler fetches them by `article_url`."""
        anchored = self.anchored_host
        return self.hosts | {anchored} if anchored else self.hosts

    @functools.cached_property
    def aliases(self) -> dict[str, str]:
        """Each alias host → the host it mirrors: the one `article_url` is anchored to, else
        the first list URL's (the mapping `common.urls.canonical_url` folds a URL with)."""
        from urllib.parse import urlsplit

        home = self.anchored_host or (urlsplit(self.lists[0].url).hostname or "").lower()
        return {alias: home for alias in self.alias_hosts if alias != home}

    @functools.cached_property
    def anchored_host(self) -> str | None:
        """The host `article_url` is anchored to (`^https?://www\\.sohu\\.com/…`), if it is."""
        anchored = ANCHORED_HOST.match(self.article_pattern or "")
        return anchored.group(1).replace("\\.", ".") if anchored else None

    def list_urls(self, now: datetime.datetime | None) -> list[str]:
        """The list URLs a crawl at ``now`` fetches, dated ones for each edition it covers;
        ``now`` (the caller's clock) may be None only when no list is dated."""
        return list(dict.fromkeys(wanted.url for wanted in self.list_requests(now)))

    def list_requests(self, now: datetime.datetime | None) -> list[ListRequest]:
        """The list pages a crawl at ``now`` fetches (URL, and what a POST sends), dated ones
        for each edition it covers; ``now`` may be None only when no list is dated."""
        wanted: dict[tuple[str, str, str, str], ListRequest] = {}
        for entry in self.lists:
            if not entry.dated:
                requests = [entry.request()]
            elif now is None:
                raise ValueError(f"{self.name}: the list {entry.url} is dated; the crawl needs the run's time")
            else:
                requests = [entry.request(day) for day in edition_dates(now)]
            wanted.update((request.key, request) for request in requests)
        return list(wanted.values())

    # -- what each kind answers (see the kind modules) -------------------------------
    # The first list page is a JavaScript shell naming the real list (see `read_shell`).
    list_is_shell: ClassVar[bool] = False
    # Whether `pagination` is followed; a kind that pages some other way says no.
    follows_pagination: ClassVar[bool] = True

    def read_list(self, page: FetchedPage, list_url: str, tally: RuleTally) -> Listing:
        """The entries on a fetched list page, tallying which list rules matched."""
        raise NotImplementedError

    def tally_kept(self, entries: list[Entry], tally: RuleTally) -> None:
        """Record whether the list rules matched on the entries the crawl keeps."""

    def read_shell(self, page: FetchedPage, tally: RuleTally) -> str | None:
        """For a kind whose list page is a shell: the URL of the real list it names; None
        (with the rule that found nothing tallied) when it names none."""
        raise NotImplementedError

    def shell_failure(self) -> str:
        """What a shell page that names no list lacks, for the crawl's log."""
        raise NotImplementedError

    def carried_article(self, entry: Entry, listing: Listing) -> Article | None:
        """The article itself when the list carries its text; None: fetch the entry's page."""
        return None

    def explain_list(self, page: FetchedPage, fetch: FetchForDoctor) -> Explanation:
        """What `crawl doctor` shows about reading this list page, with the entries found."""
        raise NotImplementedError

    def explain_kept(self, kept: list[Entry]) -> list[str]:
        """Doctor lines on how the list rules fared on the entries kept (none by default)."""
        return []


class FetchedPage(Protocol):
    """A fetched page, as a Scrapy response or the doctor's `Fetched` carries it."""

    url: str
    body: bytes

    @property
    def text(self) -> str: ...

    @property
    def selector(self) -> Selector: ...


@dataclass
class Listing:
    """What a kind read from one list page."""

    entries: list[Entry]
    feed_title: str | None = None
    # Set when detection replaced what the list rules found: why, and on which page.
    detected: str | None = None
    detected_on: str | None = None


@dataclass
class Explanation:
    """Doctor lines (Rich markup, everything fetched escaped) and the entries found; ``found``
    is None when the list could not be read at all, so there is nothing to filter."""

    lines: list[str]
    found: list[Entry] | None


def explain_title_and_date(spec: Strict, kept: list[Entry]) -> list[str]:
    """How many kept entries the ``list.title`` and ``list.date`` rules (where written) matched."""
    lines = []
    for name in ("title", "date"):
        if getattr(spec, name, None):
            hits = sum(getattr(e, name) is not None for e in kept)
            lines.append(f"   list.{name}: matched {hits} of {len(kept)}")
    return lines


# The doctor's fetch of a further page (url, referer): the page and its one-line summary.
FetchForDoctor = Callable[[str, str], "tuple[FetchedPage, str]"]
