"""Entries found without selectors (crawler/autolist.py): on the fixture sites' list pages,
as a fallback when a list rule fails, and as the whole of a selector-less source.

The labels for the page-level test are what each source's own (checked) list rules and
`article_url` keep; `bench/autolist_eval.py` prints the same comparison per page."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from parsel import Selector

from conftest import ROOT, Radar, expected_articles
from crawler import autolist, listings
from crawler.kinds.html_list import html_entries
from crawler.replay import SITES, FakeInternet
from crawler.watchlist import load_sources

HTML_SOURCES = [s for s in load_sources(ROOT / "watchlists" / "sources") if s.kind == "html_list" and s.enabled]


def list_pages() -> list[tuple[str, str, str, str | None, list[str]]]:
    """(source, list URL, page text, article_url, labelled entry URLs) of every fixture list page."""
    internet, pages = FakeInternet(SITES), []
    for source in HTML_SOURCES:
        for entry in source.lists:
            located = internet.locate(*_host_path_query(entry.url))
            if located is None:
                continue
            text = located[0].read_bytes().decode(source.encoding or "utf-8", "replace")
            found = html_entries(Selector(text=text), entry.url, source.list)
            labels = [e.url for e in found if listings.is_article_url(e.url, source.article_pattern)]
            pages.append((source.name, entry.url, text, source.article_pattern, labels))
    return pages


def _host_path_query(url: str) -> tuple[str, str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "", parts.path, parts.query


def test_detection_with_article_url_finds_every_labelled_entry_of_every_fixture_list() -> None:
    found = labelled = 0
    for name, url, text, pattern, labels in list_pages():
        got = {e.url for e in autolist.detect_entries(text, url, pattern).entries}
        missing = set(labels) - got
        assert not missing, f"{name} {url}: detection missed {sorted(missing)}"
        found, labelled = found + len(set(labels) & got), labelled + len(labels)
    assert labelled > 50 and found == labelled


def test_detection_without_article_url_recalls_at_least_90_percent() -> None:
    """Over the fixture lists of two rows or more: detection looks for rows that repeat, and a
    reconstructed list of one row (several sources' fixtures; a real list holds 15–20) has none."""
    found = labelled = 0
    for _, url, text, _, labels in list_pages():
        if len(labels) < 2:
            continue
        got = {e.url for e in autolist.detect_entries(text, url, None).entries}
        found, labelled = found + len(set(labels) & got), labelled + len(labels)
    assert found / labelled >= 0.9


def test_navigation_rankings_and_footers_are_not_entries() -> None:
    page = """<html><body>
    <div class="nav"><a href="/a/202401/t20240101_1.html">关于举办首届科技创新大会的通知</a></div>
    <div class="main"><ul class="list">
      <li><a href="/a/202406/t20240601_11.html" title="关于印发《科技成果转化行动方案》的通知">关于印发《科技成果转化…</a><span>2024-06-01</span></li>
      <li><a href="/a/202405/t20240520_10.html">关于开展2024年度科技型中小企业评价工作的通知</a><span>2024-05-20</span></li>
      <li><a href="/a/202405/t20240510_9.html">关于公布第三批创新型产业集群名单的通知</a><span>2024年5月10日</span></li>
    </ul></div>
    <div class="right"><h4>热点排行</h4><ul>
      <li><a href="/a/202301/t20230101_5.html">国家高新区上半年营业收入保持较快增长</a></li>
      <li><a href="/a/202301/t20230102_6.html">粤港澳大湾区算力服务平台正式上线</a></li>
    </ul></div>
    <div class="footer"><a href="/a/202312/t20231201_7.html">网站地图说明和隐私政策的公告</a></div>
    </body></html>"""
    found = autolist.detect_entries(page, "https://www.example.gov.cn/a/", None)
    assert [e.url.rsplit("/", 1)[-1] for e in found.entries] == ["t20240601_11.html", "t20240520_10.html", "t20240510_9.html"]
    first = found.entries[0]
    assert first.title == "关于印发《科技成果转化行动方案》的通知"  # the fuller title= attribute
    assert [e.date.day for e in found.entries] == [1, 20, 10]


def test_a_wrong_entry_selector_still_stores_the_articles_and_degrades_the_source(radar: Radar, watchlists: Path, database_url: str) -> None:
    path = watchlists / "sources" / "ndrc.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^  entry: .*$", '  entry: "ul.info-list li"', text), encoding="utf-8")
    radar("run", "--source", "ndrc")
    expected = {a["url"] for a in expected_articles("ndrc")}
    stored = {i["url"] for i in radar.json("items", "--source", "ndrc")}
    assert len(stored & expected) >= 0.9 * len(expected)
    ndrc = {s["name"]: s for s in radar.json("sources")}["ndrc"]
    assert ndrc["health"] == "degraded"
    assert "list.entry `ul.info-list li` found 0;" in ndrc["problem"] and "found by detection" in ndrc["problem"]


def test_a_selector_less_source_crawls_by_detection(radar: Radar, watchlists: Path, database_url: str) -> None:
    ndrc = yaml.safe_load((watchlists / "sources" / "ndrc.yml").read_text(encoding="utf-8"))
    bare = {key: ndrc[key] for key in ("name", "label", "homepage", "kind", "lists", "pagination")}
    bare["list"] = {"article_url": ndrc["list"]["article_url"]}
    (watchlists / "sources" / "ndrc.yml").write_text(yaml.safe_dump(bare, allow_unicode=True), encoding="utf-8")
    radar("check")  # a selector-less watchlist is valid
    radar("run", "--source", "ndrc")
    expected = {a["url"] for a in expected_articles("ndrc")}
    stored = {i["url"] for i in radar.json("items", "--source", "ndrc")}
    assert len(stored & expected) >= 0.9 * len(expected)
    assert {s["name"]: s for s in radar.json("sources")}["ndrc"]["health"] == "ok"


def test_doctor_explains_a_selector_less_source_and_a_rescue_as_the_spider_reads_them(radar: Radar, watchlists: Path) -> None:
    path = watchlists / "sources" / "ndrc.yml"
    ndrc = yaml.safe_load(path.read_text(encoding="utf-8"))
    bare = {key: ndrc[key] for key in ("name", "label", "homepage", "kind", "lists", "pagination")}
    bare["list"] = {"article_url": ndrc["list"]["article_url"]}
    path.write_text(yaml.safe_dump(bare, allow_unicode=True), encoding="utf-8")
    shown = radar("doctor", "--source", "ndrc").stdout
    assert "none written; entries are found by detection" in shown and "detection found" in shown

    ndrc["list"]["entry"] = "ul.info-list li"  # a redesign: the rule finds nothing any more
    path.write_text(yaml.safe_dump(ndrc, allow_unicode=True), encoding="utf-8")
    shown = radar("doctor", "--source", "ndrc").stdout
    assert "list.entry `ul.info-list li` found 0;" in shown.replace("\n", " ") and "found by detection" in shown


def test_without_article_url_a_list_of_unknown_url_shapes_is_found_and_its_fields_are_not_entries() -> None:
    """Article URLs of no known CMS shape (a PDF, a dated hex name) are found by the list they
    form; a link to each item's source, a column link in the menu and a list item marked with
    one more class (the first, pictured one) are told apart as a reader would."""
    page = """<html><body>
    <div class="menu-top"><ul><li><a href="/news/zcfg/">政策法规与规范性文件</a></li><li><a href="/news/gzdt/index.html">工作动态与地方经验</a></li></ul></div>
    <div class="feed">
      <div class="item item-first"><h3><a href="/upload/2024-6-3/195400974278.pdf">关于开展2024年度科技成果评价工作的公告</a></h3><a class="src" href="/author/12">科技成果转化中心</a></div>
      <div class="item"><h3><a href="/contents/2024/5/30-dd877e338cab40ca8fc5a641099e63bf.html">国家重点研发计划重点专项项目申报指南发布</a></h3><a class="src" href="/author/7">规划司</a></div>
      <div class="item"><h3><a href="/contents/2024/5/21-07dfef990f89420aaea3ae325622e9ae.html">关于公布第二批创新联合体建设名单的通知</a></h3><a class="src" href="/author/12">科技成果转化中心</a></div>
    </div></body></html>"""
    found = autolist.detect_entries(page, "https://www.example.cn/news/", None)
    assert [e.url.rsplit("/", 1)[-1] for e in found.entries] == [
        "195400974278.pdf", "30-dd877e338cab40ca8fc5a641099e63bf.html", "21-07dfef990f89420aaea3ae325622e9ae.html"]


def test_the_site_of_a_link_is_its_registrable_domain() -> None:
    assert autolist._site_of("http://dy.163.com/a.html") == autolist._site_of("https://news.163.com/") == "163.com"
    assert autolist._site_of("https://www.most.gov.cn/x/") == autolist._site_of("http://most.gov.cn/") == "most.gov.cn"
    assert autolist._site_of("https://www.ndrc.gov.cn/") != autolist._site_of("https://www.most.gov.cn/")
