"""A list reached through a landing page (issue 14, 中国科学报): a watchlist's list may say `via`,
a selector whose first match on the landing page names the real list page, on the landing page's
host. Exercised on the sciencenet_paper fixture (crawler/sites/news.sciencenet.cn/dz/), through
the fake internet, as `crawl` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from common.yamlfile import WatchlistError
from conftest import Radar, expected_articles
from crawler.replay import FakeInternet
from crawler.watchlist import load_source
from storage.db import transaction
from storage.models import Item

LANDING = "news.sciencenet.cn/dz/dznews_photo.aspx"
TEXT_EDITION = "news.sciencenet.cn/dz/dzzz_1.aspx?dzsbqkid=24833"
VIA_LINK = '<a href="dzzz_1.aspx?dzsbqkid=24833">转为文字版</a>'


def stored_urls(database_url: str) -> set[str]:
    with transaction(database_url) as session:
        return {item.canonical_url for item in session.scalars(select(Item))}


def landing_page(sites: Path) -> Path:
    return sites / "news.sciencenet.cn" / "dz" / "dznews_photo.aspx"


def replace_via_link(sites: Path, replacement: str) -> None:
    page = landing_page(sites)
    text = page.read_text(encoding="utf-8")
    assert VIA_LINK in text
    page.write_text(text.replace(VIA_LINK, replacement), encoding="utf-8")


def test_the_list_the_landing_page_links_is_read_and_asked_conditionally_next_time(
    radar: Radar, internet: FakeInternet, database_url: str
) -> None:
    radar("run", "--source", "sciencenet_paper")
    assert internet.hits[LANDING] == 1 and internet.hits[TEXT_EDITION] == 1
    assert stored_urls(database_url) == {e["url"] for e in expected_articles("sciencenet_paper")}
    internet.hits.clear()
    radar("run", "--source", "sciencenet_paper")
    # The landing page is read again (a new issue changes the link); the list it names is
    # asked conditionally, answered 304, and nothing else is fetched.
    assert dict(internet.hits) == {LANDING: 1, TEXT_EDITION: 1}, internet.hits


def test_a_link_off_the_landing_pages_host_is_refused_and_logged(radar: Radar, internet: FakeInternet, sites: Path, database_url: str) -> None:
    replace_via_link(sites, '<a href="https://www.sciencenet.cn/dz/dzzz_1.aspx?dzsbqkid=24833">转为文字版</a>')
    result = radar("run", "--source", "sciencenet_paper", "--source", "sciencenet", check=False)
    logged = result.stdout + result.stderr
    assert "landing page https://news.sciencenet.cn/dz/dznews_photo.aspx names a list off its host" in logged, logged[-3000:]
    assert not any(url.startswith("www.sciencenet.cn") for url in internet.hits), internet.hits
    # The run goes on: the other source is crawled as usual.
    assert {e["url"] for e in expected_articles("sciencenet")} <= stored_urls(database_url)


def test_a_landing_page_without_the_link_is_a_clear_logged_error_and_the_run_goes_on(
    radar: Radar, internet: FakeInternet, sites: Path, database_url: str
) -> None:
    replace_via_link(sites, '<a href="dzzz_1.aspx">文字版</a>')
    result = radar("run", "--source", "sciencenet_paper", "--source", "sciencenet", check=False)
    logged = result.stdout + result.stderr
    assert "names no list: via `a[href*='dzsbqkid=']::attr(href)` matched nothing" in logged, logged[-3000:]
    assert internet.hits[LANDING] == 1 and "news.sciencenet.cn/dz/dzzz_1.aspx" not in internet.hits
    assert stored_urls(database_url) == {e["url"] for e in expected_articles("sciencenet")}
    health = {s["name"]: s["health"] for s in radar.json("sources")}
    assert (health["sciencenet_paper"], health["sciencenet"]) == ("broken", "ok"), health


BASE = """name: paper
label: Paper
homepage: https://paper.example.cn/
kind: html_list
lists:
  - url: https://paper.example.cn/index.aspx
    via: "{via}"
"""


@pytest.mark.parametrize("via", ["a[href*='id='::attr(href)", "xpath://a[@href"])
def test_check_refuses_a_broken_via_selector_naming_file_line_and_field(tmp_path: Path, via: str) -> None:
    path = tmp_path / "paper.yml"
    path.write_text(BASE.format(via=via), encoding="utf-8")
    with pytest.raises(WatchlistError) as refused:
        load_source(path)
    message = str(refused.value)
    assert f"{path}:7:" in message and "field `lists.0.via`" in message and "invalid" in message, message


def test_crawl_check_names_the_broken_via_selector(radar: Radar, watchlists: Path) -> None:
    path = watchlists / "sources" / "sciencenet_paper.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("via: \"a[href*='dzsbqkid=']", "via: \"a[href*='dzsbqkid='"), encoding="utf-8")
    result = radar("check", check=False)
    assert result.returncode == 1 and "sciencenet_paper.yml:" in result.stderr and "field `lists.0.via`" in result.stderr


def test_the_doctor_shows_the_landing_step(radar: Radar) -> None:
    result = radar("doctor", "--source", "sciencenet_paper")
    shown = result.stdout
    assert "Landing page" in shown and "dzzz_1.aspx?dzsbqkid=24833" in shown, shown
    assert "sbhtmlnews/2026/6/390071.shtm" in shown, shown
