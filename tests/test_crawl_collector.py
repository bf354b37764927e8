"""`crawl run` keeps Python's cyclic collector off while it imports (radar.cli), and the crawl
turns it back on with what was loaded frozen out of its walks (crawler.run); a crawl started
any other way leaves the collector as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from common.settings import get_settings
from crawler.run import crawl


@pytest.fixture
def collector() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


def test_a_crawl_turns_the_collector_back_on_with_what_is_loaded_frozen(database_url: str, collector: None) -> None:
    gc.disable()
    crawl([], get_settings(database_url=database_url))
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_a_crawl_with_the_collector_on_leaves_it_alone(database_url: str, collector: None) -> None:
    frozen = gc.get_freeze_count()
    crawl([], get_settings(database_url=database_url))
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
