"""Source health: a redesign or an anti-bot page is caught on the first run, and `crawl doctor`
names the rule that stopped matching."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from conftest import Radar, expected_articles
from crawler.replay import FakeInternet, fault
from storage.db import transaction
from storage.models import Source

NDRC_LIST = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/"
REDESIGNED = """<html><head><meta charset="utf-8"><title>通知</title></head><body>
<div class="news-list"><div class="row"><a href="./202306/t20230613_1357505.html">关于…的通知</a><em>2023-06-13</em></div></div>
</body></html>"""
CHALLENGE = """<html><head><script>document.cookie="__jsl_clearance_s=1700000000.123|0|abc";location.href=location.pathname+location.search</script></head><body></body></html>"""


def health_of(database_url: str) -> dict[str, Source]:
    with transaction(database_url) as session:
        return {s.name: s for s in session.scalars(select(Source))}


def test_a_redesigned_list_is_read_by_detection_and_the_source_degraded_naming_the_rule(
    radar: Radar, internet: FakeInternet, tmp_path: Path, database_url: str
) -> None:
    page = tmp_path / "redesign.html"
    page.write_text(REDESIGNED, encoding="utf-8")
    internet.inject(NDRC_LIST, fault("replace", page))
    radar("run", "--source", "ndrc", "--source", "cas")
    health = health_of(database_url)
    assert health["ndrc"].health == "degraded"  # still delivering while someone repairs it
    assert "list.entry `xpath://ul[contains(concat(' ', normalize-space(@class), ' '), ' u-list ')]/li[a]` found 0; " \
        "1 entries found by detection" in health["ndrc"].last_error  # the selector that failed, for the editor
    assert health["cas"].health == "ok"
    stored = {i["url"] for i in radar.json("items", "--source", "ndrc")}
    assert "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html" in stored
    shown = {s["name"]: s for s in radar.json("sources")}
    assert shown["ndrc"]["health"] == "degraded" and shown["cas"]["health"] == "ok"
    doctor = radar("doctor", "--source", "ndrc").stdout
    assert "matched 0 element(s)" in doctor


def test_an_anti_bot_challenge_served_with_200_is_caught_on_the_first_run(
    radar: Radar, internet: FakeInternet, tmp_path: Path, database_url: str
) -> None:
    page = tmp_path / "challenge.html"
    page.write_text(CHALLENGE, encoding="utf-8")
    internet.inject(NDRC_LIST, fault("replace", page))
    radar("run", "--source", "ndrc")
    assert health_of(database_url)["ndrc"].health == "broken"
    # The broken run saved no validators: once the site is back the next run re-reads the list.
    internet.clear_faults()
    radar("run", "--source", "ndrc")
    source = health_of(database_url)["ndrc"]
    assert source.health == "ok" and source.last_error is None


def test_an_article_rule_that_stops_matching_is_named_and_generic_extraction_keeps_the_items(
    radar: Radar, sites: Path, database_url: str
) -> None:
    for page in (sites / "news.sciencenet.cn" / "htmlnews").rglob("*.shtm"):
        page.write_text(page.read_text(encoding="utf-8").replace('id="content1"', 'id="article-body"'), encoding="utf-8")
    radar("run", "--source", "sciencenet")
    source = health_of(database_url)["sciencenet"]
    assert source.health == "degraded", source.last_error
    assert "rule `article.body` matched nothing" in source.last_error and "generic extraction filled the field" in source.last_error
    assert len(radar.json("items", "--source", "sciencenet")) == len(expected_articles("sciencenet"))


def test_doctor_explains_a_healthy_source_step_by_step(radar: Radar) -> None:
    out = radar("doctor", "--source", "cas").stdout
    assert "1. List page https://www.cas.cn/" in out and "HTTP 200" in out
    assert "list.entry" in out and "3. Article" in out
    assert "article.title" in out or "title ←" in out
    assert "✓ title, date and body found" in out


def test_a_rule_that_raises_on_every_article_makes_the_run_broken_with_the_exception_named(
    radar: Radar, watchlists: Path, database_url: str
) -> None:
    # Compiles (no <div> in the load-time probe) but raises on every real article page.
    ndrc = watchlists / "sources" / "ndrc.yml"
    ndrc.write_text(ndrc.read_text(encoding="utf-8").replace('"div.TRS_Editor"', '"xpath://div[no-such-function()]"'), encoding="utf-8")
    shown = radar("run", "--source", "ndrc").stdout
    assert " ok  ndrc" not in shown and " 0 errors" not in shown
    source = health_of(database_url)["ndrc"]
    assert source.health == "broken"
    assert "raised ValueError: XPath error: Unregistered function" in source.last_error
    assert "no article was extracted" in source.last_error
