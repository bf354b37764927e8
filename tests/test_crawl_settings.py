"""The Scrapy settings a source's crawl runs with: work Scrapy does in every crawl process
only for output we never show is switched off (issue 19, crawl process start-up)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from common.settings import Settings
from conftest import ROOT
from crawler.settings import scrapy_settings
from crawler.watchlist import load_source

NDRC = ROOT / "watchlists" / "sources" / "ndrc.yml"


@pytest.fixture
def root_level() -> Iterator[Callable[[int], None]]:
    """Set the root logger's level (as `crawl -v…` does) for one test."""
    root = logging.getLogger()
    before = root.level
    yield root.setLevel
    root.setLevel(before)


def test_scrapy_does_not_parse_our_callbacks_source_on_every_response() -> None:
    settings = scrapy_settings(Settings(), load_source(NDRC))
    assert settings.getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False


def test_the_stats_dump_is_formatted_only_when_it_is_shown(root_level) -> None:  # type: ignore[no-untyped-def]
    source = load_source(NDRC)
    root_level(logging.WARNING)  # `crawl` without -v
    assert scrapy_settings(Settings(log_level="INFO"), source).getbool("STATS_DUMP") is False
    debug = scrapy_settings(Settings(log_level="DEBUG"), source)
    assert debug.getbool("STATS_DUMP") is True and debug.get("LOG_LEVEL") == "DEBUG"
    root_level(logging.DEBUG)  # `crawl -vv`: libraries' INFO is shown
    assert scrapy_settings(Settings(log_level="INFO"), source).getbool("STATS_DUMP") is True
