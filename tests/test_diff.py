"""Verdicts editors can trust: covered stories are recognised, reprints fold into one story
with the issuing ministry's item primary, and unrelated articles are never merged."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from conftest import FIXTURES, Radar, add_ndrc_article, expected_articles
from storage.db import transaction
from storage.models import Item, ReportIssue, StoryCluster

REPORTS = sorted((FIXTURES / "reports").glob("*.txt"))
CITED = {
    "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html": "2023-06-21",
    "https://www.cas.cn/syky/202406/t20240606_5020784.shtml": "2024-06-28",
    "https://news.sciencenet.cn/htmlnews/2023/6/502043.shtm": "2023-06-21",
}


def items(database_url: str) -> dict[str, Item]:
    with transaction(database_url) as session:
        found = {i.canonical_url: i for i in session.scalars(select(Item))}
        for item in found.values():
            _ = item.covered_story_id and item.verdict_reason
        return found


def test_importing_issues_stores_them_once_and_lists_them(radar: Radar, database_url: str) -> None:
    out = radar("issues", "import", *map(str, REPORTS)).stdout
    assert "imported 2023-06-21: 6 stories, 7 briefs" in out
    again = radar("issues", "import", str(REPORTS[0])).stdout
    assert "re-imported 2023-06-21" in again
    with transaction(database_url) as session:
        assert len(session.scalars(select(ReportIssue)).all()) == 3
    assert "2024-06-28" in radar("issues", "list").stdout
    shown = radar.json("issues", "show", "2024-06-28")
    assert shown["published"] == "2024-06-28" and len(shown["stories"]) == 7
    assert "关于印发《关于建立碳足迹管理体系的实施方案》的通知" in radar("issues", "show", "2024-06-28").stdout


def test_a_non_report_file_is_refused_with_a_clear_error(radar: Radar, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list\nmilk\n", encoding="utf-8")
    result = radar("issues", "import", str(junk), check=False)
    assert result.returncode == 1 and "notes.txt" in result.stderr and "not an issue" in result.stderr


def test_a_folder_imports_the_issues_in_it(radar: Radar, tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    for report in REPORTS[:2]:
        (folder / report.name).write_bytes(report.read_bytes())
    renamed = REPORTS[2].read_text(encoding="utf-8").replace("\n기술전략\n", "\n우주정책\n")  # a category topics.yml lacks
    (folder / REPORTS[2].name).write_text(renamed, encoding="utf-8")
    (folder / "README.md").write_text("not an issue", encoding="utf-8")
    out = radar("issues", "import", str(folder)).stdout
    assert "imported 2023-06-21" in out and "imported 2023-08-04" in out and "imported 2024-06-28" in out and "README" not in out
    assert out.count("not in topics.yml") == 1 and "so not learned from: 우주정책" in out
    (tmp_path / "empty").mkdir()
    result = radar("issues", "import", str(tmp_path / "empty"), check=False)
    assert result.returncode == 1 and "empty: a folder with no .txt" in result.stderr


def test_crawled_articles_the_report_already_cited_are_covered(radar: Radar, database_url: str) -> None:
    radar("issues", "import", *map(str, REPORTS))
    radar("run", "--source", "ndrc", "--source", "cas", "--source", "sciencenet")
    stored = items(database_url)
    for url, issue in CITED.items():
        assert stored[url].status == "covered", url
        assert issue in stored[url].verdict_reason and stored[url].covered_story_id
    covered = [i for i in stored.values() if i.status == "covered"]
    assert all(i.covered_story_id and i.verdict_reason for i in covered)
    assert len(covered) < len(stored) / 2  # the fixtures also hold plenty of uncited news
    assert "covered" in radar("diff", "--since", "1d").stdout
    candidates = {i["canonical_url"] for i in radar.json("items", "--status", "new")}
    assert not candidates & set(CITED)


def test_a_title_match_is_enough_for_covered(radar: Radar, database_url: str) -> None:
    radar("issues", "import", *map(str, REPORTS))
    radar("run", "--source", "guangdong")
    # The documents (/zwgk/wjk/) are cited under another URL; the 部门解读 page is cited by its own URL.
    covered = [i for url, i in items(database_url).items() if i.status == "covered" and "/zwgk/wjk/" in url]
    assert covered and all("title matches" in i.verdict_reason for i in covered)


def test_an_article_naming_a_covered_document_is_a_follow_up_and_stays_a_candidate(radar: Radar, sites: Path, database_url: str) -> None:
    radar("issues", "import", *map(str, REPORTS))
    follow = add_ndrc_article(sites, "t20991231_9999991", "《关于建立碳足迹管理体系的实施方案》政策解读")
    other = add_ndrc_article(sites, "t20991231_9999992", "国家发展改革委关于开展测试工作的通知")
    radar("run", "--source", "ndrc")
    stored = items(database_url)
    assert stored[follow].status == "follow_up"
    assert "heuristic" in stored[follow].verdict_reason and "2024-06-28" in stored[follow].verdict_reason
    assert stored[other].status == "new"
    candidates = {i["canonical_url"] for i in radar.json("items", "--new")}
    assert {follow, other} <= candidates


def test_importing_an_issue_later_turns_stored_items_covered(radar: Radar, database_url: str) -> None:
    radar("run", "--source", "ndrc")
    assert items(database_url)[next(iter(CITED))].status == "new"
    out = radar("issues", "import", str(REPORTS[0])).stdout
    assert "stored item(s) now covered" in out and " 0 stored" not in out
    assert items(database_url)[next(iter(CITED))].status == "covered"


def test_unrelated_notices_on_similar_topics_are_not_merged(radar: Radar, database_url: str) -> None:
    radar("run", "--source", "most", "--source", "mee", "--source", "nsfc", "--source", "ndrc")
    assert [i.title for i in items(database_url).values() if i.status == "duplicate"] == []


REPRINT = """<html><head><meta charset="utf-8"><title>{title}_{outlet}</title></head><body>
<div class="nav">首页 | 要闻 | 财经 | 科技</div>
<h1>{title}</h1><div class="info">{date} 来源：{outlet}</div>
<div id="detail">{paragraphs}</div><div class="footer">版权所有 {outlet}</div></body></html>"""


def crawl_a_notice_and_two_reprints(radar: Radar, database_url: str, sites: Path, watchlists: Path) -> dict:
    """Crawl ndrc (the ministry's own notice first), then a feed of two reprints of the notice
    on a news site and an aggregator; return the notice's expected article."""
    notice = expected_articles("ndrc")[0]
    radar("run", "--source", "ndrc")
    body = items(database_url)[notice["url"]].body
    feed = ["<rss version='2.0'><channel><title>转载</title>"]
    for host, outlet, path in (("www.news.cn", "新华网", "/fortune/reprint1.htm"), ("www.sohu.com", "搜狐", "/a/123456_789")):
        page = sites / host / path.lstrip("/")
        page.parent.mkdir(parents=True, exist_ok=True)
        paragraphs = "".join(f"<p>{line}</p>" for line in [f"{outlet}北京电", *body.split("\n")])
        page.write_text(REPRINT.format(title="发改委：" + notice["title"], outlet=outlet, date=notice["published"][:10], paragraphs=paragraphs), encoding="utf-8")
        feed.append(f"<item><title>{notice['title']}</title><link>https://{host}{path}</link><pubDate>Tue, 13 Jun 2023 12:00:00 +0800</pubDate></item>")
    (sites / "feeds.example").mkdir()
    (sites / "feeds.example" / "reprints.xml").write_text("".join(feed) + "</channel></rss>", encoding="utf-8")
    (watchlists / "sources" / "reprints.yml").write_text(
        "name: reprints\nlabel: 转载\nhomepage: https://feeds.example/\nkind: feed\nlists: [https://feeds.example/reprints.xml]\n"
        "allowed_hosts: [www.news.cn, www.sohu.com]\n", encoding="utf-8"  # an aggregator: it names where its articles live
    )
    radar("run", "--source", "reprints")
    return notice


def test_a_ministry_notice_and_two_reprints_become_one_story_with_the_ministry_primary(
    radar: Radar, database_url: str, sites: Path, watchlists: Path
) -> None:
    notice = crawl_a_notice_and_two_reprints(radar, database_url, sites, watchlists)
    stored = items(database_url)
    story = [i for i in stored.values() if i.cluster_id is not None]
    assert len(story) == 3 and len({i.cluster_id for i in story}) == 1
    with transaction(database_url) as session:
        cluster = session.get(StoryCluster, story[0].cluster_id)
        assert cluster.primary_item_id == stored[notice["url"]].id
    assert stored[notice["url"]].status in ("new", "covered")
    assert sorted(i.status for i in story if i.canonical_url != notice["url"]) == ["duplicate", "duplicate"]


def test_a_story_many_outlets_carry_scores_higher_for_its_cluster(
    radar: Radar, database_url: str, sites: Path, watchlists: Path
) -> None:
    notice = crawl_a_notice_and_two_reprints(radar, database_url, sites, watchlists)
    stored = items(database_url)
    lone = [i.topics["score_parts"]["cluster"] for i in stored.values() if i.cluster_id is None]
    assert lone and set(lone) == {0.0}
    # Tagged after the verdict: the first reprint in a story of 2, the second in a story of 3.
    reprints = sorted(i.topics["score_parts"]["cluster"] for i in stored.values() if i.cluster_id is not None and i.canonical_url != notice["url"])
    assert len(reprints) == 2 and 0.0 < reprints[0] < reprints[1]


def test_signatures_estimate_the_share_of_common_shingles() -> None:
    import random

    from desk import similarity as diff

    rng = random.Random(3)
    pool = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    base = "".join(rng.choice(pool) for _ in range(1500))
    for keep in (1.0, 0.8, 0.5, 0.2):
        cut = int(len(base) * keep)
        other = base[:cut] + "".join(rng.choice(pool) for _ in range(len(base) - cut))
        shingles = [{t[i : i + 3] for i in range(len(t) - 2)} for t in (base, other)]
        true = len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])
        estimate = diff.similarity(diff.pack(diff.signature("", base)), diff.signature("", other))
        assert abs(estimate - true) < 0.15, (keep, true, estimate)


def test_signatures_never_change_meaning() -> None:
    """Stored signatures are compared with new ones: the hash functions are fixed for ever."""
    from desk import similarity as diff

    values = diff.signature("国家发展改革委关于印发方案的通知", "为贯彻落实党中央、国务院决策部署，现将方案印发给你们。")
    assert values[:4].tolist() == [1299150, 15569949, 3398047, 154969687]
    assert len(diff.pack(values)) == 8 * diff.NUM_PERM and len(diff.band_keys(values)) == diff.BANDS


def test_the_title_index_finds_what_comparing_with_every_title_finds() -> None:
    import random

    from desk import similarity as diff

    titles = sorted({diff.title_key(e["title"]) for name in ("ndrc", "cas", "sciencenet", "govcn", "most", "miit") for e in expected_articles(name)})
    index = diff.TitleIndex([(title, n) for n, title in enumerate(titles)])
    rng = random.Random(1)
    probes = []
    for title in titles:
        cut = rng.randrange(len(title))
        probes += [title, "科技日报" + title, title[:cut] + title[cut + 1:], title[: len(title) // 2], title[::-1]]
    for probe in probes:
        brute = any(diff.titles_match(title, probe) for title in titles)
        assert (index.find(probe) is not None) == brute, probe
    assert any(index.find(p) is not None for p in probes) and not all(index.find(p) is not None for p in probes)
