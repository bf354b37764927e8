"""URL aliases (issue 14): a mirror host that serves a source's articles under the same paths, and
share parameters that never name an article, make a cited URL the same article as the one stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from common.urls import canonical_url
from conftest import ROOT
from crawler import coverage, netguard
from crawler.watchlist import WatchlistError, load_sources

SOURCES = ROOT / "watchlists" / "sources"
GXDT_WWW = "https://www.miit.gov.cn/xwfb/gxdt/sjdt/art/2026/art_16d1319a933d4ffd8501e60dc4d88491.html"
GXDT_WAP = GXDT_WWW.replace("www.", "wap.")


def test_a_mirror_host_folds_onto_the_host_it_mirrors_only_when_named() -> None:
    aliases = {"wap.miit.gov.cn": "www.miit.gov.cn"}
    assert canonical_url(GXDT_WAP, aliases) == GXDT_WWW
    assert canonical_url(GXDT_WAP) == GXDT_WAP  # no aliases given: the host is kept
    assert canonical_url("http://WAP.miit.gov.cn/a.html#top", aliases) == "https://www.miit.gov.cn/a.html"


@pytest.mark.parametrize(
    ("cited", "key"),
    [
        # WeChat's OAuth redirect appends both; together they never name an article.
        ("https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html?code=&state=123",
         "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html"),
        ("https://www.ndrc.gov.cn/a.html?state=123&code=071xYz&from=timeline", "https://www.ndrc.gov.cn/a.html"),
        # Alone, either may be what names the page.
        ("https://quote.example.com/stock.html?code=600519", "https://quote.example.com/stock.html?code=600519"),
        ("https://www.example.gov.cn/list.html?state=2", "https://www.example.gov.cn/list.html?state=2"),
    ],
)
def test_share_parameter_pairs_are_dropped_together_and_only_together(cited: str, key: str) -> None:
    assert canonical_url(cited) == key


def test_an_alias_citation_is_in_the_column_of_the_source_that_names_the_alias() -> None:
    sources = load_sources(SOURCES)
    assert coverage.watching_source(GXDT_WAP, sources).name == "miit_gxdt"
    wjfb = "https://wap.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_e8ebf5600ec24d3db644150873712c5f.html"
    assert coverage.watching_source(wjfb, sources).name == "miit_wjfb"
    # A source whose list is on the mobile host keeps its own articles there.
    ldhd = "https://wap.miit.gov.cn/xwdt/gxdt/ldhd/art/2024/art_1e9c919046094bb9aeb09c24fd1520f.html"
    assert coverage.watching_source(ldhd, sources).name == "miit_ldhd"
    ndrc = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html?code=&state=123"
    assert coverage.watching_source(ndrc, sources).name == "ndrc"


def test_an_item_stored_on_the_home_host_counts_for_its_alias_citation() -> None:
    sources = load_sources(SOURCES)
    assert coverage.stored_keys(GXDT_WAP, sources) == {GXDT_WAP, GXDT_WWW}
    seen = {GXDT_WWW: dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)}
    report = coverage.judge(dt.date(2026, 3, 6), [coverage.Citation(GXDT_WAP, "reference")], sources, seen)
    assert [(v.source, v.stored, v.lead_days) for v in report.verdicts] == [("miit_gxdt", True, 4)]


def test_an_alias_host_is_never_fetched_on_that_account() -> None:
    gxdt = next(s for s in load_sources(SOURCES) if s.name == "miit_gxdt")
    assert gxdt.aliases == {"wap.miit.gov.cn": "www.miit.gov.cn"}
    assert "wap.miit.gov.cn" not in netguard.source_hosts(gxdt)
    assert not netguard.follows(GXDT_WAP, gxdt) and netguard.follows(GXDT_WWW, gxdt)
    assert gxdt.article_hosts == {"www.miit.gov.cn"}


WITH_ALIAS = """\
name: mirrored
label: Mirrored
homepage: https://www.example.gov.cn/
kind: html_list
lists: [https://www.example.gov.cn/news/]
list:
  entry: li
  article_url: '^https://www\\.example\\.gov\\.cn/news/\\d+\\.html$'
alias_hosts: [{alias}]
"""


def test_an_alias_must_be_a_bare_host(tmp_path: Path) -> None:
    (tmp_path / "mirrored.yml").write_text(WITH_ALIAS.format(alias="https://m.example.gov.cn/"), encoding="utf-8")
    with pytest.raises(WatchlistError, match="bare host name"):
        load_sources(tmp_path)
    (tmp_path / "mirrored.yml").write_text(WITH_ALIAS.format(alias="M.Example.gov.cn"), encoding="utf-8")
    assert load_sources(tmp_path)[0].aliases == {"m.example.gov.cn": "www.example.gov.cn"}


def test_an_imported_issue_keys_an_alias_citation_as_its_stored_item(tmp_path: Path) -> None:
    """`crawl issues import` keys references with the watching source's aliases, so a stored
    www item is the one a wap citation names (and becomes `covered`)."""
    from desk.issues.report import Reference, Report, Story
    from desk.issues.store import store
    from storage.db import ensure_schema, transaction

    url = f"sqlite:///{tmp_path / 'radar.sqlite'}"
    ensure_schema(url)
    sources = load_sources(SOURCES)
    story = Story(number=1, section="정책", category=None, headline="공신부 자율주행 안전 표준", event_date=None,
                  references=[Reference(title="", url=GXDT_WAP, outlet="工信部", date=None)])
    report = Report(published=dt.date(2026, 3, 6), title="", source_file="x.txt", stories=[story], briefs=[], unplaced=[])
    with transaction(url) as session:
        issue, _ = store(session, report, lambda cited: coverage.stored_key(cited, sources))
        assert [r.canonical_url for s in issue.stories for r in s.references] == [GXDT_WWW]
