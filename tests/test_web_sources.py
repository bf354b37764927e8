"""The workspace's Sources page beyond health: a new source proposed from one URL (fetched over
the fake internet through the crawler's guarded path), previewed and saved by an admin only,
and what the watchlists cover of the sample issues in tests/fixtures/reports/ (issues 14, 15)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from conftest import FIXTURES, Radar, add_ndrc_article
from common.settings import get_settings
from scheduler.web import create_app
from test_web import Web, csrf

ADMIN = "boss"
COLUMN = "https://www.most.gov.cn/tztg/"
FIRST_NOTICE = "科技部办公厅关于组织开展2024年度科技型中小企业评价工作抽查的通知"  # the column's newest entry
HOSTILE = '<img src=x onerror=alert(1)>'


@pytest.fixture
def web(radar: Radar, database_url: str, tmp_path: Path) -> Web:
    """The workspace over this test's database, watchlists and fake internet; `boss` is an admin."""
    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    config = get_settings(**(env | {"data_dir": str(tmp_path / "data"), "web_admins": f"somebody, {ADMIN}"}))
    return Web(create_app(config, SECRET_KEY="test-secret"), database_url)


def preview(client, url: str, name: str = ""):  # noqa: ANN001, ANN201
    token = csrf(client.get("/sources").text)
    return client.post("/sources/add", data={"csrf_token": token, "url": url, "name": name})


def signed_proposal(page: str) -> str:
    return html.unescape(re.search(r'name="proposal" value="([^"]+)"', page).group(1))


def test_an_admin_previews_a_column_and_saves_a_watchlist_that_checks(radar: Radar, web: Web, watchlists: Path) -> None:
    client = web.client(ADMIN)
    assert "새 출처 추가" in client.get("/sources").text
    page = preview(client, COLUMN, "most_notices")
    assert page.status_code == 200, page.text
    assert FIRST_NOTICE in page.text and "2024-06-21" in page.text  # the detected entries, dated
    assert "article_url:" in page.text and r"t\d{8}_\d+\.html" in html.unescape(page.text)
    assert "name: most_notices" in page.text and "kind: inference" in page.text  # the YAML, with provenance
    assert 'class="article-title"' in page.text and "가져오지 못함" not in page.text  # one article extracted

    token = csrf(page.text)
    saved = client.post("/sources/add/save", data={"csrf_token": token, "proposal": signed_proposal(page.text)})
    assert saved.status_code == 302 and saved.location == "/sources/most_notices"
    target = watchlists / "sources" / "most_notices.yml"
    assert "name: most_notices" in target.read_text(encoding="utf-8")
    assert "OK" in radar("check").stdout
    assert client.get("/sources/most_notices").status_code == 200  # configured now

    # Saving again never overwrites; an altered proposal is refused; nothing else is written.
    written = target.read_text(encoding="utf-8")
    again = client.post("/sources/add/save", data={"csrf_token": token, "proposal": signed_proposal(page.text)})
    assert again.status_code == 409 and "exists already" in again.text and target.read_text(encoding="utf-8") == written
    forged = client.post("/sources/add/save", data={"csrf_token": token, "proposal": signed_proposal(page.text)[:-3] + "abc"})
    assert forged.status_code == 400
    assert sorted(p.name for p in (watchlists / "sources").iterdir() if p.name.startswith(".")) == []


def test_only_an_admin_may_add_and_every_post_needs_the_csrf_token(web: Web) -> None:
    editor = web.client("kim")
    board = editor.get("/sources").text
    assert "새 출처 추가" not in board and "/sources/add" not in board
    token = csrf(board)
    assert editor.post("/sources/add", data={"csrf_token": token, "url": COLUMN}).status_code == 403
    assert editor.post("/sources/add/save", data={"csrf_token": token, "proposal": "x"}).status_code == 403
    admin = web.client(ADMIN)
    assert admin.post("/sources/add", data={"url": COLUMN}).status_code == 400  # no token
    assert admin.post("/sources/add/save", data={"proposal": "x"}).status_code == 400
    assert web.client(user=None).post("/sources/add", data={"url": COLUMN}).status_code in (400, 401)


def test_hostile_titles_are_escaped_in_the_preview(web: Web, sites: Path) -> None:
    add_ndrc_article(sites, "t20991231_1", f"通知 {HOSTILE} 标题")
    page = preview(web.client(ADMIN), "https://www.ndrc.gov.cn/xxgk/zcfb/tz/")
    assert page.status_code == 200, page.text
    assert HOSTILE not in page.text and html.escape(HOSTILE, quote=False) in page.text


def test_only_web_urls_and_public_addresses_are_fetched(web: Web, watchlists: Path) -> None:
    client = web.client(ADMIN)
    before = sorted((watchlists / "sources").iterdir())
    not_web = preview(client, "file:///etc/passwd")
    assert not_web.status_code == 400 and "http:// or https://" in not_web.text
    assert preview(client, "https://[zz/").status_code == 400  # not a URL at all: an answer, not a stack trace
    private = preview(client, "http://127.0.0.1:9/news/")  # refused by the crawler's own guard
    assert private.status_code == 400 and "loopback" in private.text
    bad_name = preview(client, COLUMN, "../../etc/x")
    assert bad_name.status_code == 400 and "not a source name" in bad_name.text
    assert sorted((watchlists / "sources").iterdir()) == before


def test_the_board_shows_coverage_of_the_latest_issues_newest_first(radar: Radar, web: Web) -> None:
    radar("issues", "import", *map(str, sorted((FIXTURES / "reports").glob("*.txt"))))
    admin = web.client(ADMIN).get("/sources").text
    section = admin.split('id="coverage"', 1)[1]
    rows = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>\s*<td class=\"num share\">([^<]+)</td>", section)
    # The same numbers as `crawl issues coverage` (tests/test_coverage.py), newest first.
    assert rows == [("2024-06-28", "14/17 (82%)"), ("2023-08-04", "8/10 (80%)"), ("2023-06-21", "9/14 (64%)")]
    assert 'class="num wechat">0/4<' in section  # WeChat counted apart
    assert "31개" in section and "41개" in section
    missed = section.split('class="missed"', 1)[1]
    first = re.search(r"<li>.*?</li>", missed, re.S).group(0)
    assert "4×" in first and "baijiahao.baidu.com" in first
    assert 'href="/sources?add=https' in first and "#add-source" in first  # pre-fills the form
    prefilled = web.client(ADMIN).get("/sources?add=https://baijiahao.baidu.com/").text
    assert 'value="https://baijiahao.baidu.com/"' in prefilled
    editor = web.client("kim").get("/sources").text
    assert "14/17 (82%)" in editor and "이 URL로 출처 추가" not in editor
