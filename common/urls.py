"""The one canonical-URL function: an item's identity everywhere in cnst-radar."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Parameters that track how a reader arrived, never which article they read.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|spm|from|wfr|for|scene|chksm|srcid|sharer_\w+|share_\w+|isappinstalled|"
    r"clicktime|enterid|ascene|devicetype|version|nettype|pass_ticket|wx_header|exportkey|"
    r"sessionid|subscene|poc_token|_wv|ivk_sa|mpshare|from_source)$",
    re.IGNORECASE,
)
# Parameters that never name an article when they come together: WeChat's in-app browser
# appends its OAuth redirect's `code` and `state` to a shared link (NDRC pages are cited as
# `…/t20230613_1357505.html?code=&state=123`). Alone, `code` or `state` may well name a page.
SHARE_PARAM_PAIRS = (frozenset({"code", "state"}),)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, aliases: Mapping[str, str] | None = None) -> str:
    """Normalise a URL so the same article always has the same key.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters,
    sorts the remaining query. A fragment that is a single-page app's route (``_route``) is
    kept: there it names the article. The scheme is kept: http and https stay distinct only when
    a site really serves both, which ours do not, so we fold http into https.
    ``aliases`` maps a host that mirrors another under the same paths to that other host
    (a source's ``alias_hosts``: ``wap.miit.gov.cn`` → ``www.miit.gov.cn``), so an article
    cited on the mirror has the key of the one we store.
    """
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"
    host = (parts.hostname or "").lower().rstrip(".")
    host = (aliases or {}).get(host, host)
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"
    query = _naming_parameters(parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), _route(parts.fragment)))


def _route(fragment: str) -> str:
    """The fragment when it is a single-page app's route (``#/home?isDetail=1&currentNewsId=…``,
    as 科技日报's e-paper links its articles; ``#!/…``), its query normalised like a URL's; ""
    for any other fragment, which points within a page (``#top``, ``#wechat_redirect``)."""
    if not fragment.startswith(("/", "!/")):
        return ""
    route, _, query = fragment.partition("?")
    kept = _naming_parameters(parse_qsl(query, keep_blank_values=True))
    return route + ("?" + urlencode(sorted(kept)) if kept else "")


def _naming_parameters(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The query parameters that may name the article: tracking ones and share pairs dropped."""
    kept = [(k, v) for k, v in pairs if not TRACKING_PARAMS.match(k)]
    names = {k.lower() for k, _ in kept}
    for pair in SHARE_PARAM_PAIRS:
        if pair <= names:
            kept = [(k, v) for k, v in kept if k.lower() not in pair]
    return kept


def host_of(url: str | None) -> str:
    """The URL's host, lower-cased, without port or trailing dot ("" when it has none)."""
    return (urlsplit(url or "").hostname or "").lower().rstrip(".")


def host_key(url: str) -> str:
    """Host, plus the port when it is not the scheme's default (another port is another service)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return host
    return f"{host}:{port}" if port and port != DEFAULT_PORTS.get(parts.scheme) else host


def host_matches(host: str, suffixes: str | Iterable[str]) -> bool:
    """Whether ``host`` is one of ``suffixes`` or a subdomain of one: ``www.most.gov.cn`` matches
    ``most.gov.cn`` and ``gov.cn``, never ``ost.gov.cn`` (a bare ``endswith`` would)."""
    if not host:
        return False
    for suffix in (suffixes,) if isinstance(suffixes, str) else suffixes:
        suffix = suffix.lower().lstrip(".")
        if host == suffix or host.endswith("." + suffix):
            return True
    return False
