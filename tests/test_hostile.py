"""Everything crawled is hostile (issue 13). A constructed site (tests/fixtures/hostile) puts
`<script>`, attribute break-outs, `javascript:` links, Rich and Markdown markup, control
characters and NUL into titles, links, bodies and origins; it is crawled through the replay
proxy into each database, and every place that shows or exports an item — the digest, the
alerts, the inbox, the item page, the draft (HTML, Markdown, DOCX), the Atom feeds — must
hold it as text: no live markup, well-formed, nothing lost."""

from __future__ import annotations

import io
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from docx import Document
from flask.testing import FlaskClient
from lxml import etree, html
from sqlalchemy import select, text

from conftest import FIXTURES, Radar
from common.settings import get_settings
from common.dates import parse_date
from crawler.kinds.feed import feed_entries
from common.text import clean_text
from scheduler import digest as digests
from scheduler import jobs
from common.markup import md_link, md_quote, md_text
from scheduler.web import create_app
from scheduler.web.auth import add_user
from scheduler.web.data import week_of
from storage.db import ensure_schema, transaction
from storage.models import CrawlRun, Item, OutboxMessage, Source, User

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
SOURCES = {
    "hostile_html": """
name: hostile_html
label: Hostile site (적대적 사이트)
homepage: https://hostile.example/
kind: html_list
lists: [https://hostile.example/news/index.html]
list:
  entry: "ul.list li"
  link: "a::attr(href)"
  title: "a::attr(title)"
  date: "span::text"
  article_url: '^https://hostile\\.example/news/'
article:
  title: "h1.title::text"
  published: "span.date::text"
  origin: "span.origin::text"
  body: "div.content"
""",
    "hostile_feed": """
name: hostile_feed
label: Hostile JSON Feed
homepage: https://hostile.example/
kind: feed
lists: [https://hostile.example/feed.json]
feed: {content: feed}
""",
    "hostile_rss": """
name: hostile_rss
label: Hostile RSS
homepage: https://hostile.example/
kind: feed
lists: [https://hostile.example/feed.rss]
feed: {content: feed}
""",
}
A2 = "https://hostile.example/news/a2.html?x=%22%3E%3Cimg%20src=x%20onerror=alert(3)%3E"
# Each title as it must be stored: markup kept as text, control characters and NUL gone.
TITLES = {
    "https://hostile.example/news/a1.html": '<script>alert("t1")</script> 卡脖子 "><img src=x onerror=alert(1)> 标题',
    A2: "控制字符测试[31m 光刻机 标题",
    "https://hostile.example/news/a3.html": "[/bold][red]Rich 标记[/red] 与 **Markdown** # 标题 | 表格 `code` 国家实验室",
    "https://hostile.example/feed/1.html": "NUL 与 BEL 在 <b>标题</b> [x](javascript:alert(1)) 卡脖子",
    "https://hostile.example/feed/2.html": 'Year 9999 in the feed "><svg onload=alert(7)>',
    "https://hostile.example/rss/1.html": "RSS 标题 含控制字符 <script>alert(8)</script>",
}
NOTE = "<script>alert('note')</script> [x](javascript:alert(1))\n> 인용을 벗어나기\n# 제목"
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile_site(sites: Path, watchlists: Path) -> None:
    shutil.copytree(FIXTURES / "hostile" / "hostile.example", sites / "hostile.example")
    for name, yaml_text in SOURCES.items():
        (watchlists / "sources" / f"{name}.yml").write_text(yaml_text.lstrip(), encoding="utf-8")


def stored(database_url: str) -> dict[str, Item]:
    with transaction(database_url) as session:
        items = {item.url: item for item in session.scalars(select(Item))}
        for item in items.values():
            _ = item.source.name
        return items


def assert_no_live_html(document: str, allowed_scripts: tuple[str, ...] = ()) -> html.HtmlElement:
    """Parse as a browser would: no script but our own, no event handler, no javascript: link."""
    tree = html.document_fromstring(document)
    for script in tree.iter("script"):
        assert script.get("src", "").startswith(allowed_scripts) and allowed_scripts and not (script.text or "").strip(), html.tostring(script)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in ("img", "svg", "iframe", "object", "embed"), html.tostring(element)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), html.tostring(element)
            if name in ("href", "src", "action"):
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), html.tostring(element)
    return tree


def assert_no_live_markdown(document: str) -> None:
    """No raw HTML tag and no link to anything but http(s): every `<` and `](` escaped."""
    assert not re.search(r"(?<!\\)<[A-Za-z/!?]", document), document
    assert not re.search(r"(?<!\\)\]\((?!https?://)", document), document


# -- the crawl --------------------------------------------------------------------------
@pytest.fixture
def crawled(radar: Radar, sites: Path, watchlists: Path, database_url: str) -> dict[str, Item]:
    hostile_site(sites, watchlists)
    result = radar("run", "--source", "hostile_html", "--source", "hostile_feed", "--source", "hostile_rss")
    with transaction(database_url) as session:
        runs = {run.source.name: (run.status, run.errors) for run in session.scalars(select(CrawlRun))}
    assert runs == dict.fromkeys(SOURCES, ("ok", 0)), result.stdout + result.stderr
    return stored(database_url)


def test_every_hostile_item_is_stored_with_its_markup_as_text_and_no_control_character(crawled: dict[str, Item]) -> None:
    assert {url: item.title for url, item in crawled.items()} == TITLES
    for item in crawled.values():
        for value in (item.title, item.body, item.origin or "", item.url, item.list_title or ""):
            assert not CONTROLS.search(value), (item.url, value)
    a1, a2 = crawled["https://hostile.example/news/a1.html"], crawled[A2]
    assert a1.origin == '[/bold]"><img src=x onerror=alert(2)> 来源' and a2.origin == "来源机构"
    assert '<script>alert("b1")</script>' in a1.body and "live script" not in a1.body  # text kept, the live script dropped
    assert a2.body.startswith("正文含有 NUL 与 退格 换页，以及") and a2.body.endswith("第二段结束。")
    author = crawled["https://hostile.example/feed/1.html"].origin
    assert author == "[bold]Rich[/bold] <script>alert(6)</script>"
    # A date in year 9999 is unknown, not 1978.
    assert crawled["https://hostile.example/rss/1.html"].published_at is None
    assert crawled["https://hostile.example/feed/2.html"].published_at is None


# -- the digest and the alerts ----------------------------------------------------------
def test_the_digest_and_the_alerts_hold_hostile_text_as_text(crawled: dict[str, Item], radar: Radar, database_url: str, tmp_path: Path) -> None:
    # `crawl digest` prints the Markdown through Rich: a crawled "[/bold]" must not be markup.
    preview = radar("digest", "--dry-run", "--preview", str(tmp_path / "digest.html"))
    assert md_text(TITLES["https://hostile.example/news/a3.html"]) in preview.stdout and "6건" in preview.stdout
    assert_no_live_html((tmp_path / "digest.html").read_text(encoding="utf-8"))

    now = datetime.now(timezone.utc)  # the crawl stamped first_seen_at with the real clock
    with transaction(database_url) as session:
        message = digests.render(digests.build(session, now, SEOUL))
        source = session.scalar(select(Source).where(Source.name == "hostile_html"))
        source.health, source.last_error = "broken", '<script>alert("ops")</script> "><img src=x onerror=alert(1)>'
    assert_no_live_html(message.html)
    assert "&lt;script&gt;alert(&#34;t1&#34;)&lt;/script&gt;" in message.html and "[/bold][red]Rich 标记[/red]" in message.html
    assert_no_live_markdown(message.markdown)
    assert '\\<script\\>alert("t1")\\</script\\>' in message.markdown and "\\[x\\](javascript:alert(1))" in message.markdown

    with transaction(database_url) as session:
        runs = list(session.scalars(select(CrawlRun)))
        assert jobs.queue_watch_alerts(session, now, jobs.first_seen_since(runs)) == 4  # a1, feed 1 (卡脖子), a2 (光刻机), a3 (国家实验室)
        assert jobs.queue_health_alerts(session, now, {run.source_id for run in runs}) == 1
    with transaction(database_url) as session:
        alerts = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(("alert", "ops")))))
        for alert in alerts:
            assert_no_live_html(alert.body_html)
            assert_no_live_markdown(alert.body_markdown)
            assert "\n" not in alert.title
        bodies = "\n".join(a.body_html for a in alerts)
    assert "&lt;script&gt;alert(&#34;ops&#34;)&lt;/script&gt;" in bodies and "NUL 与 BEL 在 &lt;b&gt;标题&lt;/b&gt;" in bodies


# -- the workspace ----------------------------------------------------------------------
def workspace(radar: Radar, database_url: str, tmp_path: Path) -> FlaskClient:
    """The workspace app over this test's database, with editor kim logged in."""
    env = {k.removeprefix("RADAR_").lower(): v for k, v in radar.env.items() if k.startswith("RADAR_") and k != "RADAR_CONFIG"}
    app = create_app(get_settings(**(env | {"data_dir": str(tmp_path / "data")})), SECRET_KEY="test-secret")
    ensure_schema(database_url)
    with transaction(database_url) as session:
        add_user(session, "kim", PASSWORD)
    client = app.test_client()
    answer = client.post("/login", data={"username": "kim", "password": PASSWORD, "csrf_token": csrf(client.get("/login").text)})
    assert answer.status_code == 302, answer.text
    return client


def csrf(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_the_workspace_pages_draft_exports_and_feeds_hold_hostile_text_as_text(
    crawled: dict[str, Item], radar: Radar, database_url: str, tmp_path: Path
) -> None:
    client = workspace(radar, database_url, tmp_path)
    inbox = client.get("/?status=all")
    assert inbox.status_code == 200
    assert_no_live_html(inbox.text, ("/static/",))
    assert "&lt;script&gt;alert(&#34;t1&#34;)&lt;/script&gt;" in inbox.text or "&lt;script&gt;alert(&quot;t1&quot;)&lt;/script&gt;" in inbox.text
    token = csrf(inbox.text)
    for item in crawled.values():
        page = client.get(f"/items/{item.id}")
        assert page.status_code == 200
        tree = assert_no_live_html(page.text, ("/static/",))
        assert item.title in tree.text_content()  # shown as the text it is
        refused = client.post(f"/items/{item.id}/triage", json={"decision": "pick", "note": "a\x00b"}, headers={"X-CSRFToken": token})
        assert refused.status_code == 400 and "NUL" in refused.json["error"]
        answer = client.post(f"/items/{item.id}/triage", json={"decision": "pick", "note": NOTE}, headers={"X-CSRFToken": token})
        assert answer.status_code == 200, answer.text

    week, _ = week_of(None, datetime.now(timezone.utc), SEOUL)
    draft = client.get("/draft")
    tree = assert_no_live_html(draft.text, ("/static/",))
    assert all(item.title in tree.text_content() for item in crawled.values())

    markdown = client.get(f"/draft/{week}.md").get_data(as_text=True)
    assert_no_live_markdown(markdown)
    for item in crawled.values():
        assert md_text(item.title) in markdown
    quoted = [line for line in markdown.splitlines() if "인용을 벗어나기" in line or "제목" in line and "\\#" in line]
    assert quoted and all(line.startswith("> ") for line in quoted)  # a multi-line note stays inside its quote
    assert markdown.count(md_quote(NOTE, "메모: ")[0]) == len(crawled)

    document = Document(io.BytesIO(client.get(f"/draft/{week}.docx").data))
    text_of_docx = "\n".join(p.text for p in document.paragraphs)
    assert all(item.title in text_of_docx for item in crawled.values()) and "<script>alert('note')</script>" in text_of_docx

    with transaction(database_url) as session:
        feed_token = session.scalar(select(User.feed_token).where(User.username == "kim"))
        categories = {(item.topics or {}).get("category") for item in session.scalars(select(Item))} - {None}
    feeds = [f"/feeds/watch.atom?token={feed_token}"] + [f"/feeds/category/{c}.atom?token={feed_token}" for c in sorted(categories)]
    titles_in_feeds: set[str] = set()
    for path in feeds:
        answer = client.get(path)
        assert answer.status_code == 200, path
        root = etree.fromstring(answer.data)  # well-formed XML, or this raises
        parsed = feedparser.parse(answer.data)
        assert not parsed.bozo, (path, parsed.bozo_exception)
        for link in root.iter("{http://www.w3.org/2005/Atom}link"):
            assert link.get("href", "").startswith(("http://", "https://")), path
        titles_in_feeds |= {node.text for node in root.iter("{http://www.w3.org/2005/Atom}title")}
    assert TITLES["https://hostile.example/news/a1.html"] in titles_in_feeds and TITLES[A2] in titles_in_feeds


def test_bad_dates_weeks_and_nul_in_requests_are_refused_with_400_not_500(radar: Radar, database_url: str, tmp_path: Path) -> None:
    client = workspace(radar, database_url, tmp_path)
    for path in ("/?to=9999-12-31", "/?from=0001-01-01", "/draft?week=9999-W52", "/draft/9999-W52.docx", "/draft/9999-W52.md",
                 "/?q=%00", "/?source=a%00b", "/?region=%00", "/sources/nd%00rc", "/items/1?x=%00"):
        answer = client.get(path)
        assert answer.status_code == 400, (path, answer.status_code)
        assert "Traceback" not in answer.text and ("outside 1949" in answer.text or "NUL" in answer.text), path
    anonymous = client.application.test_client()
    assert anonymous.get("/feeds/watch.atom?token=%00").status_code == 400  # before the token is looked up
    triage = client.post("/items/1/triage", json={"decision": "pick", "note": "a\x00b"}, headers={"X-CSRFToken": csrf(client.get("/").text)})
    assert triage.status_code in (400, 404)  # no item 1 in an empty database: either way, no 500
    assert client.get("/?to=2099-12-31&from=1949-01-01").status_code == 200  # the edges are fine
    assert client.get("/draft?week=2099-W52").status_code == 200


def test_a_feed_date_in_year_9999_is_unknown_not_1978() -> None:
    rss = (b"<rss version='2.0'><channel><title>t</title>"
           b"<item><title>far</title><link>https://a.example/1</link><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"
           b"<item><title>near</title><link>https://a.example/2</link><pubDate>Tue, 13 Jun 2023 04:00:00 GMT</pubDate></item>"
           b"</channel></rss>")
    far, near = feed_entries(rss)[0]
    assert far.date is None
    assert near.date == datetime(2023, 6, 13, 4, tzinfo=timezone.utc)
    assert parse_date("2023-06-13 12:00") == datetime(2023, 6, 13, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_text_is_cleaned_of_control_characters_and_nul_but_keeps_lines_and_tabs() -> None:
    assert clean_text("a\x00b\x07c\r\nd\re\tf\x1b[0m\x7f\x85g") == "abc\nd\ne\tf[0mg"


def test_markdown_escaping_leaves_no_markup_and_links_only_http() -> None:
    assert md_text("<script>x</script> *b* [l](javascript:x) # h") == "\\<script\\>x\\</script\\> \\*b\\* \\[l\\](javascript:x) # h"
    assert md_text("# title") == "\\# title" and md_text("1. one") == "1\\. one" and md_text("2023.06 ok") == "2023.06 ok"
    assert md_text("two\nlines") == "two lines"
    assert md_link("t", "javascript:alert(1)") == "t (javascript:alert(1))"
    assert md_link("t", 'https://a.example/?q=") [x](y') == "[t](https://a.example/?q=%22%29%20%5Bx%5D%28y)"
    assert md_quote("one\n> two\n\n# three", "메모: ") == ["> 메모: one", "> \\> two", "> \\# three"]


# -- storing ----------------------------------------------------------------------------
REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.title LIKE '%Year 9999%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.title LIKE '%Year 9999%' THEN "
        "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_an_item_the_database_refuses_is_an_error_of_the_run_and_is_stored_next_time(
    radar: Radar, sites: Path, watchlists: Path, database_url: str
) -> None:
    """A database-level refusal (a trigger here; a NUL on PostgreSQL before issue 13) used to be
    logged by Scrapy and forgotten: the run said ok and saved the list's validators."""
    hostile_site(sites, watchlists)
    ensure_schema(database_url)
    with transaction(database_url) as session:
        for statement in REFUSE[session.bind.dialect.name]:
            session.execute(text(statement))
    radar("run", "--source", "hostile_feed", check=False)
    with transaction(database_url) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert (run.status, run.errors, run.new) == ("partial", 1, 1)
        assert "refused by the test" in run.error_summary and "feed/2.html" in run.error_summary
        session.execute(text("DROP TRIGGER refuse" + (" ON items" if session.bind.dialect.name == "postgresql" else "")))
    radar("run", "--source", "hostile_feed")
    assert "https://hostile.example/feed/2.html" in stored(database_url)
