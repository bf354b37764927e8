"""One Scrapy crawler for every source of a run (issue 19): each source still gets its own run
row, counters, health and progress line, closed when its own last request settles, and its
own politeness on the hosts it names."""

from __future__ import annotations


from sqlalchemy import select

from common.settings import Settings
from conftest import ROOT, Radar
from crawler.flow import Outstanding
from crawler.replay import FakeInternet, fault
from crawler.settings import crawl_settings, scrapy_settings
from crawler.spiders import SourceSpider
from crawler.watchlist import load_source
from storage.db import transaction
from storage.models import CrawlRun, Source

SOURCES = ROOT / "watchlists" / "sources"


def politeness(name: str, **changes: object):  # type: ignore[no-untyped-def]
    source = load_source(SOURCES / f"{name}.yml")
    return source.model_copy(update={"politeness": source.politeness.model_copy(update=changes)})


def test_each_source_keeps_its_politeness_on_its_own_hosts_and_a_shared_host_the_stricter() -> None:
    ndrc, news = politeness("ndrc", delay=3.0, concurrency=2), politeness("ndrc_news", delay=1.0, concurrency=1)
    cas = politeness("cas", delay=0.5)
    settings = crawl_settings(Settings(), [ndrc, news, cas])
    slots = settings.getdict("DOWNLOAD_SLOTS")
    assert slots["www.ndrc.gov.cn"] == {"delay": 3.0, "concurrency": 1}  # both sources list this host
    assert slots["www.cas.cn"]["delay"] == 0.5
    assert settings.getfloat("DOWNLOAD_DELAY") == Settings().download_delay  # hosts no source names
    assert settings.getint("CONCURRENT_REQUESTS") == 3 * scrapy_settings(Settings(), cas).getint("CONCURRENT_REQUESTS")
    alone = scrapy_settings(Settings(), ndrc)  # one source: its politeness is the crawl's, on every host
    assert (alone.getfloat("DOWNLOAD_DELAY"), alone.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), alone.getdict("DOWNLOAD_SLOTS")) == (3.0, 2, {})


def test_a_source_that_ignores_robots_txt_marks_its_own_requests_only() -> None:
    ignoring = politeness("cas", robots_txt="ignore", reason="the site's robots.txt forbids everything, even its feed")
    obeying = load_source(SOURCES / "ndrc.yml")
    assert crawl_settings(Settings(), [ignoring, obeying]).getbool("ROBOTSTXT_OBEY") is True
    spider = SourceSpider(sources=[ignoring, obeying])
    mine = spider.list_request(ignoring, "https://www.cas.cn/cm/", "https://www.cas.cn/cm/", 1)
    theirs = spider.list_request(obeying, "https://www.ndrc.gov.cn/xxgk/zcfb/tz/", "https://www.ndrc.gov.cn/xxgk/zcfb/tz/", 1)
    assert (mine.meta["radar_source"], mine.meta.get("dont_obey_robotstxt")) == ("cas", True)
    assert (theirs.meta["radar_source"], "dont_obey_robotstxt" in theirs.meta) == ("ndrc", False)
    assert crawl_settings(Settings(), [ignoring]).getbool("ROBOTSTXT_OBEY") is False


def test_a_source_settles_once_per_request_whichever_paths_report_it() -> None:
    settled: list[str] = []
    outstanding = Outstanding(settled.append)
    outstanding.add("ndrc")  # the start token
    first, second = {"radar_source": "ndrc"}, {"radar_source": "ndrc"}
    outstanding.add("ndrc", 2)
    outstanding.done("ndrc")  # start requests all issued
    outstanding.settle(first)
    outstanding.settle(first)  # the errback and the spider middleware both saw it
    assert settled == []
    redirected = dict(second)  # a redirect copies the meta and settles in the original's place
    outstanding.settle(redirected)
    assert settled == ["ndrc"]
    outstanding.settle({"dont_obey_robotstxt": True})  # Scrapy's own request (robots.txt): no source
    assert settled == ["ndrc"]


def test_a_slow_source_does_not_hold_back_the_run_of_a_quick_one(radar: Radar, internet: FakeInternet, database_url: str) -> None:
    for listed in load_source(SOURCES / "cas.yml").lists:  # the list pages themselves: each first answer comes late
        internet.inject(listed.url, fault("delay", 6))
    result = radar("run", "--source", "cas", "--source", "ndrc")
    lines = [line.split(":")[0].split()[-1] for line in result.stdout.splitlines() if line.strip().startswith("ok ")]
    assert lines == ["ndrc", "cas"], result.stdout  # ndrc's progress line as soon as ndrc is done
    with transaction(database_url) as session:
        runs = {name: run for name, run in session.execute(select(Source.name, CrawlRun).join(CrawlRun, CrawlRun.source_id == Source.id))}
    assert runs["ndrc"].finished_at < runs["cas"].finished_at
    assert (runs["ndrc"].status, runs["ndrc"].new, runs["ndrc"].list_pages) == ("ok", 10, 2)
    assert (runs["cas"].status, runs["cas"].new, runs["cas"].list_pages) == ("ok", 21, 6)
    assert runs["ndrc"].health == runs["cas"].health == "ok"
    assert runs["ndrc"].requests > 0 and runs["cas"].requests > 0


def test_scrapys_own_stats_sum_the_sources() -> None:
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.flow import SourceStats

    class Crawled:  # what MemoryStatsCollector needs of a crawler
        settings = crawl_settings(Settings(), [load_source(SOURCES / "ndrc.yml")])

    crawl_stats = MemoryStatsCollector(Crawled())  # type: ignore[arg-type]
    ndrc, cas = SourceStats(crawl_stats), SourceStats(crawl_stats)
    ndrc.inc_value("radar/new", 2)
    cas.inc_value("radar/new")
    assert (ndrc.get_value("radar/new"), cas.get_value("radar/new"), crawl_stats.get_value("radar/new")) == (2, 1, 3)
