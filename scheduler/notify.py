"""Delivery through Apprise: e-mail, Slack, Telegram, ... — whatever URLs the operator gives.

Recipients are Apprise URLs in ``RADAR_NOTIFY`` (separated by spaces or commas) or an Apprise
configuration file in ``RADAR_APPRISE_CONFIG`` (YAML, where each URL may carry tags such as
``ops`` or ``bio``). URLs carry secrets, so nothing here ever logs one whole — and Apprise's
own logger is kept at INFO and passed through :func:`redact`, since at DEBUG it prints the
URLs it posts to (webhook tokens in the path).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

import apprise

log = logging.getLogger(__name__)
# Everything up to the last "@" before the query is credentials, so a password holding a raw
# "@" or "/" (mailto://user:p@ss/word@host) is hidden whole; only scheme and host remain.
SECRET = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?:[^\s?#]*@)?(?P<host>[^\s/?#:@]*)[^\s]*", re.IGNORECASE)


# What is left: a word with an "@" that is not a URL (``mailto//user:pw@host``, a typo Apprise
# quotes back): all before its last "@" goes. An e-mail address loses its local part too.
USERINFO = re.compile(r"(?<!\S)[^\s…]*@(?=[\w\[])")


def redact(text: str) -> str:
    """``mailto://user:pw@host/...`` → ``mailto://…@host`` — for logs, `crawl status` and replies."""
    return USERINFO.sub("…@", SECRET.sub(lambda m: f"{m.group('scheme')}…@{m.group('host')}", text))


class _RedactApprise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


# Not DEBUG even under -vv: Apprise, and urllib3 under it, log whole URLs there.
for _name in ("apprise", "urllib3"):
    logging.getLogger(_name).setLevel(logging.INFO)
logging.getLogger("apprise").addFilter(_RedactApprise())


@dataclass
class Message:
    title: str
    text: str
    markdown: str
    html: str
    tag: str | None = None


@dataclass(frozen=True)
class ChannelResult:
    """What one recipient (one Apprise URL) answered."""

    key: str  # a hash of the full URL: remembers who accepted without storing a secret
    channel: str  # the URL, redacted
    accepted: bool
    reason: str = ""  # why it refused, from the channel's log, redacted

    def __str__(self) -> str:
        return f"{self.channel}: accepted" if self.accepted else f"{self.channel}: refused ({self.reason or 'no reason given'})"


def apprise_schemes() -> list[str]:
    """The URL schemes this Apprise installation can send to."""
    found: set[str] = set()
    for schema in apprise.Apprise().details()["schemas"]:
        for field in ("protocols", "secure_protocols"):
            value = schema.get(field) or ()
            found.update([value] if isinstance(value, str) else value)
    return sorted(found)


class Notifier:
    """Sends a message to the recipients its tag selects, one channel at a time, so each
    channel's answer is known (Apprise's own ``notify`` answers one bool for all)."""

    def __init__(self, urls: str | None = None, config_path: str | None = None):
        self.apprise = apprise.Apprise()
        self.rejected: list[str] = []  # URLs Apprise did not understand, redacted
        for url in re.split(r"[\s,]+", urls or ""):
            if not url:
                continue
            # A long digest is split into several messages rather than refused or cut.
            split = url if "overflow=" in url else url + ("&" if "?" in url else "?") + "overflow=split"
            if not self.apprise.add(split):
                self.rejected.append(redact(url))
                log.error("notification URL not understood by Apprise: %s", redact(url))
        if config_path:
            config = apprise.AppriseConfig()
            config.add(config_path)
            self.apprise.add(config)

    @property
    def configured(self) -> bool:
        return len(self.apprise) > 0

    def send(self, message: Message, skip: Collection[str] = ()) -> list[ChannelResult]:
        """Send to each selected channel whose key is not in ``skip`` (those accepted it before)."""
        if not self.configured:
            log.warning("no recipients configured (RADAR_NOTIFY / RADAR_APPRISE_CONFIG): %r not sent", message.title)
            return []
        tag = message.tag or "all"
        services = list(self.apprise.find(tag)) or list(self.apprise.find("all"))  # nobody carries the tag: everyone
        return [self._send_one(service, message) for service in services if channel_key(service) not in skip]

    def _send_one(self, service: object, message: Message) -> ChannelResult:
        # A one-service Apprise renders the HTML body for that channel (HTML mail with a text
        # part, Markdown or text for chat) and splits what the channel cannot take at once;
        # its result carries the channel's own log, which says why it refused.
        single = apprise.Apprise(asset=self.apprise.asset)
        single.add(service)
        try:
            result = single.notify(body=message.html, title=message.title, body_format=apprise.NotifyFormat.HTML)
            accepted, reason = bool(result), _reason(result)
        except Exception as exc:  # a plugin raising must not stop the other channels
            accepted, reason = False, f"{type(exc).__name__}: {exc}"
        return ChannelResult(channel_key(service), channel_name(service), accepted, "" if accepted else redact(reason)[:300])


def _reason(result: object) -> str:
    """The last warning a channel logged while refusing."""
    said = [entry.message for outcome in getattr(result, "results", ()) for entry in outcome.logs()
            if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    return said[-1] if said else "the channel gave no reason"


def channel_key(service: object) -> str:
    return hashlib.sha256(service.url().encode()).hexdigest()[:16]  # type: ignore[attr-defined]


def channel_name(service: object) -> str:
    return redact(service.url(privacy=True))  # type: ignore[attr-defined]
