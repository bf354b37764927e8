"""Publication dates as editors read them: a day stays a day, a time carries its zone.

Pages that give only a day (``2019-09-25``, a TRS URL ``t20190925_…``) used to be stored as
00:00 China time and shown as ``2019-09-25 01:00`` in Seoul; ``23:59`` China time was shown as
the next day's ``00:59`` with no zone. Now the precision is kept from the parser to the row,
and common.dates.format_published writes every publication time the editors see."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import Radar, add_ndrc_article
from common.settings import get_settings
from common.dates import DAY, TIME, format_published, parse_date, precision_of
from crawler.extract import extract_article
from scheduler.web import create_app
from scheduler.web.auth import add_user
from storage.db import transaction

DAY_ONLY = "关于测试只有日期的通知"
LATE = "关于测试深夜发布的通知"


@pytest.mark.parametrize("text", ["2019-09-25", "2019/9/25", "2019年9月25日", "发布时间：2019-09-25", "t20190925_1234567.html"])
def test_a_date_without_a_time_of_day_is_a_day(text: str) -> None:
    value = parse_date(text)
    assert precision_of(value) == DAY
    assert format_published(value, precision_of(value)) == "2019-09-25"


def test_a_time_is_shown_in_china_time_with_its_zone_whatever_zone_it_came_in() -> None:
    for text in ("2019-09-25 23:59", "2019-09-25T15:59:00Z", "2019-09-26T00:59:00+09:00"):
        value = parse_date(text)
        assert precision_of(value) == TIME
        assert format_published(value, TIME) == "2019-09-25 23:59 CST", text
    assert format_published(None, None) == "—"
    # rows stored before the precision was kept are shown as times, with their zone
    assert format_published(datetime(2019, 9, 25, 15, 59, tzinfo=timezone.utc), None) == "2019-09-25 23:59 CST"


def test_the_extractor_reports_a_day_only_meta_date_as_a_day() -> None:
    page = b'<html><head><meta name="PubDate" content="2019-09-25"></head><body><h1>x</h1></body></html>'
    article = extract_article("https://www.ndrc.gov.cn/xxgk/zcfb/tz/201909/t20190925_1.html", page)
    assert article.published_precision == DAY
    timed = page.replace(b"2019-09-25", b"2019-09-25 23:59")
    assert extract_article("https://www.ndrc.gov.cn/a.html", timed).published_precision == TIME


def test_a_day_found_by_htmldate_is_a_day_not_midnight() -> None:
    # htmldate pads a bare day with 00:00:00; that is not a time of day the page gave
    lines = "为贯彻落实有关部署，现将有关事项通知如下。" * 5
    page = (f'<html><head><title>关于测试的通知</title></head><body><h1>关于测试的通知</h1><div class="info">发布日期：2019-09-25</div>'
            f'<div class="article-content"><p>{lines}</p></div></body></html>').encode()
    article = extract_article("https://www.example.gov.cn/news/2019/09/25/1.html", page)
    assert article.provenance["published_at"] == "trafilatura" and article.published_precision == DAY


def _publish(sites: Path, stem: str, title: str, pubdate: str) -> str:
    url = add_ndrc_article(sites, stem, title)
    page = sites / "www.ndrc.gov.cn" / "xxgk" / "zcfb" / "tz" / "209912" / f"{stem}.html"
    html = re.sub(r'<meta name="PubDate" content="[^"]*">', f'<meta name="PubDate" content="{pubdate}">', page.read_text(encoding="utf-8"))
    page.write_text(html, encoding="utf-8")
    return url


def test_editors_see_a_day_as_a_day_and_a_time_with_its_zone_everywhere(radar: Radar, sites: Path, database_url: str, tmp_path: Path) -> None:
    day_url = _publish(sites, "t20991230_8888881", DAY_ONLY, "2019-09-25")
    late_url = _publish(sites, "t20991231_8888882", LATE, "2019-09-25 23:59")
    radar("run", "--source", "ndrc")

    stored = {row["url"]: row for row in radar.json("items", "--limit", "500")}
    assert stored[day_url]["published_precision"] == "day" and stored[day_url]["published"] == "2019-09-25"
    assert stored[late_url]["published_precision"] == "time" and stored[late_url]["published"] == "2019-09-25 23:59 CST"

    table = radar("items", "--limit", "500").stdout
    assert "published (CST)" in table
    assert _row(table, stored[day_url]["id"]).count("2019-09-25") == 1 and "01:00" not in _row(table, stored[day_url]["id"])
    assert "2019-09-25 23:59 CST" in _row(table, stored[late_url]["id"])
    assert "published (CST)" in radar("diff", "--since", "1d").stdout

    shown = radar("show", str(stored[day_url]["id"])).stdout
    assert re.search(r"published\s+2019-09-25\n", shown), shown
    assert re.search(r"published\s+2019-09-25 23:59 CST\n", radar("show", str(stored[late_url]["id"])).stdout)

    digest = radar("digest", "--dry-run").stdout
    assert "· 2019-09-25\n" in digest or "· 2019-09-25 ·" in digest, digest
    assert "2019-09-26" not in digest and "2019-09-25 01:00" not in digest and "2019-09-25 23:59 CST" in digest

    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    app = create_app(get_settings(**(env | {"data_dir": str(tmp_path / "data")})), SECRET_KEY="test-secret")
    with transaction(database_url) as session:
        add_user(session, "kim", "correct horse battery")
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "kim", "password": "correct horse battery", "csrf_token": token})
    inbox = client.get("/?source=ndrc&period=all").text
    assert _entry(inbox, DAY_ONLY).count("2019-09-25") == 1 and "01:00" not in _entry(inbox, DAY_ONLY)
    assert "2019-09-25 23:59 CST" in _entry(inbox, LATE) and "발행일 (CST)" in inbox
    # the date filter takes China days too: 23:59 CST is on the 25th, not on Seoul's 26th
    assert LATE in client.get("/?source=ndrc&period=all&from=2019-09-25&to=2019-09-25").text
    assert LATE not in client.get("/?source=ndrc&period=all&from=2019-09-26&to=2019-09-26").text
    item_page = client.get(f"/items/{stored[day_url]['id']}").text
    assert "· 2019-09-25" in item_page and "2019-09-25 01:00" not in item_page


def _row(table: str, item_id: int) -> str:
    return next(line for line in table.splitlines() if re.match(rf"^│\s*{item_id}\s*│", line))


def _entry(html: str, title: str) -> str:
    start = html.index(title)
    return html[start: html.index("</li>", start)]


def test_list_and_feed_dates_keep_their_precision_to_the_article() -> None:
    from types import SimpleNamespace

    from crawler.kinds.feed import feed_article, feed_entries
    from crawler.kinds.json_list import json_entries

    spec = SimpleNamespace(items="data", link="url", title="title", date="time")
    listed = json_entries('{"data": [{"url": "/a.html", "title": "a", "time": "2019-09-25"}, {"url": "/b.html", "title": "b", "time": "2019-09-25 23:59:00"}]}',
                          "https://www.gov.cn/", spec)
    assert [precision_of(e.date) for e in listed] == [DAY, TIME]
    rss = ("<rss version='2.0'><channel><title>t</title>"
           "<item><title>day</title><link>https://a.cn/1</link><pubDate>2019-09-25</pubDate><description>x</description></item>"
           "<item><title>time</title><link>https://a.cn/2</link><pubDate>Wed, 25 Sep 2019 15:59:00 GMT</pubDate><description>x</description></item>"
           "</channel></rss>").encode()
    entries, title = feed_entries(rss)
    articles = [feed_article(e, title) for e in entries]
    assert [a.published_precision for a in articles] == [DAY, TIME]
    assert [format_published(a.published_at, a.published_precision) for a in articles] == ["2019-09-25", "2019-09-25 23:59 CST"]
