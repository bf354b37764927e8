"""Atom feeds: an entry's id is the item's, whatever address the feed was read at."""

from __future__ import annotations

import feedparser

from conftest import Radar
from test_web import Web, web  # noqa: F401 - the workspace over this test's database


def test_an_items_feed_entry_id_is_the_same_under_every_host_name(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc")
    token = web.user("kim").feed_token
    anonymous = web.client(user=None)
    feeds = {
        host: feedparser.parse(anonymous.get(f"/feeds/category/strategy.atom?token={token}", base_url=f"http://{host}/").data)
        for host in ("127.0.0.1:8080", "localhost:8080", "radar.example.org")
    }
    ids = {host: {entry.link: entry.id for entry in feed.entries} for host, feed in feeds.items()}
    assert ids["127.0.0.1:8080"] and ids["127.0.0.1:8080"] == ids["localhost:8080"] == ids["radar.example.org"]
    assert all(entry_id.startswith("tag:cnst-radar,2024:item:") for entry_id in ids["localhost:8080"].values())
    assert len({feed.feed.id for feed in feeds.values()}) == 1  # the feed's own id too
