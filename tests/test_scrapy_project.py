"""The project is also a plain Scrapy project (issue 18): `scrapy crawl radar -a source=NAME`
finds the settings through scrapy.cfg and stores what `crawl run` would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ROOT, Radar, expected_articles
from storage.db import transaction
from storage.models import CrawlRun, Item

SCRAPY = Path(sys.executable).with_name("scrapy")


def test_scrapy_crawl_radar_with_a_source_argument_stores_its_articles_and_run(radar: Radar, database_url: str) -> None:
    # From the project's top directory, as `scrapy` looks for scrapy.cfg there.
    done = subprocess.run([str(SCRAPY), "crawl", "radar", "-a", "source=ndrc"], env=radar.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with transaction(database_url) as session:
        urls = set(session.scalars(select(Item.canonical_url)))
        runs = session.execute(select(CrawlRun.status, CrawlRun.new)).all()
    assert {entry["url"] for entry in expected_articles("ndrc")} <= urls
    assert runs == [("ok", len(urls))]


def test_an_unknown_source_names_the_known_ones(radar: Radar) -> None:
    done = subprocess.run([str(SCRAPY), "crawl", "radar", "-a", "source=nosuch"], env=radar.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert "-a source='nosuch': no such source" in done.stderr and "ndrc" in done.stderr


def test_a_wechat_account_is_found_by_name_when_the_mirror_is_set(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from common.settings import get_settings
    from crawler.scrapy_project import named_source

    for key, value in base_env.items():
        if key.startswith("RADAR_"):
            monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="no such source"):
        named_source(get_settings(), "wechat_anshun_jkq")  # without a mirror, no WeChat source
    monkeypatch.setenv("RADAR_WECHAT_MIRROR", "http://wechat-mirror/feed/{biz}.xml")
    source = named_source(get_settings(), "wechat_anshun_jkq")  # what `-a source=wechat_anshun_jkq` looks up
    assert source.kind == "feed" and source.lists[0].url.startswith("http://wechat-mirror/feed/")
