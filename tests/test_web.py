"""The editor workspace in-process (Flask's test client) over databases filled by real crawls:
who may see what, the inbox as the report groups it, triage with who and when, the weekly
draft as Markdown and Word, feeds, and bad input that must never become a stack trace."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
import typer
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import FIXTURES, Radar, expected_articles, free_port
from test_candidates import NOTICE, story_in_three_outlets
from common.settings import get_settings
from scheduler.web import create_app
from radar.cli import workspace as commands
from scheduler.web.auth import add_user
from scheduler.web.data import week_of
from storage.db import transaction
from storage.models import Item, Triage, User

NDRC_NOTICE = "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html"  # cited by the 2023-06-21 issue
WATCHED = "https://news.sciencenet.cn/htmlnews/2023/6/502043.shtm"  # names 卡脖子, a watch term
PASSWORD = "correct horse battery"
SEOUL = ZoneInfo("Asia/Seoul")
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class Web:
    app: Flask
    database_url: str

    def client(self, user: str | None = "kim", https: bool = False) -> FlaskClient:
        client = self.app.test_client()
        if https:
            client.environ_base["wsgi.url_scheme"] = "https"
        if user:
            self.user(user)
            page = client.get("/login")
            answer = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": csrf(page.text)})
            assert answer.status_code == 302, answer.text
        return client

    def user(self, name: str) -> User:
        with transaction(self.database_url) as session:
            found = session.scalar(select(User).where(User.username == name))
            return found or add_user(session, name, PASSWORD)

    def item(self, url: str) -> Item:
        with transaction(self.database_url) as session:
            return session.scalar(select(Item).where(Item.canonical_url == url))

    def triage_rows(self) -> list[Triage]:
        with transaction(self.database_url) as session:
            rows = list(session.scalars(select(Triage).order_by(Triage.id)))
            for row in rows:
                _ = row.user.username
            return rows


def csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture
def web(radar: Radar, database_url: str, tmp_path: Path) -> Web:
    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    config = get_settings(**(env | {"data_dir": str(tmp_path / "data")}))
    return Web(create_app(config, SECRET_KEY="test-secret"), database_url)


def post(client: FlaskClient, path: str, page: str = "/", **fields: str):  # noqa: ANN201
    token = csrf(client.get(page).text)
    return client.post(path, json=fields, headers={"X-CSRFToken": token, "Accept": "application/json"})


def titles(html: str) -> list[str]:
    return re.findall(r'<a class="title" href="/items/\d+">([^<]+)</a>', html)


def groups(html: str) -> list[str]:
    return [re.sub(r"\s*<span.*", "", h) for h in re.findall(r"<h2>(.*?)</h2>", html)]


# -- access ----------------------------------------------------------------------------
def test_every_page_needs_a_login_and_a_wrong_password_is_refused(web: Web) -> None:
    anonymous = web.client(user=None)
    for path in ("/", "/items/1", "/draft", "/sources", "/sources/ndrc", "/feeds"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.location.startswith("/login?next="), path
    web.user("kim")
    page = anonymous.get("/login")
    wrong = anonymous.post("/login", data={"username": "kim", "password": "nope", "csrf_token": csrf(page.text)})
    assert wrong.status_code == 401 and "틀렸습니다" in wrong.text
    nobody = anonymous.post("/login", data={"username": "lee", "password": PASSWORD, "csrf_token": csrf(page.text)})
    assert nobody.status_code == 401
    assert anonymous.post("/items/1/triage", json={"decision": "pick"}).status_code in (400, 401)

    client = web.client("kim")
    assert client.get("/").status_code == 200
    # no open redirect after login
    assert client.get("/login?next=//evil.example/").location == "/"
    page = client.get("/")
    logout = client.post("/logout", data={"csrf_token": csrf(page.text)})
    assert logout.status_code == 302 and client.get("/").status_code == 302


def test_password_guessing_is_throttled_by_address_and_user_name(radar: Radar, database_url: str, tmp_path: Path) -> None:
    from scheduler.web.auth import LoginThrottle

    now = [0.0]
    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    config = get_settings(**(env | {"data_dir": str(tmp_path / "data")}))
    web = Web(create_app(config, SECRET_KEY="test-secret", LOGIN_THROTTLE=LoginThrottle(clock=lambda: now[0])), database_url)
    web.user("kim")
    browser = web.client(user=None)

    def attempt(password: str, username: str = "kim"):  # noqa: ANN202
        page = browser.get("/login")
        return browser.post("/login", data={"username": username, "password": password, "csrf_token": csrf(page.text)})

    assert [attempt(f"guess-{n}").status_code for n in range(5)] == [401] * 5
    refused = attempt(PASSWORD)  # even the right password, until the window has passed
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 900
    assert "15분 후에" in refused.text
    assert attempt(PASSWORD, username="lee").status_code == 429  # the same address
    now[0] += 901
    assert attempt(PASSWORD).status_code == 302


def test_session_cookies_are_httponly_lax_and_secure_over_https(web: Web) -> None:
    web.user("kim")
    for https, secure in ((False, False), (True, True)):
        client = web.app.test_client()
        base = "https://localhost" if https else "http://localhost"
        page = client.get("/login", base_url=base)
        answer = client.post("/login", base_url=base, headers={"Referer": f"{base}/login"},  # as a browser sends it
                             data={"username": "kim", "password": PASSWORD, "csrf_token": csrf(page.text)})
        assert answer.status_code == 302, answer.text
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


# -- inbox -----------------------------------------------------------------------------
def test_the_inbox_groups_candidates_like_the_digest_and_filters_them(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc", "--source", "cas")
    client = web.client()
    html = client.get("/").text
    headings = groups(html)
    assert headings and all(" · " in h for h in headings)
    sections = [h.split(" · ")[0] for h in headings]
    assert sections == sorted(sections, key=["특집기사", "정책동향", "기술동향", "단신동향", "미분류"].index)  # the report's order
    assert "정책동향 · 기술전략" in headings and any(h.startswith("기술동향") for h in headings)
    everything = titles(html)
    ndrc = [a["title"] for a in expected_articles("ndrc")]
    assert set(ndrc) <= set(everything) and len(everything) == len(set(everything))

    only_ndrc = titles(client.get("/?source=ndrc").text)
    assert sorted(only_ndrc) == sorted(ndrc)
    strategy = client.get("/?category=strategy").text
    assert groups(strategy) == ["정책동향 · 기술전략"] and len(titles(strategy)) >= 3
    since_2024 = titles(client.get("/?from=2024-01-01").text)  # NDRC's fixture notices are from 2023, CAS's from 2024
    assert since_2024 and not set(since_2024) & set(ndrc)
    july = titles(client.get("/?source=ndrc&from=2023-07-01&to=2023-07-31").text)
    assert "国家发展改革委等部门关于推动现代煤化工产业健康发展的通知" in july and len(july) < len(ndrc)
    regions = titles(client.get("/?region=北京").text)
    assert regions and set(regions) < set(everything)
    assert titles(client.get("/?period=today").text) == everything  # crawled just now
    assert "조건에 맞는 후보가 없습니다" in client.get("/?source=nosuchsource").text
    assert client.get("/?period=bogus&status=bogus&from=notadate").status_code == 200  # bad filters fall back


def test_the_inbox_names_the_other_outlets_of_a_story_escaped(web: Web, database_url: str) -> None:
    notice_id = story_in_three_outlets(database_url)
    html = web.client().get("/").text
    assert titles(html) == [NOTICE] and f'data-id="{notice_id}"' in html  # the reprints are folded under it
    assert "같은 기사 2곳: 新华网, 搜狐 &lt;i&gt;[x](javascript:alert(1))&lt;/i&gt;</summary>" in html and "<i>" not in html


def test_search_finds_chinese_words_in_titles_and_bodies(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc", "--source", "cas")
    client = web.client()
    assert sorted(titles(client.get("/?q=煤化工").text)) == ["国家发展改革委等部门关于推动现代煤化工产业健康发展的通知"]
    body_only = titles(client.get("/?q=自治区").text)  # the notices' addressees: in bodies, in no title
    assert body_only and all("自治区" not in t for t in body_only)
    assert titles(client.get("/?q=煤化工+通知").text) == ["国家发展改革委等部门关于推动现代煤化工产业健康发展的通知"]  # every term
    assert titles(client.get("/?q=煤化工+量子芯片").text) == []
    assert titles(client.get("/?q=100%25").text) == [] and titles(client.get("/?q=_").text) == []  # LIKE wildcards are literal
    assert titles(client.get("/?q=没有这样的词语").text) == []


def test_covered_items_carry_the_issue_that_cited_them(radar: Radar, web: Web) -> None:
    radar("issues", "import", str(FIXTURES / "reports" / "2023-06-21.txt"))
    radar("run", "--source", "ndrc")
    client = web.client()
    assert "国家发展改革委等部门关于印发《职业教育产教融合赋能提升行动实施方案" not in client.get("/").text
    covered = client.get("/?status=covered").text
    assert "covered in issue 2023-06-21" in covered and "职业教育产教融合" in covered
    item = web.item(NDRC_NOTICE)
    page = client.get(f"/items/{item.id}").text
    assert "covered in issue 2023-06-21" in page and "URL cited in the 2023-06-21 issue" in page


# -- triage ----------------------------------------------------------------------------
def test_triage_is_saved_at_once_with_who_and_when_and_the_latest_decision_counts(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc")
    kim, lee = web.client("kim"), web.client("lee")
    item = web.item(NDRC_NOTICE)
    first = post(kim, f"/items/{item.id}/triage", decision="later")
    assert first.status_code == 200 and first.json["user"] == "kim" and first.json["decision"] == "later"
    second = post(lee, f"/items/{item.id}/triage", decision="pick", note="핵심 정책", category_override="talent")
    assert second.json["user"] == "lee" and second.json["category_override"] == "talent"
    note_only = post(kim, f"/items/{item.id}/triage", note="제목 다듬기")  # keeps lee's pick and override
    assert note_only.json["decision"] == "pick" and note_only.json["category_override"] == "talent"
    rows = web.triage_rows()
    assert [(r.user.username, r.decision, r.note) for r in rows] == [("kim", "later", None), ("lee", "pick", "핵심 정책"), ("kim", "pick", "제목 다듬기")]
    assert all(r.at is not None and r.at.tzinfo is not None for r in rows) and rows[0].at <= rows[1].at <= rows[2].at

    picked = kim.get("/?triage=pick").text
    assert titles(picked) == [item.title] and "정책동향 · 인재" in groups(picked)  # the override moves it
    assert item.title not in titles(kim.get("/?triage=untriaged").text)
    page = kim.get(f"/items/{item.id}").text
    assert "제목 다듬기" in page and page.count("<li>") >= 3 and "lee" in page and "kim" in page

    form = kim.post(f"/items/{item.id}/triage", data={"decision": "skip", "csrf_token": csrf(page), "next": "/?source=ndrc"})
    assert form.status_code == 302 and form.location == "/?source=ndrc"
    assert web.triage_rows()[-1].decision == "skip"


def test_the_item_view_shows_text_tags_verdict_cluster_and_crawl_record(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc")
    item = web.item(NDRC_NOTICE)
    page = web.client().get(f"/items/{item.id}").text
    assert item.title in page and f'href="{item.url}"' in page
    assert "各省、自治区" in page or item.body.split("\n")[0][:10] in page  # the extracted text
    for term in (item.topics["matched"].get(item.topics["category"]) or [])[:2]:
        assert term in page
    assert item.topics["category_label"] in page and "판정 (verdict)" in page and item.status in page
    assert "수집 기록" in page and "HTTP 200" in page and "크롤 실행" in page and "source-rules" in page


# -- draft -----------------------------------------------------------------------------
REPRINT = """<html><head><meta charset="utf-8"><title>{title}_{outlet}</title></head><body>
<h1>{title}</h1><div class="info">{date} 来源：{outlet}</div>
<div id="detail">{paragraphs}</div><div class="footer">版权所有 {outlet}</div></body></html>"""


def reprint(radar: Radar, web: Web, sites: Path, watchlists: Path) -> list[str]:
    """Two outlets reprint the NDRC notice (as in test_diff): one story, three items."""
    notice = web.item(NDRC_NOTICE)
    feed, urls = ["<rss version='2.0'><channel><title>转载</title>"], []
    for host, outlet, path in (("www.news.cn", "新华网", "/fortune/reprint1.htm"), ("www.sohu.com", "搜狐", "/a/123456_789")):
        page = sites / host / path.lstrip("/")
        page.parent.mkdir(parents=True, exist_ok=True)
        paragraphs = "".join(f"<p>{line}</p>" for line in [f"{outlet}北京电", *notice.body.split("\n")])
        page.write_text(REPRINT.format(title="发改委：" + notice.title, outlet=outlet, date="2023-06-13", paragraphs=paragraphs), encoding="utf-8")
        feed.append(f"<item><title>{notice.title}</title><link>https://{host}{path}</link><pubDate>Tue, 13 Jun 2023 12:00:00 +0800</pubDate></item>")
        urls.append(f"https://{host}{path}")
    (sites / "feeds.example").mkdir()
    (sites / "feeds.example" / "reprints.xml").write_text("".join(feed) + "</channel></rss>", encoding="utf-8")
    (watchlists / "sources" / "reprints.yml").write_text(
        "name: reprints\nlabel: 转载\nhomepage: https://feeds.example/\nkind: feed\nlists: [https://feeds.example/reprints.xml]\n"
        "allowed_hosts: [www.news.cn, www.sohu.com]\n", encoding="utf-8"  # an aggregator: it names where its articles live
    )
    radar("run", "--source", "reprints")
    return urls


def test_the_draft_follows_the_report_and_exports_markdown_and_docx(radar: Radar, web: Web, sites: Path, watchlists: Path) -> None:
    radar("run", "--source", "ndrc", "--source", "cas")
    reprints = reprint(radar, web, sites, watchlists)
    client = web.client()
    inbox = client.get("/?source=ndrc").text
    assert "같은 기사 2곳" in inbox and all(url in inbox for url in reprints)  # folded under the story
    assert not any("reprint1" in t for t in titles(client.get("/").text))  # not candidates themselves

    notice = web.item(NDRC_NOTICE)
    cas = next(i for a in expected_articles("cas") if (i := web.item(a["url"])) and i.status == "new" and (i.topics or {}).get("section") == "기술동향")
    brief = web.item("https://www.ndrc.gov.cn/xxgk/zcfb/tz/202307/t20230727_1358715.html")
    post(client, f"/items/{notice.id}/triage", decision="pick", note="<b>lead</b> story")
    post(client, f"/items/{cas.id}/triage", decision="pick")
    post(client, f"/items/{brief.id}/triage", decision="pick", category_override="brief")
    skipped = web.item("https://www.ndrc.gov.cn/xxgk/zcfb/ghxwj/202307/t20230721_1358552.html")
    post(client, f"/items/{skipped.id}/triage", decision="pick")
    post(client, f"/items/{skipped.id}/triage", decision="skip")  # the latest decision counts

    week, _ = week_of(None, datetime.now(timezone.utc), SEOUL)
    page = client.get("/draft").text
    assert week in page and notice.title in page and skipped.title not in page
    assert "&lt;b&gt;lead&lt;/b&gt; story" in page and "<b>lead</b>" not in page

    markdown = client.get(f"/draft/{week}.md")
    assert markdown.status_code == 200 and markdown.mimetype == "text/markdown"
    md = markdown.get_data(as_text=True)
    contents, body = md.split("## CONTENTS", 1)[1].split("\n## 정책동향", 1)
    assert f"- {notice.topics['category_label']} • 01 {notice.title}" in contents
    assert "### 기술동향" in contents and "### 단신동향" in contents and brief.title in contents
    assert skipped.title not in md
    assert md.index("## 정책동향") < md.index("## 기술동향") < md.index("## 단신동향")
    story = body.split("#### 01 ", 1)[1].split("####", 1)[0]
    assert "참고자료" in story and f"- ☑ {notice.title}\n  {notice.url}" in story
    assert all(url in story for url in reprints)  # the cluster's other outlets are references too
    briefs = md.split("## 단신동향", 1)[1]
    assert f"출처: 국가발전개혁위원회 ({brief.published_at.astimezone(CHINA):%m.%d})" in briefs
    assert brief.url in briefs and "메모: \\<b\\>lead\\</b\\> story" in md  # Markdown is text, not HTML

    answer = client.get(f"/draft/{week}.docx")
    assert answer.status_code == 200 and answer.data[:2] == b"PK"
    document = Document(io.BytesIO(answer.data))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0][0] == "Title" and week in headings[0][1]
    assert ("Heading 1", "CONTENTS") in headings and ("Heading 1", "정책동향") in headings and ("Heading 1", "단신동향") in headings
    assert ("Heading 2", notice.topics["category_label"]) in headings and ("Heading 3", f"01 {notice.title}") in headings
    text = "\n".join(p.text for p in document.paragraphs)
    assert "참고자료" in text and f"☑ {notice.title}\n{notice.url}" in text and all(url in text for url in reprints)
    assert "출처: 국가발전개혁위원회" in text and brief.url in text and skipped.title not in text

    assert client.get("/draft?week=1999-W01").status_code == 200 and "채택된 기사가 없습니다" in client.get("/draft?week=1999-W01").text
    assert client.get("/draft?week=soon").status_code == 404 and client.get("/draft/2024-W99.md").status_code == 404


# -- sources ---------------------------------------------------------------------------
def test_the_sources_board_shows_health_and_runs_doctor_only_when_asked(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc")
    client = web.client()
    board = client.get("/sources").text
    row = board.split('href="/sources/ndrc"', 1)[1].split("</tr>", 1)[0]
    assert 'class="health ok"' in row and "<polyline" in row and ">10<" in row
    assert 'href="/sources/sciencenet"' in board and "never" in board  # configured, never crawled
    page = client.get("/sources/ndrc")
    assert page.status_code == 200 and "진단 결과" not in page.text and "run-doctor" in page.text
    doctor = client.post("/sources/ndrc/doctor", data={"csrf_token": csrf(page.text)})
    assert doctor.status_code == 200 and "진단 결과" in doctor.text
    assert "1. List page" in doctor.text and "HTTP 200" in doctor.text and "[bold]" not in doctor.text
    assert "meta[name=ArticleTitle]::attr(content)" in doctor.text and "/li[a]" in doctor.text  # selectors as written
    assert client.get("/sources/nosuch").status_code == 404
    assert client.post("/sources/nosuch/doctor", data={"csrf_token": csrf(page.text)}).status_code == 404
    assert client.post("/sources/ndrc/doctor", data={"csrf_token": csrf(page.text), "url": "file:///etc/passwd"}).status_code == 400


def test_the_sources_board_puts_broken_and_degraded_first_and_shows_the_last_successful_run(web: Web) -> None:
    from storage.models import CrawlRun, Source

    seoul = lambda *args: datetime(*args, tzinfo=SEOUL)  # noqa: E731
    long_error = "list https://www.example.gov.cn/" + "a" * 300 + ".html: HTTP 200 but no entries"
    with transaction(web.database_url) as session:
        for name, health in (("aaa", "ok"), ("mmm", "degraded"), ("zzz", "broken")):
            session.add(Source(name=name, label=name, kind="html_list", health=health, last_error=long_error if health == "broken" else None))
        session.flush()
        ids = {s.name: s.id for s in session.scalars(select(Source))}
        # zzz: a good run, then an "ok" run on an anti-bot page that was judged broken
        session.add(CrawlRun(source_id=ids["zzz"], started_at=seoul(2026, 11, 20, 9, 0), finished_at=seoul(2026, 11, 20, 9, 5), status="ok", health="ok"))
        session.add(CrawlRun(source_id=ids["zzz"], started_at=seoul(2026, 11, 21, 9, 0), finished_at=seoul(2026, 11, 21, 9, 5), status="ok", health="broken"))
        session.add(CrawlRun(source_id=ids["mmm"], started_at=seoul(2026, 11, 21, 8, 0), finished_at=seoul(2026, 11, 21, 8, 7), status="partial", health="degraded"))
        session.add(CrawlRun(source_id=ids["aaa"], started_at=seoul(2026, 11, 21, 7, 0), finished_at=seoul(2026, 11, 21, 7, 3), status="ok", health="ok"))
    board = web.client().get("/sources").text
    names = re.findall(r'<a href="/sources/([a-z_]+)">', board)
    assert names[:3] == ["zzz", "mmm", "aaa"], names  # then the rest by name (never-crawled sources are "unknown")
    broken = board.split('href="/sources/zzz"', 1)[0].rsplit("<tr", 1)[1]
    assert 'class="health-broken"' in broken
    row = board.split('href="/sources/zzz"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1].strip() == "2026-11-20 09:05 KST"  # 마지막 성공: the good run, not the broken one
    assert "2026-11-21 09:00 KST" in cells[2]  # 마지막 실행
    assert 'class="error-text"' in row and "a" * 300 in row
    mmm = board.split('href="/sources/mmm"', 1)[1].split("</tr>", 1)[0]
    assert "2026-11-21 08:07 KST" in mmm  # a partial run that was only degraded still succeeded
    css = web.app.test_client().get("/static/app.css").text
    assert re.search(r"\.error-text \{[^}]*overflow-wrap: anywhere", css) and "tr.health-broken" in css


# -- feeds -----------------------------------------------------------------------------
def test_feeds_need_a_session_or_the_users_token(radar: Radar, web: Web) -> None:
    radar("run", "--source", "sciencenet", "--source", "ndrc")
    token = web.user("kim").feed_token
    anonymous = web.client(user=None)
    assert anonymous.get("/feeds/watch.atom").status_code == 401
    assert anonymous.get("/feeds/watch.atom?token=wrong").status_code == 403
    assert anonymous.get("/feeds/category/strategy.atom").status_code == 401
    watch = anonymous.get(f"/feeds/watch.atom?token={token}")
    assert watch.status_code == 200 and watch.mimetype == "application/atom+xml"
    parsed = feedparser.parse(watch.data)
    assert not parsed.bozo and parsed.feed.title.startswith("cnst-radar")
    assert WATCHED in [e.link for e in parsed.entries] and all("[" in e.summary for e in parsed.entries)
    assert token not in watch.get_data(as_text=True)  # the secret is not echoed into the document
    strategy = feedparser.parse(anonymous.get(f"/feeds/category/strategy.atom?token={token}").data)
    assert strategy.entries and all(e.link.startswith("https://www.ndrc.gov.cn/") for e in strategy.entries)
    assert anonymous.get(f"/feeds/category/nosuch.atom?token={token}").status_code == 404
    logged_in = web.client("kim")
    assert logged_in.get("/feeds/watch.atom").status_code == 200
    assert f"token={token}" in logged_in.get("/feeds").text


# -- bad input -------------------------------------------------------------------------
def test_bad_input_gets_a_clear_error_never_a_stack_trace(radar: Radar, web: Web) -> None:
    radar("run", "--source", "ndrc")
    client = web.client()
    item = web.item(NDRC_NOTICE)
    path = f"/items/{item.id}/triage"

    forged = client.post(path, json={"decision": "pick"}, headers={"X-CSRFToken": "forged", "Accept": "application/json"})
    assert forged.status_code == 400 and "security token" in forged.json["error"]
    missing = client.post(path, data={"decision": "pick"})
    assert missing.status_code == 400 and "security token is missing or invalid" in missing.text and "Traceback" not in missing.text
    assert web.triage_rows() == []

    for fields, message in (
        ({"decision": "pick", "note": "가" * 2001}, "at most 2,000"),
        ({"decision": "maybe"}, "decision must be one of"),
        ({"note": "no decision yet"}, "decision must be one of"),
        ({"decision": "pick", "category_override": "astrology"}, "unknown category"),
    ):
        answer = post(client, path, **fields)
        assert answer.status_code == 400 and message in answer.json["error"], fields
    assert client.post(path, json=["pick"], headers={"X-CSRFToken": csrf(client.get("/").text)}).status_code == 400
    assert post(client, path, decision="pick", note="가" * 2000).status_code == 200  # exactly the limit is fine

    injected = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert post(client, path, decision="later", note=injected).status_code == 200
    page = client.get(f"/items/{item.id}").text
    assert injected not in page and "&lt;script&gt;alert(" in page
    assert injected not in client.get("/").text and injected not in client.get("/draft").text

    for missing_path in ("/items/999999", "/items/99999999999999999999", "/items/abc", "/items/999999/triage", "/nowhere", "/sources/../etc"):
        answer = client.get(missing_path) if not missing_path.endswith("triage") else post(client, missing_path, decision="pick")
        assert answer.status_code in (404, 405), missing_path
        assert "Traceback" not in answer.get_data(as_text=True)
    page = client.get("/items/999999")
    assert page.status_code == 404 and "There is no item 999999" in page.text and "<html" in page.text

    huge = client.post(path, data="x" * 300_000, headers={"X-CSRFToken": csrf(client.get("/").text), "Content-Type": "application/json"})
    assert huge.status_code == 413


def test_an_unexpected_error_is_a_page_not_a_stack_trace(web: Web) -> None:
    # A fresh app (routes cannot be added after the first request) with a view that fails.
    config = web.app.extensions["radar"]["config"]
    fresh = create_app(config, SECRET_KEY="k")
    fresh.add_url_rule("/boom", "boom", lambda: 1 / 0)
    answer = fresh.test_client().get("/boom")
    assert answer.status_code == 500 and "ZeroDivisionError" not in answer.text and "Traceback" not in answer.text
    assert "Internal error" in answer.text


# -- commands --------------------------------------------------------------------------
def registered() -> typer.Typer:
    """The commands wired exactly as radar/cli/__init__.py wires them."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        pass

    app.command("web")(commands.web)
    app.add_typer(commands.users_app, name="users")
    return app


def test_users_are_added_and_listed_from_the_command_line(radar: Radar, database_url: str) -> None:
    env = {k: v for k, v in radar.env.items() if k.startswith("RADAR_")} | {"RADAR_DATABASE_URL": database_url}
    runner = CliRunner()
    added = runner.invoke(registered(), ["users", "add", "kim", "--password", PASSWORD], env=env)
    assert added.exit_code == 0, added.output
    again = runner.invoke(registered(), ["users", "add", "kim", "--password", PASSWORD], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(registered(), ["users", "add", "lee", "--password", "short"], env=env)
    assert short.exit_code == 1 and "at least 8" in short.output
    from_env = runner.invoke(registered(), ["users", "add", "lee"], env=env | {"RADAR_WEB_PASSWORD": PASSWORD})
    assert from_env.exit_code == 0, from_env.output
    prompted = runner.invoke(registered(), ["users", "add", "park"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(registered(), ["users", "list", "--json", "--tokens"], env=env)
    users = json.loads(listed.output)
    assert [u["username"] for u in users] == ["kim", "lee", "park"] and all(len(u["feed_token"]) > 30 for u in users)
    with transaction(database_url) as session:
        stored = session.scalar(select(User).where(User.username == "kim"))
        assert stored.password_hash.startswith("$argon2") and PASSWORD not in stored.password_hash
    assert runner.invoke(registered(), ["users", "passwd", "kim", "--password", "another password"], env=env).exit_code == 0
    assert "--port" in runner.invoke(registered(), ["web", "--help"], env=env).output


def test_crawl_web_serves_the_login_page_on_loopback(radar: Radar, tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import sys; from radar.cli import app; from radar.cli import workspace as commands\n"
        "app.command('web')(commands.web); app.add_typer(commands.users_app, name='users')\n"
        "sys.argv = ['crawl', 'web', '--port', sys.argv[1]]; app()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script, str(port)], env=radar.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, page = time.monotonic() + 30, None
        while time.monotonic() < deadline and page is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
            except OSError:
                assert server.poll() is None, server.communicate()
                time.sleep(0.2)
        assert page and "로그인" in page and 'name="csrf-token"' in page
    finally:
        server.terminate()
        output, errors = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output and "No users yet" in errors
