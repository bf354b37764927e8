"""Delivery through Apprise: e-mail, Slack, Telegram, ... — whatever URLs the operator gives.

Recipients are Apprise URLs in ``RADAR_NOTIFY`` (separated by spaces or commas) or an Apprise
configuration file in ``RADAR_APPRISE_CONFIG`` (YAML, where each URL may carry tags such as
``ops`` or ``bio``). URLs carry secrets, so nothing here ever logs one whole.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import apprise

log = logging.getLogger(__name__)
SECRET = re.compile(r"(?P<scheme>[a-z0-9+]+://)[^\s/@]*@?(?P<host>[^\s/?:]*)[^\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``mailto://user:pw@host/...`` → ``mailto://…@host`` — for logs and `crawl status`."""
    return SECRET.sub(lambda m: f"{m.group('scheme')}…@{m.group('host')}", text)


@dataclass
class Message:
    title: str
    text: str
    markdown: str
    html: str
    tag: str | None = None


class Notifier:
    """Sends one message to the recipients its tag selects; True only when all accepted it."""

    def __init__(self, urls: str | None = None, config_path: str | None = None):
        self.apprise = apprise.Apprise()
        for url in re.split(r"[\s,]+", urls or ""):
            if url and "overflow=" not in url:
                # A long digest is split into several messages rather than refused or cut.
                url += ("&" if "?" in url else "?") + "overflow=split"
            if url and not self.apprise.add(url):
                log.error("notification URL not understood by Apprise: %s", redact(url))
        if config_path:
            config = apprise.AppriseConfig()
            config.add(config_path)
            self.apprise.add(config)

    @property
    def configured(self) -> bool:
        return len(self.apprise) > 0

    def send(self, message: Message) -> bool:
        if not self.configured:
            log.warning("no recipients configured (RADAR_NOTIFY / RADAR_APPRISE_CONFIG): %r not sent", message.title)
            return False
        tag = message.tag or "all"
        if not any(True for _ in self.apprise.find(tag)):
            tag = "all"  # nobody carries this tag (plain RADAR_NOTIFY URLs): everyone gets it
        # One HTML body; Apprise renders it for each channel (HTML mail with a text part,
        # Markdown or text for chat) and splits what a channel cannot take in one message.
        return bool(self.apprise.notify(body=message.html, title=message.title, body_format=apprise.NotifyFormat.HTML, tag=tag))
