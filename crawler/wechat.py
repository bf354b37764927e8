"""WeChat official accounts kept as data (``watchlists/wechat.yml``) and turned into feed sources
through the operator's mirror.

No site lists an account's posts publicly, so every account is read through a self-hosted mirror
(RSSHub's wechat routes, Wechat2RSS, wewe-rss …). One setting, ``RADAR_WECHAT_MIRROR``, is a URL
template naming the account by ``{id}`` (its WeChat ID, 微信号) and/or ``{biz}`` (the ``__biz``
of its article links); every catalogued account that knows the fields the template names becomes
a ``kind: feed`` source. Without the setting the catalogue yields no source at all.
"""

from __future__ import annotations

import datetime
import re
import string
from pathlib import Path
from urllib.parse import quote, urlsplit

from common.yamlfile import WatchlistError, load_model
from pydantic import Field, model_validator

from crawler.kinds.base import Evidence, Strict
from crawler.kinds.feed import FeedSource

CATALOGUE_FILE = "wechat.yml"  # beside the sources/ folder
MIRROR_SETTING = "RADAR_WECHAT_MIRROR"
TEMPLATE_FIELDS = ("id", "biz")
# Both link forms an account's posts take: /s/<22-char id> and the permanent /s?__biz=…&mid=….
ARTICLE_URL = r"^https://mp\.weixin\.qq\.com/s(?:/[A-Za-z0-9_-]{22}$|\?__biz=)"
# A mirror refreshes an account a few times a day at most (wewe-rss: 05:35 and 17:35 China time).
SCHEDULE = "50 5,17 * * *"
WECHAT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")  # WeChat's own rule for a 微信号
BIZ = re.compile(r"^[A-Za-z0-9+/]{10,}={0,2}$")  # base64 of the account's number
SLUG = re.compile(r"^[a-z0-9_-]+$")


class Citation(Strict):
    """A post of the account that a past issue of the report cites."""

    issue: datetime.date
    url: str


class WechatAccount(Strict):
    """One official account: who it is, how a mirror can name it, and where that was read."""

    name: str = Field(min_length=1)  # the account's Chinese name
    label: str = Field(min_length=1)  # a Korean gloss for editors
    slug: str | None = None  # the source's name when the account has no known WeChat ID
    id: str | None = None  # 微信号
    biz: str | None = None  # __biz, as in the account's article links
    watched_by: str | None = None  # a watchlist in sources/ already follows this account
    note: str | None = None
    evidence: list[Evidence] = []
    cited_in: list[Citation] = []

    @model_validator(mode="after")
    def _checked(self) -> WechatAccount:
        if self.id is not None and not WECHAT_ID.match(self.id):
            raise ValueError(f"id {self.id!r} is no WeChat ID (6–20 letters, digits, '_' or '-', starting with a letter)")
        if self.biz is not None and not BIZ.match(self.biz):
            raise ValueError(f"biz {self.biz!r} is not the base64 __biz of an article link")
        if self.slug is not None and not SLUG.match(self.slug):
            raise ValueError("slug: use lower-case letters, digits, '-' and '_' only")
        if self.fills and not any(item.kind != "inference" for item in self.evidence):
            raise ValueError("an id or biz needs evidence that is not inference (where it was read)")
        if self.biz and not self.id and not self.slug:
            raise ValueError("an account known only by its biz needs a slug (its source's name)")
        return self

    @property
    def fills(self) -> tuple[str, ...]:
        """The mirror template's fields this account can fill."""
        return tuple(name for name in TEMPLATE_FIELDS if getattr(self, name))

    @property
    def source_name(self) -> str:
        return "wechat_" + (self.id or self.slug or "").lower().replace("-", "_")


class Catalogue(Strict):
    checked: datetime.date
    accounts: list[WechatAccount] = Field(min_length=1)


def catalogue_path(sources_dir: Path) -> Path:
    return sources_dir.parent / CATALOGUE_FILE


def load_catalogue(path: Path) -> Catalogue | None:
    """The catalogue at ``path`` (None when there is none); problems name file, line and field."""
    return load_model(path, Catalogue) if path.is_file() else None


def template_fields(template: str) -> set[str]:
    """The fields a mirror template names; a template the crawler cannot use is refused with why."""
    where = f"{MIRROR_SETTING}={template!r}"
    if urlsplit(template).scheme not in ("http", "https") or not urlsplit(template).hostname:
        raise WatchlistError([f"{where}: not an http(s) URL (e.g. http://rsshub:1200/wechat/sogou/{{id}})"])
    try:
        named = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as error:
        raise WatchlistError([f"{where}: {error}"]) from None
    unknown = named - set(TEMPLATE_FIELDS)
    if unknown or not named:
        raise WatchlistError([f"{where}: name the account with {{id}} (WeChat ID) and/or {{biz}} (__biz)"
                              + (f"; unknown field(s): {', '.join(sorted(unknown))}" if unknown else "")])
    return named


def catalogue_sources(path: Path, mirror: str | None) -> tuple[list[FeedSource], list[str]]:
    """The feed sources the catalogue at ``path`` yields through ``mirror``, and notes on the
    accounts it leaves out (see :func:`followed_accounts`)."""
    catalogue = load_catalogue(path)
    if catalogue is None or not mirror:
        return [], []
    return followed_accounts(catalogue, mirror, path)


def followed_accounts(catalogue: Catalogue, mirror: str, path: Path) -> tuple[list[FeedSource], list[str]]:
    """The feed sources ``catalogue`` (read from ``path``) yields through ``mirror``, and notes on
    the accounts it leaves out (a field the template names unknown; followed by a watchlist of
    their own)."""
    needed = template_fields(mirror)
    sources, watched, unknown = [], [], []
    for account in catalogue.accounts:
        if account.watched_by:
            watched.append(f"{account.name} ({account.watched_by})")
        elif needed - set(account.fills):
            unknown.append(account.name)
        else:
            sources.append(feed_source(account, mirror, catalogue.checked, path))
    notes = []
    if unknown:
        notes.append(f"skipped, their {' or '.join(sorted(needed))} unknown: {', '.join(unknown)}")
    if watched:
        notes.append(f"followed by their own watchlist in sources/: {', '.join(watched)}")
    return sources, notes


def feed_source(account: WechatAccount, mirror: str, checked: datetime.date, path: Path) -> FeedSource:
    """The ``kind: feed`` source that reads ``account`` through the mirror."""
    url = mirror.format(**{name: quote(getattr(account, name) or "", safe="") for name in TEMPLATE_FIELDS})
    source = FeedSource.model_validate({
        "name": account.source_name,
        "label": f"{account.name} 微信公众号 ({account.label})",
        "homepage": "https://mp.weixin.qq.com/",
        "kind": "feed",
        "schedule": SCHEDULE,
        "lists": [{"url": url, "label": f"{account.name} (WeChat mirror)"}],
        "feed": {"article_url": ARTICLE_URL, "content": "article"},
        "article_url_names_column": False,  # /s/<id> names no account: coverage needs the stored post
        "politeness": {"robots_txt": "obey", "delay": 5.0, "concurrency": 1},
        "provenance": {
            "checked": checked,
            "list_url": f"the operator's mirror ({MIRROR_SETTING}) filled with {', '.join(account.fills)}",
            "selectors": "a feed: RSS, Atom or JSON Feed, whichever the mirror serves",
            "article": "posts on mp.weixin.qq.com, read by the WeChat page object",
            "evidence": [item.model_dump() for item in account.evidence],
        },
    })
    return source.model_copy(update={"file": path})


def status_line(path: Path, mirror: str | None) -> str | None:
    """What `crawl sources` says about the catalogue: disabled, or how many accounts it follows."""
    catalogue = load_catalogue(path)
    if catalogue is None:
        return None
    count = len(catalogue.accounts)
    if not mirror:
        return f"{count} WeChat accounts catalogued; disabled until {MIRROR_SETTING} is set"
    followed, notes = followed_accounts(catalogue, mirror, path)
    return "\n".join([f"{count} WeChat accounts catalogued; {len(followed)} followed through {mirror}", *(f"  {n}" for n in notes)])
