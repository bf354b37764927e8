"""What the crawler may fetch: only what a source names, never the server's own network.

Two independent checks, applied to every request (redirects included, since Scrapy's
RedirectMiddleware hands each redirect back to the engine as a new request):

- **The address.** A host that resolves to a loopback, link-local, private, multicast,
  reserved or unspecified address is refused unless the operator allows its network
  (``RADAR_ALLOW_PRIVATE_NETWORKS``). Behind a proxy the proxy resolves names, not us:
  there only literal IP addresses (and ``localhost``) can be judged, the rest is the
  proxy's business — that is what a proxy in front of a crawler is for.
- **The source.** List pages must be on the source's hosts (its list URLs' hosts plus
  ``allowed_hosts:``); an article must match the source's ``article_url`` or, for a source
  without one, be on those hosts. Applied to the URL actually fetched, so a redirect cannot
  carry a request somewhere the watchlist never named.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable

from common.settings import Network
from common.urls import host_key

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCALHOST = re.compile(r"(?:^|\.)localhost\.?$", re.I)  # RFC 6761: always loopback, whoever resolves it


def literal_address(host: str) -> Address | None:
    """The address a host names literally — legacy forms such as ``2130706433`` or ``0x7f.1`` too."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # what the C resolver would make of it
    except (OSError, ValueError):
        return None


def forbidden_kind(address: Address) -> str | None:
    """Why an address is not on the public internet (None: it is)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-global"


def resolve(host: str) -> list[Address]:
    """Every address the system resolver returns for ``host`` (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


class AddressGuard:
    """Judges hosts by address, caching each host's verdict for the life of the guard (one run)."""

    def __init__(self, allowed: Iterable[Network] = (), resolver: Callable[[str], list[Address]] = resolve):
        self.allowed = list(allowed)
        self.resolver = resolver
        self._verdicts: dict[tuple[str, bool], str | None] = {}

    def refusal(self, host: str, proxied: bool) -> str | None:
        """Why ``host`` must not be fetched (None: it may). ``proxied``: a proxy resolves names."""
        key = (host.lower(), proxied)
        if key not in self._verdicts:
            self._verdicts[key] = self._judge(host.lower(), proxied)
        return self._verdicts[key]

    def _judge(self, host: str, proxied: bool) -> str | None:
        if not host:
            return "no host"
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        elif _LOCALHOST.search(host):
            addresses = [ipaddress.ip_address("127.0.0.1")]
        elif proxied:
            return None  # the proxy resolves it; see the module docstring
        else:
            addresses = self.resolver(host)  # unresolvable: let the download fail as a DNS error
        for address in addresses:
            kind = forbidden_kind(address)
            if kind and not any(address in network for network in self.allowed):
                return f"{host} is a {kind} address ({address}); allow it with RADAR_ALLOW_PRIVATE_NETWORKS"
        return None


def source_hosts(source: object) -> set[str]:
    """The hosts a source may fetch list pages from: its list URLs' and those it allows explicitly."""
    hosts = {host_key(entry.url) for entry in source.lists}  # type: ignore[attr-defined]
    return hosts | {h.lower() for h in getattr(source, "allowed_hosts", ())}


def on_source_hosts(url: str, source: object) -> bool:
    return url.startswith(("http://", "https://")) and host_key(url) in source_hosts(source)


def follows(url: str, source: object) -> bool:
    """Whether ``url`` is one of the source's articles: its ``article_url`` when it has one,
    otherwise any page on its own hosts (never the whole web)."""
    if not url.startswith(("http://", "https://")):
        return False
    pattern = getattr(source, "article_pattern", None)
    if pattern:
        return re.match(pattern, url) is not None
    return on_source_hosts(url, source)


def keeps_entry(url: str, source: object) -> bool:
    """Whether a list entry is one of the source's articles. Entries a full-text feed carries
    (``content: feed``) are never fetched, so only ``article_url`` narrows them."""
    feed = getattr(source, "feed", None)
    if feed is not None and getattr(feed, "content", None) == "feed":
        from crawler.listings import is_article_url

        return is_article_url(url, getattr(source, "article_pattern", None))
    return follows(url, source)
