"""Coverage: which URLs the report cites fall in a column a source watches (issue 14, part 1).

The numbers are measured on the three real issues in tests/fixtures/reports/ with the shipped
watchlists; they move when the catalogue grows, which is the point: update them then."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from crawler import coverage
from crawler.watchlist import WatchlistError, load_sources
from storage import queries
from storage.db import ensure_schema, transaction
from storage.models import Item

REPORTS = Path(__file__).resolve().parent / "fixtures" / "reports"
KOSTEC = Path(__file__).resolve().parent / "fixtures" / "kostec" / "citations.yml"


@pytest.mark.parametrize(
    ("article", "column"),
    [
        ("https://www.most.gov.cn/dfkj/nmg/zxdt/202305/t20230526_186326.html", "https://www.most.gov.cn/dfkj/nmg/zxdt/"),
        ("http://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/content/post_4436219.html", "https://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/"),
        ("https://kjt.zj.gov.cn/art/2024/5/22/art_1229225203_5303543.html", "https://kjt.zj.gov.cn/col/col1229225203/index.html"),
        ("https://www.news.cn/fortune/20240613/0a1b2c3d4e5f60718293a4b5c6d7e8f9/c.html", "https://www.news.cn/fortune/"),
        ("http://finance.people.com.cn/n1/2024/0613/c1004-40256221.html", "https://finance.people.com.cn/"),
        ("https://www.gov.cn/zhengce/content/202406/content_6954630.htm", "https://www.gov.cn/zhengce/"),
        # Issue 14's list: TRS, gov.cn content_NNN.htm, Jpaas with a hex id, people.cn, xinhuanet, post_NNN.
        ("https://www.most.gov.cn/kjbgz/202512/t20251219_195552.html", "https://www.most.gov.cn/kjbgz/"),
        ("https://www.gov.cn/zhengce/zhengceku/202401/content_6929021.htm", "https://www.gov.cn/zhengce/zhengceku/"),
        (
            "https://wap.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_e8ebf5600ec24d3db644150873712c5f.html",
            "https://wap.miit.gov.cn/zwgk/zcwj/wjfb/tz/",
        ),
        ("http://kr.people.com.cn/n3/2026/0305/c203278-20432170.html", "https://kr.people.com.cn/"),
        ("http://www.xinhuanet.com/tech/2024-06/13/c_1130163251.htm", "https://www.xinhuanet.com/tech/"),
        ("http://www.gd.gov.cn/xxxts/content/post_4436503.html", "https://www.gd.gov.cn/xxxts/"),
        # A query-string CMS keeps the parameter that names the column, and only that.
        ("http://www.example.gov.cn/index.php?m=content&c=index&a=show&catid=12&id=345", "https://www.example.gov.cn/index.php?catid=12"),
        ("http://www.example.gov.cn/news/show.aspx?id=345", "https://www.example.gov.cn/news/"),
        # No column in the URL at all: the host is the best answer there is.
        ("https://baijiahao.baidu.com/s?id=1801234567890123456&wfr=spider", "https://baijiahao.baidu.com/"),
        ("http://old2022.bulletin.cas.cn/publish_article/2023/6/20230605.htm", "https://old2022.bulletin.cas.cn/publish_article/"),
    ],
)
def test_the_column_of_an_article_follows_cms_conventions(article: str, column: str) -> None:
    assert coverage.column_url(article) == column


def test_a_watched_column_is_the_crawlers_own_rule() -> None:
    sources = load_sources(ROOT / "watchlists" / "sources")
    # Cited with http:// and a share parameter; the list links https:// without it.
    assert coverage.watching_source("http://www.cas.cn/cm/202307/t20230715_4929346.shtml?from=timeline", sources).name == "cas"
    # A MOST 地方科技 item: watched through the 地方动态 list since issue 14.
    assert coverage.watching_source("https://www.most.gov.cn/dfkj/nmg/zxdt/202305/t20230526_186326.html", sources).name == "most"
    # The right host, another column: not watched (an attachment among CAC's uploads).
    assert coverage.watching_source("http://www.cac.gov.cn/rootimages/uploadimg/1686402331296991/1686402331296991.pdf", sources) is None
    # Columns added for issue 14 are watched by the source that lists them.
    assert coverage.watching_source("http://www.gd.gov.cn/xxxts/content/post_4436503.html", sources).name == "guangdong"
    assert coverage.watching_source("https://finance.eastmoney.com/a/202406203109232182.html", sources).name == "eastmoney"
    # MIIT's 领导活动 on the mobile host, cited with a 31-digit id: miit_ldhd (issue 14).
    assert coverage.watching_source("https://wap.miit.gov.cn/xwdt/gxdt/ldhd/art/2024/art_1e9c919046094bb9aeb09c24fd1520f.html", sources).name == "miit_ldhd"
    # Columns where public notes cite ministries' documents (issue 14, widening): MOST 信息公开, NDRC 令 and
    # 解读 (and the `_ext` twin of a page), gov.cn 部门政务 and 要闻.
    assert coverage.watching_source("https://www.most.gov.cn/xxgk/xinxifenlei/fdzdgknr/fgzc/gfxwj/gfxwj2023/202310/t20231008_188064.html", sources).name == "most_xxgk"
    assert coverage.watching_source("http://www.most.gov.cn/xxgk/xinxifenlei/fdzdgknr/qtwj/qtwj2021/202112/t20211207_178440.html", sources).name == "most_xxgk"
    assert coverage.watching_source("https://www.most.gov.cn/xxgk/xinxifenlei/fdzdgknr/fgzc/bmgz/202306/t20230601_186416.html", sources).name == "most_xxgk"
    assert coverage.watching_source("https://www.ndrc.gov.cn/xxgk/jd/jd/202403/t20240321_1365112_ext.html", sources).name == "ndrc_policy"
    assert coverage.watching_source("https://www.ndrc.gov.cn/xxgk/zcfb/fzggwl/202409/t20240907_1392875.html", sources).name == "ndrc_policy"
    assert coverage.watching_source("https://www.gov.cn/lianbo/bumen/202406/content_6958236.htm", sources).name == "govcn_news"
    assert coverage.watching_source("https://www.gov.cn/yaowen/liebiao/202409/content_6974294.htm", sources).name == "govcn_news"
    assert coverage.watching_source("https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html", sources).name == "miit_wjfb"
    # Columns of national bodies added for issue 14 (second pass): the 解读, 规范性文件, news and data
    # columns a weekly S&T-policy report cites, each watched by a source that lists it.
    assert coverage.watching_source("https://www.most.gov.cn/xxgk/xinxifenlei/fdzdgknr/fgzc/zcjd/202206/t20220607_181018.html", sources).name == "most_xxgk"
    ndrc_policy = [source for source in sources if source.name == "ndrc_policy"]  # `ndrc` also accepts the 规范性文件 its 通知 list quotes
    assert coverage.watching_source("https://www.ndrc.gov.cn/xxgk/zcfb/ghxwj/202510/t20251014_1400943.html", ndrc_policy).name == "ndrc_policy"
    assert coverage.watching_source("https://www.gov.cn/zhengce/202502/content_7002974.htm", sources).name == "govcn_jiedu"
    assert coverage.watching_source("https://www.miit.gov.cn/jgsj/kjs/wjfb/art/2026/art_331b6f1d28ad410aa9df711acf42dbfe.html", sources).name == "miit_wjfb"
    assert coverage.watching_source("https://www.miit.gov.cn/xwfb/gxdt/sjdt/art/2024/art_0b80a511849b433c87621b0bbbaa46d0.html", sources).name == "miit_gxdt"
    assert coverage.watching_source("http://www.moe.gov.cn/jyb_xwfb/gzdt_gzdt/s5987/202405/t20240531_1133390.html", sources).name == "moe"
    assert coverage.watching_source("https://www.stats.gov.cn/sj/sjjd/202302/t20230202_1896273.html", sources).name == "stats"
    assert coverage.watching_source("https://www.ndrc.gov.cn/xwdt/xwfb/202608/t20260819_1407047.html", sources).name == "ndrc_news"
    assert coverage.watching_source("https://www.mee.gov.cn/zcwj/zcjd/202410/t20241021_1089825.shtml", sources).name == "mee"
    # Another column of the same host is not watched: MOE's document library, NBS's statistical standards.
    assert coverage.watching_source("http://www.moe.gov.cn/srcsite/A06/s7053/202008/t20200826_480306.html", sources) is None
    assert coverage.watching_source("https://www.stats.gov.cn/wzgl/202302/t20230217_1912857.html", sources) is None
    # MEE's /zcwj/ categories that no list reads (国务院文件 republished) are not credited to `mee`.
    assert coverage.watching_source("https://www.mee.gov.cn/zcwj/gwywj/202403/t20240318_1068599.shtml", sources) is None
    # An attachment of those columns is not an article.
    assert coverage.watching_source("https://www.ndrc.gov.cn/xxgk/zcfb/fzggwl/202312/P020231229700886191069.pdf", sources) is None
    # A feed's articles sit on another host than the feed: the host its `article_url` names counts.
    assert coverage.watching_source("https://www.sohu.com/a/767207671_121207965", sources).name == "sohu_121207965"
    assert coverage.watching_source("https://www.sohu.com/a/767207671_121135924", sources) is None  # another author
    # A disabled source watches nothing.
    assert coverage.watching_source("http://www.scio.gov.cn/xwfb/bwxwfb/gbwfbh/zky/202406/t20240603_850604.html", sources) is None


ONE_BAIJIAHAO_AUTHOR = """\
name: bjh_one_author
label: 百家号 某作者 (바이자하오 작성자)
homepage: https://baijiahao.baidu.com/u?app_id=1
kind: html_list
lists:
  - https://baijiahao.baidu.com/u?app_id=1
list:
  entry: "div.item"
  link: "a::attr(href)"
  article_url: '^https://baijiahao\\.baidu\\.com/s\\?id=\\d+'
article_url_names_column: false
"""


def test_a_post_whose_url_names_no_author_is_credited_only_when_stored(tmp_path: Path) -> None:
    """A source following one Baijiahao author matches every author's posts by host + URL; its
    watchlist says so (`article_url_names_column: false`), and it is credited with a citation
    only when it stored the post."""
    (tmp_path / "bjh_one_author.yml").write_text(ONE_BAIJIAHAO_AUTHOR, encoding="utf-8")
    sources = load_sources(tmp_path)
    ours = "https://baijiahao.baidu.com/s?id=1801460916734772914&wfr=spider&for=pc"
    someone_elses = "https://baijiahao.baidu.com/s?id=1767415158011884403&wfr=spider&for=pc"
    assert coverage.watching_source(someone_elses, sources).name == "bjh_one_author"  # the URL rule alone would claim it
    seen = {coverage.canonical_url(ours): dt.datetime(2024, 6, 20, tzinfo=dt.timezone.utc)}
    report = coverage.judge(dt.date(2024, 6, 28), [coverage.Citation(ours, "reference"), coverage.Citation(someone_elses, "reference")], sources, seen)
    assert [(v.source, v.stored) for v in report.verdicts] == [("bjh_one_author", True), (None, False)]
    assert (report.watched, report.cited) == (1, 2)


def test_a_source_whose_urls_name_the_author_is_credited_unstored(tmp_path: Path) -> None:
    """Without `article_url_names_column: false` the URL rule alone decides, stored or not —
    right where the URL names the author, as Sohu's `/a/<post>_<author>` does."""
    one_author = ONE_BAIJIAHAO_AUTHOR.replace("article_url_names_column: false\n", "")
    (tmp_path / "bjh_one_author.yml").write_text(one_author, encoding="utf-8")
    cited = coverage.Citation("https://baijiahao.baidu.com/s?id=1767415158011884403", "reference")
    report = coverage.judge(None, [cited], load_sources(tmp_path), {})
    assert [(v.source, v.stored) for v in report.verdicts] == [("bjh_one_author", False)]


def test_saying_urls_name_no_author_needs_an_article_url(tmp_path: Path) -> None:
    without_pattern = ONE_BAIJIAHAO_AUTHOR.replace("  article_url: '^https://baijiahao\\.baidu\\.com/s\\?id=\\d+'\n", "")
    (tmp_path / "bjh_one_author.yml").write_text(without_pattern, encoding="utf-8")
    with pytest.raises(WatchlistError, match="article_url_names_column"):
        load_sources(tmp_path)


def test_a_wechat_post_counts_as_watched_only_once_a_mirror_source_stored_it() -> None:
    """WeChat sources read a mirror's feed, yet their articles are on mp.weixin.qq.com, the host
    their `article_url` names; a short /s/ link names no account, so only a stored post counts."""
    sources = load_sources(ROOT / "watchlists" / "sources")
    post = coverage.Citation("https://mp.weixin.qq.com/s/OIKjezbRbAGyHB909Cqfdw", "reference")
    assert coverage.judge(None, [post], sources, {}).wechat == {"cited": 1, "watched": 0}
    seen = {coverage.canonical_url(post.url): dt.datetime(2024, 6, 21, tzinfo=dt.timezone.utc)}
    report = coverage.judge(dt.date(2024, 6, 28), [post], sources, seen)
    assert report.wechat == {"cited": 1, "watched": 1} and report.verdicts[0].lead_days == 7


def test_a_cctv_story_is_credited_to_the_tech_column_only_when_stored() -> None:
    """news.cctv.com article URLs name no column: cctv_tech's rule matches every column's ARTI page,
    so another column's story counts only once the source stored it (issue 14)."""
    sources = load_sources(ROOT / "watchlists" / "sources")
    story = "https://news.cctv.com/2025/02/23/ARTISpTAxMypj7oEmVym2Mkf250223.shtml"
    assert coverage.watching_source(story, sources).name == "cctv_tech"
    unseen = coverage.judge(dt.date(2025, 3, 1), [coverage.Citation(story, "reference")], sources, {})
    assert [(v.source, v.stored) for v in unseen.verdicts] == [(None, False)]
    seen = {coverage.canonical_url(story): dt.datetime(2025, 2, 23, tzinfo=dt.timezone.utc)}
    stored = coverage.judge(dt.date(2025, 3, 1), [coverage.Citation(story, "reference")], sources, seen)
    assert [(v.source, v.stored, v.lead_days) for v in stored.verdicts] == [("cctv_tech", True, 6)]


def test_new_province_and_media_columns_are_watched() -> None:
    """Columns added for issue 14's 지역 section and central media, each by its own source."""
    sources = load_sources(ROOT / "watchlists" / "sources")
    watched = {
        "https://kw.beijing.gov.cn/xwdt/kcyx/xwdtcyfz/202604/t20260403_4573808.html": "beijing_kw",
        "http://kjt.ah.gov.cn/kjzx/tzgg/123043051.html": "anhui_kjt",
        "https://www.chinanews.com.cn/cj/2024/08-23/10273369.shtml": "chinanews_finance",
        "http://scitech.people.com.cn/n1/2025/0515/c1007-40481086.html": "people_scitech",
        "https://kjt.sc.gov.cn/kjt/gstz/2026/9/14/e4b7c4b11d8a4725a4b83ad6543462ce.shtml": "sichuan_kjt",
        "http://gdstc.gd.gov.cn/zwgk_n/tzgg/content/post_4927741.html": "guangdong_kjt",
    }
    assert {url: getattr(coverage.watching_source(url, sources), "name", None) for url in watched} == watched
    # Other columns of those hosts are not claimed: Beijing's 部门动态, chinanews' 国内, a CCTV video page.
    for url in (
        "https://kw.beijing.gov.cn/xwdt/bmdt/202406/t20240618_3816335.html",
        "https://www.chinanews.com.cn/gn/2022/05-15/9755134.shtml",
        "https://tv.cctv.com/2024/05/29/VIDEINTgTSVGLrBGkyRGx9RJ240529.shtml",
    ):
        assert coverage.watching_source(url, sources) is None, url


def test_coverage_of_the_sample_issues(base_env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    env = base_env | {"RADAR_DATABASE_URL": database_url}
    crawl = [sys.executable, "-m", "radar"]
    subprocess.run([*crawl, "issues", "import", *map(str, sorted(REPORTS.glob("*.txt")))], env=env, check=True, capture_output=True)
    cited_url = "https://www.cas.cn/sygz/202405/t20240529_5016076.shtml"
    _store_item(database_url, cited_url, seen=dt.datetime(2024, 6, 24, 2, 0, tzinfo=dt.timezone.utc))

    result = subprocess.run([*crawl, "issues", "coverage", "--all", "--json"], env=env, check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)

    shares = {issue["published"]: (issue["watched"], issue["cited"]) for issue in report["issues"]}
    assert shares == {"2023-06-21": (9, 14), "2023-08-04": (8, 10), "2024-06-28": (14, 17)}
    assert report["total"] == {"cited": 41, "watched": 31, "share": 0.756}  # sohu_121207965: the cited 搜狐号 post
    latest = next(issue for issue in report["issues"] if issue["published"] == "2024-06-28")
    assert latest["wechat"] == {"cited": 4, "watched": 0}  # WeChat is counted apart
    assert sum(kind["cited"] for kind in latest["by_kind"].values()) == latest["cited"]
    stored = [v for v in latest["verdicts"] if v["stored"]]
    assert [(v["source"], v["lead_days"]) for v in stored] == [("cas", 4)]  # we had it four days before the issue
    top = report["missed_columns"][0]
    assert (top["host"], top["citations"]) == ("baijiahao.baidu.com", 4)  # Baijiahao: cited in every sample issue

    table = subprocess.run([*crawl, "issues", "coverage", "2024-06-28"], env=env, check=True, capture_output=True, text=True).stdout
    assert "14/17 (82%)" in table and "crawl doctor --source most --url https://www.most.gov.cn/dfkj/nmg/zxdt/" not in table


def test_coverage_without_issues_says_how_to_import(base_env: dict[str, str], tmp_path: Path) -> None:
    env = base_env | {"RADAR_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    result = subprocess.run([sys.executable, "-m", "radar", "issues", "coverage"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "crawl issues import" in result.stderr


def _store_item(database_url: str, url: str, seen: dt.datetime) -> None:
    from common.urls import canonical_url

    ensure_schema(database_url)
    with transaction(database_url) as session:
        source = queries.upsert_source(session, "cas", "CAS", "html_list")
        session.add(Item(source_id=source.id, url=url, canonical_url=canonical_url(url), title="t", first_seen_at=seen, content_hash="x"))


def test_coverage_of_what_kostec_cites() -> None:
    """KOSTEC's 정책동향 pages cite their sources as URLs (tests/fixtures/kostec/citations.yml, facts
    read from stored copies of the public pages): judged by the same rule as the report's own."""
    items = yaml.safe_load(KOSTEC.read_text(encoding="utf-8"))["items"]
    urls = [ref["url"] for item in items for ref in item["references"] if ref.get("url")]
    report = coverage.judge_urls(urls, load_sources(ROOT / "watchlists" / "sources"))

    assert (report.watched, report.cited) == (2, 3)  # most /kjbgz/ and gov.cn 政策库; not CAS's 2023 bulletin archive
    assert report.wechat == {"cited": 2, "watched": 0}  # WeChat apart, as for the report
    assert report.published == "" and all(v.lead_days is None for v in report.verdicts)
    missed = coverage.missed_columns([report], [])
    assert [m.column for m in missed] == ["https://old2022.bulletin.cas.cn/publish_article/"]
