"""Proposing a watchlist from a column page (crawler/propose.py), from the fixture sites' pages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from crawler import propose
from crawler.replay import SITES
from crawler.watchlist import KINDS


@pytest.mark.parametrize(
    ("page", "url", "pattern"),
    [
        ("www.ndrc.gov.cn/xxgk/zcfb/tz/index.html", "https://www.ndrc.gov.cn/xxgk/zcfb/tz/",
         r"^https?://www\.ndrc\.gov\.cn/xxgk/zcfb/(?:ghxwj|tz)/\d{6}/t\d{8}_\d+\.html$"),
        ("www.gd.gov.cn/zwgk/wjk/qbwj/index.html", "https://www.gd.gov.cn/zwgk/wjk/qbwj/index.html",
         r"^https?://www\.gd\.gov\.cn/zwgk/wjk/qbwj/(?:yf|yfb|yfh)/content/post_\d+\.html$"),
    ],
)
def test_a_proposal_reproduces_the_column_with_a_pattern_and_a_selector(page: str, url: str, pattern: str) -> None:
    proposal = propose.propose("example", url, (SITES / page).read_text(encoding="utf-8"))
    assert proposal.article_url is not None
    kept = [e.url for e in proposal.entries if re.match(proposal.article_url, e.url)]
    assert len(kept) >= 3 and proposal.list_rules.get("entry")
    watchlist = proposal.watchlist(dt.date(2026, 11, 29))
    source = KINDS["html_list"].model_validate(watchlist)
    assert source.provenance is not None and not source.provenance.verified  # inference only, and said so
    assert str(source.provenance.checked) == "2026-11-29"


def test_the_pattern_keeps_dates_fixed_and_ids_open() -> None:
    urls = [
        "https://www.most.gov.cn/tztg/202406/t20240613_190102.html",
        "https://www.most.gov.cn/tztg/202405/t20240528_1899876.html",
    ]
    assert propose.infer_article_url(urls) == r"^https?://www\.most\.gov\.cn/tztg/\d{6}/t\d{8}_\d+\.html$"


def test_an_article_url_proposes_its_column() -> None:
    assert propose.list_url_for("https://www.most.gov.cn/dfkj/nmg/zxdt/202305/t20230526_186326.html") == "https://www.most.gov.cn/dfkj/nmg/zxdt/"
    assert propose.list_url_for("https://www.most.gov.cn/dfkj/nmg/zxdt/") == "https://www.most.gov.cn/dfkj/nmg/zxdt/"


def test_sources_add_proposes_a_watchlist_that_checks_and_crawls(radar, watchlists: Path, database_url: str) -> None:  # noqa: ANN001
    """`crawl sources add` with an article URL: its column is fetched through the fake
    internet, and the written watchlist passes `crawl check` and stores the column's articles."""
    shown = radar("sources", "add", "https://www.most.gov.cn/tztg/202406/t20240621_190862.html", "--name", "most_notices").stdout
    assert "name: most_notices" in shown and "article_url:" in shown and "kind: inference" in shown
    (watchlists / "sources" / "most.yml").unlink()  # the proposal alone watches the column now
    radar("sources", "add", "https://www.most.gov.cn/tztg/", "--name", "most_notices", "--write")
    radar("check")
    radar("run", "--source", "most_notices")
    stored = {item["url"] for item in radar.json("items", "--source", "most_notices")}
    assert "https://www.most.gov.cn/tztg/202406/t20240621_190862.html" in stored and len(stored) >= 3
