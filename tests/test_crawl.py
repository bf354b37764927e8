"""End to end: `crawl run` over real HTTP on loopback, through the proxy setting, into each database."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import Radar, add_ndrc_article, expected_articles, source_names
from crawler.replay import FakeInternet, fault
from common.text import clean_inline
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item, RawPage


def stored(database_url: str) -> dict[str, Item]:
    with transaction(database_url) as session:
        return {item.canonical_url: item for item in session.scalars(select(Item))}


def last_run(database_url: str) -> CrawlRun:
    with transaction(database_url) as session:
        return session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()


def assert_matches(item: Item, expected: dict) -> None:
    assert item.title == expected["title"], item.canonical_url
    assert item.published_at == datetime.fromisoformat(expected["published"]), item.canonical_url
    if expected.get("origin"):
        assert item.origin == expected["origin"], item.canonical_url
    body = clean_inline(item.body.replace("\n", " "))
    assert clean_inline(expected["body_first"]) in body[:300], item.canonical_url
    assert clean_inline(expected["body_last"]) in body[-300:], item.canonical_url


@pytest.mark.parametrize("source", source_names())
def test_a_first_run_stores_every_fixture_article_with_correct_fields(radar: Radar, database_url: str, source: str) -> None:
    result = radar("run", "--source", source)
    items = stored(database_url)
    expected = expected_articles(source)
    assert sorted(items) == sorted(e["url"] for e in expected), result.stdout
    for entry in expected:
        assert_matches(items[entry["url"]], entry)
    assert f"ok  {source}:" in result.stdout and "Crawl summary" in result.stdout


def test_a_second_run_fetches_only_the_list_pages_and_stores_nothing(radar: Radar, internet: FakeInternet, database_url: str) -> None:
    radar("run", "--source", "ndrc")
    count = len(stored(database_url))
    internet.hits.clear()
    radar("run", "--source", "ndrc")
    # One conditional GET, answered 304; robots.txt comes from the day-long cache.
    assert dict(internet.hits) == {"www.ndrc.gov.cn/xxgk/zcfb/tz/": 1}, internet.hits
    assert len(stored(database_url)) == count
    run = last_run(database_url)
    assert (run.status, run.not_modified, run.new, run.articles_found) == ("ok", 1, 0, 0)


NDRC_LIST = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/"


def test_a_list_answered_304_keeps_its_state_through_the_clean_up(radar: Radar, database_url: str) -> None:
    from datetime import timedelta, timezone

    from common.settings import get_settings
    from scheduler import jobs
    from storage.models import ListPageState

    radar("run", "--source", "ndrc")
    long_ago = datetime(2000, 1, 1, tzinfo=timezone.utc)
    with transaction(database_url) as session:
        session.execute(ListPageState.__table__.update().values(fetched_at=long_ago))
    radar("run", "--source", "ndrc")  # answered 304: the stored state is confirmed, not re-saved
    assert last_run(database_url).not_modified == 1
    with transaction(database_url) as session:
        confirmed = session.scalar(select(ListPageState.fetched_at).where(ListPageState.url == NDRC_LIST))
    assert confirmed is not None and confirmed > long_ago
    jobs.cleanup(get_settings(database_url=database_url, raw_retention_days=30), confirmed + timedelta(days=1))
    with transaction(database_url) as session:  # its next page, not asked behind the 304, ages out
        assert session.scalars(select(ListPageState.url)).all() == [NDRC_LIST]


def test_without_validators_an_unchanged_first_page_ends_the_run(radar: Radar, internet: FakeInternet, sites: Path, database_url: str) -> None:
    (sites / "www.ndrc.gov.cn" / "_site.yml").write_text("etag: false\nlast_modified: false\n")
    radar("run", "--source", "ndrc")
    internet.hits.clear()
    radar("run", "--source", "ndrc")
    fetched = {key for key in internet.hits if not key.endswith("robots.txt")}
    assert fetched == {"www.ndrc.gov.cn/xxgk/zcfb/tz/"}, fetched  # known entries: no pagination, no articles
    run = last_run(database_url)
    assert (run.list_pages, run.new, run.skipped) == (1, 0, run.articles_found)


def test_adding_an_article_makes_the_next_run_store_exactly_that_one(radar: Radar, sites: Path, database_url: str) -> None:
    radar("run", "--source", "ndrc")
    before = stored(database_url)
    new_url = add_ndrc_article(sites, "t20991231_9999999", "关于测试新增文章的通知")
    radar("run", "--source", "ndrc")
    after = stored(database_url)
    assert set(after) - set(before) == {new_url}
    assert after[new_url].title == "关于测试新增文章的通知"
    assert last_run(database_url).new == 1


FAULTS = [
    ("status", 500, False),
    ("status", 404, False),
    ("reset", None, False),
    ("truncate", 0.4, False),
    ("redirect_loop", None, False),
    ("huge", 50, False),
    ("delay", 10, False),  # far longer than the 1 s timeout set below, even on a loaded machine
    ("charset", "iso-8859-1", True),  # a lying header: the bytes are still read right
]


@pytest.mark.parametrize("kind, value, survives", FAULTS, ids=[f"{k}-{v}" for k, v, _ in FAULTS])
def test_every_injected_fault_is_survived_with_the_rest_of_the_run_intact(
    radar: Radar, internet: FakeInternet, database_url: str, kind: str, value: object, survives: bool
) -> None:
    expected = expected_articles("ndrc")
    victim = expected[0]["url"]
    internet.inject(victim, fault(kind, value))
    radar.env["RADAR_DOWNLOAD_TIMEOUT"] = "1"
    result = radar("run", "--source", "ndrc")
    items = stored(database_url)
    for entry in expected[1:]:
        assert_matches(items[entry["url"]], entry)
    run = last_run(database_url)
    if survives:
        assert_matches(items[victim], expected[0])
        assert run.status == "ok"
    else:
        assert victim not in items  # nothing half-written
        assert run.status == "partial" and run.errors >= 1, result.stdout
        # The next run, with the fault gone, picks up what was missed.
        internet.clear_faults()
        radar("run", "--source", "ndrc")
        assert_matches(stored(database_url)[victim], expected[0])


def test_a_source_whose_lists_cannot_be_fetched_fails_with_a_non_zero_exit(radar: Radar, internet: FakeInternet, database_url: str) -> None:
    internet.inject("https://www.ndrc.gov.cn/xxgk/zcfb/tz/", fault("status", 503))
    result = radar("run", "--source", "ndrc", "--source", "cas", check=False)
    assert result.returncode == 1
    assert "failed" in result.stdout and "HTTP 503" in result.stdout
    with transaction(database_url) as session:
        statuses = dict(session.execute(select(CrawlRun.source_id, CrawlRun.status)).all())
    assert sorted(statuses.values()) == ["failed", "ok"]  # the other source was unaffected


def test_a_crawl_killed_mid_run_leaves_no_half_written_items_and_a_rerun_completes(
    radar: Radar, internet: FakeInternet, database_url: str
) -> None:
    expected = expected_articles("ndrc")
    for entry in expected[2:]:
        internet.inject(entry["url"], fault("delay", 30))
    ensure_schema(database_url)  # so the test can watch the table fill up
    process = radar.popen("run", "--source", "ndrc")
    deadline = datetime.now().timestamp() + 60
    while len(stored(database_url)) < 1 and datetime.now().timestamp() < deadline:
        time.sleep(0.2)
    process.kill()
    process.wait()
    internet.clear_faults()
    radar("run", "--source", "ndrc")
    items = stored(database_url)
    for entry in expected:
        assert_matches(items[entry["url"]], entry)
    with transaction(database_url) as session:
        assert session.scalar(select(func.count(RawPage.item_id))) == len(items)  # every item is whole


def test_refresh_refetches_and_updates_a_changed_article(radar: Radar, sites: Path, database_url: str) -> None:
    radar("run", "--source", "ndrc")
    target = expected_articles("ndrc")[0]
    path = sites / "www.ndrc.gov.cn" / target["url"].split("www.ndrc.gov.cn/")[1]
    path.write_text(path.read_text(encoding="utf-8").replace(target["body_last"], target["body_last"] + "（已更新）"), encoding="utf-8")
    radar("run", "--source", "ndrc")
    assert last_run(database_url).updated == 0  # not re-fetched without --refresh
    radar("run", "--source", "ndrc", "--refresh")
    assert last_run(database_url).updated == 1
    assert "（已更新）" in stored(database_url)[target["url"]].body


def test_since_ignores_older_list_entries(radar: Radar, database_url: str) -> None:
    expected = expected_articles("ndrc")
    newest = max(datetime.fromisoformat(e["published"]) for e in expected)
    radar("run", "--source", "ndrc", "--since", newest.date().isoformat())
    items = stored(database_url)
    assert items and all(i.published_at.date() >= newest.date() for i in items.values())


def test_unknown_source_names_are_refused_with_the_known_ones(radar: Radar) -> None:
    result = radar("run", "--source", "nosuch", check=False)
    assert result.returncode == 2 and "Unknown source(s): nosuch" in result.stderr and "ndrc" in result.stderr


def test_a_broken_watchlist_stops_the_run_with_a_clear_error(radar: Radar, watchlists: Path) -> None:
    path = watchlists / "sources" / "ndrc.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: html_list", "kind: html_lists"), encoding="utf-8")
    result = radar("run", "--all", check=False)
    assert result.returncode == 2
    assert "ndrc.yml:" in result.stderr and "field `kind`" in result.stderr
    check = radar("check", check=False)
    assert check.returncode == 1 and "ndrc.yml:" in check.stderr


def test_items_show_and_sources_list_what_was_stored(radar: Radar) -> None:
    radar("run", "--source", "cas")
    listed = radar.json("items", "--source", "cas")
    expected = {e["url"] for e in expected_articles("cas")}
    assert {i["canonical_url"] for i in listed} == expected
    one = radar.json("show", str(listed[0]["id"]))
    assert one["body"] and one["title"] == listed[0]["title"]
    by_url = radar.json("show", listed[0]["url"] + "?utm_source=wechat")
    assert by_url["id"] == listed[0]["id"]
    sources = {s["name"]: s for s in radar.json("sources")}
    assert sources["cas"]["health"] == "ok" and sources["cas"]["items"] == len(expected)
    assert sources["ndrc"]["last_run"] is None
    csv = radar("items", "--csv").stdout.splitlines()
    assert csv[0].startswith("id,source,") and len(csv) == len(expected) + 1


def test_robots_txt_is_obeyed(radar: Radar, internet: FakeInternet, sites: Path, database_url: str) -> None:
    expected = expected_articles("ndrc")
    forbidden = expected[0]["url"].split("www.ndrc.gov.cn")[1]
    (sites / "www.ndrc.gov.cn" / "robots.txt").write_text(f"User-agent: *\nDisallow: {forbidden}\n")
    radar("run", "--source", "ndrc")
    assert expected[0]["url"] not in stored(database_url)
    assert not any(key.endswith(forbidden) for key in internet.hits)
    run = last_run(database_url)
    assert run.status == "ok" and run.stats["radar/forbidden_by_robots"] == 1


def test_a_json_list_source_needs_only_yaml(radar: Radar, sites: Path, watchlists: Path, database_url: str) -> None:
    """gov.cn-style list files: a top-level JSON array (with a BOM) of TITLE / URL / DOCRELPUBTIME."""
    expected = expected_articles("ndrc")[:3]
    records = [{"TITLE": e["title"], "URL": e["url"], "DOCRELPUBTIME": e["published"][:10]} for e in expected]
    (sites / "www.ndrc.gov.cn" / "list.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(records, ensure_ascii=False).encode())
    (watchlists / "sources" / "ndrc_json.yml").write_text(
        "name: ndrc_json\nlabel: 发改委 (JSON)\nhomepage: https://www.ndrc.gov.cn/\nkind: json_list\n"
        "lists: [https://www.ndrc.gov.cn/list.json]\n"
        "list: {items: '.', link: URL, title: TITLE, date: DOCRELPUBTIME}\n",
        encoding="utf-8",
    )
    radar("run", "--source", "ndrc_json")
    items = stored(database_url)
    assert sorted(items) == sorted(e["url"] for e in expected)
    for entry in expected:
        assert_matches(items[entry["url"]], entry)


def test_a_list_page_that_failed_is_read_on_a_later_run_even_when_page_one_is_known(
    radar: Radar, internet: FakeInternet, database_url: str
) -> None:
    """Found by the soak: page 2 failed, page 1's articles were stored, and later runs — seeing
    page 1 fully known — never went back to page 2. A page never read must be read."""
    second = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/index_1.html"
    internet.inject(second, fault("status", 503))
    radar("run", "--source", "ndrc")
    assert len(stored(database_url)) < len(expected_articles("ndrc"))
    internet.clear_faults()
    radar("run", "--source", "ndrc")
    radar("run", "--source", "ndrc")
    assert sorted(stored(database_url)) == sorted(e["url"] for e in expected_articles("ndrc"))


def test_a_killed_run_is_closed_as_crashed_by_the_next_one(radar: Radar, internet: FakeInternet, database_url: str) -> None:
    for entry in expected_articles("ndrc"):
        internet.inject(entry["url"], fault("delay", 30))
    ensure_schema(database_url)
    process = radar.popen("run", "--source", "ndrc")
    deadline = time.time() + 60
    while time.time() < deadline and not _runs(database_url):
        time.sleep(0.2)
    time.sleep(1)
    process.kill()
    process.wait()
    internet.clear_faults()
    radar("run", "--source", "ndrc")
    assert [status for status in _runs(database_url)] == ["crashed", "ok"]


def _runs(database_url: str) -> list[str]:
    with transaction(database_url) as session:
        return list(session.scalars(select(CrawlRun.status).order_by(CrawlRun.id)))
