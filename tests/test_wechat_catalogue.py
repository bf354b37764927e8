"""The WeChat catalogue (watchlists/wechat.yml): every id it holds is backed by evidence, it yields
no source until RADAR_WECHAT_MIRROR is set, and with the setting a catalogued account is crawled
end to end through a mirror on the fake internet (crawler/sites/wechat-mirror/)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ROOT, Radar
from common.urls import canonical_url
from common.yamlfile import WatchlistError
from crawler import wechat
from crawler.watchlist import load_sources
from storage.db import transaction
from storage.models import Item

CATALOGUE = ROOT / "watchlists" / "wechat.yml"
SOURCES = ROOT / "watchlists" / "sources"
MIRROR = "http://wechat-mirror/feed/{biz}.xml"  # the fixture mirror's layout (its _site.yml)
# The post shared/reports/2023-06-21.txt cites, as the crawler stores it (canonical form).
ANSHUN_POST = canonical_url("https://mp.weixin.qq.com/s?__biz=MzA4NTE0MDg2Mg==&mid=2651827934&idx=1&sn=28762a1d5bf654175c6568acdee76fa3")


def test_every_catalogued_id_and_biz_is_backed_by_evidence() -> None:
    catalogue = wechat.load_catalogue(CATALOGUE)
    assert catalogue is not None and len(catalogue.accounts) >= 10
    for account in catalogue.accounts:
        if account.fills:
            assert any(e.kind != "inference" for e in account.evidence), account.name
        if account.biz:  # a biz is read off a link: one of the account's own links carries it
            links = [e.where for e in account.evidence] + [c.url for c in account.cited_in]
            assert any(f"__biz={account.biz}" in link for link in links), account.name
        if account.watched_by:
            assert (SOURCES / f"{account.watched_by}.yml").is_file(), account.name
    names = {a.name for a in catalogue.accounts}
    assert {"科技日报", "中国科学报", "学习时报", "中国科学院", "工信微报"} <= names


def test_an_id_without_evidence_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "wechat.yml"
    path.write_text("checked: 2026-11-29\naccounts:\n  - name: 某账号\n    label: 어느 계정\n    id: someaccount\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match=r"wechat\.yml:3: .*needs evidence"):
        wechat.load_catalogue(path)


@pytest.mark.parametrize("template, reason", [
    ("rsshub:1200/wechat/sogou/{id}", "not an http"),
    ("ftp://mirror/{id}", "not an http"),
    ("http://mirror/feeds/all.atom", r"name the account with \{id\}"),
    ("http://mirror/{name}.xml", "unknown field"),
    ("http://mirror/{id", "expected '}'"),
])
def test_a_malformed_mirror_template_is_a_clear_error_at_load(template: str, reason: str) -> None:
    with pytest.raises(WatchlistError, match=f"RADAR_WECHAT_MIRROR=.*{reason}"):
        load_sources(SOURCES, template)


def test_without_a_mirror_the_catalogue_yields_no_source() -> None:
    names = {s.name for s in load_sources(SOURCES)}
    catalogue = wechat.load_catalogue(CATALOGUE)
    assert not names & {a.source_name for a in catalogue.accounts if a.fills}
    line = wechat.status_line(CATALOGUE, None)
    assert line == f"{len(catalogue.accounts)} WeChat accounts catalogued; disabled until RADAR_WECHAT_MIRROR is set"


def test_a_template_naming_a_field_an_account_lacks_skips_it_with_a_note() -> None:
    followed, notes = wechat.catalogue_sources(CATALOGUE, "http://rsshub:1200/wechat/sogou/{id}")
    by_id = {s.name for s in followed}
    assert "wechat_anshun_jkq" not in by_id  # known by its biz only
    assert any("安顺经济技术开发区" in note and "id unknown" in note for note in notes)
    assert any("科技日报 (wechat_rsshub)" in note for note in notes)  # watched by its own watchlist


def test_a_catalogued_account_is_a_feed_source_through_the_mirror() -> None:
    source = next(s for s in load_sources(SOURCES, MIRROR) if s.name == "wechat_anshun_jkq")
    assert source.kind == "feed" and source.feed.content == "article"
    assert [entry.url for entry in source.lists] == ["http://wechat-mirror/feed/MzA4NTE0MDg2Mg%3D%3D.xml"]
    assert source.provenance.evidence[0].kind == "public-url" and source.politeness.delay == 5.0


def test_crawl_sources_says_the_catalogue_waits_for_the_mirror(radar: Radar) -> None:
    listed = radar("sources").stdout
    assert "WeChat accounts catalogued; disabled until RADAR_WECHAT_MIRROR is set" in listed
    assert "wechat_anshun_jkq" not in listed


def test_a_malformed_mirror_stops_crawl_sources_with_one_clear_line(radar: Radar) -> None:
    radar.env["RADAR_WECHAT_MIRROR"] = "wechat-mirror/feed/{biz}.xml"
    result = radar("sources", check=False)
    assert result.returncode == 2 and "RADAR_WECHAT_MIRROR='wechat-mirror/feed/{biz}.xml': not an http(s) URL" in result.stderr


def test_a_catalogued_account_is_crawled_end_to_end_through_the_mirror(radar: Radar, database_url: str) -> None:
    radar.env["RADAR_WECHAT_MIRROR"] = MIRROR
    listed = radar("sources").stdout
    assert "wechat_anshun_jkq" in listed and re.search(r"WeChat accounts catalogued; \d+ followed through http://wechat-mirror/", listed)
    result = radar("run", "--source", "wechat_anshun_jkq")
    assert "ok  wechat_anshun_jkq:" in result.stdout, result.stdout + result.stderr
    with transaction(database_url) as session:
        items = {item.canonical_url: item for item in session.scalars(select(Item))}
    assert list(items) == [ANSHUN_POST]
    item = items[ANSHUN_POST]
    assert item.title == "安顺：到2035年建成完整的航空产业体系"
    assert item.origin == "安顺经济技术开发区"
    assert item.published_at == datetime.fromisoformat("2023-06-07T10:30:00+08:00")
    assert item.body.startswith("贵州航空产业城规划建设新闻发布会在北京举行")


def test_a_catalogued_account_counts_for_coverage_only_with_its_stored_posts() -> None:
    """Through the mirror an account's source matches every account's /s/ links (they name none),
    so coverage credits it with a cited post only once stored (`article_url_names_column`)."""
    from crawler import coverage

    sources = load_sources(SOURCES, MIRROR)
    anshun = next(s for s in sources if s.name == "wechat_anshun_jkq")
    assert anshun.article_url_names_column is False
    cited = coverage.Citation("https://mp.weixin.qq.com/s/m17vg5sNbuzB1F8g_bZu0A", "reference")
    assert coverage.judge(None, [cited], [anshun], {}).wechat == {"cited": 1, "watched": 0}
