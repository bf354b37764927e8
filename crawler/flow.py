"""Per-source bookkeeping inside one Scrapy crawl of many sources: each source's counters, and
the moment its last request has settled (so its run can close while the others go on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.statscollectors import StatsCollector

# Sent (with ``source``, its name) once every request and item of a source has settled.
source_settled = object()
SETTLED = "radar_settled"  # request meta: this request's outcome has been counted


class SourceStats:
    """One source's ``radar/*`` counters and its request count, the figures its run is judged
    and recorded from. Each change is mirrored into the crawl's own stats, whose dump
    (``STATS_DUMP``) then shows the sum over sources."""

    def __init__(self, crawl_stats: StatsCollector):
        self.values: dict[str, Any] = {}
        self.requests = 0
        self._crawl_stats = crawl_stats

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count
        self._crawl_stats.inc_value(key, count)

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value
        self._crawl_stats.set_value(key, value)

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


class Outstanding:
    """What each source still has in flight: requests not yet settled (answered and their
    callback's output handed on, or failed) and items not yet through the pipelines, plus one
    token while its start requests are being issued. ``on_settled(name)`` is called when a
    source's count falls to zero.

    A redirect or a retry replaces its request without settling it: the replacement carries
    the count on, and settles in its place."""

    def __init__(self, on_settled: Callable[[str], None]):
        self.counts: dict[str, int] = {}
        self.on_settled = on_settled

    def add(self, source: str, count: int = 1) -> None:
        self.counts[source] = self.counts.get(source, 0) + count

    def done(self, source: str) -> None:
        self.counts[source] -= 1
        if self.counts[source] == 0:
            self.on_settled(source)

    def settle(self, meta: dict[str, Any]) -> None:
        """A request's outcome has been handled; counted once, however many paths report it."""
        if meta.get(SETTLED) or "radar_source" not in meta:
            return
        meta[SETTLED] = True
        self.done(meta["radar_source"])
